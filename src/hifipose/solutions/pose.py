"""``hifipose.solutions.pose``: MediaPipe's removed ``mp.solutions.pose``, as a drop-in.

``Pose(...).process(rgb)`` returns what mediapipe 0.10.14 returned: ``pose_landmarks``
(normalised :class:`~hifipose.solutions.landmark_pb2.NormalizedLandmarkList`),
``pose_world_landmarks`` (metres, origin between the hips) and ``segmentation_mask`` (H×W
float32 in [0, 1]), each None when no person is found (the mask also without
``enable_segmentation``). The numbers are the legacy solution's own: hifipose's
``compat="mediapipe-python"`` pipeline (see :func:`hifipose.create_detector`).

Example:
    >>> from hifipose.solutions import pose as mp_pose
    >>> with mp_pose.Pose(static_image_mode=True) as pose:  # doctest: +SKIP
    ...     results = pose.process(rgb)
    ...     nose = results.pose_landmarks.landmark[mp_pose.PoseLandmark.NOSE]
"""

from __future__ import annotations

import dataclasses
from enum import IntEnum
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from hifipose.api import create_detector
from hifipose.config import Compat, Device, RuntimeName
from hifipose.errors import ConfigError
from hifipose.solutions._solution import (
    Solution,
    check_flag,
    check_model_complexity,
    check_rgb,
    landmark_lists,
)
from hifipose.solutions.landmark_pb2 import LandmarkList, NormalizedLandmarkList
from hifipose.solutions.pose_connections import POSE_CONNECTIONS

__all__ = [
    "POSE_CONNECTIONS",
    "ExtraSettings",
    "Pose",
    "PoseLandmark",
    "PoseResults",
]


class PoseLandmark(IntEnum):
    """The 33 pose landmarks, valued by their index in ``pose_landmarks.landmark``."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


@dataclasses.dataclass(frozen=True)
class ExtraSettings:
    """MediaPipe's extra graph settings (its later ``solutions`` releases).

    Accepted for compatibility; hifipose has no graph services to initialise, so
    ``disallow_service_default_initialization`` changes nothing.
    """

    disallow_service_default_initialization: bool = False


class PoseResults(NamedTuple):
    """What :meth:`Pose.process` returns; each field None when no person is found."""

    pose_landmarks: NormalizedLandmarkList | None
    pose_world_landmarks: LandmarkList | None
    segmentation_mask: NDArray[np.float32] | None


class Pose(Solution):
    """MediaPipe Pose: the pose of the most prominent person in each RGB image.

    The legacy ``mp.solutions.pose.Pose`` arguments, same names, defaults and meaning;
    after them, keyword-only arguments of :func:`hifipose.create_detector` that MediaPipe
    did not have.

    Args:
        static_image_mode: Treat images as unrelated (the detector runs on each), not as a
            video stream.
        model_complexity: 0 (lite), 1 (full) or 2 (heavy).
        smooth_landmarks: Smooth landmarks over frames (video mode only).
        enable_segmentation: Also return ``segmentation_mask``.
        smooth_segmentation: Accepted; mediapipe 0.10.14's graph dropped it on the way in,
            so masks are not smoothed there, nor here (hifipose's ``compat`` mode).
        min_detection_confidence: Minimum person-detector score, in [0, 1].
        min_tracking_confidence: Minimum pose presence to keep tracking, in [0, 1].
        extra_settings: An :class:`ExtraSettings` (changes nothing here) or None.
        runtime: hifipose's model runtime: ``"litert"`` (default), ``"onnxruntime"``,
            ``"torch"``, ``"openvino"``; or ``"mediapipe"``: MediaPipe Tasks' pose landmarker,
            for comparison (``compat`` does not apply to it).
        device: ``"cpu"`` (default), ``"cuda"`` or ``"auto"``.
        num_threads: Inference threads per model; None lets the runtime choose.
        model_dir: A folder holding the model files, instead of hifipose's cache.
        compat: ``"mediapipe-python"`` (default: mediapipe 0.10.14's numbers) or
            ``"graph"`` (the Pose graph as MediaPipe Tasks runs it).

    Raises:
        ConfigError: An argument is invalid (a ValueError).
        ModelNotFoundError: A model file is missing and cannot be fetched.
        RuntimeUnavailableError: The runtime is not installed.
    """

    def __init__(  # noqa: PLR0917 - MediaPipe's positional order is the API
        self,
        static_image_mode: bool = False,
        model_complexity: int = 1,
        smooth_landmarks: bool = True,
        enable_segmentation: bool = False,
        smooth_segmentation: bool = True,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        extra_settings: ExtraSettings | None = None,
        *,
        runtime: RuntimeName = "litert",
        device: Device = "cpu",
        num_threads: int | None = None,
        model_dir: str | Path | None = None,
        compat: Compat = "mediapipe-python",
    ) -> None:
        model_type = check_model_complexity(model_complexity)
        if extra_settings is not None and not isinstance(extra_settings, ExtraSettings):
            msg = f"extra_settings must be an ExtraSettings or None, got {extra_settings!r}"
            raise ConfigError(msg)
        static = check_flag("static_image_mode", static_image_mode)
        self._enable_segmentation = check_flag("enable_segmentation", enable_segmentation)
        detector = create_detector(
            model_type=model_type,
            runtime=runtime,
            device=device,
            static_image_mode=static,
            enable_smoothing=check_flag("smooth_landmarks", smooth_landmarks),
            enable_segmentation=self._enable_segmentation,
            smooth_segmentation=check_flag("smooth_segmentation", smooth_segmentation),
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
            model_dir=model_dir,
            num_threads=num_threads,
            # MediaPipe Tasks is its own numbers: no compat mode to pick
            compat="graph" if runtime == "mediapipe" else compat,
        )
        super().__init__(detector)

    def process(self, image: NDArray[np.uint8]) -> PoseResults:
        """Find the pose of the most prominent person in an RGB image.

        Frames are taken 33.333 ms apart in video mode, as MediaPipe's solution took them.

        Args:
            image: H×W×3 uint8 RGB (not OpenCV's BGR: convert with ``cv2.cvtColor``).

        Returns:
            :class:`PoseResults`: ``pose_landmarks``, ``pose_world_landmarks`` and
            ``segmentation_mask``, each None when no person is found.

        Raises:
            InvalidImageError: Not three channels (``"Input image must contain three
                channel rgb data."``), or empty: a ValueError.
            InvalidImageTypeError: Not a numpy array, or not uint8: a TypeError.
            SolutionClosedError: After :meth:`close` (a ValueError, as MediaPipe's).
        """
        detector = self.detector
        frame = check_rgb(image)
        poses = detector.estimate_poses(frame)
        if not poses:
            return PoseResults(None, None, None)
        pose = poses[0]
        image_list, world_list = landmark_lists(pose, (frame.shape[1], frame.shape[0]))
        mask = pose.segmentation if self._enable_segmentation else None
        return PoseResults(image_list, world_list, mask)
