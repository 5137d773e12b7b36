"""Benchmarks: hifipose against MediaPipe (Tasks and the legacy solution) in the same run.

What is measured, per model × runtime × precision × thread count, on the same frames:
    * tracking-mode time per frame (median over interleaved rounds, after a warm-up frame),
      split into the stages of :class:`~hifipose.detector.StageTimes`; "outside inference"
      is everything but the model runs (decoding the video frame is never included);
    * static-image time per frame (the detector on every frame);
    * the landmark model's convolution GFLOP per run and the rate the inference stage
      achieves (GFLOP/s; the stage also holds the rare detector runs);
    * with MediaPipe: Tasks' PoseLandmarker (VIDEO mode, a ``.task`` bundle of the same
      model files) and the legacy ``solutions.pose.Pose`` (video mode), timed in the same
      rounds, reported as ratios (MediaPipe time / hifipose time: > 1 means hifipose is
      faster), because absolute times on shared machines drift;
    * cold start in a fresh process: import, detector creation, first frame (seconds);
      warm-cache detector creation; RSS growth over a long tracking run;
    * several people (with a multi-person clip): one person in view with ``num_poses=3``
      against ``num_poses=1``, and three people with ``num_poses=3`` (the defaults, and
      with the whole-frame detector only) against Tasks with ``num_poses=3``: time per frame
      and detector passes.

Only :mod:`hifipose.cli` prints; this module returns data and formats tables.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Final

import cv2
import numpy as np
from numpy.typing import NDArray

from hifipose._optional import require
from hifipose.api import create_detector
from hifipose.config import MODEL_TYPES, ModelType, Precision, RuntimeName
from hifipose.convert import prune_tflite, read_tflite
from hifipose.detector import landmark_outputs
from hifipose.errors import DeviceUnavailableError, ModelIntegrityError
from hifipose.models import MODEL_SPECS, ensure_model, landmark_model_name, verify_file
from hifipose.runtimes.mediapipe_tasks import build_task_bundle

__all__ = [
    "ACCURACY_MODES",
    "BenchOptions",
    "BenchReport",
    "ColdStart",
    "ModeRow",
    "MultiRow",
    "OverheadRow",
    "SpeedRow",
    "install_solution_models",
    "landmark_gflop",
    "letterbox",
    "markdown",
    "mode_rows",
    "rss_growth_mb",
    "run_bench",
]

COMPLEXITY: Final = {"lite": 0, "full": 1, "heavy": 2}
# The fast precisions and the runtimes that have them (float32: every runtime).
_PRECISION_RUNTIMES: Final = {"bf16": ("openvino",), "int8": ("litert", "openvino")}
_FRAME_MS: Final = 1000.0 / 30.0
Frames = Sequence[NDArray[np.uint8]]
Case = tuple[RuntimeName, Precision, int | None]  # runtime, precision, threads


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchOptions:
    """What to measure.

    Attributes:
        models: Landmark models to time.
        runtimes: hifipose runtimes to time (``"mediapipe"`` is timed as Tasks anyway).
        precisions: Precisions to time on each runtime that has them (``"float32"`` on
            all; ``"bf16"``: openvino; ``"int8"``: litert and openvino).
        threads: Inference thread counts to try; None is the runtime's default (LiteRT: 2).
        rounds: Interleaved rounds; each cell is the median over them.
        vs_mediapipe: Also time MediaPipe Tasks and the legacy solution.
        cold_start: Also time import + creation + first frame in fresh processes.
        overhead_sizes: Frame sizes (w, h) for the outside-inference table, each with and
            without segmentation.
        multi_frames: Frames of a clip with three people (RGB); empty: no several-people
            rows.
        accuracy_modes: Also time static-image mode with ``compat="mediapipe-python"``,
            ``refine_passes=2``, ``flip_tta`` and both (litert, default threads).
    """

    models: tuple[ModelType, ...] = ("lite", "full", "heavy")
    runtimes: tuple[RuntimeName, ...] = ("litert",)
    precisions: tuple[Precision, ...] = ("float32",)
    threads: tuple[int | None, ...] = (None, 1)
    rounds: int = 5
    vs_mediapipe: bool = False
    cold_start: bool = False
    overhead_sizes: tuple[tuple[int, int], ...] = ((640, 480), (1920, 1080))
    multi_frames: tuple[NDArray[np.uint8], ...] = ()
    accuracy_modes: bool = True


@dataclass(slots=True, kw_only=True)
class MultiRow:
    """Several-people mode on one scene: median milliseconds per frame and detector runs."""

    scene: str
    engine: str
    num_poses: int
    ms: float
    detector_runs: int | None
    frames: int


@dataclass(slots=True, kw_only=True)
class SpeedRow:
    """Median milliseconds per frame for one model × runtime × precision × thread count."""

    model: str
    runtime: str
    threads: int | None
    precision: str = "float32"
    gflop: float = 0.0  # the landmark model's convolutions, one tracking run
    tracking_ms: float
    static_ms: float
    stages_ms: dict[str, float]
    outside_inference_ms: float
    tasks_ms: float | None = None
    solution_ms: float | None = None

    @property
    def fps(self) -> float:
        """Tracking-mode frames per second."""
        return 1000.0 / self.tracking_ms

    @property
    def gflop_per_s(self) -> float:
        """The landmark model's GFLOP over the inference stage's time (0: not measured)."""
        inference = self.stages_ms.get("inference", 0.0)
        return 1e3 * self.gflop / inference if inference > 0 else 0.0

    @property
    def vs_tasks(self) -> float | None:
        """MediaPipe Tasks time / hifipose time (> 1: hifipose is faster)."""
        return None if self.tasks_ms is None else self.tasks_ms / self.tracking_ms


@dataclass(slots=True, kw_only=True)
class OverheadRow:
    """Median milliseconds per frame spent outside model inference, tracking mode."""

    model: str
    size_wh: tuple[int, int]
    segmentation: bool
    outside_inference_ms: float


@dataclass(slots=True, kw_only=True)
class ModeRow:
    """Median milliseconds per frame in static-image mode with one accuracy or compat mode."""

    model: str
    mode: str
    static_ms: float
    extra_ms: float  # over the default options, same model


#: The modes the accuracy table times, as ``create_detector`` options.
ACCURACY_MODES: Final[dict[str, dict[str, object]]] = {
    "default": {},
    "compat=mediapipe-python": {"compat": "mediapipe-python"},
    "refine_passes=2": {"refine_passes": 2},
    "flip_tta": {"flip_tta": True},
    "refine_passes=2 + flip_tta": {"refine_passes": 2, "flip_tta": True},
}


@dataclass(slots=True, kw_only=True)
class ColdStart:
    """Seconds from a fresh interpreter to the first pose (median of runs)."""

    engine: str
    model: str
    import_s: float
    create_s: float
    first_frame_s: float

    @property
    def total_s(self) -> float:
        """Import + creation + first frame."""
        return self.import_s + self.create_s + self.first_frame_s


@dataclass(slots=True, kw_only=True)
class BenchReport:
    """Everything one ``run_bench`` measured."""

    frames: int
    size_wh: tuple[int, int]
    rounds: int
    machine: str = ""  # the CPU, its cores and fast-mode instructions, and the load before
    speed: list[SpeedRow] = field(default_factory=list)
    overhead: list[OverheadRow] = field(default_factory=list)
    cold: list[ColdStart] = field(default_factory=list)
    multi: list[MultiRow] = field(default_factory=list)
    warm_create_s: dict[str, float] = field(default_factory=dict)
    modes: list[ModeRow] = field(default_factory=list)

    def to_json(self) -> str:
        """The report as JSON (milliseconds and seconds as in the field names)."""
        return json.dumps(asdict(self), indent=2)


def machine() -> str:
    """This machine in words, for a results file: figures move with the CPU.

    The CPU's name and cores, which of the instructions that decide the fast modes it has
    (``avx512_bf16``/``amx_bf16`` for bf16, ``avx512_vnni``/``avx_vnni``/``amx_int8`` for
    OpenVINO's int8), and the 1-minute load average when the run started (Linux's names;
    elsewhere the name ``platform`` knows).
    """
    cpu, flags = platform.processor() or platform.machine(), set[str]()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                cpu = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    fast = [
        f for f in ("avx512_bf16", "amx_bf16", "avx512_vnni", "avx_vnni", "amx_int8") if f in flags
    ]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{cpu}, {os.cpu_count()} cores, {', '.join(fast) or 'no bf16 or VNNI instructions'}; "
        f"load average {load:.1f} at the start"
    )


def install_solution_models() -> Path:
    """Place the npm lite/full/heavy files where MediaPipe's legacy solution looks first.

    mediapipe 0.10.14 bundles only the full landmark model and downloads lite and heavy on
    first use, unless they are already in its ``modules/pose_landmark/`` folder. A file
    there that is missing or differs from the pinned one is replaced by the cached copy.

    Returns:
        The folder the files were placed in.

    Raises:
        RuntimeUnavailableError: mediapipe is not installed.
    """
    mediapipe = require("mediapipe", extra="mediapipe")
    target = Path(str(mediapipe.__file__)).parent / "modules" / "pose_landmark"
    for model in MODEL_TYPES:
        spec = MODEL_SPECS[landmark_model_name(model)]
        destination = target / spec.filename
        try:
            verify_file(destination, spec)
        except (OSError, ModelIntegrityError):
            shutil.copyfile(ensure_model(spec.name), destination)
            verify_file(destination, spec)
    return target


def landmark_gflop(model: ModelType) -> float:
    """Convolution GFLOP of one tracking run of the landmark model (2 per multiply-add).

    The model is pruned to the outputs tracking reads (no segmentation), as the pipeline
    runs it.
    """
    data = ensure_model(landmark_model_name(model)).read_bytes()
    graph = read_tflite(prune_tflite(data, landmark_outputs(enable_segmentation=False)))
    total = 0
    for op in graph.operators:
        if op.kind not in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            continue
        out = graph.tensors[op.outputs[0]].shape
        weights = graph.tensors[op.inputs[1]].shape  # OHWI, depthwise 1HWC
        per_output = int(np.prod(weights[1:3])) * (weights[3] if op.kind == "CONV_2D" else 1)
        total += 2 * int(np.prod(out)) * per_output
    return total / 1e9


def _time_hifipose(
    model: ModelType,
    runtime: RuntimeName,
    threads: int | None,
    frames: Frames,
    *,
    static: bool = False,
    segmentation: bool = False,
    mode: str = "default",
    precision: Precision = "float32",
) -> tuple[float, dict[str, float]]:
    """Milliseconds per frame and per stage for one pass over ``frames``."""
    with create_detector(
        model_type=model,
        runtime=runtime,
        precision=precision,
        num_threads=threads,
        static_image_mode=static,
        enable_segmentation=segmentation,
        **ACCURACY_MODES[mode],  # type: ignore[arg-type]
    ) as detector:
        detector.estimate_poses(frames[0])  # warm-up: first detection, allocations
        detector.reset()
        detector.stage_times.enabled = True
        started = time.perf_counter()
        for index, frame in enumerate(frames):
            detector.estimate_poses(frame, timestamp_ms=index * _FRAME_MS)
        elapsed = time.perf_counter() - started
        stages = {k: 1e3 * v / len(frames) for k, v in detector.stage_times.seconds.items()}
    return 1e3 * elapsed / len(frames), stages


def _outside_inference(stages_ms: dict[str, float]) -> float:
    """Milliseconds per frame in every stage but the model runs."""
    return sum(stages_ms.values()) - stages_ms["inference"]


def _time_tasks(bundle: Path, frames: Frames, num_poses: int = 1) -> float:
    mp = require("mediapipe", extra="mediapipe")
    vision = require("mediapipe.tasks.python.vision", extra="mediapipe")
    base = require("mediapipe.tasks.python.core.base_options", extra="mediapipe")
    options = vision.PoseLandmarkerOptions(
        base_options=base.BaseOptions(model_asset_path=str(bundle)),
        running_mode=vision.RunningMode.VIDEO,
        num_poses=num_poses,
    )
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        images = [mp.Image(image_format=mp.ImageFormat.SRGB, data=f) for f in frames]
        landmarker.detect_for_video(images[0], 0)
        started = time.perf_counter()
        for index, image in enumerate(images, start=1):
            landmarker.detect_for_video(image, round(index * _FRAME_MS))
        return 1e3 * (time.perf_counter() - started) / len(frames)


def _time_solution(model: str, frames: Frames) -> float:
    solutions = require("mediapipe.python.solutions.pose", extra="mediapipe")
    with solutions.Pose(model_complexity=COMPLEXITY[model]) as solution:
        solution.process(frames[0])
        solution.reset()
        started = time.perf_counter()
        for frame in frames:
            solution.process(frame)
        return 1e3 * (time.perf_counter() - started) / len(frames)


def _median_of(rounds: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(rounds))


#: A fresh process times (import, create, first frame); each engine fills the three steps.
_COLD_TEMPLATE: Final = """
import json, sys, time
t0 = time.perf_counter()
{imports}
t1 = time.perf_counter()
import numpy as np
frame = np.load(sys.argv[1])
{create}
t2 = time.perf_counter()
{first}
t3 = time.perf_counter()
print(json.dumps([t1 - t0, t2 - t1, t3 - t2]))
"""
_COLD_STEPS: Final = {
    "hifipose": (
        "import hifipose",
        "engine = hifipose.create_detector(model_type=sys.argv[2], runtime=sys.argv[3])",
        "engine.estimate_poses(frame)",
    ),
    "mediapipe-tasks": (
        "import mediapipe as mp\nfrom mediapipe.tasks.python import BaseOptions, vision",
        "engine = vision.PoseLandmarker.create_from_options(vision.PoseLandmarkerOptions("
        "base_options=BaseOptions(model_asset_path=sys.argv[2]), "
        "running_mode=vision.RunningMode.VIDEO))",
        "engine.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=frame), 0)",
    ),
    "mediapipe-solution": (
        "from mediapipe.python.solutions import pose",
        "engine = pose.Pose(model_complexity=int(sys.argv[2]))",
        "engine.process(frame)",
    ),
}


def _cold(engine: str, model: str, args: Sequence[str], runs: int) -> ColdStart:
    imports, create, first = _COLD_STEPS[engine]
    code = _COLD_TEMPLATE.format(imports=imports, create=create, first=first)
    samples = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "2"},
        )
        samples.append(json.loads(done.stdout.strip().splitlines()[-1]))
    import_s, create_s, first_s = (
        statistics.median(column) for column in zip(*samples, strict=True)
    )
    return ColdStart(
        engine=engine, model=model, import_s=import_s, create_s=create_s, first_frame_s=first_s
    )


def letterbox(frames: Frames, size_wh: tuple[int, int]) -> list[NDArray[np.uint8]]:
    """Scale each frame to fit ``size_wh`` (w, h), keeping its aspect, on a black canvas."""
    width, height = size_wh
    out = []
    for frame in frames:
        scale = min(width / frame.shape[1], height / frame.shape[0])
        resized = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        canvas = np.zeros((height, width, 3), np.uint8)
        y0, x0 = (height - resized.shape[0]) // 2, (width - resized.shape[1]) // 2
        canvas[y0 : y0 + resized.shape[0], x0 : x0 + resized.shape[1]] = resized
        out.append(canvas)
    return out


def run_bench(
    frames: Frames,
    options: BenchOptions,
    progress: Callable[[str], None] | None = None,
) -> BenchReport:
    """Time hifipose (and MediaPipe) on ``frames``; see the module docstring.

    Args:
        frames: HxWx3 uint8 RGB frames of one person, all the same size; they are
            letterboxed to the other sizes of ``options.overhead_sizes``.
        options: What to measure.
        progress: Called with a short line after each measurement.

    Returns:
        The report.
    """
    say = progress or (lambda _line: None)
    size_wh = (frames[0].shape[1], frames[0].shape[0])
    report = BenchReport(
        frames=len(frames), size_wh=size_wh, rounds=options.rounds, machine=machine()
    )
    with tempfile.TemporaryDirectory(prefix="hifipose-bench-") as tmp:
        folder = Path(tmp)
        if options.vs_mediapipe:
            install_solution_models()
        for model in options.models:
            bundle = folder / f"pose_{model}.task"
            if options.vs_mediapipe or options.cold_start:
                bundle.write_bytes(
                    build_task_bundle(
                        ensure_model("pose_detection"), ensure_model(landmark_model_name(model))
                    )
                )
            report.speed.extend(_speed_rows(model, frames, bundle, options, say))
            for size in options.overhead_sizes:
                sized = frames if size == size_wh else letterbox(frames, size)
                for segmentation in (False, True):
                    stages = [
                        _time_hifipose(model, "litert", None, sized, segmentation=segmentation)[1]
                        for _ in range(options.rounds)
                    ]
                    outside = statistics.median(_outside_inference(s) for s in stages)
                    report.overhead.append(
                        OverheadRow(
                            model=model,
                            size_wh=size,
                            segmentation=segmentation,
                            outside_inference_ms=outside,
                        )
                    )
                    say(f"{model} {size[0]}x{size[1]} seg={segmentation}: outside {outside:.2f} ms")
            if options.accuracy_modes:
                report.modes.extend(mode_rows(model, frames, options.rounds, say))
            if options.cold_start:
                for row in _cold_starts(model, frames[0], folder, bundle, options):
                    report.cold.append(row)
                    say(f"cold start {row.engine} {model}: {row.total_s:.2f} s")
            report.warm_create_s[model] = _median_of(options.rounds, partial(_warm, model))
        if options.multi_frames:
            report.multi = _multi_rows(frames, folder, options, say)
    return report


def _time_multi(
    frames: Frames, num_poses: int, tiles: int | None = None
) -> tuple[float, int | None]:
    """Milliseconds per frame and detector passes of the full model with ``num_poses``.

    ``tiles`` None: the defaults (automatic tiles with several people).
    """
    with create_detector(model_type="full", num_poses=num_poses, detector_tiles=tiles) as det:
        det.estimate_poses(frames[0])  # warm-up
        det.reset()
        runs = det.detector_runs or 0
        started = time.perf_counter()
        for index, frame in enumerate(frames):
            det.estimate_poses(frame, timestamp_ms=index * _FRAME_MS)
        elapsed = time.perf_counter() - started
        return 1e3 * elapsed / len(frames), (det.detector_runs or 0) - runs


def _multi_rows(
    frames: Frames, folder: Path, options: BenchOptions, say: Callable[[str], None]
) -> list[MultiRow]:
    """One person: num_poses 3 vs 1; three people: hifipose vs Tasks, all num_poses=3."""
    crowd = options.multi_frames
    cases: list[tuple[str, str, int, Callable[[], tuple[float, int | None]]]] = [
        ("one person", "hifipose", 1, partial(_time_multi, frames, 1)),
        ("one person", "hifipose", 3, partial(_time_multi, frames, 3)),
        ("three people", "hifipose", 3, partial(_time_multi, crowd, 3)),
        ("three people", "hifipose, no tiles", 3, partial(_time_multi, crowd, 3, 1)),
    ]
    if options.vs_mediapipe:
        bundle = folder / "pose_full_multi.task"
        bundle.write_bytes(
            build_task_bundle(ensure_model("pose_detection"), ensure_model("pose_landmark_full"))
        )
        cases.append(
            ("three people", "MediaPipe Tasks", 3, lambda: (_time_tasks(bundle, crowd, 3), None))
        )
    samples: dict[int, list[tuple[float, int | None]]] = {i: [] for i in range(len(cases))}
    for _ in range(options.rounds):  # interleaved, as the speed table
        for i, case in enumerate(cases):
            samples[i].append(case[3]())
    rows = []
    for i, (scene, engine, num_poses, _) in enumerate(cases):
        ms = statistics.median(sample[0] for sample in samples[i])
        runs = samples[i][0][1]
        count = len(frames) if scene == "one person" else len(crowd)
        rows.append(
            MultiRow(
                scene=scene,
                engine=engine,
                num_poses=num_poses,
                ms=ms,
                detector_runs=runs,
                frames=count,
            )
        )
        say(f"{scene} {engine} num_poses={num_poses}: {ms:.2f} ms, detector runs {runs}")
    return rows


def _warm(model: ModelType) -> float:
    started = time.perf_counter()
    create_detector(model_type=model).close()
    return time.perf_counter() - started


def _runs_here(
    model: ModelType, runtime: RuntimeName, precision: Precision, say: Callable[[str], None]
) -> bool:
    """Whether this CPU runs the mode (bf16 and OpenVINO's int8 need certain instructions)."""
    if precision == "float32":
        return True
    try:
        create_detector(model_type=model, runtime=runtime, precision=precision).close()
    except DeviceUnavailableError as error:
        say(f"{model} {runtime} {precision}: not on this machine ({error})")
        return False
    return True


def _speed_rows(
    model: ModelType,
    frames: Frames,
    bundle: Path,
    options: BenchOptions,
    say: Callable[[str], None],
) -> list[SpeedRow]:
    cases = [
        (runtime, precision, threads)
        for runtime in options.runtimes
        for precision in options.precisions
        if runtime in _PRECISION_RUNTIMES.get(precision, (runtime,))
        and _runs_here(model, runtime, precision, say)
        for threads in options.threads
    ]
    cells: dict[Case, list[tuple[float, dict[str, float]]]] = {case: [] for case in cases}
    statics: dict[Case, list[float]] = {case: [] for case in cases}
    tasks: list[float] = []
    solution: list[float] = []
    for _ in range(options.rounds):  # interleaved: every engine once per round
        for case in cases:
            runtime, precision, threads = case
            time_it = partial(_time_hifipose, model, runtime, threads, frames, precision=precision)
            cells[case].append(time_it())
            statics[case].append(time_it(static=True)[0])
        if options.vs_mediapipe:
            tasks.append(_time_tasks(bundle, frames))
            solution.append(_time_solution(model, frames))
    rows = []
    gflop = landmark_gflop(model)
    for case in cases:
        runtime, precision, threads = case
        runs = cells[case]
        stages = {k: statistics.median(r[1][k] for r in runs) for k in runs[0][1]}
        rows.append(
            SpeedRow(
                model=model,
                runtime=runtime,
                threads=threads,
                precision=precision,
                gflop=gflop,
                tracking_ms=statistics.median(r[0] for r in runs),
                static_ms=statistics.median(statics[case]),
                stages_ms=stages,
                outside_inference_ms=statistics.median(_outside_inference(r[1]) for r in runs),
                tasks_ms=statistics.median(tasks) if tasks else None,
                solution_ms=statistics.median(solution) if solution else None,
            )
        )
        say(
            f"{model} {runtime} {precision} threads={threads or 'default'}: "
            f"{rows[-1].tracking_ms:.2f} ms"
        )
    return rows


def mode_rows(
    model: ModelType, frames: Frames, rounds: int, say: Callable[[str], None]
) -> list[ModeRow]:
    """Static-image ms per frame for every accuracy mode, interleaved rounds (litert)."""
    times: dict[str, list[float]] = {mode: [] for mode in ACCURACY_MODES}
    for _ in range(rounds):
        for mode in ACCURACY_MODES:
            times[mode].append(
                _time_hifipose(model, "litert", None, frames, static=True, mode=mode)[0]
            )
    base = statistics.median(times["default"])
    rows = []
    for mode, values in times.items():
        ms = statistics.median(values)
        rows.append(ModeRow(model=model, mode=mode, static_ms=ms, extra_ms=ms - base))
        say(f"{model} static {mode}: {ms:.2f} ms")
    return rows


def _cold_starts(
    model: ModelType,
    frame: NDArray[np.uint8],
    folder: Path,
    bundle: Path,
    options: BenchOptions,
) -> list[ColdStart]:
    frame_path = folder / "frame.npy"
    np.save(frame_path, frame)
    runs = max(3, options.rounds // 2)
    arguments = {
        "hifipose": [str(frame_path), model, "litert"],
        "mediapipe-tasks": [str(frame_path), str(bundle)],
        "mediapipe-solution": [str(frame_path), str(COMPLEXITY[model])],
    }
    engines = list(arguments) if options.vs_mediapipe else ["hifipose"]
    return [_cold(engine, model, arguments[engine], runs) for engine in engines]


def rss_growth_mb(
    frames: Frames, total_frames: int, model: ModelType = "lite", samples: int = 20
) -> list[tuple[int, float]]:
    """Track ``total_frames`` frames (cycling ``frames``) and sample the process's RSS.

    Returns:
        ``(frames done, RSS in MB)`` pairs, the first after one pass over ``frames`` (so
        one-off allocations are excluded from the growth).
    """

    def rss_mb() -> float:
        with Path("/proc/self/statm").open() as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6

    points = []
    every = max(total_frames // samples, 1)
    with create_detector(model_type=model) as detector:
        for index in range(total_frames):
            detector.estimate_poses(frames[index % len(frames)], timestamp_ms=index * _FRAME_MS)
            done = index + 1
            if done == len(frames) or (done > len(frames) and done % every == 0):
                points.append((done, rss_mb()))
    return points


def markdown(report: BenchReport) -> str:
    """The report as Markdown tables (benchmarks/results/bench.md; the docs render them)."""
    width, height = report.size_wh
    lines = [
        f"Tracking mode, {report.frames} frames of {width}×{height}, median of {report.rounds} "
        "interleaved rounds, ms per frame. Ratios are MediaPipe time / hifipose time "
        "(> 1: hifipose is faster).",
        "",
        *([f"Machine: {report.machine}.", ""] if report.machine else []),
        "| model | runtime | precision | threads | hifipose ms | FPS | static ms | preprocess "
        "| inference | GFLOP/s | postprocess | smoothing | outside inference | Tasks ms "
        "| solution ms | vs Tasks | vs solution |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report.speed:
        s = row.stages_ms
        tasks = "–" if row.tasks_ms is None else f"{row.tasks_ms:.2f}"
        solution = "–" if row.solution_ms is None else f"{row.solution_ms:.2f}"
        vs_tasks = "–" if row.vs_tasks is None else f"{row.vs_tasks:.2f}×"
        vs_solution = (
            "–" if row.solution_ms is None else f"{row.solution_ms / row.tracking_ms:.2f}×"
        )
        lines.append(
            f"| {row.model} | {row.runtime} | {row.precision} | {row.threads or 'default'} | "
            f"{row.tracking_ms:.2f} | {row.fps:.0f} | {row.static_ms:.2f} | "
            f"{s['preprocess']:.2f} | {s['inference']:.2f} | {row.gflop_per_s:.0f} | "
            f"{s['postprocess']:.2f} | "
            f"{s['smoothing']:.2f} | {row.outside_inference_ms:.2f} | {tasks} | {solution} | "
            f"{vs_tasks} | {vs_solution} |"
        )
    if report.overhead:
        lines += [
            "",
            "Per-frame work outside model inference (ms, tracking mode, litert):",
            "",
            "| model | frame size | segmentation | outside inference ms |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {r.model} | {r.size_wh[0]}×{r.size_wh[1]} | {'on' if r.segmentation else 'off'} "
            f"| {r.outside_inference_ms:.2f} |"
            for r in report.overhead
        ]
    if report.multi:
        single = {
            r.scene: r.ms for r in report.multi if r.engine == "hifipose" and r.num_poses == 1
        }
        by_tasks = {r.scene: r.ms for r in report.multi if r.engine == "MediaPipe Tasks"}
        lines += [
            "",
            "Several people (full model, litert, tracking mode, ms per frame, median): "
            "'vs num_poses=1' is the time over num_poses=1 on the same frames, 'vs Tasks' Tasks' "
            "time over this one (> 1: hifipose is faster). Tasks does not report detector runs.",
            "",
            "| scene | engine | num_poses | ms | detector runs / frames | vs num_poses=1 "
            "| vs Tasks |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in report.multi:
            runs = "–" if r.detector_runs is None else f"{r.detector_runs} / {r.frames}"
            vs_one = f"{r.ms / single[r.scene]:.2f}×" if r.scene in single else "–"
            vs_tasks = (
                f"{by_tasks[r.scene] / r.ms:.2f}×"
                if r.scene in by_tasks and r.engine != "MediaPipe Tasks"
                else "–"
            )
            lines.append(
                f"| {r.scene} | {r.engine} | {r.num_poses} | {r.ms:.2f} | {runs} | {vs_one} "
                f"| {vs_tasks} |"
            )
    if report.modes:
        lines += [
            "",
            "Accuracy and compat modes: static-image mode (detector + landmarks on every frame), "
            "litert, default threads, ms per frame.",
            "",
            "| model | mode | static ms | extra ms |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {r.model} | {r.mode} | {r.static_ms:.2f} | {r.extra_ms:+.2f} |"
            for r in report.modes
        ]
    if report.cold:
        lines += [
            "",
            "Cold start in a fresh process (s, median): import, detector creation, first frame.",
            "",
            "| model | engine | import | create | first frame | total |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {c.model} | {c.engine} | {c.import_s:.2f} | {c.create_s:.2f} | "
            f"{c.first_frame_s:.2f} | {c.total_s:.2f} |"
            for c in report.cold
        ]
    if report.warm_create_s:
        cells = ", ".join(f"{m} {1e3 * s:.0f} ms" for m, s in report.warm_create_s.items())
        lines += [
            "",
            f"Warm-cache `create_detector` (files verified by SHA-256 each time): {cells}.",
        ]
    return "\n".join(lines) + "\n"
