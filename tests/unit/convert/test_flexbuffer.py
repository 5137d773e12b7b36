"""The custom-op options decoder against the FlexBuffers reference encoder (flatbuffers package)."""

from __future__ import annotations

import pytest

from hifipose.convert._flexbuffer import read_flex_map
from hifipose.errors import ModelIntegrityError

flexbuffers = pytest.importorskip("flatbuffers.flexbuffers")


@pytest.mark.parametrize(
    "options",
    [
        # the shape of Landmarks2TransformMatrix's options: small ints, floats, an index vector
        {
            "left_rotation_idx": 61,
            "output_height": 16,
            "scale_x": 1.5,
            "subset_idxs": [61, 146, 91, 300],
            "target_rotation_radians": -0.25,
        },
        # wide values widen the map's byte width; negative ints, an empty-ish float vector
        {"big": 2**40, "neg": -7, "flag": True, "floats": [0.5, -2.0], "wide": [70000, 1]},
    ],
)
def test_decoded_map_equals_what_was_encoded(options: dict[str, object]) -> None:
    decoded = read_flex_map(flexbuffers.Dumps(options))
    expected = {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}
    assert decoded == expected


def test_exception_a_root_that_is_not_a_map() -> None:
    with pytest.raises(ModelIntegrityError, match="not a FlexBuffers map"):
        read_flex_map(flexbuffers.Dumps([1, 2, 3]))


def test_typed_vectors_as_the_models_store_them() -> None:
    builder = flexbuffers.Builder()
    with builder.Map():
        builder.Key("subset_idxs")
        builder.TypedVectorFromElements([61, 146, 400])
        builder.Key("scales")
        builder.TypedVectorFromElements([1.5, 2.0])
        builder.Key("output_width")
        builder.Int(16)
    decoded = read_flex_map(bytes(builder.Finish()))
    assert decoded == {"subset_idxs": (61, 146, 400), "scales": (1.5, 2.0), "output_width": 16}
