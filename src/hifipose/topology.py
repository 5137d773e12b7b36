"""The BlazePose keypoint topology: 33 names, the skeleton's 35 edges, the COCO-17 mapping.

Conventions:
    Indices are 0-based and in model output order. "Left" and "right" are the person's own
    sides, not the viewer's. The tables are read-only tuples and mappings.
"""

from __future__ import annotations

from enum import IntEnum
from types import MappingProxyType
from typing import Final

__all__ = [
    "COCO17_FROM_BLAZEPOSE",
    "COCO17_NAMES",
    "COCO17_SKELETON",
    "FLIP_PERMUTATION",
    "HAND_EDGES",
    "HAND_KEYPOINT_NAMES",
    "KEYPOINT_NAMES",
    "LEFT_KEYPOINTS",
    "NUM_KEYPOINTS",
    "RIGHT_KEYPOINTS",
    "SKELETON_EDGES",
    "Kp",
    "keypoint_side",
]


class Kp(IntEnum):
    """The 33 BlazePose keypoints, valued by their index in the model's output."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


NUM_KEYPOINTS: Final = len(Kp)

#: Lower-case names in model order (``"nose"``, ``"left_eye_inner"``, …), as in TF.js.
KEYPOINT_NAMES: Final[tuple[str, ...]] = tuple(kp.name.lower() for kp in Kp)

#: The 21 points of a Holistic hand, lower-case, in the hand model's order (MediaPipe's
#: ``HandLandmark`` names): the wrist, then each finger from its base to its tip.
HAND_KEYPOINT_NAMES: Final[tuple[str, ...]] = (
    "wrist",
    *(f"thumb_{joint}" for joint in ("cmc", "mcp", "ip", "tip")),
    *(
        f"{finger}_{joint}"
        for finger in ("index_finger", "middle_finger", "ring_finger", "pinky")
        for joint in ("mcp", "pip", "dip", "tip")
    ),
)

#: The 21 edges of a Holistic hand (points: 0 wrist; per finger, base to tip: thumb 1-4,
#: index 5-8, middle 9-12, ring 13-16, pinky 17-20): each finger's chain, and the palm
#: outline wrist → index base → middle base → ring base → pinky base → wrist.
HAND_EDGES: Final[tuple[tuple[int, int], ...]] = (
    *((0, 1), (1, 2), (2, 3), (3, 4)),
    *((0, 5), (5, 6), (6, 7), (7, 8)),
    *((9, 10), (10, 11), (11, 12)),
    *((13, 14), (14, 15), (15, 16)),
    *((0, 17), (17, 18), (18, 19), (19, 20)),
    *((5, 9), (9, 13), (13, 17)),
)

#: The 35 skeleton edges of MediaPipe's ``POSE_CONNECTIONS``.
SKELETON_EDGES: Final[tuple[tuple[Kp, Kp], ...]] = (
    # face
    (Kp.NOSE, Kp.LEFT_EYE_INNER),
    (Kp.LEFT_EYE_INNER, Kp.LEFT_EYE),
    (Kp.LEFT_EYE, Kp.LEFT_EYE_OUTER),
    (Kp.LEFT_EYE_OUTER, Kp.LEFT_EAR),
    (Kp.NOSE, Kp.RIGHT_EYE_INNER),
    (Kp.RIGHT_EYE_INNER, Kp.RIGHT_EYE),
    (Kp.RIGHT_EYE, Kp.RIGHT_EYE_OUTER),
    (Kp.RIGHT_EYE_OUTER, Kp.RIGHT_EAR),
    (Kp.MOUTH_LEFT, Kp.MOUTH_RIGHT),
    # torso
    (Kp.LEFT_SHOULDER, Kp.RIGHT_SHOULDER),
    (Kp.LEFT_SHOULDER, Kp.LEFT_HIP),
    (Kp.RIGHT_SHOULDER, Kp.RIGHT_HIP),
    (Kp.LEFT_HIP, Kp.RIGHT_HIP),
    # left arm and hand
    (Kp.LEFT_SHOULDER, Kp.LEFT_ELBOW),
    (Kp.LEFT_ELBOW, Kp.LEFT_WRIST),
    (Kp.LEFT_WRIST, Kp.LEFT_PINKY),
    (Kp.LEFT_WRIST, Kp.LEFT_INDEX),
    (Kp.LEFT_WRIST, Kp.LEFT_THUMB),
    (Kp.LEFT_PINKY, Kp.LEFT_INDEX),
    # right arm and hand
    (Kp.RIGHT_SHOULDER, Kp.RIGHT_ELBOW),
    (Kp.RIGHT_ELBOW, Kp.RIGHT_WRIST),
    (Kp.RIGHT_WRIST, Kp.RIGHT_PINKY),
    (Kp.RIGHT_WRIST, Kp.RIGHT_INDEX),
    (Kp.RIGHT_WRIST, Kp.RIGHT_THUMB),
    (Kp.RIGHT_PINKY, Kp.RIGHT_INDEX),
    # left leg
    (Kp.LEFT_HIP, Kp.LEFT_KNEE),
    (Kp.LEFT_KNEE, Kp.LEFT_ANKLE),
    (Kp.LEFT_ANKLE, Kp.LEFT_HEEL),
    (Kp.LEFT_HEEL, Kp.LEFT_FOOT_INDEX),
    (Kp.LEFT_ANKLE, Kp.LEFT_FOOT_INDEX),
    # right leg
    (Kp.RIGHT_HIP, Kp.RIGHT_KNEE),
    (Kp.RIGHT_KNEE, Kp.RIGHT_ANKLE),
    (Kp.RIGHT_ANKLE, Kp.RIGHT_HEEL),
    (Kp.RIGHT_HEEL, Kp.RIGHT_FOOT_INDEX),
    (Kp.RIGHT_ANKLE, Kp.RIGHT_FOOT_INDEX),
)

LEFT_KEYPOINTS: Final[frozenset[Kp]] = frozenset(kp for kp in Kp if kp.name.startswith("LEFT_")) | {
    Kp.MOUTH_LEFT
}
RIGHT_KEYPOINTS: Final[frozenset[Kp]] = frozenset(
    kp for kp in Kp if kp.name.startswith("RIGHT_")
) | {Kp.MOUTH_RIGHT}


def _mirror(kp: Kp) -> Kp:
    name = kp.name
    for a, b in (("LEFT", "RIGHT"), ("RIGHT", "LEFT")):
        if name.startswith(f"{a}_") or name.endswith(f"_{a}"):
            return Kp[name.replace(a, b)]
    return kp


#: For each keypoint (by index), the keypoint it becomes in a horizontally mirrored image:
#: the person's left and right swap (``LEFT_WRIST`` ↔ ``RIGHT_WRIST``, ``MOUTH_LEFT`` ↔
#: ``MOUTH_RIGHT``), the nose stays. ``points[FLIP_PERMUTATION]`` relabels a mirrored
#: image's keypoints; it is its own inverse.
FLIP_PERMUTATION: Final[tuple[int, ...]] = tuple(int(_mirror(kp)) for kp in Kp)

#: COCO's 17 keypoint names, in COCO order.
COCO17_NAMES: Final[tuple[str, ...]] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)

#: For each COCO-17 keypoint (in COCO order), the BlazePose keypoint it is taken from. Every
#: COCO name is also a BlazePose name, so the mapping is by name; BlazePose's extra 16 points
#: (inner/outer eyes, mouth, hands, heels, feet) have no COCO counterpart and are dropped.
COCO17_FROM_BLAZEPOSE: Final[tuple[Kp, ...]] = tuple(Kp[name.upper()] for name in COCO17_NAMES)

#: COCO's 19-edge skeleton, 1-based as in the COCO annotation file's ``categories`` entry.
COCO17_SKELETON: Final[tuple[tuple[int, int], ...]] = (
    (16, 14),
    (14, 12),
    (17, 15),
    (15, 13),
    (12, 13),
    (6, 12),
    (7, 13),
    (6, 7),
    (6, 8),
    (7, 9),
    (8, 10),
    (9, 11),
    (2, 3),
    (1, 2),
    (1, 3),
    (2, 4),
    (3, 5),
    (4, 6),
    (5, 7),
)

_SIDES: Final = MappingProxyType(
    {
        kp: ("left" if kp in LEFT_KEYPOINTS else "right" if kp in RIGHT_KEYPOINTS else "middle")
        for kp in Kp
    }
)


def keypoint_side(kp: Kp | int) -> str:
    """Return ``"left"``, ``"right"`` or ``"middle"``: the person's side a keypoint is on."""
    return _SIDES[Kp(kp)]
