"""③ Regions of interest: a detection, or the tracked auxiliary landmarks → a rotated square.

Conventions:
    Pixels of the input frame, origin top-left, x right, y down. ``angle_rad`` is 0 for an
    upright person (the size/rotation point straight above the hip centre) and positive
    when the crop turns clockwise on screen; it lies in [-π, π). The ROI centre is the
    hip centre (detector keypoint 0 or auxiliary landmark 33), not a box centre
    (blazepose-spec §2, §4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Roi", "normalize_angle", "roi_from_points"]

#: MediaPipe's ``RectTransformationCalculator`` scale for the pose ROI.
ROI_SCALE = 1.25


@dataclass(frozen=True, slots=True)
class Roi:
    """A rotated rectangle in pixels.

    Attributes:
        center_px: (x, y) of the centre.
        size_px: (width, height) before rotation; square for pose ROIs.
        angle_rad: Rotation, positive clockwise on screen (see the module's conventions).
    """

    center_px: tuple[float, float]
    size_px: tuple[float, float]
    angle_rad: float


def normalize_angle(angle_rad: float) -> float:
    """Wrap an angle into [-π, π)."""
    return angle_rad - 2 * math.pi * math.floor((angle_rad + math.pi) / (2 * math.pi))


def roi_from_points(
    center_xy_px: tuple[float, float],
    size_point_xy_px: tuple[float, float],
    *,
    scale: float = ROI_SCALE,
) -> Roi:
    """Build the pose ROI from the hip centre and the full-body size/rotation point.

    This is MediaPipe's ``AlignmentPointsRectsCalculator`` (start 0, end 1, target 90°)
    followed by ``RectTransformationCalculator`` (scale 1.25, square_long).

    Conventions:
        Pixels, y down. The side is ``2 * scale * |end - start|``; the rotation is
        ``π/2 - atan2(-(y1 - y0), x1 - x0)`` wrapped to [-π, π): an end point straight above
        the centre gives 0, one to the right gives +π/2.

    Args:
        center_xy_px: Hip centre (detector keypoint 0 or auxiliary landmark 33).
        size_point_xy_px: Size/rotation point (detector keypoint 1 or auxiliary landmark 34).
        scale: Expansion of the side; 1.0 gives the object-scale rect used by smoothing.

    Returns:
        The ROI. Equal points give a side of 0, which callers treat as "no person".

    Example:
        >>> roi = roi_from_points((100.0, 100.0), (140.0, 100.0))
        >>> round(roi.angle_rad, 4), roi.size_px
        (1.5708, (100.0, 100.0))
    """
    x0, y0 = center_xy_px
    x1, y1 = size_point_xy_px
    side = 2.0 * math.hypot(x1 - x0, y1 - y0) * scale
    angle = normalize_angle(math.pi / 2 - math.atan2(-(y1 - y0), x1 - x0))
    return Roi(center_px=(float(x0), float(y0)), size_px=(side, side), angle_rad=angle)
