"""⑥ The person mask: 256×256 crop logits → probabilities in the crop → the frame, when read.

Conventions:
    The mask stays in its crop (:class:`CropMask`: the landmark model's side×side
    probabilities and the crop's 3×3 ``crop_from_image`` map) until someone reads it. Read
    on the frame it is float32 H×W in [0, 1], 1 = person, aligned with the frame's pixels,
    0 outside the ROI. Sampling follows MediaPipe's OpenCV ``WarpAffine`` runner: frame pixel
    (x, y) reads the crop at ``crop_from_image · (x, y)`` with no half-pixel shift,
    bilinearly, zero outside (blazepose-spec §3.9). A mask read at another size maps output
    pixel centres onto frame pixel centres (``x = (u + 0.5) · W / W' − 0.5``, the points
    ``cv2.resize`` reads) and reads the crop there the same way, without making the frame
    mask (resizing the frame mask would interpolate twice). A mask made with
    ``fixed_point`` (``compat="mediapipe-python"``) rounds the sample points as OpenCV
    3.4/4.x's ``warpAffine`` rounds them (MediaPipe's wheels link OpenCV 3.4; OpenCV 5
    samples at the exact point).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from hifipose.blazepose.crop import INTER_BITS, INTER_TAB_SIZE, saturate_int32, split_fixed_point

__all__ = [
    "CropMask",
    "activate_mask",
    "crop_mask_to_image",
    "fixed_point_affine_maps",
    "mask_in_crop",
    "supersample_mask",
]

#: OpenCV 3.4/4.x ``warpAffine`` first works in 1/1024 pixel, then rounds to 1/32.
_AB_BITS = 10


def activate_mask(logits: NDArray[np.float32]) -> NDArray[np.float32]:
    """The sigmoid of the segmentation logits: the person probability per crop pixel.

    Args:
        logits: (side, side), (side, side, 1) or (1, side, side, 1) segmentation logits.

    Returns:
        A new (side, side) float32 array in [0, 1].
    """
    side = logits.shape[-2] if logits.ndim == 4 else logits.shape[1]
    mask = logits.reshape(side, side).astype(np.float32)
    np.negative(mask, out=mask)
    with np.errstate(over="ignore"):  # exp(large) = inf gives the correct probability 0
        np.exp(mask, out=mask)
    mask += 1.0
    np.reciprocal(mask, out=mask)
    return mask


def crop_mask_to_image(
    probabilities: NDArray[np.float32],
    crop_from_image: NDArray[np.float64],
    size_wh: tuple[int, int],
    out_size_wh: tuple[int, int] | None = None,
    *,
    fixed_point: bool = False,
) -> NDArray[np.float32]:
    """Warp a crop-space mask onto the frame, or onto the frame resized to ``out_size_wh``.

    Args:
        probabilities: (side, side) float32 mask in [0, 1], in crop pixels.
        crop_from_image: The crop's 3×3 affine map from frame pixels to crop pixels.
        size_wh: The frame's (width, height).
        out_size_wh: The (width, height) to read the mask at; None for the frame's size.
        fixed_point: Sample as OpenCV 3.4/4.x's ``warpAffine`` (MediaPipe's wheels), not
            as the installed OpenCV's.

    Returns:
        The float32 mask in [0, 1], ``out_size_wh`` (else ``size_wh``) in size.
    """
    matrix = crop_from_image
    if out_size_wh is not None and tuple(out_size_wh) != tuple(size_wh):
        sx, sy = size_wh[0] / out_size_wh[0], size_wh[1] / out_size_wh[1]
        image_from_out = np.array(
            [[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5], [0.0, 0.0, 1.0]]
        )
        matrix = crop_from_image @ image_from_out
        size_wh = out_size_wh
    if fixed_point:
        source_xy, fraction = fixed_point_affine_maps(matrix[:2], size_wh)
        remapped = cv2.remap(
            probabilities, source_xy, fraction, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
        )
        return np.asarray(remapped, dtype=np.float32)
    warped = cv2.warpAffine(
        probabilities,
        np.ascontiguousarray(matrix[:2]),
        (int(size_wh[0]), int(size_wh[1])),
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


@dataclass(frozen=True, slots=True)
class CropMask:
    """A person mask kept in its crop; warped onto the frame only when read.

    Attributes:
        probabilities: (side, side) float32 in [0, 1], read-only, in crop pixels.
        crop_from_image: The crop's 3×3 affine map from frame pixels to crop pixels.
        size_wh: The frame's (width, height) in pixels.
        fixed_point: Read with OpenCV 3.4/4.x's sample points (see the module conventions).
    """

    probabilities: NDArray[np.float32]
    crop_from_image: NDArray[np.float64]
    size_wh: tuple[int, int]
    fixed_point: bool = False

    def __post_init__(self) -> None:
        self.probabilities.setflags(write=False)

    def to_image(self, size_wh: tuple[int, int] | None = None) -> NDArray[np.float32]:
        """The mask on the frame (H×W float32), or at ``size_wh`` (see the module conventions)."""
        return crop_mask_to_image(
            self.probabilities,
            self.crop_from_image,
            self.size_wh,
            size_wh,
            fixed_point=self.fixed_point,
        )


def supersample_mask(mask: CropMask, factor: int) -> CropMask:
    """The same mask on a crop grid ``factor`` times finer (side · factor pixels a side).

    Fine pixel j of the new grid sits at crop coordinate (j − (factor − 1)/2) / factor (the
    old pixel centres keep their place) and reads the old mask there bilinearly, zero
    outside, as a frame pixel would; the new ``crop_from_image`` maps frame pixels onto the
    fine grid, so reading the frame through it lands on the same points.

    Args:
        mask: The mask to resample.
        factor: The subdivision of each crop pixel per axis (1 returns ``mask``).

    Returns:
        The finer :class:`CropMask` of the same frame.
    """
    if factor == 1:
        return mask
    side = mask.probabilities.shape[0]
    offset = (factor - 1) / 2
    # cv2.resize reads fine pixel j at (j − offset) / factor, as wanted, but clamps at the
    # edges; a frame pixel fades to the zero outside: scale the edge rows and columns so.
    fine = cv2.resize(
        mask.probabilities, (side * factor, side * factor), interpolation=cv2.INTER_LINEAR
    )
    at = (np.arange(side * factor) - offset) / factor
    weights = np.clip(np.minimum(1.0 + at, side - at), 0.0, 1.0).astype(np.float32)
    edge = np.flatnonzero(weights < 1.0)
    fine[edge, :] *= weights[edge, None]
    fine[:, edge] *= weights[None, edge]
    fine_from_crop = np.array([[factor, 0.0, offset], [0.0, factor, offset], [0.0, 0.0, 1.0]])
    return CropMask(
        np.asarray(fine, dtype=np.float32), fine_from_crop @ mask.crop_from_image, mask.size_wh
    )


def mask_in_crop(
    mask: CropMask, crop_from_image: NDArray[np.float64], side: int
) -> NDArray[np.float32]:
    """Resample a crop-space mask into another crop of the same frame.

    Crop pixel c of the new crop reads ``mask`` at ``mask.crop_from_image ·
    crop_from_image⁻¹ · c`` bilinearly, zero outside: the frame mask's value at the frame
    point under c, without making the frame mask (the rule of the module conventions,
    applied to the new crop's pixels instead of the frame's).

    Args:
        mask: The mask to resample.
        crop_from_image: The new crop's 3×3 affine map from frame pixels to crop pixels.
        side: The new crop's side in pixels.

    Returns:
        A new (side, side) float32 array.
    """
    old_from_new = mask.crop_from_image @ np.linalg.inv(crop_from_image)
    warped = cv2.warpAffine(
        mask.probabilities,
        np.ascontiguousarray(old_from_new[:2]),
        (side, side),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )
    return np.asarray(warped, dtype=np.float32)
