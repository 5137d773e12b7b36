"""``hifipose.solutions.holistic``: MediaPipe's removed ``mp.solutions.holistic``, as a drop-in.

``Holistic(...).process(rgb)`` returns what mediapipe 0.10.14 returned for the most prominent
person: ``pose_landmarks`` and ``pose_world_landmarks`` (as :mod:`hifipose.solutions.pose`'s),
``left_hand_landmarks`` and ``right_hand_landmarks`` (21 normalised points each),
``face_landmarks`` (468 normalised points; 478 with ``refine_face_landmarks``) and
``segmentation_mask``, each None when not found. Hand and face landmarks carry x, y, z only
(normalised as the body's: x by the width, y by the height, z by the width), as MediaPipe's.

Left and right are the person's own, as MediaPipe's Holistic names them: the left hand is
the one at the pose's left wrist (:attr:`hifipose.Pose.left_hand`), whatever label the hand
model gives it. The numbers are hifipose's Holistic (``create_detector(holistic=True)``) on
the ``compat="mediapipe-python"`` pose pipeline; see docs/holistic-spec.md.

Example:
    >>> from hifipose.solutions import holistic as mp_holistic
    >>> with mp_holistic.Holistic(static_image_mode=True) as holistic:  # doctest: +SKIP
    ...     results = holistic.process(rgb)
    ...     wrist = results.left_hand_landmarks.landmark[mp_holistic.HandLandmark.WRIST]
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from hifipose.api import create_detector
from hifipose.config import Compat, Device, RuntimeName
from hifipose.solutions._solution import (
    Solution,
    check_flag,
    check_model_complexity,
    check_rgb,
    landmark_lists,
    part_landmarks,
)
from hifipose.solutions.face_mesh_connections import FACEMESH_CONTOURS, FACEMESH_TESSELATION
from hifipose.solutions.hands_connections import HAND_CONNECTIONS, HandLandmark
from hifipose.solutions.landmark_pb2 import LandmarkList, NormalizedLandmarkList
from hifipose.solutions.pose import PoseLandmark
from hifipose.solutions.pose_connections import POSE_CONNECTIONS

__all__ = [
    "FACEMESH_CONTOURS",
    "FACEMESH_TESSELATION",
    "HAND_CONNECTIONS",
    "POSE_CONNECTIONS",
    "HandLandmark",
    "Holistic",
    "HolisticResults",
    "PoseLandmark",
]


class HolisticResults(NamedTuple):
    """What :meth:`Holistic.process` returns, MediaPipe's fields in MediaPipe's order.

    Every field is None when no person is found; a hand or the face is also None on its own
    when it is not found (``segmentation_mask`` also without ``enable_segmentation``).
    """

    pose_landmarks: NormalizedLandmarkList | None
    pose_world_landmarks: LandmarkList | None
    left_hand_landmarks: NormalizedLandmarkList | None
    right_hand_landmarks: NormalizedLandmarkList | None
    face_landmarks: NormalizedLandmarkList | None
    segmentation_mask: NDArray[np.float32] | None


class Holistic(Solution):
    """MediaPipe Holistic: the pose, both hands and the face mesh of the most prominent person.

    The legacy ``mp.solutions.holistic.Holistic`` arguments, same names, order, defaults and
    meaning; after them, keyword-only arguments of :func:`hifipose.create_detector` that
    MediaPipe did not have.

    Args:
        static_image_mode: Treat images as unrelated (the detector runs on each), not as a
            video stream (in video mode hands and face are also tracked from frame to frame).
        model_complexity: The pose model: 0 (lite), 1 (full) or 2 (heavy). The hand and face
            models are the same for all three.
        smooth_landmarks: Smooth the pose landmarks over frames (video mode only; hands and
            face are not smoothed, as in MediaPipe's graph).
        enable_segmentation: Also return ``segmentation_mask``.
        smooth_segmentation: Accepted; as in :class:`hifipose.solutions.pose.Pose`.
        refine_face_landmarks: The face model with attention: refined lips, eyes and irises,
            478 face points instead of 468.
        min_detection_confidence: Minimum person-detector score, in [0, 1].
        min_tracking_confidence: Minimum pose presence to keep tracking, in [0, 1].
        runtime: hifipose's model runtime: ``"litert"`` (default), ``"onnxruntime"``,
            ``"torch"``; or ``"mediapipe"``: mediapipe 0.10.14's own Holistic solution on
            the npm model files, for comparison (``compat`` does not apply to it).
        device: ``"cpu"`` (default), ``"cuda"`` or ``"auto"``.
        num_threads: Inference threads per model; None lets the runtime choose.
        model_dir: A folder holding the model files, instead of hifipose's cache (the
            Holistic files are fetched into the cache on first use otherwise).
        compat: ``"mediapipe-python"`` (default: mediapipe 0.10.14's pose numbers) or
            ``"graph"``.

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
        refine_face_landmarks: bool = False,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        *,
        runtime: RuntimeName = "litert",
        device: Device = "cpu",
        num_threads: int | None = None,
        model_dir: str | Path | None = None,
        compat: Compat = "mediapipe-python",
    ) -> None:
        model_type = check_model_complexity(model_complexity)
        self._enable_segmentation = check_flag("enable_segmentation", enable_segmentation)
        detector = create_detector(
            model_type=model_type,
            runtime=runtime,
            device=device,
            static_image_mode=check_flag("static_image_mode", static_image_mode),
            enable_smoothing=check_flag("smooth_landmarks", smooth_landmarks),
            enable_segmentation=self._enable_segmentation,
            smooth_segmentation=check_flag("smooth_segmentation", smooth_segmentation),
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
            model_dir=model_dir,
            num_threads=num_threads,
            # MediaPipe's own solution is its own numbers: no compat mode to pick
            compat="graph" if runtime == "mediapipe" else compat,
            holistic=True,
            refine_face_landmarks=check_flag("refine_face_landmarks", refine_face_landmarks),
        )
        super().__init__(detector)

    def process(self, image: NDArray[np.uint8]) -> HolisticResults:
        """Find the pose, hands and face of the most prominent person in an RGB image.

        Frames are taken 33.333 ms apart in video mode, as MediaPipe's solution took them.

        Args:
            image: H×W×3 uint8 RGB (not OpenCV's BGR: convert with ``cv2.cvtColor``).

        Returns:
            :class:`HolisticResults`; every field None when no person is found.

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
            return HolisticResults(None, None, None, None, None, None)
        pose = poses[0]
        size_wh = (frame.shape[1], frame.shape[0])
        image_list, world_list = landmark_lists(pose, size_wh)
        left, right, face = pose.left_hand, pose.right_hand, pose.face
        return HolisticResults(
            image_list,
            world_list,
            None if left is None else part_landmarks(left.image_array, size_wh),
            None if right is None else part_landmarks(right.image_array, size_wh),
            None if face is None else part_landmarks(face.image_array, size_wh),
            pose.segmentation if self._enable_segmentation else None,
        )
