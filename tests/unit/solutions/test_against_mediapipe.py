"""Differential tests against mediapipe 0.10.14's own landmark messages and drawing code.

mediapipe is an optional extra (the fidelity oracle) with no wheel for Python ≥ 3.13: where it
is not installed these tests skip; the project's main environment (CI) has it.
"""

from __future__ import annotations

import numpy as np
import pytest

from hifipose.solutions import drawing_styles, drawing_utils
from hifipose.solutions import landmark_pb2 as ours
from hifipose.solutions.pose import POSE_CONNECTIONS, PoseLandmark

theirs = pytest.importorskip("mediapipe.framework.formats.landmark_pb2")
mp_drawing = pytest.importorskip("mediapipe.python.solutions.drawing_utils")
mp_styles = pytest.importorskip("mediapipe.python.solutions.drawing_styles")
mp_pose = pytest.importorskip("mediapipe.python.solutions.pose")

FIELDS = ("x", "y", "z", "visibility", "presence")


def _random_lists(rng: np.random.Generator, count: int = 33):
    """The same random landmarks as (ours, MediaPipe's): some outside the image, some hidden,
    some fields unset."""
    a, b = ours.NormalizedLandmarkList(), theirs.NormalizedLandmarkList()
    for _ in range(count):
        values = {
            "x": rng.uniform(-0.1, 1.1),
            "y": rng.uniform(-0.1, 1.1),
            "z": rng.normal(),
            "visibility": rng.uniform(0.3, 1.0),
            "presence": rng.uniform(0.3, 1.0),
        }
        chosen = {k: v for k, v in values.items() if k in "xy" or rng.random() < 0.6}
        a.landmark.add(**chosen)
        b.landmark.add(**chosen)
    return a, b


@pytest.mark.parametrize("seed", range(5))
def test_fields_text_and_list_fields_match_protobuf(seed: int) -> None:
    a, b = _random_lists(np.random.default_rng(seed))
    assert str(a) == str(b)
    for p, q in zip(a.landmark, b.landmark, strict=True):
        assert [getattr(p, f) for f in FIELDS] == [getattr(q, f) for f in FIELDS]
        assert [p.HasField(f) for f in FIELDS] == [q.HasField(f) for f in FIELDS]
        assert [(f.name, f.number, v) for f, v in p.ListFields()] == [
            (f.name, f.number, v) for f, v in q.ListFields()
        ]
        p.ClearField("z")
        q.ClearField("z")
        assert str(p) == str(q)
    assert len(a.landmark) == len(b.landmark)


def test_pose_constants_match() -> None:
    assert set(POSE_CONNECTIONS) == set(mp_pose.POSE_CONNECTIONS)
    assert [(m.name, m.value) for m in PoseLandmark] == [
        (m.name, m.value) for m in mp_pose.PoseLandmark
    ]
    mine, original = (
        drawing_styles.get_default_pose_landmarks_style(),
        mp_styles.get_default_pose_landmarks_style(),
    )
    assert mine.keys() == original.keys()
    for key, spec in original.items():
        assert (mine[key].color, mine[key].thickness, mine[key].circle_radius) == (
            spec.color,
            spec.thickness,
            spec.circle_radius,
        )
    assert drawing_utils.DrawingSpec() == drawing_utils.DrawingSpec(
        **vars(mp_drawing.DrawingSpec())
    )


def _both(draw_args: dict, ours_list, theirs_list, shape=(240, 320, 3)):
    canvas = np.random.default_rng(7).integers(0, 255, shape, dtype=np.uint8)
    mine, original = canvas.copy(), canvas.copy()
    drawing_utils.draw_landmarks(mine, ours_list, **draw_args(drawing_utils))
    mp_drawing.draw_landmarks(original, theirs_list, **draw_args(mp_drawing))
    return canvas, mine, original


