"""The public factory: ``create_detector`` and friends."""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import fields, replace
from pathlib import Path
from typing import Final

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
from hifipose.errors import ConfigError, DeviceUnavailableError, RuntimeUnavailableError
from hifipose.holistic import ATTENTION_FACE_MODEL, PartsPipeline, holistic_models
from hifipose.models import ensure_model, landmark_model_name
from hifipose.runtimes.base import Session, SessionOptions, open_session
from hifipose.runtimes.base import available_runtimes as _available_runtimes
from hifipose.runtimes.mediapipe_holistic import LegacyHolisticPipeline, holistic_model_files
from hifipose.runtimes.mediapipe_tasks import TasksPipeline, build_task_bundle

__all__ = ["available_runtimes", "create_detector", "detector_from_config", "list_models"]

logger = logging.getLogger(__name__)

FAMILIES = ("blazepose",)
_DEFAULT: Final = DetectorConfig()  # create_detector's defaults are the config's
_FIELDS: Final = frozenset(field.name for field in fields(DetectorConfig))


def create_detector(  # noqa: D417 - the keywords are documented once, in DetectorConfig
    family: str = "blazepose",
    *,
    model_type: ModelType = _DEFAULT.model_type,
    runtime: RuntimeName = _DEFAULT.runtime,
    device: Device = _DEFAULT.device,
    static_image_mode: bool = _DEFAULT.static_image_mode,
    enable_smoothing: bool = _DEFAULT.enable_smoothing,
    enable_segmentation: bool = _DEFAULT.enable_segmentation,
    smooth_segmentation: bool = _DEFAULT.smooth_segmentation,
    min_detection_confidence: float = _DEFAULT.min_detection_confidence,
    min_tracking_confidence: float = _DEFAULT.min_tracking_confidence,
    num_poses: int = _DEFAULT.num_poses,
    detect_every: int | None = _DEFAULT.detect_every,
    max_lost_ms: float | None = _DEFAULT.max_lost_ms,
    detector_tiles: int | None = _DEFAULT.detector_tiles,
    model_dir: str | Path | None = _DEFAULT.model_dir,
    num_threads: int | None = _DEFAULT.num_threads,
    strict_timestamps: bool = _DEFAULT.strict_timestamps,
    precision: Precision = _DEFAULT.precision,
    compat: Compat | None = None,
    refine_passes: int = _DEFAULT.refine_passes,
    flip_tta: bool = _DEFAULT.flip_tta,
    holistic: bool = _DEFAULT.holistic,
    refine_face_landmarks: bool = _DEFAULT.refine_face_landmarks,
) -> PoseDetector:
    """Create a BlazePose detector: MediaPipe's Pose graph on the runtime you pick.

    Model files are taken from ``model_dir`` if given, else from the per-user cache; a
    missing cached file is fetched here (never during ``estimate_poses``).

    Every keyword but ``family`` is a field of :class:`~hifipose.config.DetectorConfig`,
    which states each one's meaning, units, default and limits (``compat=None`` means
    ``"graph"``). The most used: ``model_type`` (``"lite"``, ``"full"``, ``"heavy"``),
    ``runtime`` (``"litert"``, ``"onnxruntime"``, ``"torch"``, ``"mediapipe"``),
    ``num_poses`` (1: MediaPipe's Pose graph number for number; more: several people with
    ids), ``static_image_mode`` and ``enable_segmentation``.

    Args:
        family: The model family; only ``"blazepose"``.

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
    given = locals()  # the keywords, which are DetectorConfig's fields (and family)
    options = {name: value for name, value in given.items() if name in _FIELDS}
    options["compat"] = "graph" if compat is None else compat
    return detector_from_config(DetectorConfig(**options))


def detector_from_config(config: DetectorConfig) -> PoseDetector:
    """Create the detector a :class:`~hifipose.config.DetectorConfig` describes.

    What :func:`create_detector` does once its keywords are checked; the front ends that
    hold a config (``track()``'s stream, ``batch``'s workers, the server) call it directly.
    """
    detector_path = ensure_model("pose_detection", model_dir=config.model_dir)
    landmark_path = ensure_model(landmark_model_name(config.model_type), model_dir=config.model_dir)
    if config.runtime == "mediapipe":
        if config.device == "cuda":
            msg = "runtime 'mediapipe' runs on the CPU only here; use device='cpu' or 'auto'"
            raise DeviceUnavailableError(msg)
        if config.holistic:
            return MediaPipeTasksDetector(config, _legacy_holistic(config))
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
    try:
        parts = _open_parts(config, options) if config.holistic else None
    except BaseException:
        detector_session.close()
        landmark_session.close()
        raise
    return BlazePoseDetector(config, detector_session, landmark_session, parts)


def _legacy_holistic(config: DetectorConfig) -> LegacyHolisticPipeline:
    """MediaPipe's own Holistic solution on the npm files (fetched into the cache if missing)."""
    names = holistic_model_files(
        config.model_type, refine_face_landmarks=config.refine_face_landmarks
    )
    return LegacyHolisticPipeline(
        {name: ensure_model(name, model_dir=config.model_dir) for name in names},
        model_type=config.model_type,
        video=not config.static_image_mode,
        smooth_landmarks=config.enable_smoothing,
        segmentation=config.enable_segmentation,
        smooth_segmentation=config.smooth_segmentation,
        refine_face_landmarks=config.refine_face_landmarks,
        min_detection_confidence=config.min_detection_confidence,
        min_tracking_confidence=config.min_tracking_confidence,
    )


