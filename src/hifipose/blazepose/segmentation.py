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
    mask (resizing the frame mask would interpolate twice).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "CropMask",
    "activate_mask",
    "crop_mask_to_image",
    "mask_in_crop",
    "supersample_mask",
]


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
) -> NDArray[np.float32]:
    """Warp a crop-space mask onto the frame, or onto the frame resized to ``out_size_wh``.

    Args:
        probabilities: (side, side) float32 mask in [0, 1], in crop pixels.
        crop_from_image: The crop's 3×3 affine map from frame pixels to crop pixels.
        size_wh: The frame's (width, height).
        out_size_wh: The (width, height) to read the mask at; None for the frame's size.

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
    warped = cv2.warpAffine(
        probabilities,
        np.ascontiguousarray(matrix[:2]),
        (int(size_wh[0]), int(size_wh[1])),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )
    return np.asarray(warped, dtype=np.float32)


@dataclass(frozen=True, slots=True)
class CropMask:
    """A person mask kept in its crop; warped onto the frame only when read.

    Attributes:
        probabilities: (side, side) float32 in [0, 1], read-only, in crop pixels.
        crop_from_image: The crop's 3×3 affine map from frame pixels to crop pixels.
        size_wh: The frame's (width, height) in pixels.
    """

    probabilities: NDArray[np.float32]
    crop_from_image: NDArray[np.float64]
    size_wh: tuple[int, int]

    def __post_init__(self) -> None:
        self.probabilities.setflags(write=False)

    def to_image(self, size_wh: tuple[int, int] | None = None) -> NDArray[np.float32]:
        """The mask on the frame (H×W float32), or at ``size_wh`` (see the module conventions)."""
        return crop_mask_to_image(self.probabilities, self.crop_from_image, self.size_wh, size_wh)


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
