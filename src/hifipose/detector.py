"""PoseDetector: owns the model sessions and one stream's :class:`TrackState`."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

import numpy as np
from numpy.typing import NDArray

from hifipose._checks import check_image, check_timestamp_ms
from hifipose.blazepose.crop import crop_image, whole_image_roi
from hifipose.blazepose.detection import (
    DETECTOR_INPUT_SIZE,
    decode_detections,
    remove_letterbox,
    weighted_nms,
)
from hifipose.blazepose.landmarks import (
    LANDMARK_INPUT_SIZE,
    decode_landmarks,
    decode_world_landmarks,
    project_landmarks,
    refine_with_heatmap,
)
from hifipose.blazepose.roi import Roi, roi_from_points
from hifipose.blazepose.segmentation import mask_support, mask_to_image
from hifipose.config import DetectorConfig
from hifipose.errors import ConcurrentUseError, DetectorClosedError
from hifipose.pose import Pose
from hifipose.runtimes.base import Session
from hifipose.runtimes.mediapipe_tasks import TasksPipeline
from hifipose.topology import NUM_KEYPOINTS
from hifipose.tracker import AUX_END, TrackState, roi_from_aux

__all__ = ["MediaPipeTasksDetector", "PoseDetector", "StageTimes", "landmark_outputs"]

logger = logging.getLogger(__name__)

_BOXES, _SCORES = "Identity", "Identity_1"
_LANDMARKS, _FLAG, _MASK, _HEATMAP, _WORLD = (
    "Identity",
    "Identity_1",
    "Identity_2",
    "Identity_3",
    "Identity_4",
)


def landmark_outputs(*, enable_segmentation: bool) -> tuple[str, ...]:
    """The landmark model's outputs the pipeline reads (the mask only with segmentation)."""
    return (_LANDMARKS, _FLAG, _HEATMAP, _WORLD) + ((_MASK,) if enable_segmentation else ())


@dataclass(frozen=True, slots=True)
class _RawPose:
    """One landmark-model pass, projected to the frame but not yet smoothed."""

    score: float
    landmarks_px: NDArray[np.float32]  # (35, 5): 33 body + 2 aux; x, y, z px; vis; presence
    world_m: NDArray[np.float32]  # (33, 3)
    mask: NDArray[np.float32] | None
    mask_support: tuple[int, int, int, int] | None  # the mask is 0 outside this box


@dataclass(slots=True)
class StageTimes:
    """Wall time per pipeline stage, summed over frames (seconds), for benchmarks.

    Stages: ``preprocess`` (input checks, the crops into model tensors), ``inference`` (the
    model runs), ``postprocess`` (decoding, NMS, ROI, heatmap refinement, projection, world
    rotation, mask warp) and ``smoothing`` (filters and the next frame's ROI). Off unless
    ``enabled``; then each stage boundary costs one ``perf_counter`` call.
    """

    enabled: bool = False
    seconds: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(
            ("preprocess", "inference", "postprocess", "smoothing"), 0.0
        )
    )
    _last: float = 0.0

    def start(self) -> None:
        """Start timing a frame."""
        if self.enabled:
            self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        """Add the time since the previous lap (or ``start``) to ``stage``."""
        if self.enabled:
            now = time.perf_counter()
            self.seconds[stage] += now - self._last
            self._last = now


