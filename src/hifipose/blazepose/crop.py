"""④ Crops: a rotated ROI → the model's input tensor, with the matrices to go back.

The warp reproduces MediaPipe's OpenCV ``ImageToTensorCalculator``: the ROI is first padded
to the tensor's aspect ratio (letterbox), its corners (``cv2.boxPoints``: bottom-left,
top-left, top-right, bottom-right) are mapped to the tensor's corners
(0, S), (0, 0), (S, 0), (S, S) with ``getPerspectiveTransform``, and the uint8 image is
resampled by ``warpPerspective`` (bilinear) before the values are scaled to floats.

Conventions:
    Pixels, origin top-left, x right, y down. Matrices are 3×3 and named
    ``<to>_from_<from>``: ``crop_from_image`` maps image pixels to crop pixels. Destination
    pixel index i maps to ``corner + i * (roi_size / S)``: there is no half-pixel shift.
    Letterbox padding is (left, top, right, bottom) as fractions of the tensor side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from hifipose.blazepose.roi import Roi

__all__ = ["Crop", "crop_image", "letterbox_roi", "whole_image_roi"]

_BORDERS = {"zero": cv2.BORDER_CONSTANT, "replicate": cv2.BORDER_REPLICATE}


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
) -> Crop:
    """Cut ``roi`` out of ``image_rgb`` into a square float tensor, letterboxed.

    Args:
        image_rgb: HxWx3 uint8 RGB frame.
        roi: The region to sample, in pixels.
        tensor_size: Side S of the square tensor (224 detector, 256 landmarks).
        value_range: Float range that 0..255 maps to: (-1, 1) detector, (0, 1) landmarks.
        border: Outside the frame: ``"zero"`` (black, the detector) or ``"replicate"``
            (edge pixels, the landmark model).

    Returns:
        The tensor with its padded ROI, padding and ``crop_from_image`` matrix.
    """
    padded, padding = letterbox_roi(roi, (tensor_size, tensor_size))
    corners = cv2.boxPoints((padded.center_px, padded.size_px, math.degrees(padded.angle_rad)))
    s = float(tensor_size)
    targets = np.array([[0.0, s], [0.0, 0.0], [s, 0.0], [s, s]], dtype=np.float32)
    crop_from_image = cv2.getPerspectiveTransform(corners.astype(np.float32), targets)
    pixels = cv2.warpPerspective(
        image_rgb,
        crop_from_image,
        (tensor_size, tensor_size),
        flags=cv2.INTER_LINEAR,
        borderMode=_BORDERS[border],
        borderValue=(0, 0, 0),
    )
    low, high = value_range
    tensor = pixels.astype(np.float32)
    tensor *= np.float32((high - low) / 255.0)
    if low != 0.0:
        tensor += np.float32(low)
    return Crop(
        tensor=tensor[None],
        roi=padded,
        padding=padding,
        crop_from_image=np.asarray(crop_from_image, dtype=np.float64),
    )
