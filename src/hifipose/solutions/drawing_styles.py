"""``hifipose.solutions.drawing_styles``: MediaPipe's default drawing styles (BGR colours).

The same colours, thicknesses and radii as ``mediapipe.solutions.drawing_styles``:

* pose landmarks: the left side's orange (0, 138, 255), the right side's cyan (231, 217, 0),
  the nose light grey (224, 224, 224), thickness 2;
* hand landmarks: filled dots of radius 5, red for the palm (wrist and finger bases), then
  per finger peach (thumb), purple (index), yellow (middle), green (ring), blue (pinky);
  hand connections the same colours per finger, thickness 2, the palm grey, thickness 3;
* face mesh: the tesselation grey, thickness 1; the contours thickness 2, lips and face oval
  light grey, the person's left eye and eyebrow green, the right red (style 1: lips blue, left
  eye cyan, right eye magenta, and the nose yellow); the irises green (left) and red (right).

Each group's landmarks or connections share one :class:`DrawingSpec` object, as in MediaPipe
(changing one changes its group).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final, TypeVar

from hifipose.solutions import face_mesh_connections as fm
from hifipose.solutions import hands_connections as hc
from hifipose.solutions.drawing_utils import DrawingSpec
from hifipose.solutions.hands_connections import HandLandmark
from hifipose.solutions.pose import PoseLandmark

__all__ = [
    "get_default_face_mesh_contours_style",
    "get_default_face_mesh_iris_connections_style",
    "get_default_face_mesh_tesselation_style",
    "get_default_hand_connections_style",
    "get_default_hand_landmarks_style",
    "get_default_pose_landmarks_style",
]

Color = tuple[int, int, int]
_K = TypeVar("_K")
_RED: Final = (48, 48, 255)
_GREEN: Final = (48, 255, 48)
_BLUE: Final = (192, 101, 21)
_YELLOW: Final = (0, 204, 255)
_GRAY: Final = (128, 128, 128)
_PURPLE: Final = (128, 64, 128)
_PEACH: Final = (180, 229, 255)
_WHITE: Final = (224, 224, 224)
_CYAN: Final = (192, 255, 48)
_MAGENTA: Final = (192, 48, 255)
_POSE_LEFT_COLOR: Final = (0, 138, 255)
_POSE_RIGHT_COLOR: Final = (231, 217, 0)

_THICKNESS_POSE_LANDMARKS: Final = 2
_HAND_DOT_RADIUS: Final = 5
_FILLED: Final = -1  # OpenCV's thickness for a filled circle
_THICKNESS_PALM: Final = 3
_THICKNESS_FINGER: Final = 2
_THICKNESS_TESSELATION: Final = 1
_THICKNESS_CONTOURS: Final = 2

_H = HandLandmark
#: Hand landmark groups: the palm (wrist and each finger's lowest joint), then each
#: finger's upper three joints, with their colour.
_HAND_LANDMARK_COLORS: Final[tuple[tuple[tuple[HandLandmark, ...], Color], ...]] = (
    (
        (
            _H.WRIST,
            _H.THUMB_CMC,
            _H.INDEX_FINGER_MCP,
            _H.MIDDLE_FINGER_MCP,
            _H.RING_FINGER_MCP,
            _H.PINKY_MCP,
        ),
        _RED,
    ),
    ((_H.THUMB_MCP, _H.THUMB_IP, _H.THUMB_TIP), _PEACH),
    ((_H.INDEX_FINGER_PIP, _H.INDEX_FINGER_DIP, _H.INDEX_FINGER_TIP), _PURPLE),
    ((_H.MIDDLE_FINGER_PIP, _H.MIDDLE_FINGER_DIP, _H.MIDDLE_FINGER_TIP), _YELLOW),
    ((_H.RING_FINGER_PIP, _H.RING_FINGER_DIP, _H.RING_FINGER_TIP), _GREEN),
    ((_H.PINKY_PIP, _H.PINKY_DIP, _H.PINKY_TIP), _BLUE),
)
_HAND_CONNECTION_STYLES: Final[tuple[tuple[tuple[tuple[int, int], ...], Color, int], ...]] = (
    (hc.HAND_PALM_CONNECTIONS, _GRAY, _THICKNESS_PALM),
    (hc.HAND_THUMB_CONNECTIONS, _PEACH, _THICKNESS_FINGER),
    (hc.HAND_INDEX_FINGER_CONNECTIONS, _PURPLE, _THICKNESS_FINGER),
    (hc.HAND_MIDDLE_FINGER_CONNECTIONS, _YELLOW, _THICKNESS_FINGER),
    (hc.HAND_RING_FINGER_CONNECTIONS, _GREEN, _THICKNESS_FINGER),
    (hc.HAND_PINKY_FINGER_CONNECTIONS, _BLUE, _THICKNESS_FINGER),
)
#: The face contour styles 0 and 1: (edge set, colour) per group.
_CONTOUR_COLORS: Final[tuple[tuple[tuple[frozenset[tuple[int, int]], Color], ...], ...]] = (
    (
        (fm.FACEMESH_LIPS, _WHITE),
        (fm.FACEMESH_LEFT_EYE, _GREEN),
        (fm.FACEMESH_LEFT_EYEBROW, _GREEN),
        (fm.FACEMESH_RIGHT_EYE, _RED),
        (fm.FACEMESH_RIGHT_EYEBROW, _RED),
        (fm.FACEMESH_FACE_OVAL, _WHITE),
    ),
    (
        (fm.FACEMESH_LIPS, _BLUE),
        (fm.FACEMESH_LEFT_EYE, _CYAN),
        (fm.FACEMESH_LEFT_EYEBROW, _GREEN),
        (fm.FACEMESH_RIGHT_EYE, _MAGENTA),
        (fm.FACEMESH_RIGHT_EYEBROW, _RED),
        (fm.FACEMESH_FACE_OVAL, _WHITE),
        (fm.FACEMESH_NOSE, _YELLOW),
    ),
)


def _spread(groups: Iterable[tuple[Iterable[_K], DrawingSpec]]) -> dict[_K, DrawingSpec]:
    """One entry per member of each group, all members of a group sharing its spec."""
    return {member: spec for members, spec in groups for member in members}


def get_default_pose_landmarks_style() -> Mapping[int, DrawingSpec]:
    """Return a spec for each of the 33 pose landmarks: left, right and the nose coloured."""
    left = DrawingSpec(color=_POSE_LEFT_COLOR, thickness=_THICKNESS_POSE_LANDMARKS)
    right = DrawingSpec(color=_POSE_RIGHT_COLOR, thickness=_THICKNESS_POSE_LANDMARKS)
    style: dict[int, DrawingSpec] = {}
    for landmark in PoseLandmark:
        if landmark.name.startswith("LEFT_") or landmark.name.endswith("_LEFT"):
            style[landmark] = left
        elif landmark.name.startswith("RIGHT_") or landmark.name.endswith("_RIGHT"):
            style[landmark] = right
    style[PoseLandmark.NOSE] = DrawingSpec(color=_WHITE, thickness=_THICKNESS_POSE_LANDMARKS)
    return style


def get_default_hand_landmarks_style() -> Mapping[int, DrawingSpec]:
    """Return a spec for each of the 21 hand landmarks: filled dots coloured per finger."""
    return _spread(
        (members, DrawingSpec(color=color, thickness=_FILLED, circle_radius=_HAND_DOT_RADIUS))
        for members, color in _HAND_LANDMARK_COLORS
    )


def get_default_hand_connections_style() -> Mapping[tuple[int, int], DrawingSpec]:
    """Return a spec for each of the 21 hand connections: the palm grey, fingers coloured."""
    return _spread(
        (edges, DrawingSpec(color=color, thickness=thickness))
        for edges, color, thickness in _HAND_CONNECTION_STYLES
    )


def get_default_face_mesh_contours_style(i: int = 0) -> Mapping[tuple[int, int], DrawingSpec]:
    """Return a spec for each face contour connection.

    Args:
        i: Which of MediaPipe's two default styles: 1 for the second (it also draws the
            nose), anything else for the first.
    """
    groups = _CONTOUR_COLORS[1 if i == 1 else 0]
    return _spread(
        (edges, DrawingSpec(color=color, thickness=_THICKNESS_CONTOURS)) for edges, color in groups
    )


def get_default_face_mesh_tesselation_style() -> DrawingSpec:
    """Return the spec for the face mesh tesselation: thin grey lines."""
    return DrawingSpec(color=_GRAY, thickness=_THICKNESS_TESSELATION)


def get_default_face_mesh_iris_connections_style() -> Mapping[tuple[int, int], DrawingSpec]:
    """Return a spec for each iris connection: the person's left iris green, the right red."""
    return _spread(
        (
            (fm.FACEMESH_LEFT_IRIS, DrawingSpec(color=_GREEN, thickness=_THICKNESS_CONTOURS)),
            (fm.FACEMESH_RIGHT_IRIS, DrawingSpec(color=_RED, thickness=_THICKNESS_CONTOURS)),
        )
    )