class PoseDetector:
    """Finds and tracks one person's pose in a stream of RGB frames.

    Create it with :func:`hifipose.create_detector`. It tracks one stream: use one detector
    per stream (per thread). A call to :meth:`estimate_poses` while another thread's call is
    still running raises :class:`~hifipose.errors.ConcurrentUseError` at once (it never
    waits, and never mixes two streams' frames). It is a context manager; ``close()``
    releases the models.
    """

    def __init__(self, config: DetectorConfig, detector: Session, landmarks: Session) -> None:
        self.config = config
        self._detector: Session | None = detector
        self._landmarks: Session | None = landmarks
        self._state = TrackState()
        self._state.clock.strict = config.strict_timestamps
        self._busy = threading.Lock()
        self.stage_times = StageTimes()
        self._landmark_outputs = landmark_outputs(enable_segmentation=config.enable_segmentation)

    @property
    def detector_runs(self) -> int | None:
        """How many times the person detector has run since creation (None: not known)."""
        return self._state.detector_runs

    def estimate_poses(self, image_rgb: object, timestamp_ms: float | None = None) -> list[Pose]:
        """Find the pose in one frame.

        In video mode (``static_image_mode=False``) frames are taken as consecutive frames of
        one stream: the detector runs only when no person is tracked, and landmarks are
        smoothed over time. Timestamps drive the smoothing: see :class:`StreamClock` for the
        rule on missing, repeated or backwards timestamps.

        Conventions:
            Input is RGB (not OpenCV's BGR). Keypoints are in pixels of this frame, origin
            top-left, y down (see :mod:`hifipose.pose`).

        Args:
            image_rgb: HxWx3 uint8 RGB array (HxWx4 RGBA, HxW grayscale and PIL images are
                converted).
            timestamp_ms: The frame's time in milliseconds; None means 33.333 ms after the
                previous frame.

        Returns:
            The poses found: an empty list when there is no person, else one pose.

        Raises:
            InvalidImageError: The frame's type, shape or dtype is wrong, or it is empty.
            TimestampError: The timestamp is not finite, or does not increase with
                ``strict_timestamps=True``.
            DetectorClosedError: The detector was closed.
            ConcurrentUseError: Another thread's call on this detector is still running.
        """
        if not self._busy.acquire(blocking=False):
            msg = (
                "a PoseDetector tracks one stream; create one per thread "
                "(this one is busy with another thread's frame)"
            )
            raise ConcurrentUseError(msg)
        try:
            if self.closed:
                msg = (
                    "this PoseDetector is closed; create a new one with hifipose.create_detector()"
                )
                raise DetectorClosedError(msg)
            self.stage_times.start()
            image = check_image(image_rgb)
            ts = None if timestamp_ms is None else check_timestamp_ms(timestamp_ms)
            return self._run(image, self._state.clock.tick(ts))
        finally:
            self._busy.release()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._detector is None

    def _run(self, image: NDArray[np.uint8], t_us: int) -> list[Pose]:
        if self.config.static_image_mode:
            roi = self._detect(image)
            raw = None if roi is None else self._landmark_pass(image, roi)
            if raw is None:
                return []
            pose = _to_pose(raw.score, raw.landmarks_px, raw.world_m, raw.mask)
            self.stage_times.lap("postprocess")
            return [pose]
        return self._track(image, t_us)

    def _track(self, image: NDArray[np.uint8], t_us: int) -> list[Pose]:
        state = self._state
        roi = state.roi if state.roi is not None else self._detect(image)
        raw = None if roi is None else self._landmark_pass(image, roi)
        if raw is None:
            state.roi = None
            state.filters.on_lost()
            return []
        filters = state.filters
        self.stage_times.lap("postprocess")
        aux_raw = raw.landmarks_px[NUM_KEYPOINTS : AUX_END + 1]
        aux = filters.smooth_aux(aux_raw, t_us)
        state.roi = roi_from_aux(aux)
        body, world = raw.landmarks_px[:NUM_KEYPOINTS], raw.world_m
        if self.config.enable_smoothing:
            body = filters.smooth_landmarks(body, aux_raw, t_us)
            world = filters.smooth_world(world, t_us)
        mask = raw.mask
        if mask is not None and self.config.smooth_segmentation:
            mask = filters.smooth_mask(mask, raw.mask_support)
        pose = _to_pose(raw.score, body, world, mask)
        self.stage_times.lap("smoothing")
        return [pose]

    def _detect(self, image: NDArray[np.uint8]) -> Roi | None:
        assert self._detector is not None  # noqa: S101 - checked by estimate_poses
        height, width = image.shape[:2]
        crop = crop_image(
            image,
            whole_image_roi((width, height)),
            tensor_size=DETECTOR_INPUT_SIZE,
            value_range=(-1.0, 1.0),
            border="zero",
        )
        self.stage_times.lap("preprocess")
        outputs = self._detector.run({"input_1": crop.tensor})
        self.stage_times.lap("inference")
        self._state.detector_runs += 1
        detections = weighted_nms(
            decode_detections(
                outputs[_BOXES], outputs[_SCORES], min_score=self.config.min_detection_confidence
            )
        )
        if not detections:
            return None
        best = remove_letterbox(detections[0], crop.padding)
        hip, top = best.keypoints[0] * (width, height), best.keypoints[1] * (width, height)
        roi = roi_from_points((float(hip[0]), float(hip[1])), (float(top[0]), float(top[1])))
        self.stage_times.lap("postprocess")
        return roi if roi.size_px[0] > 0 else None

    def _landmark_pass(self, image: NDArray[np.uint8], roi: Roi) -> _RawPose | None:
        assert self._landmarks is not None  # noqa: S101 - checked by estimate_poses
        height, width = image.shape[:2]
        crop = crop_image(
            image,
            roi,
            tensor_size=LANDMARK_INPUT_SIZE,
            value_range=(0.0, 1.0),
            border="replicate",
        )
        self.stage_times.lap("preprocess")
        outputs = self._landmarks.run({"input_1": crop.tensor}, self._landmark_outputs)
        self.stage_times.lap("inference")
        score = float(outputs[_FLAG].reshape(-1)[0])
        if not score > self.config.min_tracking_confidence:
            return None
        landmarks = refine_with_heatmap(decode_landmarks(outputs[_LANDMARKS]), outputs[_HEATMAP])
        projected = project_landmarks(landmarks[: AUX_END + 1], roi, crop.padding)
        world = decode_world_landmarks(outputs[_WORLD], roi.angle_rad)[:NUM_KEYPOINTS]
        mask = support = None
        if self.config.enable_segmentation:
            logits = outputs[_MASK]
            mask = mask_to_image(logits, crop.crop_from_image, (width, height))
            support = mask_support(crop.crop_from_image, logits.shape[-2], (width, height))
        return _RawPose(score, projected, world, mask, support)

    def reset(self) -> None:
        """Forget the tracked person, the filters and the stream's clock.

        The next frame runs the detector, as if it were the first of a new stream.
        """
        self._state.reset()

    def close(self) -> None:
        """Release the models. Calling it again does nothing."""
        for session in (self._detector, self._landmarks):
            if session is not None:
                session.close()
        self._detector = self._landmarks = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"PoseDetector({self.config.model_type!r}, runtime={self.config.runtime!r}, {state})"


