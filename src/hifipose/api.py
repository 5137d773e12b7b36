"""The public factory: ``create_detector`` and friends."""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import replace
from pathlib import Path

from hifipose.config import (
    MODEL_TYPES,
    Compat,
    DetectorConfig,
    Device,
    ModelType,
    Precision,
    RuntimeName,
)
from hifipose.detector import (
    BlazePoseDetector,
    MediaPipeTasksDetector,
    PoseDetector,
    landmark_outputs,
)
from hifipose.errors import ConfigError, DeviceUnavailableError
from hifipose.models import ensure_model, landmark_model_name
from hifipose.runtimes.base import SessionOptions, open_session
from hifipose.runtimes.base import available_runtimes as _available_runtimes
from hifipose.runtimes.mediapipe_tasks import TasksPipeline, build_task_bundle

__all__ = ["available_runtimes", "create_detector", "list_models"]

logger = logging.getLogger(__name__)

FAMILIES = ("blazepose",)


def create_detector(
    family: str = "blazepose",
    *,
    model_type: ModelType = "full",
    runtime: RuntimeName = "litert",
    device: Device = "cpu",
    static_image_mode: bool = False,
    enable_smoothing: bool = True,
    enable_segmentation: bool = False,
    smooth_segmentation: bool = True,
    min_detection_confidence: float = 0.5,
    min_tracking_confidence: float = 0.5,
    num_poses: int = 1,
    detect_every: int | None = None,
    max_lost_ms: float | None = None,
    detector_tiles: int | None = None,
    model_dir: str | Path | None = None,
    num_threads: int | None = None,
    strict_timestamps: bool = False,
    precision: Precision = "float32",
    compat: Compat | None = None,
    refine_passes: int = 1,
    flip_tta: bool = False,
) -> PoseDetector:
    """Create a BlazePose detector: MediaPipe's Pose graph on the runtime you pick.

    Model files are taken from ``model_dir`` if given, else from the per-user cache; a
    missing cached file is fetched here (never during ``estimate_poses``).

    Args:
        family: The model family; only ``"blazepose"``.
        model_type: Landmark model: ``"lite"`` (fastest), ``"full"`` or ``"heavy"`` (most
            accurate).
        runtime: ``"litert"`` (default, CPU), ``"onnxruntime"``, ``"torch"``, or
            ``"mediapipe"``: the whole pipeline in MediaPipe Tasks' PoseLandmarker (no
            smoothing there; see :class:`~hifipose.detector.MediaPipeTasksDetector`).
        device: ``"cpu"``, ``"cuda"`` or ``"auto"`` (CPU when no GPU runtime applies).
        static_image_mode: Treat every frame as an unrelated image: the detector runs on
            each, nothing is tracked or smoothed.
        enable_smoothing: Smooth landmarks over time in video mode.
        enable_segmentation: Return a person mask with each pose.
        smooth_segmentation: Blend masks over time in video mode.
        min_detection_confidence: Minimum detector score to start a track, in [0, 1].
        min_tracking_confidence: Minimum pose presence to report a pose and keep tracking
            it, in [0, 1]; below it the next frame runs the detector again.
        num_poses: Most people per frame. 1: MediaPipe's Pose graph, number for number.
            More: every person is tracked with its own ROI and filters, all crops go
            through the landmark model in one batched call, and each pose carries its
            person's ``track_id`` (the same person keeps it while tracked, and gets it
            back on reappearing within ``max_lost_ms``). With ``runtime="mediapipe"``:
            MediaPipe Tasks' ``num_poses`` (no identities, ``track_id`` None).
        detect_every: While some but fewer than ``num_poses`` people are tracked, look for
            more at most every this many frames (1 looks on every such frame, as Tasks
            does). None, the default: 15 (0.5 s at 30 fps), twice as far apart after each
            look that changes nothing, up to 8 × 15.
        max_lost_ms: How long a person who disappeared keeps their id (ms; None, the
            default: 1000 with ``num_poses=1``, 3000 with more).
        detector_tiles: 1: the detector sees the whole frame. k > 1: also overlapping
            square tiles, k along the short side, for small people (about k² × aspect more
            detector runs on the frames where it runs). None (the default): 1 with
            ``num_poses=1`` (MediaPipe's graph); with more, automatic tiles: in video,
            squares the frame's height along it (3 on 16:9), with no one tracked on every
            detector pass and else at most once per 8 × ``detect_every`` frames; on photos
            the k=2 grid.
        model_dir: A folder holding the four model files, used instead of the cache.
        num_threads: Inference threads per model; None lets the runtime choose.
        strict_timestamps: Raise on a timestamp that does not increase instead of repairing
            it.
        precision: ``"float32"`` (default: MediaPipe's numbers) or ``"int8"``: the landmark
            model quantised to int8 by hifipose (litert only; built once and cached next to
            the model). Faster, but not MediaPipe's numbers: see the README's Speed section
            for its measured cost in accuracy.
        compat: None or ``"graph"`` (default): MediaPipe's Pose graph as written, which
            MediaPipe Tasks and TF.js also run. ``"mediapipe-python"``: the legacy
            ``mp.solutions.pose`` (mediapipe ≤ 0.10.14) number for number: a 9×9 heatmap
            refinement window instead of 7×7, and no segmentation smoothing (its options
            round trip drops both; blazepose-spec §3.5, §5.6); crops and masks sampled as
            the OpenCV 3.4 inside MediaPipe's wheels samples them (§1.2), whatever OpenCV
            is installed.
        refine_passes: Accuracy mode: 2 runs the landmark model again on the ROI the first
            pass's landmarks give (every image in static mode; a track's first frame in
            video). Costs one more landmark run on those frames.
        flip_tta: Accuracy mode: also run every crop mirrored left to right and average the
            two (left and right swapped back). Doubles the landmark model's cost.

    Returns:
        A ready :class:`~hifipose.detector.PoseDetector`.

    Raises:
        ConfigError: An option is invalid.
        ModelNotFoundError: A model file is missing and cannot be fetched.
        ModelIntegrityError: A model file in ``model_dir`` is corrupt.
        RuntimeUnavailableError: The runtime is not installed.

    Example:
        >>> import hifipose
        >>> detector = hifipose.create_detector(model_type="lite")  # doctest: +SKIP
    """
    if family not in FAMILIES:
        msg = f"unknown model family {family!r}; choose one of: {', '.join(FAMILIES)}"
        raise ConfigError(msg)
    config = DetectorConfig(
        model_type=model_type,
        runtime=runtime,
        device=device,
        static_image_mode=static_image_mode,
        enable_smoothing=enable_smoothing,
        enable_segmentation=enable_segmentation,
        smooth_segmentation=smooth_segmentation,
        min_detection_confidence=min_detection_confidence,
        min_tracking_confidence=min_tracking_confidence,
        num_poses=num_poses,
        detect_every=detect_every,
        max_lost_ms=max_lost_ms,
        detector_tiles=detector_tiles,
        model_dir=None if model_dir is None else Path(model_dir),
        num_threads=num_threads,
        strict_timestamps=strict_timestamps,
        precision=precision,
        compat="graph" if compat is None else compat,
        refine_passes=refine_passes,
        flip_tta=flip_tta,
    )
    detector_path = ensure_model("pose_detection", model_dir=config.model_dir)
    landmark_path = ensure_model(landmark_model_name(config.model_type), model_dir=config.model_dir)
    if config.runtime == "mediapipe":
        if config.device == "cuda":
            msg = "runtime 'mediapipe' runs on the CPU only here; use device='cpu' or 'auto'"
            raise DeviceUnavailableError(msg)
        pipeline = TasksPipeline(
            build_task_bundle(detector_path, landmark_path),
            video=not config.static_image_mode,
            num_poses=config.num_poses,
            min_detection_confidence=config.min_detection_confidence,
            min_tracking_confidence=config.min_tracking_confidence,
            segmentation=config.enable_segmentation,
        )
        return MediaPipeTasksDetector(config, pipeline)
    options = SessionOptions(num_threads=config.num_threads, device=config.device)
    detector_session = open_session(config.runtime, detector_path, options)
    try:
        landmark_session = open_session(
            config.runtime,
            landmark_path,
            replace(
                options,
                outputs=landmark_outputs(enable_segmentation=config.enable_segmentation),
                precision=config.precision,
            ),
        )
    except BaseException:
        detector_session.close()
        raise
    return BlazePoseDetector(config, detector_session, landmark_session)


def list_models() -> tuple[str, ...]:
    """Return the landmark model types: ``("lite", "full", "heavy")``."""
    return MODEL_TYPES


def available_runtimes() -> tuple[str, ...]:
    """Return the runtimes whose packages are installed, e.g. ``("litert", "mediapipe")``."""
    whole_pipeline = ("mediapipe",) if importlib.util.find_spec("mediapipe") else ()
    return _available_runtimes() + whole_pipeline
