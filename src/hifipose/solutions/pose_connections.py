"""``POSE_CONNECTIONS``: the 35 pairs of pose landmark indices joined in drawings.

The same pairs as ``mediapipe.solutions.pose_connections`` (and
:data:`hifipose.topology.SKELETON_EDGES`), as a frozenset of ``(start, end)`` tuples.
"""

from __future__ import annotations

from typing import Final

from hifipose.topology import SKELETON_EDGES

__all__ = ["POSE_CONNECTIONS"]

POSE_CONNECTIONS: Final[frozenset[tuple[int, int]]] = frozenset(
    (int(start), int(end)) for start, end in SKELETON_EDGES
)
