"""④ Crops: a rotated ROI → the model's input tensor, with the matrices to go back.

The warp reproduces MediaPipe's OpenCV ``ImageToTensorCalculator``: the ROI is first padded
to the tensor's aspect ratio (letterbox), its corners (``cv2.boxPoints``: bottom-left,
top-left, top-right, bottom-right) are mapped to the tensor's corners
(0, S), (0, 0), (S, 0), (S, S) with ``getPerspectiveTransform``, and the uint8 image is
resampled by ``warpPerspective`` (bilinear) before the values are scaled to floats.

MediaPipe's wheels link OpenCV 3.4, whose ``warpPerspective`` rounds every source position to
1/32 pixel and blends with integer weights; OpenCV 5 interpolates in float and computes
``boxPoints`` differently, so its crops differ from MediaPipe's on ~5 % of the values by up to
3 grey levels (blazepose-spec §1.2). ``fixed_point=True`` reproduces OpenCV 3.4/4.x byte for
byte whatever OpenCV is installed: its corners, its fixed-point source positions, and
``remap`` on those (OpenCV 5's fixed-point ``remap`` blends as 3.4's did: a unit test holds it
to the formula).

Conventions:
    Pixels, origin top-left, x right, y down. Matrices are 3×3 and named
    ``<to>_from_<from>``: ``crop_from_image`` maps image pixels to crop pixels. Destination
    pixel index i maps to ``corner + i * (roi_size / S)``: there is no half-pixel shift.
    Letterbox padding is (left, top, right, bottom) as fractions of the tensor side.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Final, Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from hifipose.blazepose.roi import Roi

__all__ = [
    "Crop",
    "crop_image",
    "fixed_point_maps",
    "legacy_box_points",
    "letterbox_roi",
    "saturate_int32",
    "split_fixed_point",
    "warm_rows",
    "whole_image_roi",
]

_BORDERS = {"zero": cv2.BORDER_CONSTANT, "replicate": cv2.BORDER_REPLICATE}
#: OpenCV's fixed-point sub-pixel grid: source positions are rounded to 1/32 pixel.
INTER_BITS: Final = 5
INTER_TAB_SIZE: Final = 1 << INTER_BITS
#: ``warpPerspective`` fills its maps in blocks this many destination columns wide; each
#: block's first column anchors the double-precision sums (OpenCV 3.4/4.x, for the 224 and
#: 256 tensors: 1024 // min(16, side)).
_BLOCK_COLUMNS: Final = 64
#: Bytes per CPU cache line (x86-64, ARM64): :func:`warm_rows` reads one byte of each.
_CACHE_LINE: Final = 64


@dataclass(frozen=True, slots=True)
class Crop:
    """A model input tensor and how it was cut.

    Attributes:
        tensor: (1, S, S, 3) float32, RGB, values in the requested range.
        roi: The ROI after letterbox padding (what was actually sampled).
        padding: (left, top, right, bottom) letterbox padding, fractions of the tensor.
        crop_from_image: 3×3 affine map, image pixels → tensor pixels.
    """

    tensor: NDArray[np.float32]
    roi: Roi
    padding: tuple[float, float, float, float]
    crop_from_image: NDArray[np.float64]


def whole_image_roi(size_wh: tuple[int, int]) -> Roi:
    """The ROI MediaPipe uses when there is none: the whole frame, unrotated."""
    width, height = size_wh
    return Roi(
        center_px=(width / 2, height / 2), size_px=(float(width), float(height)), angle_rad=0
    )


def letterbox_roi(
    roi: Roi, tensor_wh: tuple[int, int]
) -> tuple[Roi, tuple[float, float, float, float]]:
    """Grow ``roi`` to the tensor's aspect ratio (MediaPipe ``PadRoi``).

    Args:
        roi: The ROI in pixels.
        tensor_wh: The tensor's (width, height).

    Returns:
        The padded ROI and the padding (left, top, right, bottom) as tensor fractions.
    """
    tensor_aspect = tensor_wh[1] / tensor_wh[0]
    width, height = roi.size_px
    roi_aspect = height / width
    if tensor_aspect > roi_aspect:
        vertical = (1.0 - roi_aspect / tensor_aspect) / 2.0
        padded = (width, width * tensor_aspect)
        padding = (0.0, vertical, 0.0, vertical)
    else:
        horizontal = (1.0 - tensor_aspect / roi_aspect) / 2.0
        padded = (height / tensor_aspect, height)
        padding = (horizontal, 0.0, horizontal, 0.0)
    return Roi(center_px=roi.center_px, size_px=padded, angle_rad=roi.angle_rad), padding


def crop_image(
    image_rgb: NDArray[np.uint8],
    roi: Roi,
    *,
    tensor_size: int,
    value_range: tuple[float, float],
    border: Literal["zero", "replicate"],
    fixed_point: bool = False,
    out: NDArray[np.float32] | None = None,
) -> Crop:
    """Cut ``roi`` out of ``image_rgb`` into a square float tensor, letterboxed.

    Args:
        image_rgb: HxWx3 uint8 RGB frame.
        roi: The region to sample, in pixels.
        tensor_size: Side S of the square tensor (224 detector, 256 landmarks).
        value_range: Float range that 0..255 maps to: (-1, 1) detector, (0, 1) landmarks.
        border: Outside the frame: ``"zero"`` (black, the detector) or ``"replicate"``
            (edge pixels, the landmark model).
        fixed_point: Sample as OpenCV 3.4/4.x does, which MediaPipe's wheels link (see the
            module docstring), instead of with the installed OpenCV's ``warpPerspective``.
        out: A C-contiguous (S, S, 3) float32 array to write the values into (a caller's
            reused buffer, e.g. one item of a batch); the returned ``tensor`` is then
            ``out[None]``. None: a new array.

    Returns:
        The tensor with its padded ROI, padding and ``crop_from_image`` matrix.
    """
    padded, padding = letterbox_roi(roi, (tensor_size, tensor_size))
    corners = (
        legacy_box_points(padded)
        if fixed_point
        else np.asarray(
            cv2.boxPoints((padded.center_px, padded.size_px, math.degrees(padded.angle_rad))),
            dtype=np.float32,
        )
    )
    crop_from_image = cv2.getPerspectiveTransform(corners, _tensor_corners(tensor_size))
    warm_rows(image_rgb, corners)
    if fixed_point:
        image_from_crop = np.asarray(cv2.invert(crop_from_image)[1], dtype=np.float64)
        source_xy, fraction = fixed_point_maps(image_from_crop, (tensor_size, tensor_size))
        pixels = cv2.remap(
            image_rgb,
            source_xy,
            fraction,
            cv2.INTER_LINEAR,
            borderMode=_BORDERS[border],
            borderValue=(0, 0, 0),
        )
    else:
        pixels = cv2.warpPerspective(
            image_rgb,
            crop_from_image,
            (tensor_size, tensor_size),
            flags=cv2.INTER_LINEAR,
            borderMode=_BORDERS[border],
            borderValue=(0, 0, 0),
        )
    low, high = value_range
    # float32(pixel) * float32(scale), in one pass (into ``out`` when given)
    tensor = np.multiply(pixels, np.float32((high - low) / 255.0), out=out, dtype=np.float32)
    if low != 0.0:
        tensor += np.float32(low)
    return Crop(
        tensor=tensor[None],
        roi=padded,
        padding=padding,
        crop_from_image=np.asarray(crop_from_image, dtype=np.float64),
    )


@functools.cache
def _tensor_corners(tensor_size: int) -> NDArray[np.float32]:
    """The tensor's corners (0, S), (0, 0), (S, 0), (S, S) as float32 (read-only, shared)."""
    s = float(tensor_size)
    corners = np.array([[0.0, s], [0.0, 0.0], [s, 0.0], [s, s]], dtype=np.float32)
    corners.setflags(write=False)
    return corners


