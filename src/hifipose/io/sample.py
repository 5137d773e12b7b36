"""The built-in sample clip: a real photo of a person, filmed by a virtual moving camera."""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from hifipose._optional import require

__all__ = ["sample_frames"]


def sample_frames(
    frames: int = 45, size_wh: tuple[int, int] = (480, 360)
) -> list[NDArray[np.uint8]]:
    """A short clip from scikit-image's astronaut photo, filmed by a slowly moving camera.

    The built-in sample of ``hifipose demo`` and ``hifipose bench``: it needs nothing but
    scikit-image, which carries the photo. The camera zooms (up to 1.25×), tilts (±6°) and
    pans, so a tracker sees real motion.

    Args:
        frames: Number of frames.
        size_wh: Frame size (width, height) in pixels.

    Returns:
        HxWx3 uint8 RGB frames.

    Raises:
        RuntimeUnavailableError: scikit-image is not installed (``hifipose[demo]``).
    """
    data = require("skimage.data", extra="demo")
    photo = data.astronaut()
    height, width = photo.shape[:2]
    out_w, out_h = size_wh
    clip = []
    for i in range(frames):
        phase = i / max(frames - 1, 1)
        zoom = 1.0 + 0.25 * math.sin(math.pi * phase)
        angle = 6.0 * math.sin(2 * math.pi * phase)
        shift = 40.0 * (phase - 0.5)
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, zoom * out_h / height)
        matrix[0, 2] += (out_w - width) / 2 + shift
        matrix[1, 2] += (out_h - height) / 2
        frame = cv2.warpAffine(photo, matrix, size_wh, borderMode=cv2.BORDER_REFLECT)
        clip.append(np.asarray(frame, dtype=np.uint8))
    return clip
