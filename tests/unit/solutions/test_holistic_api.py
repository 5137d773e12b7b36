"""hifipose.solutions.holistic's API surface: what needs no model file (see
tests/integration/test_solutions.py for processing)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from hifipose.errors import ConfigError
from hifipose.solutions import holistic as mp_holistic
from hifipose.solutions import pose as mp_pose
from hifipose.solutions._solution import Solution, part_landmarks


def test_holistic_signature_is_mediapipes() -> None:
    params = list(inspect.signature(mp_holistic.Holistic).parameters.values())
    legacy = [(p.name, p.default) for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert legacy == [
        ("static_image_mode", False),
        ("model_complexity", 1),
        ("smooth_landmarks", True),
        ("enable_segmentation", False),
        ("smooth_segmentation", True),
        ("refine_face_landmarks", False),
        ("min_detection_confidence", 0.5),
        ("min_tracking_confidence", 0.5),
    ]
    extra = {p.name: p.default for p in params if p.kind is p.KEYWORD_ONLY}
    assert extra["compat"] == "mediapipe-python"
    assert {"runtime", "device", "num_threads", "model_dir"} <= extra.keys()
    assert mp_holistic.HolisticResults._fields == (
        "pose_landmarks",
        "pose_world_landmarks",
        "left_hand_landmarks",
        "right_hand_landmarks",
        "face_landmarks",
        "segmentation_mask",
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model_complexity": 3}, "model_complexity"),
        ({"model_complexity": True}, "model_complexity"),
        ({"refine_face_landmarks": "yes"}, "refine_face_landmarks must be a bool"),
        ({"static_image_mode": None}, "static_image_mode must be a bool"),
    ],
)
def test_bad_arguments_are_refused_before_loading(kwargs, match) -> None:
    with pytest.raises(ConfigError, match=match):
        mp_holistic.Holistic(**kwargs)


def test_holistic_and_pose_share_one_lifecycle() -> None:
    assert issubclass(mp_holistic.Holistic, Solution)
    assert issubclass(mp_pose.Pose, Solution)
    for name in ("close", "reset", "detector", "__enter__", "__exit__"):
        assert name not in vars(mp_holistic.Holistic)
        assert name not in vars(mp_pose.Pose)


def test_part_landmarks_normalise_and_set_xyz_only() -> None:
    rng = np.random.default_rng(1)
    points = (rng.uniform(0, 1, (21, 3)) * [640, 480, 100]).astype(np.float32)
    landmarks = part_landmarks(points, (640, 480))
    got = np.array([[p.x * 640, p.y * 480, p.z * 640] for p in landmarks.landmark])
    np.testing.assert_allclose(got, points, rtol=1e-6)
    first = landmarks.landmark[0]
    assert [f.name for f, _ in first.ListFields()] == ["x", "y", "z"]  # as mediapipe 0.10.14's


def test_edge_sets_are_well_formed_without_mediapipe() -> None:
    """What holds without the oracle (Python 3.13 has no mediapipe wheel)."""
    from hifipose.solutions import face_mesh_connections as fm
    from hifipose.solutions import hands_connections as hc

    mesh = {a for edge in fm.FACEMESH_TESSELATION for a in edge}
    assert mesh == set(range(468))  # every mesh point, no iris point
    for iris, first in ((fm.FACEMESH_RIGHT_IRIS, 469), (fm.FACEMESH_LEFT_IRIS, 474)):
        assert iris == {(first + i, first + (i + 1) % 4) for i in range(4)}  # a loop
    assert fm.FACEMESH_IRISES == fm.FACEMESH_LEFT_IRIS | fm.FACEMESH_RIGHT_IRIS
    assert fm.FACEMESH_CONTOURS >= fm.FACEMESH_LIPS | fm.FACEMESH_FACE_OVAL
    assert not fm.FACEMESH_CONTOURS & fm.FACEMESH_NOSE
    groups = (
        hc.HAND_PALM_CONNECTIONS,
        hc.HAND_THUMB_CONNECTIONS,
        hc.HAND_INDEX_FINGER_CONNECTIONS,
        hc.HAND_MIDDLE_FINGER_CONNECTIONS,
        hc.HAND_RING_FINGER_CONNECTIONS,
        hc.HAND_PINKY_FINGER_CONNECTIONS,
    )
    assert frozenset().union(*groups) == hc.HAND_CONNECTIONS
    assert sum(len(g) for g in groups) == len(hc.HAND_CONNECTIONS) == 21