def warm_rows(image: NDArray[np.uint8], corners: NDArray[np.float32]) -> None:
    """Read one byte per cache line of the image rows a warp through ``corners`` samples.

    A rotated crop reads the frame along slanted lines, which the CPU's prefetchers do not
    follow: from a frame no longer in cache (a frame decoded a while ago, a queue of frames)
    ``warpPerspective`` waits on memory for most of its time (0.55 ms instead of 0.19 ms for
    a 256×256 crop of a 640×480 frame). One strided pass over the rows it will read, in
    address order, brings them in for about 0.06 ms, and 0.01 ms when they are already
    there. It reads only: the crop is the same.

    Args:
        image: The HxWx3 frame; nothing is done unless it is C-contiguous.
        corners: (4, 2) source corners (x, y pixels) of the region the warp samples.
    """
    if not image.flags.c_contiguous or image.size == 0:
        return
    height = image.shape[0]
    row_bytes = image.strides[0]
    top = max(math.floor(float(corners[:, 1].min())) - 1, 0)
    bottom = min(math.ceil(float(corners[:, 1].max())) + 2, height)
    if bottom > top:
        np.ravel(image)[top * row_bytes : bottom * row_bytes : _CACHE_LINE].max()


def legacy_box_points(roi: Roi) -> NDArray[np.float32]:
    """The ROI's corners as OpenCV 3.4/4.x ``RotatedRect::points`` computes them.

    MediaPipe builds the rotated rectangle from float32 fields (the angle in degrees as
    ``rotation * 180.f / M_PI``) and OpenCV 3.4/4.x works it out in float32; OpenCV 5's
    ``boxPoints`` rounds differently (last bits), which moves crops' source positions.

    Returns:
        (4, 2) float32: bottom-left, top-left, top-right, bottom-right (for angle 0).
    """
    f32 = np.float32
    cx, cy = f32(roi.center_px[0]), f32(roi.center_px[1])
    width, height = f32(roi.size_px[0]), f32(roi.size_px[1])
    degrees = f32(float(f32(f32(roi.angle_rad) * f32(180.0))) / math.pi)
    radians = float(degrees) * math.pi / 180.0
    b = f32(math.cos(radians)) * f32(0.5)
    a = f32(math.sin(radians)) * f32(0.5)
    x0, y0 = cx - a * height - b * width, cy + b * height - a * width
    x1, y1 = cx + a * height - b * width, cy - b * height - a * width
    two = f32(2.0)
    return np.array(
        [[x0, y0], [x1, y1], [two * cx - x0, two * cy - y0], [two * cx - x1, two * cy - y1]],
        dtype=np.float32,
    )


