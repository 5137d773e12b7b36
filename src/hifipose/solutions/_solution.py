"""What every legacy solution shares: arguments, input checks, landmarks and lifecycle.

A solution (``pose``, ``holistic``) is a :class:`Solution`: it checks its arguments with
:func:`check_flag` and :func:`check_model_complexity`, builds one hifipose detector, checks
each frame with :func:`check_rgb`, and turns the hifipose :class:`~hifipose.pose.Pose`
(pixels) into MediaPipe's normalised and world landmark lists with :func:`landmark_lists`
(the body) and :func:`part_landmarks` (a hand or the face); a results NamedTuple per
solution names the lists.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Final, TypeVar

import numpy as np
from numpy.typing import NDArray

from hifipose.config import ModelType
from hifipose.errors import (
    ConfigError,
    InvalidImageError,
    InvalidImageTypeError,
    SolutionClosedError,
)
from hifipose.pose import Pose
from hifipose.solutions.landmark_pb2 import (
    Landmark,
    LandmarkList,
    NormalizedLandmark,
    NormalizedLandmarkList,
)

if TYPE_CHECKING:
    from hifipose.detector import PoseDetector

__all__ = [
    "MODEL_COMPLEXITY",
    "RGB_CHANNELS",
    "Solution",
    "check_flag",
    "check_model_complexity",
    "check_rgb",
    "landmark_lists",
    "part_landmarks",
]

RGB_CHANNELS: Final = 3
#: ``model_complexity`` → hifipose's landmark model.
MODEL_COMPLEXITY: Final[dict[int, ModelType]] = {0: "lite", 1: "full", 2: "heavy"}
#: x, y, z and visibility set; presence unset: mediapipe 0.10.14's Pose clears it.
_SET_XYZV: Final = 0b01111
#: x, y and z set: mediapipe 0.10.14's hand and face landmarks carry nothing else.
_SET_XYZ: Final = 0b00111

_S = TypeVar("_S", bound="Solution")


def check_flag(name: str, value: object) -> bool:
    """``value`` as a bool if it is a bool or an integer (MediaPipe took both).

    Raises:
        ConfigError: Anything else (a ValueError).
    """
    if not isinstance(value, bool | int | np.bool_):
        msg = f"{name} must be a bool, got {value!r}"
        raise ConfigError(msg)
    return bool(value)


def check_model_complexity(value: object) -> ModelType:
    """The landmark model for MediaPipe's ``model_complexity`` 0, 1 or 2.

    Raises:
        ConfigError: Not one of the integers 0, 1, 2 (a ValueError).
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or int(value) not in MODEL_COMPLEXITY
    ):
        msg = f"model_complexity must be 0, 1 or 2, got {value!r}"
        raise ConfigError(msg)
    return MODEL_COMPLEXITY[int(value)]


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


def part_landmarks(
    image_xyz: NDArray[np.float32], size_wh: tuple[int, int]
) -> NormalizedLandmarkList:
    """A hand's or the face's points (x_px, y_px, z at pixel scale) as MediaPipe's list.

    Normalised as the body's (x by the width, y by the height, z by the width), float32;
    only x, y and z are set, as in mediapipe 0.10.14's hand and face landmarks.
    """
    width, height = size_wh
    points = image_xyz.astype(np.float64)
    values = np.zeros((len(points), 5), np.float32)
    values[:, 0] = points[:, 0] / width
    values[:, 1] = points[:, 1] / height
    values[:, 2] = points[:, 2] / width
    return NormalizedLandmarkList._from_landmarks(
        [NormalizedLandmark._from_float32(row, _SET_XYZ) for row in values.tolist()]
    )


class Solution:
    """The lifecycle every solution shares: one hifipose detector, reset, close, ``with``.

    Args:
        detector: The detector the solution runs; closed by :meth:`close`.
    """

    def __init__(self, detector: PoseDetector) -> None:
        self._detector: PoseDetector | None = detector

    @property
    def detector(self) -> PoseDetector:
        """The hifipose detector behind this solution (for hifipose's own API).

        Raises:
            SolutionClosedError: After :meth:`close`.
        """
        if self._detector is None:
            msg = f"this {type(self).__name__} is closed; create a new one"
            raise SolutionClosedError(msg)
        return self._detector

    def reset(self) -> None:
        """Forget the tracked person and the smoothing: the next frame starts a new stream.

        Raises:
            SolutionClosedError: After :meth:`close`.
        """
        self.detector.reset()

    def close(self) -> None:
        """Release the models. Calling it again does nothing."""
        if self._detector is not None:
            self._detector.close()
            self._detector = None

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._detector is None else repr(self._detector)
        return f"{type(self).__name__}({state})"
