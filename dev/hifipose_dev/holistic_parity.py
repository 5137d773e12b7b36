"""MediaPipe's own Holistic (mediapipe 0.10.14's legacy solution) fed the npm model files.

mediapipe 0.10.14's wheel ships other builds of the hand, face and face-detector models than
``@mediapipe/holistic`` (different bytes). :func:`holistic_solution` points MediaPipe's
resource loader at a private folder that mirrors the wheel's ``mediapipe/modules`` with
links, those model files linked to hifipose's pinned npm files
(:mod:`hifipose.runtimes.mediapipe_holistic`, which ``runtime="mediapipe"`` uses too).
Nothing in the installed package is changed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from hifipose.models import ensure_model
from hifipose.runtimes.mediapipe_holistic import MODULE_FILES, NpmResourceDir, npm_resources


@contextlib.contextmanager
def holistic_solution() -> Iterator[Any]:
    """``mediapipe.solutions.holistic`` reading the npm model files while the block runs.

    Also places the npm lite and heavy pose models in mediapipe's own folder (its Holistic
    checks there, and would download them, before it reads any resource):
    :func:`hifipose.bench.install_solution_models`.
    """
    from hifipose.bench import install_solution_models

    install_solution_models()
    resources = NpmResourceDir({name: ensure_model(name, fetch=False) for name in MODULE_FILES})
    try:
        with npm_resources(resources) as holistic:
            yield holistic
    finally:
        resources.cleanup()


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
