"""① The detector's SSD anchor grid (MediaPipe ``SsdAnchorsCalculator``, pose options).

Conventions:
    Anchor centres are normalised to the 224×224 letterboxed detector input, x right, y
    down, in (0, 1). With ``fixed_anchor_size`` every anchor is 1×1, so only the centres
    matter for decoding.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.typing import NDArray

__all__ = ["POSE_DETECTOR_STRIDES", "ssd_anchor_centers"]

#: The pose detector's layer strides (``num_layers`` 5); equal neighbours are merged.
POSE_DETECTOR_STRIDES = (8, 16, 32, 32, 32)


@functools.cache
def ssd_anchor_centers(
    input_size: int = 224,
    strides: tuple[int, ...] = POSE_DETECTOR_STRIDES,
    anchor_offset: float = 0.5,
) -> NDArray[np.float32]:
    """Return the (N, 2) anchor centres (x, y) in the order the model outputs its boxes.

    Consecutive layers with the same stride are merged; each layer contributes two anchors
    per cell (one per aspect ratio 1.0 plus one interpolated). Cells are walked row-major
    (y outer, x inner), and all of a merged group's anchors for one cell come together.

    Args:
        input_size: Side of the square detector input in pixels.
        strides: Stride of each anchor layer.
        anchor_offset: Offset of the centre within a cell, in cells.

    Returns:
        A read-only float32 array of shape (N, 2); N is 2254 for the pose detector.

    Example:
        >>> centers = ssd_anchor_centers()
        >>> centers.shape, round(float(centers[0, 0]) * 28, 6)
        ((2254, 2), 0.5)
    """
    groups: list[NDArray[np.float64]] = []
    layer = 0
    while layer < len(strides):
        last = layer
        while last < len(strides) and strides[last] == strides[layer]:
            last += 1
        anchors_per_cell = 2 * (last - layer)
        grid = math.ceil(input_size / strides[layer])
        cells = (np.arange(grid, dtype=np.float64) + anchor_offset) / grid
        ys, xs = np.meshgrid(cells, cells, indexing="ij")
        xy = np.stack([xs.ravel(), ys.ravel()], axis=1)
        groups.append(np.repeat(xy, anchors_per_cell, axis=0))
        layer = last
    centers = np.concatenate(groups).astype(np.float32)
    centers.setflags(write=False)
    return centers
