"""hifipose.solutions.pose's API surface: what needs no model file (see
tests/integration/test_solutions.py for processing)."""

from __future__ import annotations

import inspect
import subprocess
import sys

import numpy as np
import pytest

import hifipose
from hifipose.errors import ConfigError, InvalidImageError, InvalidImageTypeError
from hifipose.solutions import pose as mp_pose
from hifipose.solutions._solution import check_rgb, landmark_lists
from hifipose.topology import Kp


def test_pose_signature_is_mediapipes() -> None:
    params = list(inspect.signature(mp_pose.Pose).parameters.values())
    legacy = [(p.name, p.default) for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert legacy == [
        ("static_image_mode", False),
        ("model_complexity", 1),
        ("smooth_landmarks", True),
        ("enable_segmentation", False),
        ("smooth_segmentation", True),
        ("min_detection_confidence", 0.5),
        ("min_tracking_confidence", 0.5),
        ("extra_settings", None),
    ]
    extra = {p.name: p.default for p in params if p.kind is p.KEYWORD_ONLY}
    assert extra["compat"] == "mediapipe-python"
    assert {"runtime", "device", "num_threads"} <= extra.keys()


@pytest.mark.parametrize("complexity", [3, -1, True, 1.0, "1"])
def test_bad_model_complexity_is_refused_before_loading(complexity) -> None:
    with pytest.raises(ConfigError, match="model_complexity"):
        mp_pose.Pose(model_complexity=complexity)


def test_bad_extra_settings_is_refused() -> None:
    with pytest.raises(ConfigError, match="ExtraSettings"):
        mp_pose.Pose(extra_settings={"disallow_service_default_initialization": True})


def test_pose_landmark_is_hifiposes_keypoint_order() -> None:
    assert [(m.name, int(m)) for m in mp_pose.PoseLandmark] == [(k.name, int(k)) for k in Kp]
    assert mp_pose.PoseLandmark.LEFT_KNEE == 25
    assert len(mp_pose.POSE_CONNECTIONS) == 35
    assert all(0 <= a < 33 and 0 <= b < 33 for a, b in mp_pose.POSE_CONNECTIONS)


@pytest.mark.parametrize(
    ("image", "error", "message"),
    [
        (np.zeros((4, 4, 4), np.uint8), InvalidImageError, "three channel rgb data"),
        (np.zeros((4, 4, 1), np.uint8), InvalidImageError, "three channel rgb data"),
        (np.zeros((4, 4), np.uint8), InvalidImageError, "three channel rgb data"),
        (np.zeros((1, 4, 4, 3), np.uint8), InvalidImageError, "three channel rgb data"),
        (np.zeros((4, 4, 3), np.float32), InvalidImageTypeError, r"dtype\('float32'\)"),
        (np.zeros((4, 4, 3), np.uint16), InvalidImageTypeError, r"dtype\('uint16'\)"),
        ([[[0, 0, 0]]], InvalidImageTypeError, "numpy ndarray"),
        (None, InvalidImageTypeError, "numpy ndarray"),
        (np.zeros((0, 4, 3), np.uint8), InvalidImageError, "empty"),
    ],
)
def test_check_rgb_raises_mediapipes_error_kinds(image, error, message) -> None:
    with pytest.raises(error, match=message) as caught:
        check_rgb(image)
    builtin = TypeError if error is InvalidImageTypeError else ValueError
    assert isinstance(caught.value, builtin)  # what MediaPipe's callers catch


def test_check_rgb_passes_a_good_frame_through() -> None:
    frame = np.zeros((4, 5, 3), np.uint8)[:, ::-1]  # not contiguous: MediaPipe accepted it
    assert check_rgb(frame) is frame


def test_landmark_lists_normalise_by_width_and_height() -> None:
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 1, (33, 5)).astype(np.float32) * [640, 480, 640, 1, 1]
    world = rng.normal(size=(33, 3)).astype(np.float32)
    pose = hifipose.Pose(image, world, score=0.9)
    normalised, metres = landmark_lists(pose, (640, 480))
    got = np.array([[p.x * 640, p.y * 480, p.z * 640, p.visibility] for p in normalised.landmark])
    np.testing.assert_allclose(got, image[:, :4], rtol=1e-6)
    np.testing.assert_array_equal(
        [[p.x, p.y, p.z, p.visibility] for p in metres.landmark],
        np.c_[world, image[:, 3]],
    )
    first = normalised.landmark[0]
    assert first.HasField("visibility") and not first.HasField("presence")  # 0.10.14 clears it
    assert not metres.landmark[0].HasField("presence")


def test_import_hifipose_as_mp_reaches_the_solutions_lazily() -> None:
    code = (
        "import sys, hifipose as mp; assert 'hifipose.solutions' not in sys.modules; "
        "print(mp.solutions.pose.Pose.__module__, mp.solutions.drawing_utils.__name__, "
        "mp.solutions.drawing_styles.get_default_pose_landmarks_style.__name__, "
        "mp.solutions.holistic.Holistic.__module__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [
        "hifipose.solutions.pose",
        "hifipose.solutions.drawing_utils",
        "get_default_pose_landmarks_style",
        "hifipose.solutions.holistic",
    ]
    with pytest.raises(AttributeError, match="hands"):
        hifipose.solutions.hands  # noqa: B018 - not a hifipose solution
