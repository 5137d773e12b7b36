"""What every legacy solution shares: MediaPipe's input checks and the landmark conversion.

A solution (``pose`` now; ``holistic`` later) checks its frame with :func:`check_rgb`, runs a
hifipose detector and turns each hifipose :class:`~hifipose.pose.Pose` (pixels) into
MediaPipe's normalised and world landmark lists with :func:`landmark_lists`; a results
NamedTuple per solution names the lists.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from hifipose.errors import InvalidImageError, InvalidImageTypeError
from hifipose.pose import Pose
from hifipose.solutions.landmark_pb2 import (
    Landmark,
    LandmarkList,
    NormalizedLandmark,
    NormalizedLandmarkList,
)

__all__ = ["RGB_CHANNELS", "check_rgb", "landmark_lists"]

RGB_CHANNELS: Final = 3
#: x, y, z and visibility set; presence unset: mediapipe 0.10.14's Pose clears it.
_SET_XYZV: Final = 0b01111


def check_rgb(image: object) -> NDArray[np.uint8]:
    """Return ``image`` if it is an H×W×3 uint8 array, else raise MediaPipe's error for it.

    MediaPipe's ``SolutionBase.process`` raises ``ValueError("Input image must contain three
    channel rgb data.")`` for a channel count other than 3 (here also for a 2-D array, where
    it raised IndexError) and TypeError for a dtype other than uint8 (AttributeError for
    something that is not an array); here the errors are hifipose's typed twins of those.

    Raises:
        InvalidImageTypeError: Not a numpy array, or not uint8 (a TypeError).
        InvalidImageError: Not three channels, or empty (a ValueError).
    """
    if not isinstance(image, np.ndarray):
        msg = f"Input image must be a numpy ndarray of rgb data, got {type(image).__name__}."
        raise InvalidImageTypeError(msg)
    if image.ndim != 3 or image.shape[2] != RGB_CHANNELS:
        msg = "Input image must contain three channel rgb data."
        raise InvalidImageError(msg)
    if image.dtype != np.uint8:
        msg = (
            f"Cannot cast array data from dtype('{image.dtype}') to dtype('uint8') according "
            "to the rule 'safe'"
        )
        raise InvalidImageTypeError(msg)
    if image.shape[0] == 0 or image.shape[1] == 0:
        msg = f"Input image is empty (shape {image.shape}); it must be at least 1×1 pixel."
        raise InvalidImageError(msg)
    return image


def landmark_lists(
    pose: Pose, size_wh: tuple[int, int]
) -> tuple[NormalizedLandmarkList, LandmarkList]:
    """``pose``'s landmarks as MediaPipe's normalised list and world list.

    Normalised x and y are the pixel positions divided by the frame's width and height, z by
    the width (MediaPipe's convention); values are rounded to float32, as protobuf stores
    them. Both lists carry x, y, z and visibility (the world list the image visibility, as
    MediaPipe's does); presence is left unset, as mediapipe 0.10.14's Pose clears it.
    """
    width, height = size_wh
    image = pose.image_array.astype(np.float64)
    normalised = np.zeros((len(image), 5), np.float32)
    normalised[:, 0] = image[:, 0] / width
    normalised[:, 1] = image[:, 1] / height
    normalised[:, 2] = image[:, 2] / width
    normalised[:, 3] = image[:, 3]
    world = np.zeros((len(image), 5), np.float32)
    world[:, :3] = pose.world_array_m
    world[:, 3] = image[:, 3]
    image_list = NormalizedLandmarkList._from_landmarks(
        [NormalizedLandmark._from_float32(row, _SET_XYZV) for row in normalised.tolist()]
    )
    world_list = LandmarkList._from_landmarks(
        [Landmark._from_float32(row, _SET_XYZV) for row in world.tolist()]
    )
    return image_list, world_list
