"""Detector tiles: overlapping square regions that let the detector see small people.

The detector letterboxes the whole frame into 224×224: a person 150 px tall in a 1080p frame
ends up about 17 px high, too small to be found. Running the detector also on square tiles
of the frame (each scaled to 224×224 on its own) makes people k times larger for k tiles
along the short side; the detections of all passes are merged by the usual weighted NMS.

Conventions:
    Tiles are unrotated :class:`~hifipose.blazepose.roi.Roi` squares in frame pixels, inside
    the frame. Detections are in frame-normalised coordinates (x / width, y / height), as
    :func:`~hifipose.blazepose.detection.remove_letterbox` returns them for the whole frame.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np

from hifipose.blazepose.detection import Detection
from hifipose.blazepose.roi import Roi

__all__ = [
    "SQUARE_OVERLAP",
    "TILE_OVERLAP",
    "auto_tiles",
    "detector_tiles",
    "short_side_squares",
    "tile_to_frame",
]

#: Neighbouring tiles overlap by at least this fraction of their side.
TILE_OVERLAP: Final = 0.25
#: Side by side (a landscape frame), neighbouring :func:`short_side_squares` overlap by at
#: least this fraction of their side: they look for people too small for the whole-frame
#: pass (which found a person 320 px tall in a 1280×720 frame on 54 of 55 frames across it,
#: one 220 px tall on 38), about a third of the short side tall or less and so narrower
#: than this overlap (144 px at 720p): each lies wholly inside one square. Two squares on
#: 16:9 (overlap 0.22), not three. Stacked (portrait), a seam crosses people along their
#: height: :data:`TILE_OVERLAP` there.
SQUARE_OVERLAP: Final = 0.2


def _starts(length: float, side: float, overlap: float) -> list[float]:
    if side >= length:
        return [0.0]
    count = math.ceil((length - side) / (side * (1.0 - overlap))) + 1
    step = (length - side) / (count - 1)
    return [i * step for i in range(count)]


def detector_tiles(size_wh: tuple[int, int], per_short_side: int) -> list[Roi]:
    """Square tiles covering the frame, ``per_short_side`` along its short side.

    The side is short / k × (1 + overlap) so that k tiles with the overlap span the short
    side; along the long side as many as needed, spread evenly with at least
    :data:`TILE_OVERLAP` overlap.

    Args:
        size_wh: The frame's (width, height) in pixels.
        per_short_side: k ≥ 2 (1 means no tiles: an empty list).

    Returns:
        The tiles, row by row.
    """
    if per_short_side < 2:
        return []
    width, height = size_wh
    short = min(width, height)
    side = min(short / per_short_side * (1.0 + TILE_OVERLAP), short)
    return [
        Roi(center_px=(x + side / 2, y + side / 2), size_px=(side, side), angle_rad=0.0)
        for y in _starts(height, side, TILE_OVERLAP)
        for x in _starts(width, side, TILE_OVERLAP)
    ]


def short_side_squares(size_wh: tuple[int, int]) -> list[Roi]:
    """Squares as large as the frame's short side, along its long side (none on a square).

    Two on a 16:9 frame (overlapping by at least :data:`SQUARE_OVERLAP`; three on 9:16,
    stacked, by :data:`TILE_OVERLAP`), each showing people 1.78 × larger than the
    whole-frame pass.
    """
    width, height = size_wh
    side = min(width, height)
    if max(width, height) <= side:
        return []
    return [
        Roi(center_px=(x + side / 2, y + side / 2), size_px=(side, side), angle_rad=0.0)
        for y in _starts(height, side, TILE_OVERLAP)
        for x in _starts(width, side, SQUARE_OVERLAP)
    ]


def auto_tiles(size_wh: tuple[int, int], *, video: bool) -> list[Roi]:
    """The tiles of ``detector_tiles=None`` with several people.

    In video, :func:`short_side_squares` (the 2×2 grid on a square frame): on
    ``crossing_squats.mp4`` they found the person at the back on every frame tried, gave
    MOTA 0.958 against the grid's 0.936 and cost 3 detector runs against 8. Two squares on
    16:9 (:data:`SQUARE_OVERLAP`) instead of three found a walker crossing a 1280×720 frame
    as often: 140 px tall on 34 of 55 frames (three: 35; the whole frame alone: 9), 180 to
    320 px on every frame but one at the edge (the whole frame alone: 21 of 55 at 180 px),
    with a detector run less. On photos, the grid with 2 along the short side: 23 of 37
    labelled people found against the squares' 16.
    """
    if video:
        return short_side_squares(size_wh) or detector_tiles(size_wh, 2)
    return detector_tiles(size_wh, 2)


def tile_to_frame(detection: Detection, tile: Roi, size_wh: tuple[int, int]) -> Detection:
    """Map a detection from tile-normalised to frame-normalised coordinates."""
    width, height = size_wh
    side = tile.size_px[0]
    origin = np.array(
        [tile.center_px[0] - side / 2, tile.center_px[1] - side / 2], dtype=np.float64
    )
    frame = np.array([width, height], dtype=np.float64)
    box = ((detection.box.reshape(2, 2) * side + origin) / frame).reshape(4)
    keypoints = (detection.keypoints * side + origin) / frame
    return Detection(
        score=detection.score, box=box.astype(np.float32), keypoints=keypoints.astype(np.float32)
    )
