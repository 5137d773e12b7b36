"""hifipose.solutions' hand and face-mesh constants and drawing styles against mediapipe
0.10.14's (the edge sets are stored as data, see scripts/face_mesh_edges.py; MediaPipe is the
oracle here only: the package itself never imports it).

mediapipe has no wheel for Python ≥ 3.13: where it is not installed these tests skip; the
project's main environment (CI) has it.
"""

from __future__ import annotations

import numpy as np
import pytest

from hifipose.solutions import drawing_styles, drawing_utils
from hifipose.solutions import face_mesh_connections as ours_face
from hifipose.solutions import hands_connections as ours_hands
from hifipose.solutions import holistic as ours_holistic
from hifipose.solutions import landmark_pb2 as ours_pb2

theirs_pb2 = pytest.importorskip("mediapipe.framework.formats.landmark_pb2")
mp_drawing = pytest.importorskip("mediapipe.python.solutions.drawing_utils")
mp_styles = pytest.importorskip("mediapipe.python.solutions.drawing_styles")
mp_face = pytest.importorskip("mediapipe.python.solutions.face_mesh_connections")
mp_hands = pytest.importorskip("mediapipe.python.solutions.hands_connections")
mp_holistic = pytest.importorskip("mediapipe.python.solutions.holistic")


def _public_constants(module) -> dict[str, object]:
    names = getattr(module, "__all__", dir(module))  # MediaPipe's modules have no __all__
    return {n: getattr(module, n) for n in names if n.isupper() and not n.startswith("_")}


def test_face_mesh_sets_are_mediapipes() -> None:
    theirs = _public_constants(mp_face)
    assert _public_constants(ours_face) == theirs  # names and edges, every set
    assert len(theirs["FACEMESH_TESSELATION"]) == 2556


def test_hand_connections_and_landmarks_are_mediapipes() -> None:
    assert _public_constants(ours_hands) == _public_constants(mp_hands)  # tuples keep order
    assert [(m.name, m.value) for m in ours_hands.HandLandmark] == [
        (m.name, m.value) for m in mp_holistic.HandLandmark
    ]


def test_holistic_exports_what_mediapipes_holistic_exports() -> None:
    public = {"Holistic", "HandLandmark", "PoseLandmark"} | set(_public_constants(mp_holistic))
    assert public <= set(ours_holistic.__all__)
    for name in _public_constants(mp_holistic):
        assert getattr(ours_holistic, name) == getattr(mp_holistic, name), name


def _spec(spec) -> tuple:
    return (spec.color, spec.thickness, spec.circle_radius)


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("get_default_hand_landmarks_style", ()),
        ("get_default_hand_connections_style", ()),
        ("get_default_face_mesh_contours_style", ()),
        ("get_default_face_mesh_contours_style", (1,)),
        ("get_default_face_mesh_iris_connections_style", ()),
        ("get_default_pose_landmarks_style", ()),
    ],
)
def test_styles_are_mediapipes(name: str, args: tuple) -> None:
    mine, original = getattr(drawing_styles, name)(*args), getattr(mp_styles, name)(*args)
    assert mine.keys() == original.keys()
    assert {k: _spec(v) for k, v in mine.items()} == {k: _spec(v) for k, v in original.items()}
    # a group shares one spec (MediaPipe's: changing one changes its group)
    assert len({id(v) for v in mine.values()}) == len({id(v) for v in original.values()})


def test_tesselation_style_is_mediapipes() -> None:
    assert _spec(drawing_styles.get_default_face_mesh_tesselation_style()) == _spec(
        mp_styles.get_default_face_mesh_tesselation_style()
    )


def _random_mesh(count: int, seed: int):
    rng = np.random.default_rng(seed)
    a, b = ours_pb2.NormalizedLandmarkList(), theirs_pb2.NormalizedLandmarkList()
    for x, y, z in rng.uniform(0.05, 0.95, (count, 3)).tolist():
        a.landmark.add(x=x, y=y, z=z)
        b.landmark.add(x=x, y=y, z=z)
    return a, b


@pytest.mark.parametrize(
    ("count", "draw"),
    [
        (
            478,
            lambda m, s: {
                "connections": m.FACEMESH_TESSELATION,
                "landmark_drawing_spec": None,
                "connection_drawing_spec": s.get_default_face_mesh_tesselation_style(),
            },
        ),
        (
            478,
            lambda m, s: {
                "connections": m.FACEMESH_CONTOURS | m.FACEMESH_IRISES,
                "landmark_drawing_spec": None,
                "connection_drawing_spec": {
                    **s.get_default_face_mesh_contours_style(),
                    **s.get_default_face_mesh_iris_connections_style(),
                },
            },
        ),
        (
            21,
            lambda m, s: {
                "connections": m.HAND_CONNECTIONS,
                "landmark_drawing_spec": s.get_default_hand_landmarks_style(),
                "connection_drawing_spec": s.get_default_hand_connections_style(),
            },
        ),
    ],
    ids=["tesselation", "contours and irises", "hand"],
)
def test_drawing_a_face_or_hand_draws_mediapipes_pixels(count: int, draw) -> None:
    a, b = _random_mesh(count, seed=count)
    canvas = np.random.default_rng(5).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    mine, original = canvas.copy(), canvas.copy()
    constants = ours_face if count > 21 else ours_hands
    theirs_constants = mp_face if count > 21 else mp_hands
    drawing_utils.draw_landmarks(mine, a, **draw(constants, drawing_styles))
    mp_drawing.draw_landmarks(original, b, **draw(theirs_constants, mp_styles))
    assert not np.array_equal(original, canvas)
    np.testing.assert_array_equal(mine, original)
