"""The pinned model table: facts from design.md §4, read-only, validated."""

from __future__ import annotations

import dataclasses
import re

import pytest

from hifipose.errors import ConfigError
from hifipose.models import MODEL_SPECS, NPM_PACKAGE, ModelSpec, landmark_model_name

PINNED = {
    "pose_detection": (
        "pose_detection.tflite",
        2962288,
        "a63c614bef30d35947f13be361820b1e4e3bec9cfeebf4d11216a18373108e85",
    ),
    "pose_landmark_lite": (
        "pose_landmark_lite.tflite",
        2819824,
        "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61",
    ),
    "pose_landmark_full": (
        "pose_landmark_full.tflite",
        6440512,
        "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    ),
    "pose_landmark_heavy": (
        "pose_landmark_heavy.tflite",
        27709200,
        "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe",
    ),
}
LANDMARK_OUTPUTS = ("Identity", "Identity_1", "Identity_2", "Identity_3", "Identity_4")


def _spec(**overrides: object) -> ModelSpec:
    fields: dict[str, object] = {
        "name": "fake",
        "filename": "fake.tflite",
        "size_bytes": 3,
        "sha256": "0" * 64,
        "npm_member": "package/fake.tflite",
        "input_name": "input_1",
        "input_size_wh": (8, 8),
        "output_names": ("out",),
    }
    fields.update(overrides)
    return ModelSpec(**fields)  # type: ignore[arg-type]


def test_npm_package_is_pinned_to_one_version() -> None:
    assert NPM_PACKAGE == "@mediapipe/pose@0.5.1675469404"


@pytest.mark.parametrize("name", list(PINNED))
def test_files_sizes_and_digests_are_the_pinned_ones(name: str) -> None:
    spec = MODEL_SPECS[name]
    assert spec.name == name
    assert (spec.filename, spec.size_bytes, spec.sha256) == PINNED[name]


def test_table_holds_exactly_the_four_models_in_order() -> None:
    assert list(MODEL_SPECS) == list(PINNED)


def test_detector_is_the_packed_assets_member_and_landmarks_are_named_members() -> None:
    assert MODEL_SPECS["pose_detection"].npm_member == "package/pose_solution_packed_assets.data"
    for model_type in ("lite", "full", "heavy"):
        spec = MODEL_SPECS[f"pose_landmark_{model_type}"]
        assert spec.npm_member == f"package/pose_landmark_{model_type}.tflite"


def test_tensor_facts() -> None:
    detector = MODEL_SPECS["pose_detection"]
    assert (detector.input_name, detector.input_size_wh) == ("input_1", (224, 224))
    assert detector.output_names == ("Identity", "Identity_1")
    for name in ("pose_landmark_lite", "pose_landmark_full", "pose_landmark_heavy"):
        spec = MODEL_SPECS[name]
        assert (spec.input_name, spec.input_size_wh) == ("input_1", (256, 256))
        assert spec.output_names == LANDMARK_OUTPUTS


def test_table_and_specs_are_read_only() -> None:
    with pytest.raises(TypeError):
        MODEL_SPECS["x"] = MODEL_SPECS["pose_detection"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        MODEL_SPECS["pose_detection"].sha256 = "0" * 64  # type: ignore[misc]


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"sha256": "A" * 64}, "64 lower-case hex"),
        ({"sha256": "0" * 63}, "64 lower-case hex"),
        ({"size_bytes": 0}, "size_bytes must be >= 1"),
        ({"filename": "../evil.tflite"}, "bare file name"),
        ({"filename": ""}, "bare file name"),
        ({"filename": ".."}, "file name"),
        ({"name": ""}, "name must not be empty"),
    ],
)
def test_spec_rejects_malformed_fields(overrides: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(match)):
        _spec(**overrides)


def test_spec_accepts_a_well_formed_fake() -> None:
    assert _spec().filename == "fake.tflite"


@pytest.mark.parametrize(
    ("model_type", "name"),
    [
        ("lite", "pose_landmark_lite"),
        ("full", "pose_landmark_full"),
        ("heavy", "pose_landmark_heavy"),
    ],
)
def test_landmark_model_name(model_type: str, name: str) -> None:
    assert landmark_model_name(model_type) == name  # type: ignore[arg-type]
    assert name in MODEL_SPECS


def test_landmark_model_name_rejects_unknown_types() -> None:
    with pytest.raises(ConfigError, match="lite, full, heavy"):
        landmark_model_name("medium")  # type: ignore[arg-type]
