"""The face mesh's edge sets (pairs of face-landmark indices joined in drawings).

The same sets as ``mediapipe.solutions.face_mesh_connections``, each a frozenset of
``(start, end)`` tuples of indices into ``face_landmarks.landmark`` (468 mesh points; the
iris sets use the 10 points 468–477 that ``refine_face_landmarks=True`` adds). "Left" and
"right" are the person's own, as for the body. The stored sets are data, in
``face_mesh_edges.json`` beside this module (its ``source`` key says where each came from;
``scripts/face_mesh_edges.py`` wrote it); :data:`FACEMESH_CONTOURS` and
:data:`FACEMESH_IRISES` are unions of them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

__all__ = [
    "FACEMESH_CONTOURS",
    "FACEMESH_FACE_OVAL",
    "FACEMESH_IRISES",
    "FACEMESH_LEFT_EYE",
    "FACEMESH_LEFT_EYEBROW",
    "FACEMESH_LEFT_IRIS",
    "FACEMESH_LIPS",
    "FACEMESH_NOSE",
    "FACEMESH_RIGHT_EYE",
    "FACEMESH_RIGHT_EYEBROW",
    "FACEMESH_RIGHT_IRIS",
    "FACEMESH_TESSELATION",
]

Connections = frozenset[tuple[int, int]]

_DATA: Final[dict[str, list[list[int]]]] = json.loads(
    (Path(__file__).with_name("face_mesh_edges.json")).read_text(encoding="utf-8")
)


def _edges(name: str) -> Connections:
    return frozenset((int(start), int(end)) for start, end in _DATA[name])


#: The lips, outer and inner outline (40 edges).
FACEMESH_LIPS: Final = _edges("FACEMESH_LIPS")
#: The person's left eye outline (16 edges).
FACEMESH_LEFT_EYE: Final = _edges("FACEMESH_LEFT_EYE")
#: The person's left eyebrow (8 edges).
FACEMESH_LEFT_EYEBROW: Final = _edges("FACEMESH_LEFT_EYEBROW")
#: The person's left iris, a loop of points 474–477 (4 edges; needs the refined mesh).
FACEMESH_LEFT_IRIS: Final = _edges("FACEMESH_LEFT_IRIS")
#: The person's right eye outline (16 edges).
FACEMESH_RIGHT_EYE: Final = _edges("FACEMESH_RIGHT_EYE")
#: The person's right eyebrow (8 edges).
FACEMESH_RIGHT_EYEBROW: Final = _edges("FACEMESH_RIGHT_EYEBROW")
#: The person's right iris, a loop of points 469–472 (4 edges; needs the refined mesh).
FACEMESH_RIGHT_IRIS: Final = _edges("FACEMESH_RIGHT_IRIS")
#: The outline of the face (36 edges).
FACEMESH_FACE_OVAL: Final = _edges("FACEMESH_FACE_OVAL")
#: The nose ridge and wings (25 edges).
FACEMESH_NOSE: Final = _edges("FACEMESH_NOSE")
#: Every triangle side of the mesh (2556 edges).
FACEMESH_TESSELATION: Final = _edges("FACEMESH_TESSELATION")
#: Lips, eyes, eyebrows and the face oval together (124 edges).
FACEMESH_CONTOURS: Final = frozenset().union(
    FACEMESH_LIPS,
    FACEMESH_LEFT_EYE,
    FACEMESH_LEFT_EYEBROW,
    FACEMESH_RIGHT_EYE,
    FACEMESH_RIGHT_EYEBROW,
    FACEMESH_FACE_OVAL,
)
#: Both irises (8 edges).
FACEMESH_IRISES: Final = FACEMESH_LEFT_IRIS | FACEMESH_RIGHT_IRIS
