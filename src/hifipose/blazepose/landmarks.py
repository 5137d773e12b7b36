"""⑤ Landmark model outputs → refined, projected image landmarks and rotated world landmarks.

Conventions:
    Crop-normalised coordinates are fractions of the (letterboxed) 256×256 crop, x right,
    y down; crop z is divided by the crop width like x. Projected image landmarks are in
    pixels of the frame; their z is in the same pixel scale as x (MediaPipe's normalised z
    times the frame width), 0 at the hip-centre depth, smaller is nearer the camera.
    World landmarks are metres, origin between the hips, y down; they are rotated by the
    ROI angle (positive: clockwise on screen) about z, never translated or scaled
    (blazepose-spec §3).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from hifipose.blazepose.roi import Roi

__all__ = [
    "HEATMAP_KERNEL",
    "LEGACY_PYTHON_HEATMAP_KERNEL",
    "NUM_MODEL_LANDMARKS",
    "decode_landmarks",
    "decode_world_landmarks",
    "project_landmarks",
    "refine_with_heatmap",
    "rotate_world",
]

NUM_MODEL_LANDMARKS = 39  # 33 body + 2 auxiliary (hip centre, size/rotation point) + 4 unused
LANDMARK_INPUT_SIZE = 256
HEATMAP_KERNEL = 7  # the graph's, Tasks' and TF.js's window (blazepose-spec §3.5)
#: The window the legacy Python ``mp.solutions.pose`` runs: its options round trip drops the
#: graph's 7 and the calculator falls back to its proto default (blazepose-spec §3.5).
LEGACY_PYTHON_HEATMAP_KERNEL = 9
MIN_CONFIDENCE_TO_REFINE = 0.5


#: Below this logit exp(-x) may overflow float32 (to inf, which gives the correct 0).
_EXP_SAFE_LOGIT = -80.0


def _sigmoid(x: NDArray[np.float32]) -> NDArray[np.float32]:
    """1 / (1 + exp(-x)) in float32, in one new array."""
    out = np.negative(x)
    if x.size and x.min() > _EXP_SAFE_LOGIT:  # np.errstate costs more than the math here
        np.exp(out, out=out)
    else:
        with np.errstate(over="ignore"):  # exp(large) = inf gives the correct probability 0
            np.exp(out, out=out)
    out += np.float32(1.0)
    return np.divide(np.float32(1.0), out, out=out)


def decode_landmarks(raw: NDArray[np.float32]) -> NDArray[np.float32]:
    """Decode the (1, 195) landmark tensor (MediaPipe ``TensorsToLandmarks``).

    Args:
        raw: 39 × (x, y, z in crop pixels, visibility logit, presence logit).

    Returns:
        (39, 5) float32: x, y, z crop-normalised (all divided by 256), visibility and
        presence as probabilities.
    """
    # x, y, z ÷ 256 as a product by 2⁻⁸ (exact: the same rounding), the logits × 1, in
    # float32 (the raw values converted first)
    out = np.multiply(raw.reshape(NUM_MODEL_LANDMARKS, 5), _DECODE_SCALE, dtype=np.float32)
    out[:, 3:5] = _sigmoid(out[:, 3:5])
    return out


#: :func:`decode_landmarks`' factors per column: 1 / 256 (a power of two) for x, y, z.
_DECODE_SCALE: Final = np.array([1 / LANDMARK_INPUT_SIZE] * 3 + [1.0, 1.0], dtype=np.float32)


def refine_with_heatmap(
    landmarks: NDArray[np.float32],
    heatmap_logits: NDArray[np.float32],
    kernel_size: int = HEATMAP_KERNEL,
) -> NDArray[np.float32]:
    """Refine x, y with the heatmap (MediaPipe ``RefineLandmarksFromHeatmap``).

    For each landmark, the cell (trunc(x·64), trunc(y·64)) is located (C-style truncation
    toward zero); landmarks whose cell is outside the 64×64 grid are left unchanged. Over
    the k×k window around the cell (rows and columns [c − k//2, c + k//2 + 1), clipped at
    the grid's edges) the confidences
    c = sigmoid(logit) are summed; if the largest is ≥ 0.5, x and y become the
    confidence-weighted mean cell index divided by 64 (no half-cell offset, as upstream).

    Args:
        landmarks: (N, ≥2) crop-normalised landmarks (x, y first).
        heatmap_logits: (64, 64, N) or (1, 64, 64, N) heatmap logits, rows = y.
        kernel_size: The window side k (odd): 7 is the graph's (and Tasks', TF.js's); 9
            is what the legacy Python ``mp.solutions.pose`` runs.

    Returns:
        A refined copy of ``landmarks``; columns other than x and y are unchanged.
    """
    heatmap = heatmap_logits.reshape(heatmap_logits.shape[-3:])
    shape: tuple[int, ...] = heatmap.shape
    grid_h, grid_w, count = shape[-3], shape[-2], shape[-1]
    out = landmarks.copy()
    plan = _plan(kernel_size, grid_w, grid_h, count)
    # (x, y) cells as (col, row): the grid sides multiply in the landmarks' own dtype, and
    # the cast truncates toward zero
    cells = (landmarks[:count, :2] * plan.grid_as(landmarks.dtype)).astype(np.int64)
    # the usual case: every window wholly inside the grid (nothing to clip or leave out);
    # a cell below half a window becomes a huge unsigned one, so one comparison tells
    half = kernel_size // 2
    edge = not ((cells - half).view(np.uint64) < plan.interior).all()
    if not edge:
        index = plan.index
        # heatmap[row, col, index] over the (K, k, k) windows, as flat indices (one take):
        # each window's centre plus the kernel's fixed offsets (and its channel)
        flat = (cells @ plan.strides)[:, None, None] + plan.flat
    else:
        grid = plan.grid
        # negative cells become huge unsigned ones: one comparison tells those in the grid
        inside = (cells.view(np.uint64) < grid.view(np.uint64)).all(axis=1)
        index = plan.index if inside.all() else np.flatnonzero(inside)
        if not index.size:
            return out
        cells = cells[index]
        # (2, K, k): the windows' columns, then rows; ok where inside the grid
        windows = cells.T[:, :, None] + plan.offsets
        ok = windows.view(np.uint64) < grid.view(np.uint64)[:, None, None]
        clipped = np.clip(windows, 0, grid[:, None, None] - 1)
        flat = clipped[0] * count
        flat += index[:, None]
        flat = (clipped[1] * (grid_w * count))[:, :, None] + flat[:, None, :]
    values = np.ravel(heatmap).take(flat)
    confidence = _sigmoid(values.astype(np.float32, copy=False))
    if edge:  # cells outside the grid count 0 (the others are multiplied by 1: unchanged)
        confidence *= ok[1][:, :, None] & ok[0][:, None, :]
    peak = confidence.max(axis=(1, 2))
    total = confidence.sum(axis=(1, 2))
    # a total holds its window's peak (sums of non-negative numbers never round below an
    # addend): with every peak ≥ the threshold, every total is > 0 (NaN fails the test)
    every = bool(peak.min() >= MIN_CONFIDENCE_TO_REFINE)
    refine = None if every else (peak >= MIN_CONFIDENCE_TO_REFINE) & (total > 0)
    if every or (refine is not None and refine.any()):
        # (K, 2, k, k): each window's cell columns, then rows, weighted by the confidences
        # and summed per landmark and axis, in float64 (both converted exactly first: the
        # products a float32 × int64 multiply makes, without its casting buffers)
        cell_coords = cells.astype(np.float64)[:, :, None, None] + plan.cell_offsets
        weighted = (confidence.astype(np.float64)[:, None] * cell_coords).sum(axis=(2, 3))
        if refine is not None:
            index, total, weighted = index[refine], total[refine], weighted[refine]
        weighted /= plan.grid_f64
        weighted /= total[:, None]
        if index is plan.index:
            out[:count, :2] = weighted
        else:
            out[index, :2] = weighted
    return out


@dataclass(frozen=True)
class _Plan:
    """The fixed arrays of one heatmap refinement shape (read-only, shared)."""

    grid: NDArray[np.int64]  # (grid_w, grid_h)
    grid_f64: NDArray[np.float64]  # (grid_w, grid_h) as floats
    interior: NDArray[np.uint64]  # grid − (k − 1): cells − k//2 below it, per axis
    index: NDArray[np.int64]  # 0 … count − 1
    strides: NDArray[np.int64]  # flat index steps of a column and a row
    flat: NDArray[np.int64]  # (count, k, k) flat offsets of each window's cells, channel added
    offsets: NDArray[np.int64]  # -k//2 … k//2
    cell_offsets: NDArray[np.float64]  # (2, k, k): column offsets along rows, row offsets down
    _grid_as: dict[np.dtype[np.floating], NDArray[np.floating]]

    def grid_as(self, dtype: np.dtype[np.floating]) -> NDArray[np.floating]:
        """(grid_w, grid_h) in a float dtype."""
        found = self._grid_as.get(dtype)
        if found is None:
            found = _read_only(self.grid.astype(dtype))
            self._grid_as[dtype] = found
        return found


def _read_only(array: NDArray[Any]) -> NDArray[Any]:
    array.setflags(write=False)
    return array


@functools.cache
def _plan(kernel_size: int, grid_w: int, grid_h: int, count: int) -> _Plan:
    """The :class:`_Plan` of a kernel, grid and channel count."""
    offsets = _window_offsets(kernel_size)
    grid = _read_only(np.array((grid_w, grid_h), dtype=np.int64))
    index = _read_only(np.arange(count, dtype=np.int64))
    window = (offsets[:, None] * grid_w + offsets[None, :]) * count
    cell_offsets = np.empty((2, kernel_size, kernel_size), dtype=np.float64)
    cell_offsets[0] = offsets[None, :]
    cell_offsets[1] = offsets[:, None]
    return _Plan(
        grid=grid,
        grid_f64=_read_only(grid.astype(np.float64)),
        interior=_read_only(np.maximum(grid - (kernel_size - 1), 0).astype(np.uint64)),
        index=index,
        strides=_read_only(np.array((count, grid_w * count), dtype=np.int64)),
        flat=_read_only(window[None, :, :] + index[:, None, None]),
        offsets=offsets,
        cell_offsets=_read_only(cell_offsets),
        _grid_as={},
    )


@functools.cache
def _window_offsets(kernel_size: int) -> NDArray[np.int64]:
    """-k//2 … k//2: a window's cells around its centre (read-only, shared)."""
    offsets = np.arange(kernel_size, dtype=np.int64) - kernel_size // 2
    offsets.setflags(write=False)
    return offsets


def project_landmarks(
    landmarks: NDArray[np.float32],
    roi: Roi,
    padding: tuple[float, float, float, float],
) -> NDArray[np.float32]:
    """Map crop-normalised landmarks to frame pixels (letterbox removal + projection).

    Args:
        landmarks: (N, ≥3) crop-normalised x, y, z (more columns are carried along).
        roi: The ROI the crop was cut from, *before* letterbox padding.
        padding: The crop's (left, top, right, bottom) letterbox padding.

    Returns:
        (N, same columns) float32: x, y in frame pixels, z in pixel scale (z·ROI width).
        This is the exact inverse of the crop. MediaPipe's ``LandmarkProjection`` scales
        after rotating, which agrees for the square ROIs the pose graph uses.
    """
    left, top, right, bottom = padding
    out = landmarks.astype(np.float32, copy=True)
    width, height = roi.size_px
    x = ((landmarks[:, 0] - left) / (1 - left - right) - 0.5) * width
    y = ((landmarks[:, 1] - top) / (1 - top - bottom) - 0.5) * height
    cos, sin = math.cos(roi.angle_rad), math.sin(roi.angle_rad)
    out[:, 0] = cos * x - sin * y + roi.center_px[0]
    out[:, 1] = sin * x + cos * y + roi.center_px[1]
    out[:, 2] = landmarks[:, 2] / (1 - left - right) * width
    return out


def decode_world_landmarks(raw: NDArray[np.float32], angle_rad: float) -> NDArray[np.float32]:
    """Decode the (1, 117) world tensor and rotate it by the ROI angle about z.

    Args:
        raw: 39 × (x, y, z) in metres, in the crop's orientation.
        angle_rad: The ROI angle (positive clockwise on screen).

    Returns:
        (39, 3) float32 metres: x' = cos·x − sin·y, y' = sin·x + cos·y, z' = z.
    """
    return rotate_world(raw.reshape(NUM_MODEL_LANDMARKS, 3), angle_rad)


def rotate_world(world_m: NDArray[np.float32], angle_rad: float) -> NDArray[np.float32]:
    """Rotate (N, 3) world landmarks (metres) by the ROI angle about z.

    Returns:
        A new (N, 3) float32 array: x' = cos·x − sin·y, y' = sin·x + cos·y, z' = z.
    """
    world = world_m.astype(np.float32)
    cos, sin = math.cos(angle_rad), math.sin(angle_rad)
    x, y = world[:, 0].copy(), world[:, 1].copy()
    world[:, 0] = cos * x - sin * y
    world[:, 1] = sin * x + cos * y
    return world
