"""The hand's landmarks and edges, as ``mediapipe.solutions.hands`` named them.

:class:`HandLandmark` names the 21 points of ``left_hand_landmarks`` /
``right_hand_landmarks`` (0 the wrist; per finger, base to tip: thumb 1–4, index 5–8,
middle 9–12, ring 13–16, pinky 17–20). :data:`HAND_CONNECTIONS` is the frozenset of the 21
edges drawn (:data:`hifipose.topology.HAND_EDGES`); the per-finger tuples and the palm split
them for the drawing styles, each finger base to tip.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final

from hifipose.topology import HAND_EDGES

__all__ = [
    "HAND_CONNECTIONS",
    "HAND_INDEX_FINGER_CONNECTIONS",
    "HAND_MIDDLE_FINGER_CONNECTIONS",
    "HAND_PALM_CONNECTIONS",
    "HAND_PINKY_FINGER_CONNECTIONS",
    "HAND_RING_FINGER_CONNECTIONS",
    "HAND_THUMB_CONNECTIONS",
    "HandLandmark",
]


class HandLandmark(IntEnum):
    """The 21 hand landmarks, valued by their index in a hand's ``landmark`` list."""

    WRIST = 0
    THUMB_CMC = 1
    THUMB_MCP = 2
    THUMB_IP = 3
    THUMB_TIP = 4
    INDEX_FINGER_MCP = 5
    INDEX_FINGER_PIP = 6
    INDEX_FINGER_DIP = 7
    INDEX_FINGER_TIP = 8
    MIDDLE_FINGER_MCP = 9
    MIDDLE_FINGER_PIP = 10
    MIDDLE_FINGER_DIP = 11
    MIDDLE_FINGER_TIP = 12
    RING_FINGER_MCP = 13
    RING_FINGER_PIP = 14
    RING_FINGER_DIP = 15
    RING_FINGER_TIP = 16
    PINKY_MCP = 17
    PINKY_PIP = 18
    PINKY_DIP = 19
    PINKY_TIP = 20


def _chain(first: HandLandmark) -> tuple[tuple[int, int], ...]:
    """A finger's three edges from ``first`` (its lowest drawn joint) to its tip."""
    return tuple((int(first) + i, int(first) + i + 1) for i in range(3))


#: The palm: wrist to thumb base, wrist to index and pinky bases, and across the bases.
HAND_PALM_CONNECTIONS: Final = (
    (HandLandmark.WRIST.value, HandLandmark.THUMB_CMC.value),
    (HandLandmark.WRIST.value, HandLandmark.INDEX_FINGER_MCP.value),
    (HandLandmark.MIDDLE_FINGER_MCP.value, HandLandmark.RING_FINGER_MCP.value),
    (HandLandmark.RING_FINGER_MCP.value, HandLandmark.PINKY_MCP.value),
    (HandLandmark.INDEX_FINGER_MCP.value, HandLandmark.MIDDLE_FINGER_MCP.value),
    (HandLandmark.WRIST.value, HandLandmark.PINKY_MCP.value),
)
HAND_THUMB_CONNECTIONS: Final = _chain(HandLandmark.THUMB_CMC)
HAND_INDEX_FINGER_CONNECTIONS: Final = _chain(HandLandmark.INDEX_FINGER_MCP)
HAND_MIDDLE_FINGER_CONNECTIONS: Final = _chain(HandLandmark.MIDDLE_FINGER_MCP)
HAND_RING_FINGER_CONNECTIONS: Final = _chain(HandLandmark.RING_FINGER_MCP)
HAND_PINKY_FINGER_CONNECTIONS: Final = _chain(HandLandmark.PINKY_MCP)
#: All 21 edges of a hand.
HAND_CONNECTIONS: Final[frozenset[tuple[int, int]]] = frozenset(
    (int(start), int(end)) for start, end in HAND_EDGES
)
