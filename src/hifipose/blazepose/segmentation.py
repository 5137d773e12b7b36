"""⑥ The person mask: 256×256 crop logits → a full-frame probability mask.

Conventions:
    The mask is float32 H×W in [0, 1], 1 = person, aligned with the frame's pixels.
    Pixels outside the ROI are 0. Sampling follows MediaPipe's OpenCV ``WarpAffine``
    runner: frame pixel (x, y) reads the crop at ``crop_from_image · (x, y)`` with no
    half-pixel shift, bilinearly, zero outside (blazepose-spec §3.9).
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

__all__ = ["mask_to_image"]


def mask_to_image(
    logits: NDArray[np.float32],
    crop_from_image: NDArray[np.float64],
    size_wh: tuple[int, int],
) -> NDArray[np.float32]:
    """Activate the segmentation logits and warp them back onto the frame.

    Args:
        logits: (256, 256), (256, 256, 1) or (1, 256, 256, 1) segmentation logits.
        crop_from_image: The crop's 3×3 affine map from frame pixels to crop pixels.
        size_wh: The frame's (width, height).

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
    warped = cv2.warpAffine(
        mask,
        np.ascontiguousarray(crop_from_image[:2]),
        size_wh,
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )
    return np.asarray(warped, dtype=np.float32)
