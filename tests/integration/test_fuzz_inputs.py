"""Property-based fuzzing of ``estimate_poses``: any input gives poses or a hifipose error.

Inputs: numpy arrays of any shape (0-4 dimensions, sides 0-40) and dtype (uint8 weighted,
non-contiguous views too), PIL images of every mode and size (0-40 px), other objects, and
timestamps (None, floats including NaN, ±inf and huge finite values, ints beyond float's
range, numpy scalars, bools, strings). A real LiteRT detector in video mode (tracking and
smoothing run) or static mode, strict timestamps or not.

Bounded in CI (HIFIPOSE_FUZZ_EXAMPLES, default 150 per test, about 300 calls); run it long
with ``bash scripts/fuzz 10000``. Passing means 0 crashes and 0 exceptions outside
hifipose.errors.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

import hifipose
from hifipose.pose import Pose

EXAMPLES = int(os.environ.get("HIFIPOSE_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written into the repository
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_DTYPES = st.one_of(
    st.just(np.dtype(np.uint8)),
    st.just(np.dtype(np.uint8)),
    hnp.scalar_dtypes(),
    hnp.byte_string_dtypes(),
    hnp.unicode_string_dtypes(),
)
_SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=40)
_IMAGE_SHAPES = st.tuples(
    st.integers(0, 40), st.integers(0, 40), st.sampled_from([1, 3, 4])
) | st.tuples(st.integers(0, 40), st.integers(0, 40))


@st.composite
def _arrays(draw: st.DrawFn) -> np.ndarray:
    dtype = draw(_DTYPES)
    shape = draw(_IMAGE_SHAPES if draw(st.booleans()) else _SHAPES)
    array = draw(hnp.arrays(dtype, shape))
    if array.ndim >= 2 and draw(st.booleans()):
        array = array[::-1, ::2]  # a non-contiguous view
    return array


@st.composite
def _pil_images(draw: st.DrawFn) -> Image.Image:
    mode = draw(st.sampled_from(sorted(Image.MODES)))
    size = (draw(st.integers(0, 40)), draw(st.integers(0, 40)))
    image = Image.new(mode, size)
    needed = len(image.tobytes())
    if needed:
        data = draw(st.binary(min_size=needed, max_size=needed))
        image.frombytes(data)
    return image


_FRAMES = st.one_of(
    _arrays(),
    _pil_images(),
    st.none(),
    st.text(max_size=5),
    st.integers(),
    st.lists(st.lists(st.integers(0, 255), max_size=3), max_size=3),
    hnp.arrays(np.dtype(object), hnp.array_shapes(max_dims=3, max_side=4)),
)
_TIMESTAMPS = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e306, -1e306, 1e300, 9.3e15, -9.3e15, math.nan, math.inf, -math.inf, -1.0]),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(width=32).map(np.float32),
    st.floats().map(np.float64),
    st.integers(-(2**63), 2**63 - 1).map(np.int64),
    st.booleans(),
    st.text(max_size=3),
)


@pytest.fixture(scope="module")
def detectors(model_dir: Path) -> Iterator[dict[tuple[bool, bool], hifipose.PoseDetector]]:
    """One lite detector per (static_image_mode, strict_timestamps)."""
    made = {
        (static, strict): hifipose.create_detector(
            model_type="lite",
            static_image_mode=static,
            strict_timestamps=strict,
            model_dir=model_dir,
        )
        for static in (False, True)
        for strict in (False, True)
    }
    yield made
    for detector in made.values():
        detector.close()


def _call(detector: hifipose.PoseDetector, frame: object, timestamp: object) -> None:
    try:
        poses = detector.estimate_poses(frame, timestamp_ms=timestamp)  # type: ignore[arg-type]
    except hifipose.HifiposeError:
        return  # a typed, documented error: fine
    assert isinstance(poses, list)
    assert all(isinstance(pose, Pose) for pose in poses)


@FUZZ
@given(frame=_FRAMES, timestamp=_TIMESTAMPS, static=st.booleans(), strict=st.booleans())
def test_any_frame_and_timestamp_gives_poses_or_a_hifipose_error(
    detectors: dict[tuple[bool, bool], hifipose.PoseDetector],
    frame: object,
    timestamp: object,
    static: bool,
    strict: bool,
) -> None:
    _call(detectors[static, strict], frame, timestamp)


@FUZZ
@given(
    height=st.integers(1, 300),
    width=st.integers(1, 300),
    fill=st.integers(0, 255) | st.none(),
    timestamps=st.lists(_TIMESTAMPS, min_size=1, max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_valid_frames_of_any_size_with_any_timestamps(  # noqa: PLR0917 - hypothesis draws
    detectors: dict[tuple[bool, bool], hifipose.PoseDetector],
    height: int,
    width: int,
    fill: int | None,
    timestamps: list[object],
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    frame = (
        rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        if fill is None
        else np.full((height, width, 3), fill, np.uint8)
    )
    for timestamp in timestamps:
        _call(detectors[False, False], frame, timestamp)