DRAW_CASES = {
    "defaults": lambda m: {},
    "connections": lambda m: {"connections": POSE_CONNECTIONS},
    "pose style": lambda m: {
        "connections": POSE_CONNECTIONS,
        "landmark_drawing_spec": drawing_styles.get_default_pose_landmarks_style(),
    },
    "thick filled": lambda m: {
        "connections": POSE_CONNECTIONS,
        "landmark_drawing_spec": m.DrawingSpec(color=(10, 200, 30), thickness=-1, circle_radius=6),
        "connection_drawing_spec": m.DrawingSpec(color=(250, 0, 250), thickness=5),
    },
    # from radius 10 the white ring's radius is int(1.2 r), not r + 1
    "big rings": lambda m: {
        "landmark_drawing_spec": m.DrawingSpec(color=(0, 90, 200), thickness=1, circle_radius=14),
    },
    "per-connection specs": lambda m: {
        "connections": sorted(POSE_CONNECTIONS),
        "connection_drawing_spec": {
            c: m.DrawingSpec(color=(c[0] * 7 % 256, 90, c[1] * 5 % 256), thickness=1 + c[0] % 3)
            for c in POSE_CONNECTIONS
        },
    },
    "no landmarks": lambda m: {"connections": POSE_CONNECTIONS, "landmark_drawing_spec": None},
    "connections only": lambda m: {"connections": POSE_CONNECTIONS, "is_drawing_landmarks": False},
}


@pytest.mark.parametrize("case", DRAW_CASES)
@pytest.mark.parametrize("seed", range(3))
def test_draw_landmarks_draws_mediapipes_pixels(case: str, seed: int) -> None:
    a, b = _random_lists(np.random.default_rng(seed))
    canvas, mine, original = _both(DRAW_CASES[case], a, b)
    assert not np.array_equal(original, canvas)  # something was drawn
    np.testing.assert_array_equal(mine, original)


def test_draw_landmarks_errors_match() -> None:
    a, b = _random_lists(np.random.default_rng(0))
    for module, landmarks in ((drawing_utils, a), (mp_drawing, b)):
        with pytest.raises(ValueError, match=r"Input image must contain three channel bgr data\."):
            module.draw_landmarks(np.zeros((8, 8, 4), np.uint8), landmarks)
        with pytest.raises(ValueError, match="Invalid connection from landmark #0 to landmark #33"):
            module.draw_landmarks(np.zeros((8, 8, 3), np.uint8), landmarks, [(0, 33)])


@pytest.mark.parametrize(
    ("x", "y"),
    [
        (0.0, 0.0),
        (1.0, 1.0),
        (-1e-12, 0.5),
        (1 + 1e-12, 0.5),
        (-0.01, 0.5),
        (0.999, 1.01),
        (0.5, 0.25),
    ],
)
def test_normalized_to_pixel_coordinates_matches(x: float, y: float) -> None:
    assert drawing_utils._normalized_to_pixel_coordinates(x, y, 640, 480) == (
        mp_drawing._normalized_to_pixel_coordinates(x, y, 640, 480)
    )


def test_drawing_accepts_mediapipes_own_messages() -> None:
    """Our draw_landmarks takes a protobuf list too (a script mixing the two keeps working)."""
    _, b = _random_lists(np.random.default_rng(3))
    canvas = np.zeros((120, 160, 3), np.uint8)
    mine, original = canvas.copy(), canvas.copy()
    drawing_utils.draw_landmarks(mine, b, POSE_CONNECTIONS)
    mp_drawing.draw_landmarks(original, b, mp_pose.POSE_CONNECTIONS)
    np.testing.assert_array_equal(mine, original)


def test_draw_axis_matches() -> None:
    rotation = np.array([[0.36, 0.48, -0.8], [-0.8, 0.6, 0.0], [0.48, 0.64, 0.6]])
    translation = np.array([0.05, -0.02, -0.6])
    mine, original = np.zeros((200, 300, 3), np.uint8), np.zeros((200, 300, 3), np.uint8)
    drawing_utils.draw_axis(mine, rotation, translation, axis_length=0.3)
    mp_drawing.draw_axis(original, rotation, translation, axis_length=0.3)
    assert original.any()
    np.testing.assert_array_equal(mine, original)