def fixed_point_maps(
    source_from_dest: NDArray[np.float64], size_wh: tuple[int, int]
) -> tuple[NDArray[np.int16], NDArray[np.uint16]]:
    """OpenCV 3.4/4.x ``warpPerspective``'s source positions, as maps for ``cv2.remap``.

    Per destination pixel (x, y): (X, Y, W) = source_from_dest · (x, y, 1), summed in
    double from the pixel's 64-column block as OpenCV does, then X·32/W and Y·32/W rounded
    half to even: integer pixel = that >> 5, fraction = its low 5 bits.

    Args:
        source_from_dest: 3×3 map from destination pixels to source pixels.
        size_wh: The destination's (width, height).

    Returns:
        The (H, W, 2) int16 integer source pixels and the (H, W) uint16 fractions
        (row fraction · 32 + column fraction), ``cv2.remap``'s fixed-point map pair.
    """
    m = np.asarray(source_from_dest, dtype=np.float64).reshape(9)
    width, height = size_wh
    columns = np.arange(width)
    block = (columns - columns % _BLOCK_COLUMNS).astype(np.float64)
    offset = (columns % _BLOCK_COLUMNS).astype(np.float64)
    rows = np.arange(height, dtype=np.float64)[:, None]
    # OpenCV's order of operations: ((m0·block + m1·row) + m2) + m0·offset, in double
    x = m[0] * block + m[1] * rows
    x += m[2]
    x += m[0] * offset
    y = m[3] * block + m[4] * rows
    y += m[5]
    y += m[3] * offset
    w = m[6] * block + m[7] * rows
    w += m[8]
    w += m[6] * offset
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.divide(INTER_TAB_SIZE, w)
        x *= scale
        y *= scale
    if not w.all():  # OpenCV maps W = 0 to the origin
        x[w == 0] = 0.0
        y[w == 0] = 0.0
    return split_fixed_point(saturate_int32(x), saturate_int32(y))


def saturate_int32(values: NDArray[np.float64]) -> NDArray[np.int64]:
    """OpenCV ``saturate_cast<int>``: round half to even, clamp to the int32 range (in place)."""
    limit = np.iinfo(np.int32)
    np.clip(values, float(limit.min), float(limit.max), out=values)
    return np.rint(values, out=values).astype(np.int64)


def split_fixed_point(
    x: NDArray[np.int64], y: NDArray[np.int64]
) -> tuple[NDArray[np.int16], NDArray[np.uint16]]:
    """Positions in 1/32 pixel → ``cv2.remap``'s (int16 pixel, uint16 fraction) map pair."""
    short = np.iinfo(np.int16)
    source_xy = np.empty((*x.shape, 2), dtype=np.int16)
    source_xy[..., 0] = np.clip(x >> INTER_BITS, short.min, short.max)
    source_xy[..., 1] = np.clip(y >> INTER_BITS, short.min, short.max)
    mask = INTER_TAB_SIZE - 1
    fraction = ((y & mask) << INTER_BITS) | (x & mask)
    return source_xy, fraction.astype(np.uint16)
