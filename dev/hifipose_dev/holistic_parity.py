"""MediaPipe's own Holistic (mediapipe 0.10.14's legacy solution) fed the npm model files.

mediapipe 0.10.14's wheel ships other builds of the hand, face and face-detector models than
``@mediapipe/holistic`` (different bytes). :func:`holistic_solution` builds a private
resource folder that mirrors the wheel's ``mediapipe/modules`` with links, except that
those model files are links to hifipose's pinned npm files, and points MediaPipe's resource
loader at it. Nothing in the installed package is changed.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

#: (folder under mediapipe/modules, file name) ← registry name of the pinned npm file.
_SUBSTITUTES = {
    ("hand_landmark", "hand_landmark_full.tflite"): "hand_landmark_full",
    ("holistic_landmark", "hand_recrop.tflite"): "hand_recrop",
    ("face_landmark", "face_landmark.tflite"): "face_landmark",
    ("face_landmark", "face_landmark_with_attention.tflite"): "face_landmark_with_attention",
    ("face_detection", "face_detection_short_range.tflite"): "face_detection_short_range",
    ("pose_landmark", "pose_landmark_lite.tflite"): "pose_landmark_lite",
    ("pose_landmark", "pose_landmark_full.tflite"): "pose_landmark_full",
    ("pose_landmark", "pose_landmark_heavy.tflite"): "pose_landmark_heavy",
}


def _mirror(root: Path) -> None:
    import mediapipe

    from hifipose.models import ensure_model

    package = Path(str(mediapipe.__file__)).parent
    modules = package / "modules"
    target = root / "mediapipe" / "modules"
    target.mkdir(parents=True)
    for folder in modules.iterdir():
        if not folder.is_dir():
            continue
        (target / folder.name).mkdir()
        for item in folder.iterdir():
            (target / folder.name / item.name).symlink_to(item)
    for (folder_name, name), spec in _SUBSTITUTES.items():
        link = target / folder_name / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(ensure_model(spec, fetch=False))


@contextlib.contextmanager
def holistic_solution() -> Iterator[Any]:
    """``mediapipe.solutions.holistic`` reading the npm model files while the block runs.

    Also places the npm lite and heavy pose models in mediapipe's own folder (its Holistic
    checks there, and would download them, before it reads any resource):
    :func:`hifipose.bench.install_solution_models`.
    """
    from mediapipe.python import solution_base
    from mediapipe.python.solutions import holistic

    from hifipose.bench import install_solution_models

    install_solution_models()
    with tempfile.TemporaryDirectory(prefix="hifipose-mp-holistic-") as tmp:
        root = Path(tmp)
        _mirror(root)
        original = solution_base.resource_util.set_resource_dir

        def redirect(_path: str) -> None:
            original(str(root))

        solution_base.resource_util.set_resource_dir = redirect
        try:
            yield holistic
        finally:
            solution_base.resource_util.set_resource_dir = original


def _points(landmarks: Any, size_wh: tuple[int, int]) -> np.ndarray | None:
    if landmarks is None:
        return None
    width, height = size_wh
    return np.array([[p.x * width, p.y * height, p.z * width] for p in landmarks.landmark])


def holistic_arrays(result: Any, size_wh: tuple[int, int]) -> dict[str, np.ndarray | None]:
    """MediaPipe's pose, hands and face as (N, 3) x_px, y_px, z_px arrays (None: not found)."""
    return {
        "pose": _points(result.pose_landmarks, size_wh),
        "left_hand": _points(result.left_hand_landmarks, size_wh),
        "right_hand": _points(result.right_hand_landmarks, size_wh),
        "face": _points(result.face_landmarks, size_wh),
    }
