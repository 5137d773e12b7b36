"""What a batch job computes: the result-affecting options and their fingerprint."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from hifipose._version import __version__
from hifipose.camera import CameraSpec
from hifipose.config import ONE_PERSON_DEFAULTS, DetectorConfig
from hifipose.errors import ConfigError
from hifipose.holistic import holistic_models
from hifipose.models import HOLISTIC_SPECS, MODEL_SPECS, landmark_model_name
from hifipose.stream import SMOOTHING_MODES, RunOptions, Smoothing

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["BATCH_FIXED_FIELDS", "BATCH_NAMES", "SMOOTHING_MODES", "BatchOptions", "Smoothing"]

#: batch's own names for two ``DetectorConfig`` fields (its first release's keywords and
#: fingerprint keys, kept so that published outputs stay done).
BATCH_NAMES: Final = {"model": "model_type", "segmentation": "enable_segmentation"}
#: The ``DetectorConfig`` fields a batch job sets itself, and why.
BATCH_FIXED_FIELDS: Final = {
    "static_image_mode": "batch tracks videos",
    "enable_smoothing": "follows smoothing (online: on)",
    "num_threads": "set per worker (--threads-per-worker)",
    "strict_timestamps": "batch repairs container timestamps",
    "smooth_segmentation": "batch stores no masks",
}
#: The fingerprint's keys of batch's first release, in order; every later option follows,
#: only when it is not at its default, so outputs published before it stay done.
_FIRST_KEYS: Final = (
    "model",
    "runtime",
    "device",
    "num_poses",
    "segmentation",
    "smoothing",
    "min_detection_confidence",
    "min_tracking_confidence",
    "camera",
)
_DETECTOR: Final = DetectorConfig()
_DETECTOR_FIELDS: Final = tuple(field.name for field in dataclasses.fields(DetectorConfig))
_RUN_FIELDS: Final = tuple(field.name for field in dataclasses.fields(RunOptions))
_OUR_NAMES: Final = {field: name for name, field in BATCH_NAMES.items()}
#: The options whose default (None) depends on ``num_poses``, and their values before that.
_AUTO: Final = ONE_PERSON_DEFAULTS


@dataclass(frozen=True, slots=True, init=False)
class BatchOptions:
    """Every option of a batch job that changes its results (the job's fingerprint).

    Built from the two records :func:`hifipose.track` takes, or from their fields by name:
    ``BatchOptions(model="lite", num_poses=3, smoothing="offline")``. Names: every
    :class:`~hifipose.config.DetectorConfig` field but the ones in
    :data:`BATCH_FIXED_FIELDS` (``model`` and ``segmentation`` also name ``model_type``
    and ``enable_segmentation``), :class:`~hifipose.stream.RunOptions`' ``smoothing``,
    ``fov`` and ``intrinsics``, and ``camera`` (a :class:`~hifipose.camera.CameraSpec`,
    as ``intrinsics``).

    Attributes:
        detector: The detector's options (``static_image_mode`` False, ``enable_smoothing``
            as ``smoothing``, ``num_threads`` None: each worker sets its own).
        run: Smoothing and the camera. With a camera, the table gains camera-space
            keypoints (``{name}_cam_x/_y/_z`` columns, metres), their depth smoothed per
            track over time unless ``smoothing`` is ``"none"``, as in ``track``. With
            ``holistic`` (in ``detector``), the hands' and face's columns
            (:mod:`hifipose.io.table`).
            ``max_frames`` is refused: a batch job tracks whole videos.

    Raises:
        ConfigError: An unknown or fixed name, or an invalid value.
    """

    detector: DetectorConfig
    run: RunOptions

    def __init__(
        self,
        *,
        detector: DetectorConfig | None = None,
        run: RunOptions | None = None,
        camera: CameraSpec | None = None,
        **options: Any,  # noqa: ANN401 - the records' fields, each typed there
    ) -> None:
        options = {BATCH_NAMES.get(name, name): value for name, value in options.items()}
        unknown = sorted(set(options) - set(_DETECTOR_FIELDS) - set(_RUN_FIELDS))
        fixed = sorted(set(options) & set(BATCH_FIXED_FIELDS))
        if unknown or fixed:
            names = ", ".join(unknown + fixed)
            msg = f"batch has no option {names}: give DetectorConfig's or RunOptions' fields"
            msg += f" (batch sets {', '.join(fixed)} itself)" if fixed else ""
            raise ConfigError(msg)
        if camera is not None:
            options["intrinsics"] = camera
        run_options = {k: v for k, v in options.items() if k in _RUN_FIELDS}
        run = dataclasses.replace(run or RunOptions(), **run_options)
        if run.max_frames is not None:
            msg = "batch tracks whole videos: max_frames is not a batch option"
            raise ConfigError(msg)
        base = detector or DetectorConfig()
        detector_options = {k: v for k, v in options.items() if k in _DETECTOR_FIELDS}
        config = dataclasses.replace(base, **detector_options, **_fixed(run.smoothing))
        if detector is not None:
            changed = [
                n for n in BATCH_FIXED_FIELDS if getattr(detector, n) != getattr(_DETECTOR, n)
            ]
            if changed:
                msg = f"batch sets {', '.join(changed)} itself: leave it at its default"
                raise ConfigError(msg)
        object.__setattr__(self, "detector", config)
        object.__setattr__(self, "run", run)

    @property
    def smoothing(self) -> Smoothing:
        """``online``, ``offline`` or ``none`` (:data:`SMOOTHING_MODES`)."""
        return self.run.smoothing

    @property
    def camera(self) -> CameraSpec | None:
        """The camera of the camera-space columns, or None."""
        return self.run.camera()

    @property
    def model_dir(self) -> Path | None:
        """Where model files are read from (None: the cache); not in the fingerprint."""
        return self.detector.model_dir

    def detector_config(self, num_threads: int | None) -> DetectorConfig:
        """The detector's configuration for one worker using ``num_threads`` threads."""
        return dataclasses.replace(self.detector, num_threads=num_threads)

    def fingerprint(self) -> dict[str, Any]:
        """The JSON-ready fingerprint: options and model SHA-256s (no paths, no version).

        Two runs whose fingerprints are equal produce the same results; an output whose
        recorded fingerprint equals the current one is done.
        """
        camera = self.camera
        values = {
            _OUR_NAMES.get(name, name): getattr(self.detector, name)
            for name in _DETECTOR_FIELDS
            if name not in BATCH_FIXED_FIELDS and name != "model_dir"
        }
        values |= {
            "smoothing": self.run.smoothing,
            "camera": None if camera is None else dataclasses.asdict(camera),
        }
        options = {key: values.pop(key) for key in _FIRST_KEYS}
        for key, value in values.items():
            field = BATCH_NAMES.get(key, key)
            if field in _AUTO and value is None:
                # None is "auto": the old fixed default with one person, new ones with more
                # (results differ from before, so the fingerprint does)
                if self.detector.num_poses > 1 and self.detector.runtime != "mediapipe":
                    options[key] = "auto"
            elif value != _AUTO.get(field, getattr(_DETECTOR, field)):
                options[key] = value
        models = ("pose_detection", landmark_model_name(self.detector.model_type))
        hashes = {name: MODEL_SPECS[name].sha256 for name in models}
        if self.detector.holistic:  # (a key only then: older outputs stay done)
            parts = holistic_models(refine_face_landmarks=self.detector.refine_face_landmarks)
            hashes |= {name: HOLISTIC_SPECS[name].sha256 for name in parts}
        return {"options": options, "models": hashes}

    def producer(self) -> dict[str, Any]:
        """What produced an output: the fingerprint plus the hifipose version."""
        return {"hifipose_version": __version__, **self.fingerprint()}


def _fixed(smoothing: Smoothing) -> dict[str, Any]:
    """The values batch gives the fields of :data:`BATCH_FIXED_FIELDS`."""
    return {
        "static_image_mode": False,
        "enable_smoothing": smoothing == "online",
        "num_threads": None,
        "strict_timestamps": False,
        "smooth_segmentation": _DETECTOR.smooth_segmentation,
    }
