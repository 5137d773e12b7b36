"""DetectorConfig: every option of ``create_detector``, frozen and validated before any work."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from hifipose._checks import check_choice, check_unit_interval
from hifipose.errors import ConfigError

__all__ = [
    "COMPAT_MODES",
    "DEVICES",
    "LIMITS",
    "MODEL_TYPES",
    "MULTI_PERSON_DEFAULTS",
    "ONE_PERSON_DEFAULTS",
    "PRECISIONS",
    "RUNTIME_NAMES",
    "DetectorConfig",
]

MODEL_TYPES: Final = ("lite", "full", "heavy")
RUNTIME_NAMES: Final = ("litert", "onnxruntime", "torch", "openvino", "mediapipe")
DEVICES: Final = ("cpu", "cuda", "auto", "gpu", "npu")
PRECISIONS: Final = ("float32", "bf16", "int8")
COMPAT_MODES: Final = ("graph", "mediapipe-python")

ModelType = Literal["lite", "full", "heavy"]
RuntimeName = Literal["litert", "onnxruntime", "torch", "openvino", "mediapipe"]
Device = Literal["cpu", "cuda", "auto", "gpu", "npu"]
Precision = Literal["float32", "bf16", "int8"]
Compat = Literal["graph", "mediapipe-python"]

#: The largest value of each option whose cost grows with it (time or memory per frame).
#: ``detector_tiles``: k along the short side means about k² × aspect tiles, one detector
#: run each (8 on a 16:9 frame: 135 runs; 200 took over a minute per photo and 10 000
#: grew past 23 GB); ``num_poses``: a landmark run per person per frame;
#: ``max_lost_ms``: every person who left within it is looked for (a landmark run) on every
#: frame, so the people passing through in that time add up; ``num_threads``: one inference
#: thread each, per model.
LIMITS: Final[dict[str, int]] = {
    "num_poses": 100,
    "detector_tiles": 8,
    "max_lost_ms": 60_000,
    "num_threads": 256,
}

#: What ``detect_every``, ``max_lost_ms`` and ``detector_tiles`` left at None ("auto") mean
#: with ``num_poses=1``: MediaPipe's Pose graph (the detector cadence and the id memory are
#: unused there; no tiles).
ONE_PERSON_DEFAULTS: Final[dict[str, int | float]] = {
    "detect_every": 15,
    "max_lost_ms": 1000.0,
    "detector_tiles": 1,
}
#: ... and with ``num_poses`` > 1, chosen by measurement (README "Several people"):
#: ``detector_tiles`` 2 stands for the automatic tile layout
#: (:func:`hifipose.blazepose.tiles.auto_tiles`: squares the height of a video frame,
#: a 2-per-side grid on photos); ``max_lost_ms`` 3000 keeps the id of a person hidden behind
#: a passer-by for the 2 s such a crossing takes (1000 lost it on the composite clips).
MULTI_PERSON_DEFAULTS: Final[dict[str, int | float]] = {
    "detect_every": 15,
    "max_lost_ms": 3000.0,
    "detector_tiles": 2,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class DetectorConfig:
    """The options of a :class:`~hifipose.detector.PoseDetector` (see ``create_detector``).

    Attributes:
        model_type: Landmark model: ``"lite"``, ``"full"`` or ``"heavy"``.
        runtime: Inference runtime for the models.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``; ``"gpu"`` or ``"npu"``: that OpenVINO
            device (``runtime="openvino"`` only, where OpenVINO finds one).
        static_image_mode: Run the detector on every frame; no tracking, no smoothing.
        enable_smoothing: Smooth landmarks over time (video mode only).
        enable_segmentation: Also return a person mask per pose.
        smooth_segmentation: Blend each mask with the previous one (video mode only).
        min_detection_confidence: Minimum detector score, in [0, 1].
        min_tracking_confidence: Minimum pose presence to keep a pose (and the track), in [0, 1].
        num_poses: Most people found per frame. 1 is MediaPipe's Pose graph exactly; more
            tracks each person with its own ROI and filters and keeps identities
            (``Pose.track_id``); ``runtime="mediapipe"`` passes it to Tasks (no identities).
            At most ``LIMITS["num_poses"]`` (100).
        detect_every: With ``num_poses`` > 1 and some but not all of them tracked, the
            detector looks for more people at most once per this many frames (with no one
            tracked: every frame; with ``num_poses`` tracked: never). Video mode only. None
            (the default): 15 (:attr:`resolved_detect_every`), and while the detector finds
            no one new and nobody is lost, twice as far apart each time, up to
            ``MAX_DETECT_BACKOFF`` (8) × 15 frames.
        max_lost_ms: How long a person who disappeared keeps the id for coming back (ms), at
            most ``LIMITS["max_lost_ms"]`` (60 000). None (the default): 1000 with
            ``num_poses=1``, 3000 with more (:attr:`resolved_max_lost_ms`).
        detector_tiles: 1 runs the detector on the whole frame (MediaPipe). k > 1 also runs
            it on overlapping square tiles, k along the frame's short side, to find people
            too small for the whole-frame pass (costs one detector run per tile, on every
            detector pass). At most ``LIMITS["detector_tiles"]`` (8). None (the default): 1
            with ``num_poses=1`` (MediaPipe's graph); with more, automatic tiles
            (:func:`~hifipose.blazepose.tiles.auto_tiles`: in video, squares the frame's
            short side along its long side, 2 detector runs on 16:9, on every detector pass
            while no one is tracked and else at most once per ``TILES_EVERY`` (8) ×
            ``detect_every`` frames; on photos, k=2) (:attr:`resolved_detector_tiles`).
        model_dir: Read model files from this folder instead of the cache.
        num_threads: Inference threads per model (None: the runtime's choice, 2 for LiteRT);
            at most ``LIMITS["num_threads"]`` (256). With ``holistic`` on LiteRT the hand and
            face models run two at a time on half of them each (one at a time when 1).
        strict_timestamps: Raise :class:`~hifipose.errors.TimestampError` on a timestamp that
            does not increase, as MediaPipe does, instead of repairing it.
        precision: ``"float32"`` (MediaPipe's numbers); fast modes, not MediaPipe's numbers:
            ``"int8"``: the landmark model quantised to int8 (litert: hifipose's quantiser;
            openvino: NNCF's), or ``"bf16"``: the landmark model in bfloat16 (openvino, on a
            CPU with AVX512_BF16 or AMX).
        compat: ``"graph"``: MediaPipe's Pose graph as written (and Tasks, TF.js).
            ``"mediapipe-python"``: the legacy ``mp.solutions.pose`` instead (9×9 heatmap
            refinement window, no segmentation smoothing, crops and masks resampled as
            OpenCV 3.4 does; blazepose-spec §1.2, §3.5, §5.6); not with the accuracy modes
            or ``precision="int8"``, which are not MediaPipe's numbers.
        refine_passes: 2 runs the landmark model a second time on the ROI derived from the
            first pass's landmarks (static images; in video, a track's first frame).
        flip_tta: Also run each crop mirrored left to right and average the two.
        holistic: Also find each pose's hands and face, placed from the pose as MediaPipe's
            Holistic graph places them (``Pose.left_hand``, ``right_hand``, ``face``;
            docs/holistic-spec.md). Every person of ``num_poses`` gets their own. Needs the
            Holistic model files (``hifipose models fetch --holistic``, or fetched on
            first use). litert, onnxruntime, torch and openvino; ``runtime="mediapipe"`` runs
            MediaPipe's own legacy Holistic solution instead (one person, ``num_poses=1``;
            no hand world points or scores: :mod:`hifipose.runtimes.mediapipe_holistic`).
        refine_face_landmarks: With ``holistic``, the face model with attention: 478 face
            points (the 468 of the mesh, lips and eyes refined, then 5 points per iris), as
            MediaPipe's ``refine_face_landmarks``. That model uses three MediaPipe custom
            operators, which hifipose's converter rebuilds (docs/holistic-spec.md §10): on
            ``runtime="torch"`` and ``"onnxruntime"`` it runs on that runtime; on
            ``"litert"`` and ``"openvino"``, which cannot load those operators, this one model
            runs on onnxruntime on the CPU (the ``onnx`` extra; without it, creating the
            detector raises RuntimeUnavailableError). ``runtime="mediapipe"`` passes it to
            MediaPipe's own Holistic.
    """

    model_type: ModelType = "full"
    runtime: RuntimeName = "litert"
    device: Device = "cpu"
    static_image_mode: bool = False
    enable_smoothing: bool = True
    enable_segmentation: bool = False
    smooth_segmentation: bool = True
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    num_poses: int = 1
    detect_every: int | None = None
    max_lost_ms: float | None = None
    detector_tiles: int | None = None
    model_dir: Path | None = None
    num_threads: int | None = None
    strict_timestamps: bool = False
    precision: Precision = "float32"
    compat: Compat = "graph"
    refine_passes: int = 1
    flip_tta: bool = False
    holistic: bool = False
    refine_face_landmarks: bool = False

    def __post_init__(self) -> None:
        check_choice("model_type", self.model_type, MODEL_TYPES)
        check_choice("runtime", self.runtime, RUNTIME_NAMES)
        check_choice("device", self.device, DEVICES)
        check_choice("precision", self.precision, PRECISIONS)
        for name in (
            "static_image_mode",
            "enable_smoothing",
            "enable_segmentation",
            "smooth_segmentation",
            "strict_timestamps",
            "flip_tta",
            "holistic",
            "refine_face_landmarks",
        ):
            if not isinstance(getattr(self, name), bool):
                msg = f"{name} must be True or False, got {getattr(self, name)!r}"
                raise ConfigError(msg)
        check_unit_interval("min_detection_confidence", self.min_detection_confidence)
        check_unit_interval("min_tracking_confidence", self.min_tracking_confidence)
        for name in ("num_poses", "detect_every", "detector_tiles"):
            value = getattr(self, name)
            if value is None and name != "num_poses":
                continue  # auto
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                msg = f"{name} must be a positive integer, got {value!r}"
                raise ConfigError(msg)
            _check_limit(name, value)
        if (self.detector_tiles or 1) > 1 and self.runtime == "mediapipe":
            msg = "detector_tiles needs hifipose's own pipeline; runtime 'mediapipe' has no tiles"
            raise ConfigError(msg)
        self._check_modes()
        self._check_holistic()
        if self.max_lost_ms is not None:
            if (
                isinstance(self.max_lost_ms, bool)
                or not isinstance(self.max_lost_ms, int | float)
                or not 0 <= self.max_lost_ms < float("inf")
            ):
                msg = f"max_lost_ms must be a finite number of ms >= 0, got {self.max_lost_ms!r}"
                raise ConfigError(msg)
            _check_limit("max_lost_ms", self.max_lost_ms)
        if self.num_threads is not None and (
            isinstance(self.num_threads, bool)
            or not isinstance(self.num_threads, int)
            or self.num_threads < 1
        ):
            msg = f"num_threads must be a positive integer or None, got {self.num_threads!r}"
            raise ConfigError(msg)
        if self.num_threads is not None:
            _check_limit("num_threads", self.num_threads)
        if self.model_dir is not None:
            object.__setattr__(self, "model_dir", Path(self.model_dir).expanduser())

    def _auto(self, name: str) -> int | float:
        """The value None stands for in option ``name``, for this ``num_poses``."""
        return (ONE_PERSON_DEFAULTS if self.num_poses == 1 else MULTI_PERSON_DEFAULTS)[name]

    @property
    def resolved_detect_every(self) -> int:
        """``detect_every``, or with None the default for this ``num_poses``."""
        return int(self._auto("detect_every")) if self.detect_every is None else self.detect_every

    @property
    def resolved_max_lost_ms(self) -> float:
        """``max_lost_ms``, or with None the default for this ``num_poses`` (1000 or 3000)."""
        return float(self._auto("max_lost_ms") if self.max_lost_ms is None else self.max_lost_ms)

    @property
    def resolved_detector_tiles(self) -> int:
        """``detector_tiles``, or with None 1 (``num_poses=1``, Tasks) or 2 (automatic tiles)."""
        if self.detector_tiles is None:
            return 1 if self.runtime == "mediapipe" else int(self._auto("detector_tiles"))
        return self.detector_tiles

    def _check_modes(self) -> None:
        """``compat`` and the accuracy modes: valid, and never mixed with each other."""
        check_choice("compat", self.compat, COMPAT_MODES)
        if self.refine_passes not in (1, 2) or isinstance(self.refine_passes, bool):
            msg = f"refine_passes must be 1 or 2, got {self.refine_passes!r}"
            raise ConfigError(msg)
        accuracy = self.refine_passes > 1 or self.flip_tta
        if accuracy and self.compat != "graph":
            msg = "compat='mediapipe-python' reproduces MediaPipe's numbers: no accuracy modes"
            raise ConfigError(msg)
        runtimes = {"int8": ("litert", "openvino"), "bf16": ("openvino",)}.get(self.precision)
        if runtimes is not None and self.runtime not in runtimes:
            msg = (
                f"precision={self.precision!r} is available with runtime "
                f"{' or '.join(map(repr, runtimes))} only, not {self.runtime!r}"
            )
            raise ConfigError(msg)
        if self.device in ("gpu", "npu") and self.runtime != "openvino":
            msg = f"device={self.device!r} is an OpenVINO device: use runtime='openvino'"
            raise ConfigError(msg)
        if runtimes is not None and self.compat != "graph":
            msg = (
                "compat='mediapipe-python' reproduces MediaPipe's numbers; "
                f"precision={self.precision!r} is another model: use one or the other"
            )
            raise ConfigError(msg)
        if (accuracy or self.compat != "graph") and self.runtime == "mediapipe":
            msg = (
                "compat and the accuracy modes need hifipose's own pipeline; "
                "runtime 'mediapipe' is MediaPipe Tasks as it is"
            )
            raise ConfigError(msg)

    def _check_holistic(self) -> None:
        """``holistic`` on MediaPipe's own solution finds one person; refining needs holistic."""
        if self.holistic and self.runtime == "mediapipe" and self.num_poses != 1:
            msg = (
                "holistic=True with runtime 'mediapipe' is MediaPipe's own Holistic, which "
                f"finds one person: num_poses must be 1, got {self.num_poses}; for several "
                "people use hifipose's pipeline (litert, onnxruntime, torch)"
            )
            raise ConfigError(msg)
        if self.refine_face_landmarks and not self.holistic:
            msg = "refine_face_landmarks needs holistic=True (it refines the face mesh)"
            raise ConfigError(msg)


def _check_limit(name: str, value: float) -> None:
    """Refuse a value above ``LIMITS[name]`` (if ``name`` has a limit), naming the limit."""
    if name in LIMITS and value > LIMITS[name]:
        msg = f"{name} must be at most {LIMITS[name]} (its cost grows with it), got {value}"
        raise ConfigError(msg)
