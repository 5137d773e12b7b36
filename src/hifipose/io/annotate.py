"""Text labels on overlay frames: one per pose (e.g. a repetition count and a live angle).

Conventions:
    Images are HxWx3 uint8 RGB. A label is drawn in a filled box just above the pose's
    keypoint box (inside the frame), left-aligned with it.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from hifipose.pose import Pose

__all__ = ["draw_pose_labels"]

RGB = tuple[int, int, int]


def draw_pose_labels(
    image_rgb: NDArray[np.uint8],
    poses: Sequence[Pose],
    labels: Sequence[str | None],
    *,
    out: NDArray[np.uint8] | None = None,
    text_rgb: RGB = (255, 255, 255),
    box_rgb: RGB = (200, 30, 90),
    bgr: bool = False,
) -> NDArray[np.uint8]:
    """Draw ``labels[i]`` above ``poses[i]`` (None or "" draws nothing).

    Args:
        image_rgb: The frame (not modified unless it is also ``out``).
        poses: The poses the labels belong to.
        labels: One text per pose.
        out: Draw into this array instead of a copy.
        text_rgb: Text colour.
        box_rgb: Fill of the box behind the text.
        bgr: The image (and ``out``) is BGR: the colours are drawn with their channels
            swapped.

    Returns:
        The drawn image.
    """
    canvas = image_rgb.copy() if out is None else out
    if bgr:
        text_rgb, box_rgb = text_rgb[::-1], box_rgb[::-1]
    height, width = canvas.shape[:2]
    scale = max(0.5, height / 720)
    thickness = max(1, round(scale * 1.5))
    for pose, label in zip(poses, labels, strict=True):
        if not label:
            continue
        xy = pose.image_array[:, :2]
        xy = xy[np.isfinite(xy).all(axis=1)]
        if xy.size == 0:
            continue
        (w, h), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        x = int(np.clip(xy[:, 0].min(), 0, max(0, width - w - 8)))
        y = int(np.clip(xy[:, 1].min() - 10, h + base + 8, height - 1))
        cv2.rectangle(canvas, (x, y - h - base - 8), (x + w + 8, y), box_rgb, -1)
        cv2.putText(
            canvas,
            label,
            (x + 4, y - base - 4),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            text_rgb,
            thickness,
            cv2.LINE_AA,
        )
    return canvas