#: Runtimes that cannot load the face model with attention (its MediaPipe custom operators):
#: with ``refine_face_landmarks`` that one model runs on onnxruntime, through hifipose's
#: conversion (docs/holistic-spec.md §10).
_NO_CUSTOM_OPS: Final = ("litert", "openvino")


def _open_attention_face(config: DetectorConfig, path: Path, options: SessionOptions) -> Session:
    """Open the face model with attention on ``config.runtime``, or on onnxruntime.

    onnxruntime (CPU) where that runtime cannot load the model's custom operators.
    """
    if config.runtime not in _NO_CUSTOM_OPS:
        return open_session(config.runtime, path, options)
    try:
        return open_session("onnxruntime", path, replace(options, device="cpu"))
    except RuntimeUnavailableError as exc:
        msg = (
            f"refine_face_landmarks on runtime {config.runtime!r} runs the face model with "
            "attention on onnxruntime (that model uses MediaPipe custom operators "
            f"{config.runtime} cannot load); install it with: pip install 'hifipose[onnx]', "
            f"or use runtime='torch' or 'onnxruntime' ({exc})"
        )
        raise RuntimeUnavailableError(msg) from exc


def _open_parts(config: DetectorConfig, options: SessionOptions) -> PartsPipeline:
    """Open the Holistic models (fetched into the cache if missing) as one pipeline.

    On LiteRT with two threads or more (its default: 2) the parts run in two lanes, each
    with its own sessions on half the threads (see :class:`PartsPipeline`).
    """
    lanes, options = _part_lanes(config, options)
    opened: list[dict[str, Session]] = []
    try:
        for _ in range(lanes):
            sessions: dict[str, Session] = {}
            opened.append(sessions)
            for name in holistic_models(refine_face_landmarks=config.refine_face_landmarks):
                path = ensure_model(name, model_dir=config.model_dir)
                if name == ATTENTION_FACE_MODEL:
                    sessions[name] = _open_attention_face(config, path, options)
                else:
                    sessions[name] = open_session(config.runtime, path, options)
    except BaseException:
        for session in (s for sessions in opened for s in sessions.values()):
            session.close()
        raise
    return PartsPipeline(
        opened[0],
        fixed_point=config.compat == "mediapipe-python",
        helper_sessions=opened[1] if lanes > 1 else None,
    )


#: Runtimes whose Holistic parts run in two lanes: a LiteRT batch is a loop of batch-1 runs
#: anyway, and XNNPACK's (and, for the attention face model, onnxruntime's) numbers do not
#: depend on the number of threads, so the lanes change no output bit.
_LANE_RUNTIMES: Final = ("litert",)


def _part_lanes(config: DetectorConfig, options: SessionOptions) -> tuple[int, SessionOptions]:
    """How many lanes the parts run in, and each part session's options.

    ``num_threads`` (or LiteRT's default) is the parts' budget: two lanes on half of it
    each, or one lane when it is 1.
    """
    if config.runtime not in _LANE_RUNTIMES:
        return 1, options
    # imported here: the litert module is loaded only when it is used
    from hifipose.runtimes.litert import DEFAULT_NUM_THREADS

    budget = options.num_threads or DEFAULT_NUM_THREADS
    lanes = 2 if budget >= 2 else 1
    return lanes, replace(options, num_threads=budget // lanes)


def list_models() -> tuple[str, ...]:
    """Return the landmark model types: ``("lite", "full", "heavy")``."""
    return MODEL_TYPES


def available_runtimes() -> tuple[str, ...]:
    """Return the runtimes whose packages are installed, e.g. ``("litert", "mediapipe")``."""
    whole_pipeline = ("mediapipe",) if importlib.util.find_spec("mediapipe") else ()
    return _available_runtimes() + whole_pipeline
