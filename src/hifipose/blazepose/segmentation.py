"""⑥ The person mask: 256×256 crop logits → a full-frame probability mask.

Conventions:
    The mask is float32 H×W in [0, 1], 1 = person, aligned with the frame's pixels.
    Pixels outside the ROI are 0. Sampling follows MediaPipe's OpenCV ``WarpAffine``
    runner: frame pixel (x, y) reads the crop at ``crop_from_image · (x, y)`` with no
    half-pixel shift, bilinearly, zero outside (blazepose-spec §3.9). With ``fixed_point``
    the sample point is rounded as OpenCV 3.4/4.x's ``warpAffine`` rounds it (MediaPipe's
    wheels link OpenCV 3.4; OpenCV 5 samples at the exact point).
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from hifipose.blazepose.crop import INTER_BITS, INTER_TAB_SIZE, saturate_int32, split_fixed_point

__all__ = ["fixed_point_affine_maps", "mask_support", "mask_to_image"]

#: OpenCV 3.4/4.x ``warpAffine`` first works in 1/1024 pixel, then rounds to 1/32.
_AB_BITS = 10


def mask_to_image(
    logits: NDArray[np.float32],
    crop_from_image: NDArray[np.float64],
    size_wh: tuple[int, int],
    *,
    fixed_point: bool = False,
) -> NDArray[np.float32]:
    """Activate the segmentation logits and warp them back onto the frame.

    Args:
        logits: (256, 256), (256, 256, 1) or (1, 256, 256, 1) segmentation logits.
        crop_from_image: The crop's 3×3 affine map from frame pixels to crop pixels.
        size_wh: The frame's (width, height).
        fixed_point: Sample as OpenCV 3.4/4.x's ``warpAffine`` (MediaPipe's wheels), not
            as the installed OpenCV's.

    Returns:
        The H×W float32 mask in [0, 1].
    """
    side = logits.shape[-2] if logits.ndim == 4 else logits.shape[1]
    mask = logits.reshape(side, side).astype(np.float32)
    np.negative(mask, out=mask)
    with np.errstate(over="ignore"):  # exp(large) = inf gives the correct probability 0
        np.exp(mask, out=mask)
    mask += 1.0
    np.reciprocal(mask, out=mask)
    if fixed_point:
        source_xy, fraction = fixed_point_affine_maps(crop_from_image[:2], size_wh)
        warped = cv2.remap(
            mask, source_xy, fraction, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
        )
    else:
        warped = cv2.warpAffine(
            mask,
            np.ascontiguousarray(crop_from_image[:2]),
            size_wh,
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0.0,
        )
    return np.asarray(warped, dtype=np.float32)


def fixed_point_affine_maps(
    source_from_dest: NDArray[np.float64], size_wh: tuple[int, int]
) -> tuple[NDArray[np.int16], NDArray[np.uint16]]:
    """OpenCV 3.4/4.x ``warpAffine``'s source positions, as maps for ``cv2.remap``.

    Per destination pixel (x, y), in 1/1024 pixel: round(m00·x·1024) + round((m01·y + m02)
    ·1024) + 16 (and likewise for the row), then shifted down to 1/32 pixel.

    Args:
        source_from_dest: 2×3 affine map from destination pixels to source pixels.
        size_wh: The destination's (width, height).

    Returns:
        The (H, W, 2) int16 integer source pixels and the (H, W) uint16 fractions
        (row fraction · 32 + column fraction), ``cv2.remap``'s fixed-point map pair.
    """
    m = np.asarray(source_from_dest, dtype=np.float64)
    width, height = size_wh
    scale = float(1 << _AB_BITS)
    half_step = (1 << _AB_BITS) // INTER_TAB_SIZE // 2
    columns = np.arange(width, dtype=np.float64)
    rows = np.arange(height, dtype=np.float64)[:, None]
    shift = _AB_BITS - INTER_BITS
    x = (
        saturate_int32(m[0, 0] * columns * scale)[None, :]
        + (saturate_int32((m[0, 1] * rows + m[0, 2]) * scale) + half_step)
    ) >> shift
    y = (
        saturate_int32(m[1, 0] * columns * scale)[None, :]
        + (saturate_int32((m[1, 1] * rows + m[1, 2]) * scale) + half_step)
    ) >> shift
    return split_fixed_point(x, y)


def mask_support(
    crop_from_image: NDArray[np.float64], mask_side: int, size_wh: tuple[int, int]
) -> tuple[int, int, int, int]:
    """The frame box outside which :func:`mask_to_image` gives exactly 0.

    A frame pixel reads the crop bilinearly at ``crop_from_image · (x, y)``; it can be
    non-zero only if that point lies in (−1, side) on both axes. The box bounds the
    pre-image of that square, widened by one pixel and clipped to the frame.

    Args:
        crop_from_image: The crop's 3×3 affine map from frame pixels to crop pixels.
        mask_side: The mask's side in crop pixels (256).
        size_wh: The frame's (width, height).

    Returns:
        ``(x0, y0, x1, y1)`` in pixels, end-exclusive; empty (x1 ≤ x0 or y1 ≤ y0) when the
        crop misses the frame.
    """
    image_from_crop = np.linalg.inv(crop_from_image)
    lo, hi = -1.0, float(mask_side)
    corners = np.array([[lo, lo, 1.0], [hi, lo, 1.0], [lo, hi, 1.0], [hi, hi, 1.0]])
    points = corners @ image_from_crop.T
    xy = points[:, :2] / points[:, 2:]
    width, height = size_wh
    x0, y0 = np.floor(xy.min(axis=0)).astype(int) - 1
    x1, y1 = np.ceil(xy.max(axis=0)).astype(int) + 2
    return (
        int(np.clip(x0, 0, width)),
        int(np.clip(y0, 0, height)),
        int(np.clip(x1, 0, width)),
        int(np.clip(y1, 0, height)),
    )
