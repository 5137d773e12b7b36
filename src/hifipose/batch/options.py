"""What a batch job computes: the result-affecting options and their fingerprint."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final, Literal

from hifipose._checks import check_choice
from hifipose._version import __version__
from hifipose.camera import CameraSpec
from hifipose.config import (
    ONE_PERSON_DEFAULTS,
    Compat,
    DetectorConfig,
    Device,
    ModelType,
    Precision,
    RuntimeName,
)
from hifipose.models import MODEL_SPECS, landmark_model_name

__all__ = ["SMOOTHING_MODES", "BatchOptions", "Smoothing"]

#: ``online``: MediaPipe's causal one-euro filters while tracking; ``offline``: track with
#: them off, then smooth each track of the whole video without lag
#: (:func:`hifipose.filters.offline.smooth_results`, as ``track --smoothing offline``);
#: ``none``: raw landmarks.
SMOOTHING_MODES: Final = ("online", "offline", "none")
Smoothing = Literal["online", "offline", "none"]

_DETECTOR = DetectorConfig()  # the defaults of the detector options below
#: Options added after the first release: in the fingerprint only when not at their default,
#: so outputs published before them stay done.
_ADDED_LATER: Final = (
    "detect_every",
    "max_lost_ms",
    "detector_tiles",
    "precision",
    "compat",
    "refine_passes",
    "flip_tta",
)

#: The options whose default (None) depends on ``num_poses``, and their values before that.
_AUTO: Final = ONE_PERSON_DEFAULTS


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchOptions:
    """Every option of a batch job that changes its results (the job's fingerprint).

    Attributes:
        model: Landmark model: ``"lite"``, ``"full"`` or ``"heavy"``.
        runtime: Inference runtime.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        num_poses: Maximum number of people per frame.
        segmentation: Run the landmark model's segmentation head (masks are not stored).
        smoothing: One of :data:`SMOOTHING_MODES`.
        min_detection_confidence: Minimum detector score to start a track, in [0, 1].
        min_tracking_confidence: Minimum pose presence to keep a track, in [0, 1].
        camera: Add camera-space keypoints (``{name}_cam_x/_y/_z`` columns, metres) with
            this camera (``--fov``, ``--intrinsics``); None: no camera columns. Their depth
            is smoothed per track over time unless ``smoothing`` is ``"none"``, as in
            ``track``.
        model_dir: Read model files from this folder (not part of the fingerprint: the
            models' SHA-256 digests are).
        detect_every, max_lost_ms, detector_tiles, precision, compat, refine_passes,
            flip_tta: As :class:`~hifipose.config.DetectorConfig`'s fields (their defaults
            too).
    """

    model: ModelType = "full"
    runtime: RuntimeName = "litert"
    device: Device = "cpu"
    num_poses: int = 1
    segmentation: bool = False
    smoothing: Smoothing = "online"
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    camera: CameraSpec | None = None
    model_dir: Path | None = None
    detect_every: int | None = _DETECTOR.detect_every
    max_lost_ms: float | None = _DETECTOR.max_lost_ms
    detector_tiles: int | None = _DETECTOR.detector_tiles
    precision: Precision = _DETECTOR.precision
    compat: Compat = _DETECTOR.compat
    refine_passes: int = _DETECTOR.refine_passes
    flip_tta: bool = _DETECTOR.flip_tta

    def __post_init__(self) -> None:
        check_choice("smoothing", self.smoothing, SMOOTHING_MODES)
        if self.camera is not None and self.camera.intrinsics is None:
            self.camera.for_size(1920, 1080)  # a field of view out of range: ConfigError
        self.detector_config(None)  # validates the rest (ConfigError)

    def detector_config(self, num_threads: int | None) -> DetectorConfig:
        """The detector's configuration for one worker using ``num_threads`` threads."""
        return DetectorConfig(
            model_type=self.model,
            runtime=self.runtime,
            device=self.device,
            static_image_mode=False,
            enable_smoothing=self.smoothing == "online",
            enable_segmentation=self.segmentation,
            min_detection_confidence=self.min_detection_confidence,
            min_tracking_confidence=self.min_tracking_confidence,
            num_poses=self.num_poses,
            model_dir=self.model_dir,
            num_threads=num_threads,
            **{name: getattr(self, name) for name in _ADDED_LATER},
        )

    def fingerprint(self) -> dict[str, Any]:
        """The JSON-ready fingerprint: options and model SHA-256s (no paths, no version).

        Two runs whose fingerprints are equal produce the same results; an output whose
        recorded fingerprint equals the current one is done.
        """
        options = asdict(self)
        del options["model_dir"]
        for name in _ADDED_LATER:
            if name in _AUTO and options[name] is None:
                # None is "auto": the old fixed default with one person, new ones with more
                # (results differ from before, so the fingerprint does)
                if self.num_poses > 1 and self.runtime != "mediapipe":
                    options[name] = "auto"
                else:
                    del options[name]
            elif options[name] == _AUTO.get(name, getattr(_DETECTOR, name)):
                del options[name]
        models = ("pose_detection", landmark_model_name(self.model))
        return {
            "options": options,
            "models": {name: MODEL_SPECS[name].sha256 for name in models},
        }

    def producer(self) -> dict[str, Any]:
        """What produced an output: the fingerprint plus the hifipose version."""
        return {"hifipose_version": __version__, **self.fingerprint()}
