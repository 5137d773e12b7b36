"""``hifipose.solutions.drawing_styles``: MediaPipe's default drawing styles (BGR colours).

:func:`get_default_pose_landmarks_style`: the left side's landmarks orange (0, 138, 255),
the right side's cyan (231, 217, 0), the nose light grey (224, 224, 224), thickness 2,
radius 2, as MediaPipe's. The face and hand styles arrive with the holistic solution.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from hifipose.solutions.drawing_utils import DrawingSpec
from hifipose.solutions.pose import PoseLandmark

__all__ = ["get_default_pose_landmarks_style"]

_WHITE: Final = (224, 224, 224)
_POSE_LEFT_COLOR: Final = (0, 138, 255)
_POSE_RIGHT_COLOR: Final = (231, 217, 0)
_THICKNESS_POSE_LANDMARKS: Final = 2


def get_default_pose_landmarks_style() -> Mapping[int, DrawingSpec]:
    """Return a spec for each of the 33 pose landmarks: left, right and the nose coloured.

    Every left landmark shares one :class:`DrawingSpec` object, every right one another,
    as in MediaPipe (changing one changes its side).
    """
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
