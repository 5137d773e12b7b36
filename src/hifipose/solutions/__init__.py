"""``hifipose.solutions``: the ``mediapipe.solutions`` API that MediaPipe removed, as a drop-in.

Code written against ``mp.solutions`` runs after changing its import line::

    import hifipose as mp  # was: import mediapipe as mp

    with mp.solutions.pose.Pose() as pose:
        results = pose.process(rgb)
    mp.solutions.drawing_utils.draw_landmarks(bgr, results.pose_landmarks,
                                              mp.solutions.pose.POSE_CONNECTIONS)

or ``from hifipose.solutions import pose as mp_pose`` for
``from mediapipe.python.solutions import pose as mp_pose``. Submodules: :mod:`.pose`,
:mod:`.holistic` (pose, hands and face), :mod:`.drawing_utils`, :mod:`.drawing_styles`,
:mod:`.pose_connections`, :mod:`.hands_connections`, :mod:`.face_mesh_connections`, and
:mod:`.landmark_pb2` (the landmark containers). They are imported on first use, so
``import hifipose`` stays light.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from hifipose.solutions import (
        drawing_styles,
        drawing_utils,
        face_mesh_connections,
        hands_connections,
        holistic,
        landmark_pb2,
        pose,
        pose_connections,
    )

__all__ = [
    "drawing_styles",
    "drawing_utils",
    "face_mesh_connections",
    "hands_connections",
    "holistic",
    "landmark_pb2",
    "pose",
    "pose_connections",
]

_SUBMODULES: Final = frozenset(__all__)


def __getattr__(name: str) -> ModuleType:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES)
