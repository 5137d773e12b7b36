"""PoseDetector: the public detector API; its pipelines own the models and a stream's tracks.

:class:`PoseDetector` holds what every pipeline shares (input checks, the stream clock,
close and the context manager); :class:`BlazePoseDetector` runs hifipose's own pipeline on a
model runtime (MediaPipe's Pose graph, one or several people), and
:class:`MediaPipeTasksDetector` hands frames to MediaPipe Tasks' PoseLandmarker.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from hifipose._checks import check_image, check_timestamp_ms
from hifipose.association import dedup
from hifipose.blazepose.crop import crop_image, whole_image_roi
from hifipose.blazepose.detection import (
    DETECTOR_INPUT_SIZE,
    Detection,
    decode_detections,
    remove_letterbox,
    weighted_nms,
)
from hifipose.blazepose.landmarks import (
    HEATMAP_KERNEL,
    LANDMARK_INPUT_SIZE,
    LEGACY_PYTHON_HEATMAP_KERNEL,
    NUM_MODEL_LANDMARKS,
    decode_landmarks,
    project_landmarks,
    refine_with_heatmap,
    rotate_world,
)
from hifipose.blazepose.roi import Roi, roi_from_points
from hifipose.blazepose.segmentation import CropMask, activate_mask
from hifipose.blazepose.tiles import auto_tiles, detector_tiles, tile_to_frame
from hifipose.blazepose.tta import CropView, average_views, flip_tensor, unflip_view
from hifipose.config import DetectorConfig
from hifipose.errors import ConcurrentUseError, DetectorClosedError
from hifipose.holistic import PartsPipeline
from hifipose.pose import Pose
from hifipose.runtimes.base import Session, run_each
from hifipose.runtimes.mediapipe_holistic import LegacyHolisticPipeline
from hifipose.runtimes.mediapipe_tasks import TasksPipeline
from hifipose.topology import NUM_KEYPOINTS
from hifipose.tracker import (
    AUX_END,
    MAX_DETECT_BACKOFF,
    MultiTracker,
    Track,
    pose_points,
    roi_from_aux,
)

if TYPE_CHECKING:  # typing.Self is 3.11+; annotations are strings here (3.10 supported)
    from typing import Self

__all__ = [
    "BlazePoseDetector",
    "MediaPipeTasksDetector",
    "PoseDetector",
    "StageTimes",
    "landmark_outputs",
]

logger = logging.getLogger(__name__)

#: With several people, a new person is reported from their second frame on (one frame
#: to tell a person from a pose half on two people).
CONFIRM_HITS = 2
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
    mask: CropMask | None  # in the crop; warped onto the frame when read


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


class PoseDetector(ABC):
    """Finds and tracks people's poses in a stream of RGB frames.

    Create it with :func:`hifipose.create_detector`. It tracks one stream: use one detector
    per stream (per thread). A call to :meth:`estimate_poses` while another thread's call is
    still running raises :class:`~hifipose.errors.ConcurrentUseError` at once (it never
    waits, and never mixes two streams' frames). It is a context manager; ``close()``
    releases the models. The pipelines behind it: :class:`BlazePoseDetector` (hifipose's
    own, on a model runtime) and :class:`MediaPipeTasksDetector` (``runtime="mediapipe"``).
    """

    def __init__(self, config: DetectorConfig) -> None:
        self.config = config
        self._tracker = MultiTracker(
            max_tracks=config.num_poses,
            detect_every=config.resolved_detect_every,
            max_lost_us=round(config.resolved_max_lost_ms * 1000),
            confirm_hits=1 if config.num_poses == 1 else CONFIRM_HITS,
            max_backoff=MAX_DETECT_BACKOFF if config.detect_every is None else 1,
        )
        self._tracker.clock.strict = config.strict_timestamps
        self._busy = threading.Lock()
        self.stage_times = StageTimes()

    @property
    def detector_runs(self) -> int | None:
        """How many times the person detector has run since creation (None: not known)."""
        return self._tracker.detector_runs

    def estimate_poses(self, image_rgb: object, timestamp_ms: float | None = None) -> list[Pose]:
        """Find the poses in one frame.

        In video mode (``static_image_mode=False``) frames are taken as consecutive frames of
        one stream: the detector runs only when fewer than ``num_poses`` people are tracked
        (with one person at least: only when no one is), and landmarks are smoothed over
        time. Timestamps drive the smoothing: see :class:`StreamClock` for the rule on
        missing, repeated or backwards timestamps.

        Conventions:
            Input is RGB (not OpenCV's BGR). Keypoints are in pixels of this frame, origin
            top-left, y down (see :mod:`hifipose.pose`). In video mode every pose carries
            its person's ``track_id`` (see :class:`~hifipose.pose.Pose`); in static-image
            mode ``track_id`` is None.

        Args:
            image_rgb: HxWx3 uint8 RGB array (HxWx4 RGBA, HxW grayscale and PIL images are
                converted).
            timestamp_ms: The frame's time in milliseconds; None means 33.333 ms after the
                previous frame.

        Returns:
            The poses found, at most ``num_poses``: sorted by ``track_id`` in video mode,
            best detection first in static-image mode; empty when there is no person.

        Raises:
            InvalidImageError: The frame's type, shape or dtype is wrong, or it is empty.
            TimestampError: The timestamp is not finite, or does not increase with
                ``strict_timestamps=True``.
            DetectorClosedError: The detector was closed.
            ConcurrentUseError: Another thread's call on this detector is still running.
        """
        self._claim()
        try:
            if self.closed:
                msg = (
                    "this PoseDetector is closed; create a new one with hifipose.create_detector()"
                )
                raise DetectorClosedError(msg)
            self.stage_times.start()
            image = check_image(image_rgb)
            ts = None if timestamp_ms is None else check_timestamp_ms(timestamp_ms)
            return self._run(image, self._tracker.clock.tick(ts))
        finally:
            self._busy.release()

    @property
    @abstractmethod
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""

    @abstractmethod
    def _run(self, image: NDArray[np.uint8], t_us: int) -> list[Pose]:
        """The pipeline on one checked frame at stream time ``t_us``."""

    def _claim(self) -> None:
        """Take the one-caller guard, or raise ConcurrentUseError at once (never wait)."""
        if not self._busy.acquire(blocking=False):
            msg = (
                "a PoseDetector tracks one stream; create one per thread "
                "(this one is busy with another thread's call)"
            )
            raise ConcurrentUseError(msg)

    def reset(self) -> None:
        """Forget the tracked people, their filters and the stream's clock; ids restart at 1.

        The next frame runs the detector, as if it were the first of a new stream.

        Raises:
            ConcurrentUseError: Another thread's call on this detector is still running
                (the stream is left as it was).
        """
        self._claim()
        try:
            self._reset()
        finally:
            self._busy.release()

    def _reset(self) -> None:
        """Reset the stream's state; the caller holds the guard."""
        self._tracker.reset()

    @abstractmethod
    def close(self) -> None:
        """Release the models. Calling it again does nothing."""

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


class BlazePoseDetector(PoseDetector):
    """hifipose's own pipeline on a model runtime (litert, onnxruntime, torch).

    With ``num_poses=1`` it is MediaPipe's Pose graph, number for number. With more, each
    person is a :class:`~hifipose.tracker.Track` of the stream's
    :class:`~hifipose.tracker.MultiTracker`: the same per-person loop (its own ROI and
    filters), all crops through the landmark model in one batched call, and the tracker's
    rules for who is who.
    """

    def __init__(
        self,
        config: DetectorConfig,
        detector: Session,
        landmarks: Session,
        parts: PartsPipeline | None = None,
    ) -> None:
        super().__init__(config)
        self._detector: Session | None = detector
        self._landmarks: Session | None = landmarks
        self._parts = parts
        self._landmark_outputs = landmark_outputs(enable_segmentation=config.enable_segmentation)
        legacy = config.compat == "mediapipe-python"
        self._heatmap_kernel = LEGACY_PYTHON_HEATMAP_KERNEL if legacy else HEATMAP_KERNEL
        # crops and masks sampled as MediaPipe's own OpenCV 3.4 samples them (spec §1.2)
        self._fixed_point = legacy
        # the legacy solution's options round trip drops the mask blend ratio (spec §5.6)
        self._smooth_masks = config.smooth_segmentation and not legacy
        self._landmark_input = np.empty(
            (0, LANDMARK_INPUT_SIZE, LANDMARK_INPUT_SIZE, 3), np.float32
        )
        self._detector_input: NDArray[np.float32] | None = None

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._detector is None

    def _run(self, image: NDArray[np.uint8], t_us: int) -> list[Pose]:
        poses = self._poses(image, t_us)
        if self._parts is not None:
            poses = self._parts.run(image, poses, video=not self.config.static_image_mode)
        return poses

    def _reset(self) -> None:
        super()._reset()
        if self._parts is not None:
            self._parts.reset()

    def _poses(self, image: NDArray[np.uint8], t_us: int) -> list[Pose]:
        if self.config.static_image_mode:
            # Several people: twice as many crops as wanted, since some fail the presence
            # gate or repeat a person; one person: MediaPipe's graph, the best detection.
            wanted = self.config.num_poses
            rois = self._detect(image, wanted if wanted == 1 else 2 * wanted)
            raws = [r for r in self._refined_passes(image, rois) if r is not None]
            kept = dedup([pose_points(r.landmarks_px) for r in raws])[:wanted]
            poses = [
                _to_pose(raws[i].score, raws[i].landmarks_px, raws[i].world_m, raws[i].mask)
                for i in kept
            ]
            self.stage_times.lap("postprocess")
            return poses
        return self._track(image, t_us)

    def _track(self, image: NDArray[np.uint8], t_us: int) -> list[Pose]:
        tracker = self._tracker
        tracker.begin_frame(t_us)
        tracked = [t.roi for t in tracker.tracked()]  # every tracked track has its next ROI
        probes = [roi for _, roi in tracker.probe_rois(t_us)]
        detected = (
            self._detect(image, tracker.free_slots(), tracker) if tracker.wants_detection() else []
        )
        raws = self._landmark_passes(image, [*tracked, *probes, *detected])  # type: ignore[list-item]
        if self.config.refine_passes > 1 and detected:  # a new track's first frame
            raws[-len(detected) :] = self._second_passes(image, raws[-len(detected) :])
        landmarks = [None if r is None else r.landmarks_px for r in raws]
        n, m = len(tracked), len(tracked) + len(probes)
        associations = tracker.associate(t_us, landmarks[:n], landmarks[n:m], landmarks[m:])
        self.stage_times.lap("postprocess")
        poses = []
        for association in associations:
            raw = raws[association.index]
            assert raw is not None  # noqa: S101 - associate only reports poses
            pose = self._smooth(
                association.track,
                raw,
                t_us,
                learn=not association.contested,
                crowded=association.crowded,
            )
            if association.track.track_id:
                poses.append(pose)
        tracker.end_frame()
        self.stage_times.lap("smoothing")
        poses.sort(key=lambda p: p.track_id or 0)
        if len(poses) > 1:
            # Smoothing can make a blend of two people (a crop half on each) repeat the
            # other's pose: a person is reported once, under the older id.
            poses = [poses[i] for i in dedup([pose_points(p.image_array) for p in poses])]
        return poses

    def _smooth(
        self,
        track: Track,
        raw: _RawPose,
        t_us: int,
        *,
        learn: bool = True,
        crowded: bool = False,
    ) -> Pose:
        filters = track.filters
        smoothing = self.config.enable_smoothing
        image = filters.smooth_image(raw.landmarks_px, t_us, body=smoothing)
        track.roi = roi_from_aux(image[NUM_KEYPOINTS : AUX_END + 1])
        body, world = image[:NUM_KEYPOINTS], raw.world_m
        if smoothing:
            world = filters.smooth_world(world, t_us)
        mask = raw.mask
        if mask is not None and self._smooth_masks:
            mask = filters.smooth_mask(mask)
        track.observe(body, t_us, learn=learn, crowded=crowded)
        self._tracker.confirm(track)
        return _to_pose(raw.score, body, world, mask, track.track_id)

    def _detect(
        self, image: NDArray[np.uint8], limit: int, tracker: MultiTracker | None = None
    ) -> list[Roi]:
        """The ROIs of up to ``limit`` people the detector finds that ``tracker`` does not track.

        Detections go best first; with a tracker, those whose hip centre a tracked ROI
        claims are dropped (the tracked ROI wins). A detection whose ROI is empty is
        dropped after the ``limit`` best are taken (MediaPipe's one-person graph then
        reports no pose).
        """
        assert self._detector is not None  # noqa: S101 - checked by estimate_poses
        height, width = image.shape[:2]
        detections = self._detections(image, whole_image_roi((width, height)))
        # Tiles asked for run with every detector pass; the automatic ones on the tracker's
        # tile cadence (video: with no one tracked, else at most once per TILES_EVERY x
        # detect_every frames), so that one person in view costs what it did without them.
        wanted = self.config.detector_tiles is not None or self._tracker.wants_tiles()
        tiles = self._tiles((width, height)) if wanted else []
        if tiles:
            for tile in tiles:
                detections += [
                    tile_to_frame(d, tile, (width, height)) for d in self._detections(image, tile)
                ]
            detections = weighted_nms(sorted(detections, key=lambda d: -d.score))
        self._tracker.note_detection(tiles=bool(tiles))
        rois = []
        for detection in detections:
            hip = detection.keypoints[0] * (width, height)
            top = detection.keypoints[1] * (width, height)
            rois.append(
                roi_from_points((float(hip[0]), float(hip[1])), (float(top[0]), float(top[1])))
            )
        if tracker is not None:
            # Unclaimed detections where nobody is tracked come first (in score order), so
            # that two near one tracked person cannot take the slots of someone new.
            claimed, near = tracker.claimed(rois), tracker.near_tracked(rois)
            free = [i for i in range(len(rois)) if not claimed[i]]
            rois = [rois[i] for i in sorted(free, key=lambda i: near[i])]
        rois = rois[:limit]
        self.stage_times.lap("postprocess")
        return [roi for roi in rois if roi.size_px[0] > 0]

    def _tiles(self, size_wh: tuple[int, int]) -> list[Roi]:
        """The detector's tiles on a frame of this size (``detector_tiles``; None: auto)."""
        config = self.config
        if config.detector_tiles is None and config.num_poses > 1:
            return auto_tiles(size_wh, video=not config.static_image_mode)
        return detector_tiles(size_wh, config.resolved_detector_tiles)

    def _detections(self, image: NDArray[np.uint8], region: Roi) -> list[Detection]:
        """The detector's NMS survivors on ``region``, keypoints as fractions of the frame."""
        assert self._detector is not None  # noqa: S101 - checked by estimate_poses
        paddings: list[tuple[float, float, float, float]] = []

        def fill(_: int, item: NDArray[np.float32]) -> None:
            crop = crop_image(
                image,
                region,
                tensor_size=DETECTOR_INPUT_SIZE,
                value_range=(-1.0, 1.0),
                border="zero",
                fixed_point=self._fixed_point,
                out=item,
            )
            paddings.append(crop.padding)
            self.stage_times.lap("preprocess")

        def read(_: int, outputs: Mapping[str, NDArray[np.float32]]) -> list[Detection]:
            self.stage_times.lap("inference")
            detections = weighted_nms(
                decode_detections(
                    outputs[_BOXES],
                    outputs[_SCORES],
                    min_score=self.config.min_detection_confidence,
                )
            )
            self.stage_times.lap("postprocess")
            return detections

        if self._detector_input is None:  # the fallback for a runtime without run_each
            side = DETECTOR_INPUT_SIZE
            self._detector_input = np.empty((1, side, side, 3), dtype=np.float32)
        (detections,) = run_each(
            self._detector,
            "input_1",
            1,
            fill,
            read,
            output_names=(_BOXES, _SCORES),
            buffer=self._detector_input,
        )
        return [remove_letterbox(d, paddings[0]) for d in detections]

    def _refined_passes(self, image: NDArray[np.uint8], rois: list[Roi]) -> list[_RawPose | None]:
        """:meth:`_landmark_passes`, then with ``refine_passes=2`` :meth:`_second_passes`."""
        raws = self._landmark_passes(image, rois)
        return self._second_passes(image, raws) if self.config.refine_passes > 1 else raws

    def _second_passes(
        self, image: NDArray[np.uint8], raws: list[_RawPose | None]
    ) -> list[_RawPose | None]:
        """Run the landmark model again on the ROI each pose's own auxiliary points give.

        The detector's ROI is a guess from two keypoints; the ROI from the landmark model's
        auxiliary points (the one tracking would use on the next frame) fits the person
        better. A pose whose second pass fails the presence gate keeps its first pass.
        """
        targets: list[tuple[int, Roi]] = []
        for i, raw in enumerate(raws):
            if raw is not None:
                roi = roi_from_aux(raw.landmarks_px[NUM_KEYPOINTS : AUX_END + 1])
                if roi.size_px[0] > 0:
                    targets.append((i, roi))
        again = self._landmark_passes(image, [roi for _, roi in targets])
        out = list(raws)
        for (i, _), raw in zip(targets, again, strict=True):
            if raw is not None:
                out[i] = raw
        return out

    def _landmark_passes(self, image: NDArray[np.uint8], rois: list[Roi]) -> list[_RawPose | None]:
        """One landmark-model call over all ``rois``; None where the presence gate fails.

        With ``flip_tta`` the call also carries every crop mirrored, and each pose is the
        average of its two views (:mod:`hifipose.blazepose.tta`).
        """
        if not rois:
            return []
        assert self._landmarks is not None  # noqa: S101 - checked by estimate_poses
        height, width = image.shape[:2]
        fixed_point, lap = self._fixed_point, self.stage_times.lap
        # (padding, crop_from_image) per crop; the tensors are written into the model's
        # input and not kept (a runtime's own input buffer is reused by the next crop)
        cuts: list[tuple[tuple[float, float, float, float], NDArray[np.float64]]] = []

        def fill(i: int, item: NDArray[np.float32]) -> None:
            crop = crop_image(
                image,
                rois[i],
                tensor_size=LANDMARK_INPUT_SIZE,
                value_range=(0.0, 1.0),
                border="replicate",
                fixed_point=fixed_point,
                out=item,
            )
            cuts.append((crop.padding, crop.crop_from_image))
            lap("preprocess")

        if self.config.flip_tta:
            # the crops and their mirrors in one batch (item i + len(rois): crop i flipped)
            batch = self._input_buffer(2 * len(rois))
            for i in range(len(rois)):
                fill(i, batch[i])
                batch[len(rois) + i] = flip_tensor(batch[i : i + 1])[0]
            self.stage_times.lap("preprocess")
            outputs = self._landmarks.run({"input_1": batch}, self._landmark_outputs)
            views = [
                average_views(
                    self._crop_view(outputs, i),
                    unflip_view(self._crop_view(outputs, len(rois) + i)),
                )
                for i in range(len(rois))
            ]
        else:
            # each crop decoded from the runtime's own output buffers (no copy of them)
            views = run_each(
                self._landmarks,
                "input_1",
                len(rois),
                fill,
                self._read_view,
                output_names=self._landmark_outputs,
                buffer=self._input_buffer(len(rois)),
            )
        self.stage_times.lap("inference")
        raws: list[_RawPose | None] = []
        for roi, view, (padding, crop_from_image) in zip(rois, views, cuts, strict=True):
            score = view.score
            if not score > self.config.min_tracking_confidence:
                raws.append(None)
                continue
            projected = project_landmarks(view.landmarks[: AUX_END + 1], roi, padding)
            world = rotate_world(view.world, roi.angle_rad)[:NUM_KEYPOINTS]
            mask = None
            if view.mask_logits is not None:
                probabilities = activate_mask(view.mask_logits)
                mask = CropMask(
                    probabilities,
                    crop_from_image,
                    (width, height),
                    fixed_point=self._fixed_point,
                )
            raws.append(_RawPose(score, projected, world, mask))
        return raws

    def _input_buffer(self, count: int) -> NDArray[np.float32]:
        """A (count, 256, 256, 3) float32 landmark-model input, reused from call to call.

        Allocating the 0.8 MB tensor anew on every frame costs more than filling it (fresh
        pages); the sessions copy or consume their input during ``run``, so one buffer per
        detector (one stream, one caller at a time) serves every frame.
        """
        if self._landmark_input.shape[0] < count:
            side = LANDMARK_INPUT_SIZE
            self._landmark_input = np.empty((count, side, side, 3), dtype=np.float32)
        return self._landmark_input[:count]

    def _crop_view(
        self, outputs: Mapping[str, NDArray[np.float32]], i: int, *, own: bool = True
    ) -> CropView:
        """Crop ``i`` of a batched landmark-model call, decoded and refined (crop frame).

        ``own``: the outputs are the caller's (else a runtime's buffers, which the view
        must not keep: the mask is then copied; everything else is new arrays anyway).
        """
        landmarks = refine_with_heatmap(
            decode_landmarks(outputs[_LANDMARKS][i]), outputs[_HEATMAP][i], self._heatmap_kernel
        )
        world = outputs[_WORLD][i].reshape(NUM_MODEL_LANDMARKS, 3).astype(np.float32)
        mask = None
        if self.config.enable_segmentation:
            mask = outputs[_MASK][i : i + 1] if own else outputs[_MASK][i : i + 1].copy()
        return CropView(float(outputs[_FLAG][i].reshape(-1)[0]), landmarks, world, mask)

    def _read_view(self, _: int, outputs: Mapping[str, NDArray[np.float32]]) -> CropView:
        """:meth:`_crop_view` of one item's outputs in a runtime's buffers (see ``Read``)."""
        self.stage_times.lap("inference")
        view = self._crop_view(outputs, 0, own=False)
        self.stage_times.lap("postprocess")
        return view

    def close(self) -> None:
        """Release the models. Calling it again does nothing."""
        for session in (self._detector, self._landmarks):
            if session is not None:
                session.close()
        if self._parts is not None:
            self._parts.close()
        self._detector = self._landmarks = None
        self._parts = None


class MediaPipeTasksDetector(PoseDetector):
    """The whole pipeline in MediaPipe Tasks' PoseLandmarker: no ids, Tasks semantics.

    Created by ``create_detector(runtime="mediapipe")``. Input checks and the timestamp rule
    are hifipose's (see :class:`~hifipose.tracker.StreamClock`); detection, tracking and
    landmarks are MediaPipe's Tasks graph, which smooths nothing: ``enable_smoothing`` and
    ``smooth_segmentation`` have no effect, and ``detector_runs`` is None (Tasks does not
    report it). With ``num_poses`` > 1 Tasks gives no identities: every pose's
    ``track_id`` is None and the list is in Tasks' order, which changes when people overlap.
    See :mod:`hifipose.runtimes.mediapipe_tasks` for how results are mapped.

    With ``holistic=True`` the pipeline is MediaPipe's legacy Holistic solution instead
    (one person, hands and face; it smooths as MediaPipe's solution does, at a simulated
    30 fps): see :mod:`hifipose.runtimes.mediapipe_holistic`.
    """

    def __init__(
        self, config: DetectorConfig, pipeline: TasksPipeline | LegacyHolisticPipeline
    ) -> None:
        super().__init__(config)
        self._pipeline: TasksPipeline | LegacyHolisticPipeline | None = pipeline

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

    def _reset(self) -> None:
        """Start a new stream: the Tasks landmarker is created again and the clock reset."""
        super()._reset()
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
    mask: CropMask | None,
    track_id: int | None = None,
) -> Pose:
    return Pose(
        image_array=landmarks_px[:NUM_KEYPOINTS],
        world_array_m=world_m,
        score=score,
        segmentation=mask,
        track_id=track_id,
    )