class MediaPipeTasksDetector(PoseDetector):
    """A :class:`PoseDetector` whose whole pipeline runs in MediaPipe Tasks' PoseLandmarker.

    Created by ``create_detector(runtime="mediapipe")``. Input checks and the timestamp rule
    are hifipose's (see :class:`~hifipose.tracker.StreamClock`); detection, tracking and
    landmarks are MediaPipe's Tasks graph, which smooths nothing: ``enable_smoothing`` and
    ``smooth_segmentation`` have no effect, and ``detector_runs`` is None (Tasks does not
    report it). See :mod:`hifipose.runtimes.mediapipe_tasks` for how results are mapped.
    """

    def __init__(self, config: DetectorConfig, pipeline: TasksPipeline) -> None:
        self.config = config
        self._pipeline: TasksPipeline | None = pipeline
        self._state = TrackState()
        self._state.clock.strict = config.strict_timestamps
        self._busy = threading.Lock()
        self.stage_times = StageTimes()  # stays empty: Tasks runs every stage inside

    @property
    def detector_runs(self) -> int | None:
        """None: MediaPipe Tasks does not say when its detector ran."""
        return None

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._pipeline is None

    def _run(self, image: NDArray[np.uint8], t_us: int) -> list[Pose]:
        assert self._pipeline is not None  # noqa: S101 - checked by estimate_poses
        return self._pipeline.run(image, t_us)

    def reset(self) -> None:
        """Start a new stream: the Tasks landmarker is created again and the clock reset."""
        self._state.reset()
        if self._pipeline is not None:
            self._pipeline.reset()

    def close(self) -> None:
        """Release the landmarker. Calling it again does nothing."""
        if self._pipeline is not None:
            self._pipeline.close()
        self._pipeline = None


def _to_pose(
    score: float,
    landmarks_px: NDArray[np.float32],
    world_m: NDArray[np.float32],
    mask: NDArray[np.float32] | None,
) -> Pose:
    return Pose(
        image_array=landmarks_px[:NUM_KEYPOINTS],
        world_array_m=world_m,
        score=score,
        segmentation=mask,
    )
