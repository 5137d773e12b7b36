"""The ``hifipose`` command line: the only module that prints.

Commands: ``track`` (video/image/folder/glob/webcam → keypoints and an overlay), ``analyze``
(keypoints → joint angles and repetition counts per person), ``demo``
(the same on a built-in sample), ``serve`` (the live web demo),
``models list|fetch|verify|path|clean``, ``evaluate`` (accuracy on labelled photos).

Exit status: 0 done, 1 error (one line on stderr; ``--debug`` shows the traceback), 2 bad
arguments, 3 done with failures (e.g. unreadable images skipped), 130 interrupted. Native
libraries' log lines (OpenCV, FFmpeg, LiteRT, MediaPipe) are silenced unless ``--verbose``
or ``--debug``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, cast

import numpy as np
from numpy.typing import NDArray

from hifipose._native_logs import native_stderr_filtered, quiet_native_logs
from hifipose._version import __version__
from hifipose.config import PRECISIONS, RUNTIME_NAMES
from hifipose.errors import ConfigError, HifiposeError
from hifipose.pose import FrameResult

if TYPE_CHECKING:
    from hifipose.analysis.presets import TrackAnswer
    from hifipose.batch import VideoJob, VideoOutcome
    from hifipose.camera import CameraSpec
    from hifipose.io.render import OverlayVideoWriter, PngSequenceWriter
    from hifipose.io.sources import FrameSource

__all__ = ["main"]

DEMO_DIR = Path("hifipose-demo")
#: Exit status of a run that finished but skipped some inputs.
EXIT_DONE_WITH_FAILURES = 3
VIDEO_OUTPUT_SUFFIXES = (".mp4", ".avi", ".mov", ".m4v")
DEBUG_HELP = "show tracebacks, debug logs and the native libraries' log lines"
VERBOSE_HELP = "show info logs and the native libraries' log lines (OpenCV, FFmpeg, LiteRT)"


@dataclass
class TrackSummary:
    """What ``track`` did; ``skipped`` lists the inputs that could not be read, and why."""

    frames: int = 0
    frames_with_pose: int = 0
    poses: int = 0
    detector_runs: int | None = 0
    seconds: float = 0.0
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    exercise: str | None = None
    counts: dict[int | None, int] | None = None
    keypoint_files: list[Path] = field(default_factory=list)
    replaced_files: list[Path] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def _smoothing_mode(args: argparse.Namespace) -> str:
    """``--smoothing``, with the older ``--no-smoothing`` meaning ``none``."""
    mode: str = getattr(args, "smoothing", "online")
    return "none" if args.no_smoothing else mode


class _Outputs:
    """Where ``track`` sends each frame's result.

    Keypoint outputs (``-o FILE``, ``--rerun``) get camera-space 3D when a camera is known
    (``--fov``/``--intrinsics``, or the default guess for a ``.bvh``); then the exercise
    counter (``--count``), the overlay (``--render``) and the window (``--show``). Rerun
    also gets the ``--angles`` (or the ``--count`` preset's angles and signal).
    """

    def __init__(
        self, args: argparse.Namespace, stack: ExitStack, fps: float, *, static: bool
    ) -> None:
        from hifipose.analysis import ExerciseCounter, LiveAngles, get_preset
        from hifipose.camera import TranslationSmoother
        from hifipose.io.writers import RerunWriter, ResultWriter, open_writer

        count = getattr(args, "count", None)
        self.counter = ExerciseCounter(get_preset(count)) if count else None
        names = [n for n in (getattr(args, "angles", None) or "").split(",") if n.strip()]
        rerun = getattr(args, "rerun", None) or str(args.output).lower().endswith(".rrd")
        if names and not rerun:
            msg = "--angles are logged to a Rerun recording: add -o FILE.rrd or --rerun"
            raise ConfigError(msg)
        names = names or list(self.counter.preset.angles if self.counter else ())
        self.angles = LiveAngles(names, space=args.angle_space) if names and rerun else None
        self.args, self.stack, self.fps = args, stack, fps
        self.writers: list[ResultWriter] = []
        self.camera = _camera_spec(args)
        self.keypoints: ResultWriter | None = None
        if args.output:
            video_id = Path(str(args.input)).stem or str(args.input)
            writer = open_writer(args.output, video_id=video_id, camera=self.camera is not None)
            self.keypoints = stack.enter_context(writer)
            self.writers.append(writer)
        if getattr(args, "rerun", None):
            self.writers.append(stack.enter_context(RerunWriter(live=args.rerun)))
        self.size_wh: tuple[int, int] | None = None  # the first frame's, for the metadata
        self.smoother = None if static or _smoothing_mode(args) == "none" else TranslationSmoother()
        self.renderer: OverlayVideoWriter | PngSequenceWriter | None = None

    def count_into(self, summary: TrackSummary) -> None:
        """Put ``--count``'s exercise and repetitions per person into the summary."""
        if self.counter is not None:
            summary.exercise = self.counter.preset.name
            summary.counts = self.counter.counts()

    def published(self) -> tuple[list[Path], list[Path]]:
        """After closing: the keypoint files written, and the earlier ones they replaced.

        The files written are ``-o``, or a ``.bvh``'s per-track files; the replaced ones are
        an earlier run's ``.bvh`` files that this run deleted.
        """
        from hifipose.io.writers import BvhWriter

        if isinstance(self.keypoints, BvhWriter):
            return list(self.keypoints.written), list(self.keypoints.removed)
        return ([Path(self.args.output)] if self.args.output else []), []

    @property
    def wants_images(self) -> bool:
        """Whether any output needs the frame's pixels (overlay, window, Rerun's video)."""
        return bool(self.args.render or self.args.show or getattr(self.args, "rerun", None))

    def _analyse(
        self, result: FrameResult
    ) -> tuple[list[TrackAnswer], list[dict[str, float]] | None]:
        """The counter's answers, and the angles for Rerun (with the preset's signal)."""
        answers = self.counter.update(result.poses) if self.counter is not None else []
        angles = self.angles.update(result.poses) if self.angles is not None else None
        if angles is not None and self.counter is not None:
            signal = f"{self.counter.preset.name}_signal"
            for values, answer in zip(angles, answers, strict=True):
                values[signal] = answer.value
        return answers, angles

    def emit(self, result: FrameResult, image_rgb: NDArray[np.uint8] | None, caption: str) -> None:
        """Send one frame's result (and its pixels, when there) to every output."""
        from hifipose.camera import to_camera_space
        from hifipose.io.annotate import draw_pose_labels
        from hifipose.io.render import draw_poses, open_renderer
        from hifipose.io.writers import RerunWriter

        self.size_wh = self.size_wh or result.size_wh
        intrinsics = self.camera.for_size(*result.size_wh) if self.camera else None
        if intrinsics is not None and self.writers:
            result = to_camera_space(result, intrinsics, self.smoother)
        answers, angles = self._analyse(result)
        for writer in self.writers:
            if isinstance(writer, RerunWriter):
                if intrinsics is not None:
                    writer.set_intrinsics(intrinsics)
                writer.write(result, image_rgb, angles)
            else:
                writer.write(result)
        labels: list[str | None] = []
        if self.counter is not None:
            preset = self.counter.preset
            for answer in answers:
                angle = "—" if math.isnan(answer.value) else f"{answer.value:.0f} deg"
                who = "" if answer.track_id is None else f"#{answer.track_id} "
                labels.append(f"{who}{preset.name} {answer.count} | {preset.label} {angle}")
        if image_rgb is None or not (self.args.render or self.args.show):
            return
        poses, segmentation = result.poses, self.args.segmentation

        def draw(canvas: NDArray[np.uint8], *, bgr: bool = True) -> None:
            draw_poses(
                canvas, poses, out=canvas, segmentation=segmentation, caption=caption, bgr=bgr
            )
            if labels:
                draw_pose_labels(canvas, poses, labels, out=canvas, bgr=bgr)

        if self.args.render and self.renderer is None:
            self.renderer = open_renderer(self.args.render, self.fps, result.size_wh)
            self.stack.enter_context(self.renderer)
        if not self.args.show:  # the writer's thread draws, into the BGR frame it encodes
            assert self.renderer is not None  # noqa: S101 - render or show was checked
            self.renderer.write(image_rgb, draw)
            return
        drawn = image_rgb.copy()
        draw(drawn, bgr=False)
        if self.renderer is not None:
            self.renderer.write(drawn)
        _show(drawn)


def _decode_threads(args: argparse.Namespace) -> int | None:
    """FFmpeg's decoding threads for ``track``: 1 when a video overlay is encoded on ≤ 2 cores.

    There the decoder, the overlay's writer thread and the 2 inference threads share two
    cores, and one decoding thread measured faster (``benchmarks/results/track_io.md``);
    otherwise (keypoints only, or more cores) FFmpeg's own count, which follows the core
    count, measured fastest.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    video_overlay = str(args.render or "").lower().endswith((".mp4", ".avi", ".mov", ".m4v"))
    return 1 if video_overlay and (cores or 1) <= 2 else None


def run_track(
    args: argparse.Namespace,
    *,
    num_threads: int | None = None,
    on_frame: Callable[[int], None] | None = None,
) -> TrackSummary:
    """Track every frame of ``args.input``; write keypoints and/or an overlay.

    With ``--smoothing offline`` the whole clip is tracked first (MediaPipe's filters off,
    its ROI loop unchanged), every track is smoothed without lag, and only then are the
    keypoints written and the overlay drawn (the video is decoded a second time for it).
    ``num_threads``: inference threads (None: the runtime's default); ``on_frame`` is
    called with the number of frames tracked after each frame.
    """
    from tqdm import tqdm

    from hifipose.io.writers import ParquetWriter
    from hifipose.stream import PoseStream

    summary = TrackSummary()
    smoothing = _smoothing_mode(args)
    threads = _decode_threads(args)
    options = _stream_options(args, num_threads)
    with ExitStack() as stack:
        stream = stack.enter_context(PoseStream(args.input, options, decode_threads=threads))
        source = cast("FrameSource", stream.source)  # args.input is a path, glob or index
        static = stream.config.static_image_mode
        _check_outputs(args, source.files)
        outputs = _Outputs(args, stack, source.fps or 30.0, static=static)
        loud = getattr(args, "verbose", False) or getattr(args, "debug", False)
        with nullcontext() if loud else native_stderr_filtered():  # LiteRT's INFO lines
            detector = stream.open_detector()
        progress = stack.enter_context(
            tqdm(
                total=source.frame_count,
                unit="frame",
                disable=True if args.quiet else None,  # None: only on a terminal
                leave=False,
                dynamic_ncols=True,
            )
        )
        started = time.perf_counter()
        collected: list[FrameResult] = []
        for result, frame in stream.frames():
            summary.frames += 1
            summary.frames_with_pose += bool(result.poses)
            summary.poses += len(result.poses)
            if smoothing == "offline":
                collected.append(result)
            else:
                elapsed = time.perf_counter() - started
                rate = summary.frames / max(elapsed, 1e-9)
                caption = f"{args.model} | {args.runtime} | {rate:.1f} fps"
                outputs.emit(result, frame.image_rgb, caption)
            progress.update(1)
            if on_frame is not None:
                on_frame(summary.frames)
        summary.seconds = time.perf_counter() - started
        summary.detector_runs = detector.detector_runs
        summary.skipped = list(source.skipped)
        if smoothing == "offline":
            _emit_offline(args, outputs, collected)
        for writer in outputs.writers:
            if isinstance(writer, ParquetWriter):
                writer.set_metadata(_track_metadata(args, source, outputs, static=static))
        outputs.count_into(summary)
    summary.keypoint_files, summary.replaced_files = outputs.published()  # writers closed
    return summary


def _stream_options(args: argparse.Namespace, num_threads: int | None) -> dict[str, Any]:
    """``track``'s flags as :func:`hifipose.track`'s options (camera space stays in ``_Outputs``).

    ``static_image_mode`` is left to the source (images: True) unless ``--static`` is given.
    """
    options: dict[str, Any] = {
        "model_type": args.model,
        "runtime": args.runtime,
        "smoothing": _smoothing_mode(args),
        "enable_segmentation": args.segmentation,
        "num_poses": args.num_poses,
        "detect_every": args.detect_every,
        "max_lost_ms": args.max_lost_ms,
        "detector_tiles": args.tiles,
        "model_dir": args.model_dir,
        "precision": args.precision,
        "compat": getattr(args, "compat", None) or "graph",
        "refine_passes": getattr(args, "refine_passes", 1),
        "flip_tta": getattr(args, "flip_tta", False),
        "num_threads": num_threads,
        "max_frames": args.max_frames,
    }
    if args.static:
        options["static_image_mode"] = True
    return options


def _emit_offline(args: argparse.Namespace, outputs: _Outputs, results: list[FrameResult]) -> None:
    from hifipose.filters.offline import smooth_results
    from hifipose.io.sources import open_source

    smoothed = smooth_results(results)
    caption = f"{args.model} | {args.runtime} | offline smoothing"
    if not outputs.wants_images:
        for result in smoothed:
            outputs.emit(result, None, caption)
        return
    threads = _decode_threads(args)
    with open_source(args.input, max_frames=args.max_frames, threads=threads) as again:
        for frame, result in zip(again, smoothed, strict=False):
            outputs.emit(result, frame.image_rgb, caption)


def _same_file(first: Path, second: Path) -> bool:
    try:
        return first.samefile(second)
    except OSError:  # one does not exist (yet): compare where they would be
        return first.resolve() == second.resolve()


def _refuse_overwrites(
    outputs: Sequence[tuple[str, Path, str | None]], inputs: Sequence[Path]
) -> None:
    """Refuse, before any work, outputs that would overwrite an input, a folder or each other.

    Args:
        outputs: ``(flag, path, example)`` per output given; ``example`` is a file name to
            suggest when a file output names an existing folder, None for an output that
            may be a folder.
        inputs: The files the command reads.

    Raises:
        ConfigError: A file output names an existing folder, an output resolves to an input
            file, or two outputs name the same path.
    """
    for flag, path, example in outputs:
        if example is not None and path.is_dir():
            msg = f"{flag} {path} is an existing folder; give a file name, e.g. {path / example}"
            raise ConfigError(msg)
        for item in inputs:
            if _same_file(path, item):
                msg = (
                    f"{flag} {path} is the input file {item}: it would be overwritten; "
                    "choose another name"
                )
                raise ConfigError(msg)
    for i, (flag, path, _) in enumerate(outputs):
        for other_flag, other, _ in outputs[i + 1 :]:
            if _same_file(path, other):
                msg = f"{flag} and {other_flag} name the same path {path}; give each its own"
                raise ConfigError(msg)


def _check_outputs(args: argparse.Namespace, inputs: Sequence[Path]) -> None:
    """Refuse, before any work, outputs that would overwrite an input or cannot be written.

    Raises:
        ConfigError: ``-o`` or a video ``--render`` names an existing folder, resolves to an
            input file, or both name the same path.
    """
    outputs: list[tuple[str, Path, str | None]] = []
    if args.output:
        outputs.append(("-o", Path(args.output), "keypoints.jsonl"))
    if args.render:
        render = Path(args.render)
        video = render.suffix.lower() in VIDEO_OUTPUT_SUFFIXES
        outputs.append(("--render", render, "overlay.mp4" if video else None))
    _refuse_overwrites(outputs, inputs)


def _check_display() -> None:
    """Raise ConfigError unless ``--show`` can open a window (checked before any work)."""
    import cv2

    no_display = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if sys.platform.startswith("linux") and no_display:
        msg = "--show needs a display, and neither DISPLAY nor WAYLAND_DISPLAY is set; use --render"
        raise ConfigError(msg)
    try:
        cv2.namedWindow("hifipose", cv2.WINDOW_NORMAL)
    except cv2.error as exc:
        msg = "--show needs a display and an OpenCV build with GUI support (opencv-python)"
        raise ConfigError(msg) from exc


def _given_camera(args: argparse.Namespace) -> CameraSpec | None:
    """The camera from --fov / --intrinsics, or None when neither is given."""
    from hifipose.camera import CameraSpec

    if args.fov is not None:
        return CameraSpec(hfov_deg=args.fov)
    if args.intrinsics is not None:
        return CameraSpec.from_file(args.intrinsics)
    return None


def _camera_spec(args: argparse.Namespace) -> CameraSpec | None:
    """The camera from --fov / --intrinsics; the default guess for a .bvh (it needs a root)."""
    from hifipose.camera import CameraSpec

    given = _given_camera(args)
    if given is None and args.output and Path(args.output).suffix.lower() == ".bvh":
        return CameraSpec()
    return given


def _track_metadata(
    args: argparse.Namespace, source: FrameSource, outputs: _Outputs, *, static: bool
) -> dict[str, Any]:
    """What produced a ``track`` Parquet file: version, options, source, frames, camera."""
    from hifipose.batch.discovery import source_identity
    from hifipose.io.table import camera_metadata
    from hifipose.models import MODEL_SPECS, landmark_model_name

    identity: dict[str, Any] = {"path": source.name}
    if source.kind in {"video", "image"}:
        identity |= source_identity(source.name)
    models = ("pose_detection", landmark_model_name(args.model))
    camera = {}
    if outputs.camera is not None and outputs.size_wh is not None:
        camera = {"camera": camera_metadata(outputs.camera, outputs.size_wh)}
    return {
        "hifipose_version": __version__,
        "options": {
            "model": args.model,
            "runtime": args.runtime,
            "static": static,
            "smoothing": "none" if static else _smoothing_mode(args),
            "segmentation": args.segmentation,
            "max_frames": args.max_frames,
            "camera": None if outputs.camera is None else asdict(outputs.camera),
        },
        "models": {name: MODEL_SPECS[name].sha256 for name in models},
        "source": identity,
        "frames_read": source.frames_read if source.kind == "video" else source.frame_count,
        "frames_declared": source.frames_declared,
        "complete": source.complete is not False,
        **camera,
    }


def _show(image_rgb: NDArray[np.uint8]) -> None:
    import cv2

    try:
        cv2.imshow("hifipose", cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))
        cv2.waitKey(1)
    except cv2.error as exc:
        msg = "--show needs a display and an OpenCV build with GUI support (opencv-python)"
        raise HifiposeError(msg) from exc


def _plural(count: int, noun: str) -> str:
    """``"1 frame"``, ``"0 frames"``, ``"2 frames"``: the count and the noun it needs."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _count_lines(summary: TrackSummary) -> list[str]:
    """``--count``'s answer: one line of repetitions per person, in track order."""
    return [
        f"{summary.exercise}: {'person' if who is None else f'person #{who}'}: "
        f"{_plural(n, 'repetition')}"
        for who, n in sorted((summary.counts or {}).items(), key=lambda kv: kv[0] or 0)
    ]


def _keypoint_lines(summary: TrackSummary) -> list[str]:
    """``keypoints: PATH`` for each keypoint file written (a ``.bvh`` per person: several)."""
    lines = [f"keypoints: {path.resolve()}" for path in summary.keypoint_files]
    if summary.replaced_files:
        names = ", ".join(path.name for path in summary.replaced_files)
        lines.append(f"deleted an earlier run's files that these replace: {names}")
    return lines


def _print_summary(summary: TrackSummary, args: argparse.Namespace) -> int:
    """Print what was done; return the exit status (3 when inputs were skipped)."""
    runs = (
        ""
        if summary.detector_runs is None
        else f"detector ran {_plural(summary.detector_runs, 'time')}, "
    )
    print(
        f"{_plural(summary.frames, 'frame')}, {summary.frames_with_pose} with a pose, "
        f"{runs}{summary.fps:.1f} fps"
    )
    for line in [*_count_lines(summary), *_keypoint_lines(summary)]:
        print(line)
    if args.render:
        print(f"overlay: {Path(args.render).resolve()}")
    if not summary.skipped:
        return 0
    print(f"skipped {_plural(len(summary.skipped), 'unreadable file')}:")
    for path, _ in summary.skipped:
        print(f"  {path}")
    print(
        f"hifipose: done with failures: {_plural(len(summary.skipped), 'input file')} skipped",
        file=sys.stderr,
    )
    return EXIT_DONE_WITH_FAILURES


def run_track_command(args: argparse.Namespace) -> int:
    """``hifipose track``: check the outputs and display, track, print the summary."""
    if args.output is None and args.render is None and not args.show and not args.rerun:
        print(
            "hifipose track: nothing to do; give -o KEYPOINTS, --render OVERLAY or --rerun",
            file=sys.stderr,
        )
        return 2
    plans = _plan_inputs(args, [args.input, *args.more_inputs])
    if args.show:
        _check_display()
    if len(plans) == 1:
        return _print_summary(run_track(plans[0]), plans[0])
    return _track_inputs(plans, args.jobs)


def _plan_inputs(args: argparse.Namespace, inputs: list[str]) -> list[argparse.Namespace]:
    """One ``track`` namespace per input, with its own ``-o`` and ``--render`` names.

    Raises:
        ConfigError: Names that several inputs would share or that are inputs, or a
            window or live viewer (``--show``, ``--rerun``) with parallel jobs.
    """
    from hifipose.io.naming import check_distinct, output_names

    flags = (("-o", "output", ".jsonl"), ("--render", "render", ".mp4"))
    names = {
        flag: output_names(flag, getattr(args, dest), inputs, folder_suffix=suffix)
        for flag, dest, suffix in flags
        if getattr(args, dest)
    }
    if len(inputs) > 1:  # one input: run_track checks its outputs as it always did
        check_distinct(names, inputs)
    if len(inputs) > 1 and args.jobs > 1 and (args.show or args.rerun):
        msg = "--show and --rerun follow one input at a time: use them with --jobs 1"
        raise ConfigError(msg)
    return [
        argparse.Namespace(
            **vars(args)
            | {"input": item, "more_inputs": []}
            | {dest: names[flag][i] for flag, dest, _ in flags if flag in names}
        )
        for i, item in enumerate(inputs)
    ]


def _track_input(
    plans: dict[str, argparse.Namespace],
    num_threads: int | None,
    job: VideoJob,
    progress: Callable[[int], None],
) -> VideoOutcome:
    """Track one input of several (in this process or a worker's): its ``done`` outcome."""
    from hifipose.batch.worker import PROGRESS_EVERY, VideoOutcome

    def report(frames: int) -> None:
        if frames % PROGRESS_EVERY == 0:
            progress(frames)

    summary = run_track(plans[job.video_id], num_threads=num_threads, on_frame=report)
    skipped = ", ".join(str(path) for path, _ in summary.skipped)
    return VideoOutcome(
        job.video_id,
        "done",
        frames=summary.frames,
        poses=summary.poses,
        seconds=summary.seconds,
        complete=not skipped,
        message=f"skipped unreadable file(s): {skipped}" if skipped else None,
        report=(*_count_lines(summary), *_keypoint_lines(summary)),
    )


def _track_inputs(plans: list[argparse.Namespace], jobs: int) -> int:
    """Track several inputs in turn (``jobs`` 1) or in ``jobs`` processes of one thread each.

    The processes are the batch engine's local pool (:func:`hifipose.batch.run_local`). An
    input that fails is reported and the others' outputs are kept (exit status 3).
    """
    import functools

    from hifipose.batch import FunctionSetup, VideoJob, run_local
    from hifipose.batch.worker import FunctionWorker

    parallel = min(jobs, len(plans)) > 1
    bar = not plans[0].quiet and sys.stderr.isatty()  # as track's own bar: on a terminal
    if parallel:  # one bar over all inputs instead of one per input
        plans = [argparse.Namespace(**vars(plan) | {"quiet": True}) for plan in plans]
    videos = [VideoJob(str(i), plan.input) for i, plan in enumerate(plans)]
    by_id = {video.video_id: plan for video, plan in zip(videos, plans, strict=True)}
    outcomes: dict[str, VideoOutcome] = {}
    started = time.perf_counter()
    try:
        if parallel:
            setup = FunctionSetup(functools.partial(_track_input, by_id, 1), threads=1)
            run_local(
                setup,
                videos,
                workers=jobs,
                on_outcome=lambda outcome: outcomes.update({outcome.video_id: outcome}),
                progress=bar,
                timeout_per_video=math.inf,  # a slow machine is no hang
            )
        else:
            worker = FunctionWorker(functools.partial(_track_input, by_id, None))
            for video in videos:
                outcomes[video.video_id] = worker.track(video)
    except KeyboardInterrupt:
        kept = sum(o.status == "done" for o in outcomes.values())
        print(
            f"\ninterrupted: the outputs of {_plural(kept, 'finished input')} are kept",
            file=sys.stderr,
        )
        return 130
    seconds = time.perf_counter() - started
    failed = 0
    for plan, video in zip(plans, videos, strict=True):
        outcome = outcomes[video.video_id]
        if outcome.status != "done":
            failed += 1
            why = f"{outcome.status}: {outcome.error_class}: {outcome.message}"
            print(f"hifipose: {plan.input}: {why}", file=sys.stderr)
            continue
        rate = outcome.frames / outcome.seconds if outcome.seconds > 0 else 0.0
        print(f"{plan.input}: {outcome.frames} frames, {outcome.poses} poses, {rate:.1f} fps")
        for line in outcome.report:  # the counts, then the keypoint files written
            print(f"  {line}")
        if plan.render:
            print(f"  overlay: {Path(plan.render).resolve()}")
        if outcome.complete is False:
            failed += 1
            print(f"  {outcome.message}")
    frames = sum(o.frames for o in outcomes.values() if o.status == "done")
    print(
        f"{len(plans)} inputs, {frames} frames in {seconds:.1f} s: {frames / seconds:.1f} "
        f"frames/s ({min(jobs, len(plans))} at a time)"
    )
    if not failed:
        return 0
    print(f"hifipose: done with failures: {failed} of {len(plans)} inputs", file=sys.stderr)
    return EXIT_DONE_WITH_FAILURES


def run_demo(args: argparse.Namespace) -> int:
    """Write the demo clip, then track it into ``args.output``."""
    from hifipose.io.render import OverlayVideoWriter
    from hifipose.io.sample import sample_frames

    folder = Path(args.output)
    clip_path = folder / "sample.mp4"
    frames = sample_frames()
    with OverlayVideoWriter(clip_path, 15.0, (frames[0].shape[1], frames[0].shape[0])) as writer:
        for frame in frames:
            writer.write(frame)
    # The demo is `track` with its defaults: parse a track command line, so every option
    # `track` gains is there with its default value.
    argv = ["track", str(clip_path), "-o", str(folder / "keypoints.jsonl")]
    argv += ["--render", str(folder / "overlay.mp4"), "--model", args.model]
    argv += ["--quiet"] * args.quiet + ["--debug"] * args.debug + ["--verbose"] * args.verbose
    if args.model_dir is not None:
        argv += ["--model-dir", str(args.model_dir)]
    track_args = build_parser().parse_args(argv)
    summary = run_track(track_args)
    print(f"demo: tracked {clip_path.resolve()} (scikit-image's astronaut, moving camera)")
    return _print_summary(summary, track_args)


def _check_analyze(args: argparse.Namespace) -> list[str]:
    """Check every ``analyze`` argument and output before any work; return the angle names.

    Raises:
        ConfigError: An unknown exercise or angle, a ``--min-visibility`` outside [0, 1], an
            output of the wrong kind, or one that would overwrite the keypoints or the other.
        VideoReadError: The keypoints do not exist (or a folder holds none).
        RuntimeUnavailableError: pyarrow (``-o``) or matplotlib (``--plot``) is missing.
    """
    from hifipose.analysis import get_preset
    from hifipose.analysis.angles import check_min_visibility, normalize_angle_name
    from hifipose.analysis.report import DEFAULT_ANGLES, check_table_path
    from hifipose.analysis.tracks import keypoint_files

    preset = get_preset(args.count) if args.count else None
    if args.angles:
        names = [n for n in args.angles.split(",") if n.strip()]
    else:
        names = list(preset.angles if preset is not None else DEFAULT_ANGLES)
    for name in names:
        normalize_angle_name(name)
    check_min_visibility(args.min_visibility)
    outputs: list[tuple[str, Path, str | None]] = []
    if args.output:
        outputs.append(("-o", check_table_path(args.output), "angles.parquet"))
    if args.plot:
        from hifipose.io.plot_angles import check_plot_path

        outputs.append(("--plot", check_plot_path(args.plot), "angles.png"))
    _refuse_overwrites(outputs, keypoint_files(args.keypoints))
    return names


def _unseen_hints(analyses: Sequence[Any], args: argparse.Namespace) -> None:
    """Warn about angles and counts that no frame of a track could give (on stderr)."""
    why = (
        f"their points are missing, not finite, or less visible than --min-visibility "
        f"{args.min_visibility:g} in every frame"
    )
    for a in analyses:
        unseen = [name for name, values in a.angles.items() if not np.isfinite(values).any()]
        if unseen:
            shown = ", ".join(unseen)
            print(f"hifipose analyze: warning: {a.track.label}: no {shown}: {why}", file=sys.stderr)


def run_analyze(args: argparse.Namespace) -> int:
    """``hifipose analyze``: angles (and repetitions) per track from a keypoint file or folder."""
    from hifipose.analysis import get_preset, read_tracks
    from hifipose.analysis.report import analysis_table, analyze_tracks, write_table

    names = _check_analyze(args)
    preset = get_preset(args.count) if args.count else None
    tracks = read_tracks(args.keypoints)
    if not tracks:
        print(f"hifipose analyze: no poses in {args.keypoints}", file=sys.stderr)
        return 1
    analyses = analyze_tracks(
        tracks, names, space=args.space, preset=preset, min_visibility=args.min_visibility
    )
    print(f"{'track':<14}{'frames':>7}{'seconds':>9}  {'angle':<16}{'min':>8}{'mean':>8}{'max':>8}")
    for a in analyses:
        t = a.track
        span = (t.timestamps_ms[-1] - t.timestamps_ms[0]) / 1000.0
        for i, (name, values) in enumerate(a.angles.items()):
            head = f"{t.label:<14}{len(t):>7}{span:>9.1f}" if i == 0 else " " * 30
            seen = values[np.isfinite(values)]
            stats = (
                f"{seen.min():>8.1f}{seen.mean():>8.1f}{seen.max():>8.1f}"
                if seen.size
                else f"{'—':>8}{'—':>8}{'—':>8}"
            )
            print(f"{head}  {name:<16}{stats}")
    _unseen_hints(analyses, args)
    if preset is not None:
        for a in analyses:
            if a.reps is not None:
                note = " (ended inside a repetition)" if a.reps.in_rep else ""
                if a.signal is not None and not np.isfinite(a.signal).any():
                    note = (
                        f" (no frame gives the {preset.label} signal: the world keypoints of "
                        f"{', '.join(preset.angles)} are missing, not finite or not visible)"
                    )
                print(f"{preset.name}: {a.track.label}: {a.reps.count} repetitions{note}")
    if args.output:
        write_table(analysis_table(analyses, preset), args.output)
        print(f"angles: {Path(args.output).resolve()}")
    if args.plot:
        from hifipose.io.plot_angles import AnglePanel, plot_angle_panels

        panels = []
        for a in analyses:
            seconds = a.track.timestamps_ms / 1000.0
            series = dict(a.angles)
            reps: list[float] = []
            if preset is not None and a.signal is not None and a.reps is not None:
                series[f"{preset.name} signal"] = a.signal
                reps = [float(seconds[e.end]) for e in a.reps.events]
            panels.append(AnglePanel(a.track.label, seconds, series, reps))
        print(f"plot: {plot_angle_panels(args.plot, panels).resolve()}")
    return 0


def run_models(args: argparse.Namespace) -> int:
    """``hifipose models list|fetch|verify|path|clean``."""
    from hifipose.models import (
        clean_cache,
        derived_status,
        fetch_models,
        model_status,
        models_dir,
    )

    if args.action == "path":
        print(Path(args.model_dir) if args.model_dir else models_dir())
        return 0
    if args.action == "clean":
        removed = clean_cache(Path(args.model_dir) if args.model_dir else None)
        if args.json:
            print(json.dumps([{"path": str(p), "reason": why} for p, why in removed], indent=2))
        else:
            for path, why in removed:
                print(f"removed {path}: {why}")
            print(f"{_plural(len(removed), 'file')} removed" if removed else "nothing to clean")
        return 0
    if args.action == "fetch":
        shown: set[str] = set()

        def progress(done: int, total: int, filename: str) -> None:
            if done == total and filename not in shown and not args.quiet:
                shown.add(filename)
                print(f"  {filename}: {total / 1e6:.1f} MB verified")

        paths = fetch_models(force=args.force, progress=progress)
        print(f"{len(paths)} model files ready in {paths[0].parent}")
        return 0
    folder = Path(args.model_dir) if args.model_dir else None
    rows = model_status(folder)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            name, size, digest = row["name"], row["size_bytes"], row["sha256"]
            print(f"{name:<22} {size:>10} B  sha256 {digest[:12]}…  {row['state']}")
    bad = [r for r in rows if r["state"] != "ok"]
    bad_made = _report_derived(derived_status(folder), table=not args.json)
    if args.action == "verify" and (bad or bad_made):
        if bad:
            print(
                f"{_plural(len(bad), 'model file')} missing or corrupt: "
                "run `hifipose models fetch`",
                file=sys.stderr,
            )
        if bad_made:
            print(
                f"{_plural(bad_made, 'derived file')} (ONNX, int8) not matching their digest "
                "record: run `hifipose models clean` (they are made again when needed)",
                file=sys.stderr,
            )
        return 1
    return 0


def _report_derived(made: list[tuple[Path, str | None]], *, table: bool) -> int:
    """Print the derived files' rows (``table``) and one stderr line per bad one; count those."""
    from hifipose.convert.derived import NO_RECORD

    states = {None: "ok", NO_RECORD: "no digest record (made again when next used)"}
    bad = 0
    for path, why in made:
        if table:
            print(f"  derived {path.name}  {states.get(why, 'corrupt')}")
        if why not in states:
            print(f"hifipose: derived file {path} {why}", file=sys.stderr)
            bad += 1
    return bad


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    try:
        size = (int(width), int(height))
    except ValueError:
        size = (0, 0)
    if min(size) < 32:
        msg = f"expected WIDTHxHEIGHT, e.g. 640x480, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return size


def _threads(text: str) -> tuple[int | None, ...]:
    try:
        counts = tuple(None if t == "default" else int(t) for t in text.split(","))
    except ValueError:
        counts = (0,)
    if any(count is not None and count < 1 for count in counts):
        msg = f"expected thread counts >= 1 like 'default,1', got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return counts


def _bounded_int(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer in [minimum, maximum], else a clear usage error."""
    wanted = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum or (maximum is not None and value > maximum):
            msg = f"expected an integer {wanted}, got {text!r}"
            raise argparse.ArgumentTypeError(msg)
        return value

    parse.__name__ = f"integer {wanted}"  # argparse names the type in its messages
    return parse


def run_bench(args: argparse.Namespace) -> int:
    """``hifipose bench``: time hifipose (and MediaPipe) and print the tables."""
    from hifipose import bench
    from hifipose.io.sample import sample_frames
    from hifipose.io.sources import open_source

    if args.input:
        with open_source(args.input, max_frames=args.frames) as source:
            frames = bench.letterbox([frame.image_rgb for frame in source], args.size)
    else:
        frames = sample_frames(args.frames, args.size)
    if len(frames) < 2:
        print("hifipose bench: the input has fewer than 2 frames", file=sys.stderr)
        return 2
    multi: tuple[NDArray[np.uint8], ...] = ()
    if args.multi:
        with open_source(args.multi, max_frames=args.frames) as source:
            multi = tuple(frame.image_rgb for frame in source)
    options = bench.BenchOptions(
        multi_frames=multi,
        models=tuple(args.models.split(",")),
        runtimes=tuple(args.runtimes.split(",")),
        threads=args.threads,
        rounds=args.rounds,
        vs_mediapipe=args.vs_mediapipe,
        cold_start=args.cold_start,
        overhead_sizes=tuple(dict.fromkeys((args.size, (1920, 1080)))),
    )
    say = None if args.quiet else (lambda line: print(f"  {line}", file=sys.stderr, flush=True))
    report = bench.run_bench(frames, options, progress=say)
    text = bench.markdown(report)
    if args.memory_frames:
        points = bench.rss_growth_mb(frames, args.memory_frames, model=options.models[0])
        (first_n, first_mb), (last_n, last_mb) = points[0], points[-1]
        text += (
            f"\nRSS over {last_n} tracking frames ({options.models[0]}): {first_mb:.1f} MB after "
            f"{first_n} frames, {last_mb:.1f} MB at the end: growth {last_mb - first_mb:+.1f} MB.\n"
        )
    print(text)
    if args.json:
        Path(args.json).write_text(report.to_json())
    if args.markdown:
        Path(args.markdown).write_text(text)
    return 0


def run_batch(args: argparse.Namespace) -> int:
    """``hifipose batch``: many videos into OUTDIR/poses/, resumably; exit 0, 3 or 130."""
    from hifipose.batch import BatchOptions, run

    if not args.inputs and args.list is None:
        msg = "batch: give videos, folders, globs or --list FILE"
        raise ConfigError(msg)  # one line, exit 1 (bad arguments), as README says
    options = BatchOptions(
        model=args.model,
        runtime=args.runtime,
        device=args.device,
        num_poses=args.num_poses,
        segmentation=args.segmentation,
        smoothing=args.smoothing,
        min_detection_confidence=args.min_detection_confidence,
        min_tracking_confidence=args.min_tracking_confidence,
        camera=_given_camera(args),
        model_dir=args.model_dir,
    )
    try:
        summary = run(
            args.inputs,
            args.output,
            options=options,
            list_file=args.list,
            engine=args.engine,
            workers=args.workers,
            threads_per_worker=args.threads_per_worker,
            recycle_after=args.recycle_after,
            timeout_per_video=args.timeout_per_video,
            retry_failed=args.retry_failed,
            overwrite=args.overwrite,
            keep_partial=args.keep_partial,
            dry_run=args.dry_run,
            ray_address=args.ray_address,
            progress=not args.quiet,
            native_logs=args.verbose or args.debug,
        )
    except KeyboardInterrupt:
        print(
            "\ninterrupted: finished videos are kept; run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    if summary.dry_run:
        for planned in summary.plan:
            print(f"{planned.action:<4}  {planned.job.video_id}  ({planned.reason})")
        runs = sum(p.action == "run" for p in summary.plan)
        print(f"{runs} of {summary.total} videos would run")
        return 0
    print(summary.table())
    print(f"poses: {args.output}/poses/")
    return summary.exit_code


def _add_batch_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from hifipose.batch import SMOOTHING_MODES

    batch = sub.add_parser(
        "batch",
        help="track many videos into one Parquet file each (resumable; local or Ray)",
        description=(
            "Track every video of the inputs into OUTDIR/poses/<video_id>.parquet. Rerun the "
            "same command to resume. Exit status: 0 all done, 3 done with failures (recorded "
            "in OUTDIR/_hifipose/failed/), 1 fatal error, 130 interrupted."
        ),
    )
    batch.add_argument("inputs", nargs="*", help="video files, folders (recursive), globs")
    batch.add_argument("-o", "--output", required=True, help="output folder or pyarrow.fs URI")
    batch.add_argument("--list", type=Path, help="file of paths: one per line, or a CSV 'path'")
    batch.add_argument("--engine", choices=("local", "ray"), default="local")
    batch.add_argument("--workers", type=int, help="worker processes / actors (default: CPUs/T)")
    batch.add_argument("--threads-per-worker", type=int, default=1, help="inference threads")
    batch.add_argument("--recycle-after", type=int, default=200, help="videos per worker")
    batch.add_argument(
        "--timeout-per-video", type=float, help="seconds (default: max(120, 10 x duration))"
    )
    batch.add_argument("--model", choices=("lite", "full", "heavy"), default="full")
    batch.add_argument("--runtime", choices=RUNTIME_NAMES, default="litert")
    batch.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu")
    batch.add_argument("--num-poses", type=int, default=1, help="people per frame at most")
    batch.add_argument("--segmentation", action="store_true", help="run the mask head")
    batch.add_argument(
        "--smoothing",
        choices=SMOOTHING_MODES,
        default="online",
        help="online: MediaPipe's live filters (default); offline: track, then smooth each "
        "whole track without lag; none: raw landmarks",
    )
    camera = batch.add_mutually_exclusive_group()
    camera.add_argument(
        "--fov",
        type=float,
        metavar="DEG",
        help="camera's horizontal field of view: adds camera-space columns (metres)",
    )
    camera.add_argument(
        "--intrinsics",
        type=Path,
        metavar="FILE",
        help="camera intrinsics JSON (camera_matrix + width/height, or hfov_deg): camera space",
    )
    batch.add_argument("--min-detection-confidence", type=float, default=0.5)
    batch.add_argument("--min-tracking-confidence", type=float, default=0.5)
    batch.add_argument("--model-dir", type=Path, help="use model files from this folder")
    batch.add_argument("--retry-failed", action="store_true", help="retry recorded failures")
    batch.add_argument(
        "--overwrite", action="store_true", help="redo videos done with other options"
    )
    batch.add_argument(
        "--keep-partial", action="store_true", help="publish truncated videos (complete=false)"
    )
    batch.add_argument("--dry-run", action="store_true", help="say what would run, and why")
    batch.add_argument("--ray-address", help="Ray cluster to join (default: start a local one)")
    batch.add_argument("--quiet", action="store_true", help="no progress bar")


def run_serve(args: argparse.Namespace) -> int:
    """``hifipose serve``: the live web demo (webcam in the browser) on uvicorn."""
    import secrets

    from hifipose._optional import require

    for module in ("starlette", "uvicorn", "websockets"):
        require(module, extra="serve")
    from hifipose.api import available_runtimes
    from hifipose.errors import ConfigError
    from hifipose.serve import ServeConfig, is_loopback_host, open_listener, run_server

    if args.runtime not in available_runtimes():
        msg = f"runtime {args.runtime!r} is not installed; installed: {available_runtimes()}"
        raise ConfigError(msg)

    token = args.token
    if token is None and not is_loopback_host(args.host):
        token = secrets.token_urlsafe(24)
        print(
            "\n" + "!" * 78 + f"\n!! WARNING: --host {args.host} exposes the demo (and the webcam "
            "frames sent to it)\n!! to your network. No --token was given, so this one was "
            f"generated:\n!!     {token}\n!! Anyone with the URL below can use the server. "
            "Browsers allow the camera only\n!! on localhost or over https (--certfile).\n"
            + "!"
            * 78,
            file=sys.stderr,
        )
    config = ServeConfig(
        host=args.host,
        port=args.port,
        token=token,
        model_type=args.model,
        runtime=args.runtime,
        num_poses=args.num_poses,
        max_frame_bytes=args.max_frame_kb * 1024,
        max_upload_bytes=args.max_upload_mb * 1024 * 1024,
        max_sessions=args.max_sessions,
        model_dir=args.model_dir,
        certfile=args.certfile,
        keyfile=args.keyfile,
    )
    listener = open_listener(config)  # a busy port or bad TLS files fail here, before the URL
    shown = "127.0.0.1" if args.host in {"0.0.0.0", "::"} else args.host  # noqa: S104
    shown = f"[{shown}]" if ":" in shown else shown
    query = f"?token={token}" if token else ""
    port = listener.getsockname()[1]  # the port bound: the system's pick for --port 0
    print(f"hifipose serve: open {config.scheme}://{shown}:{port}/{query}  (Ctrl-C stops)")
    loud = args.debug or args.verbose
    run_server(
        config, log_level="info" if args.debug else "warning", sock=listener, quiet_native=not loud
    )
    return 0


def _add_serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="live web demo: webcam pose tracking in the browser")
    serve.add_argument("--host", default="127.0.0.1", help="interface (default: loopback only)")
    serve.add_argument("--port", type=_bounded_int(0, 65535), default=8000)
    serve.add_argument("--token", help="secret every request must carry (needed off loopback)")
    serve.add_argument("--model", choices=("lite", "full", "heavy"), default="lite")
    serve.add_argument(
        "--runtime",
        choices=RUNTIME_NAMES,
        default="litert",
        help="the live stream's runtime until the page switches (default litert)",
    )
    serve.add_argument(
        "--num-poses",
        type=int,
        default=1,
        help="most people tracked per live stream (default 1; the page can change it)",
    )
    serve.add_argument(
        "--max-frame-kb", type=_bounded_int(1), default=1024, help="largest frame accepted"
    )
    serve.add_argument(
        "--max-upload-mb", type=_bounded_int(1), default=200, help="largest video upload"
    )
    serve.add_argument(
        "--max-sessions",
        type=int,
        default=16,
        help="most live streams at once; one more is told 'too many live streams' (default 16)",
    )
    serve.add_argument("--model-dir", type=Path, help="use model files from this folder")
    serve.add_argument(
        "--certfile", type=Path, help="PEM certificate: serve HTTPS (the camera off localhost)"
    )
    serve.add_argument("--keyfile", type=Path, help="PEM private key of --certfile")


def _add_analyze_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    analyze = sub.add_parser(
        "analyze", help="joint angles and repetition counts per person from a keypoint file"
    )
    analyze.add_argument(
        "keypoints",
        help="keypoints from `track -o` (.jsonl, .csv or .parquet) or a `batch` OUTDIR",
    )
    analyze.add_argument(
        "--angles", help="comma-separated angle names (Sports2D's), e.g. left_knee,right_knee"
    )
    analyze.add_argument(
        "--space",
        choices=("image", "world"),
        default="image",
        help="image: signed 2D angles (Sports2D's); world: 3D angles from world keypoints",
    )
    analyze.add_argument(
        "--count", metavar="EXERCISE", help="count repetitions: squat, push-up, curl, jumping-jack"
    )
    analyze.add_argument(
        "--min-visibility", type=float, default=0.5, help="angles NaN below this (0 to 1)"
    )
    analyze.add_argument("-o", "--output", help="angles per frame and track: .parquet or .csv")
    analyze.add_argument("--plot", help="a picture of the angles over time (.png, .svg, .pdf)")


def _add_track_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    track = sub.add_parser("track", help="track a video, image, folder, glob or webcam")
    track.add_argument(
        "input", help="video file, image, folder of images, glob, or webcam index (0)"
    )
    track.add_argument(
        "more_inputs",
        nargs="*",
        metavar="INPUT",
        help="more inputs: -o and --render then name a folder or use {stem} / {index}",
    )
    track.add_argument(
        "--jobs",
        type=_bounded_int(1),
        default=1,
        help="track N inputs at once, each in a process with one inference thread "
        "(default 1: in turn, in this process, the runtime's default threads)",
    )
    track.add_argument(
        "-o",
        "--output",
        help="keypoints file: .jsonl, .csv, .parquet, .json (COCO), .bvh (motion capture, "
        "one file per track) or .rrd (Rerun recording)",
    )
    track.add_argument("--render", help="overlay output: a .mp4 file, or a folder for PNGs")
    track.add_argument("--model", choices=("lite", "full", "heavy"), default="full")
    track.add_argument(
        "--runtime", choices=RUNTIME_NAMES, default="litert", help="inference runtime"
    )
    track.add_argument("--static", action="store_true", help="detect on every frame; no tracking")
    track.add_argument("--no-smoothing", action="store_true", help="same as --smoothing none")
    track.add_argument(
        "--smoothing",
        choices=("online", "offline", "none"),
        default="online",
        help="online: MediaPipe's live filters (default); offline: track, then smooth each "
        "whole track without lag (recorded video); none: raw landmarks",
    )
    track.add_argument(
        "--count",
        metavar="EXERCISE",
        help="count repetitions per person and draw them: squat, push-up, curl, jumping-jack",
    )
    track.add_argument(
        "--angles",
        help="comma-separated angle names (as `analyze`) logged to Rerun (-o .rrd, --rerun)",
    )
    track.add_argument(
        "--angle-space", choices=("image", "world"), default="image", help="as analyze --space"
    )
    track.add_argument(
        "--segmentation", action="store_true", help="compute (and tint) the person mask"
    )
    track.add_argument(
        "--num-poses",
        type=_bounded_int(1),
        default=1,
        help="most people per frame (each keeps an id)",
    )
    track.add_argument(
        "--detect-every",
        type=_bounded_int(1),
        default=15,
        help="with --num-poses > 1: look for more people at most every N frames",
    )
    track.add_argument(
        "--max-lost-ms",
        type=float,
        default=1000.0,
        help="how long a person who disappeared keeps their id (ms)",
    )
    track.add_argument(
        "--tiles",
        type=_bounded_int(1),
        default=1,
        help="also run the detector on overlapping tiles, K along the short side (small people)",
    )
    track.add_argument("--max-frames", type=_bounded_int(1), help="stop after N frames")
    track.add_argument("--show", action="store_true", help="show the overlay in a window")
    track.add_argument("--quiet", action="store_true", help="no progress bar")
    track.add_argument("--model-dir", type=Path, help="use model files from this folder")
    track.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="float32",
        help="int8: a quantised landmark model (litert): faster, not MediaPipe's numbers",
    )
    track.add_argument(
        "--compat",
        choices=("graph", "mediapipe-python"),
        help="mediapipe-python: the legacy mp.solutions.pose's numbers (default: the graph's)",
    )
    track.add_argument(
        "--refine-passes",
        type=int,
        choices=(1, 2),
        default=1,
        help="2: a second landmark pass on each new person (accuracy mode)",
    )
    track.add_argument(
        "--flip-tta", action="store_true", help="average each crop with its mirror (accuracy)"
    )
    camera = track.add_mutually_exclusive_group()
    camera.add_argument(
        "--fov",
        type=float,
        metavar="DEG",
        help="camera's horizontal field of view: adds camera-space 3D (metres) to the output",
    )
    camera.add_argument(
        "--intrinsics",
        type=Path,
        metavar="FILE",
        help="camera intrinsics JSON (camera_matrix + width/height, or hfov_deg): camera space",
    )
    track.add_argument(
        "--rerun",
        nargs="?",
        const="spawn",
        metavar="URL",
        help="log live to a Rerun viewer: spawn one, or connect to URL (needs hifipose[rerun])",
    )


def run_evaluate(args: argparse.Namespace) -> int:
    """``hifipose evaluate``: COCO AP/AR, PCK@0.2 and recall on labelled photos."""
    from hifipose import evaluate

    truth = evaluate.load_annotations(args.coco)
    images = Path(args.images) if args.images else Path(args.coco).parent
    num_poses = args.num_poses or max([len(i.persons) for i in truth] + [1])
    common = {
        "model_type": args.model,
        "runtime": args.runtime,
        "num_poses": num_poses,
        "model_dir": args.model_dir,
    }
    modes = {
        "detector_tiles": args.tiles,
        "refine_passes": args.refine_passes,
        "flip_tta": args.flip_tta,
        "compat": args.compat,
    }
    defaults = {"detector_tiles": 1, "refine_passes": 1, "flip_tta": False, "compat": None}
    chosen = [f"{k}={v}" for k, v in modes.items() if v != defaults[k]]
    label = f"{args.model} " + (" ".join(chosen) or "default")
    runs = [(label, modes)]
    if args.baseline and chosen:
        runs.insert(0, (f"{args.model} default", {}))
    reports = []
    for name, options in runs:
        with ExitStack() as quiet:
            if not (getattr(args, "verbose", False) or getattr(args, "debug", False)):
                quiet.enter_context(native_stderr_filtered())
            report, predictions = evaluate.evaluate_detector(
                truth, images, common | options, label=name, progress=not args.quiet
            )
        reports.append(report)
    print(
        f"{len(truth)} images, {reports[-1].persons} labelled people "
        f"({reports[-1].persons_with_torso} with a labelled torso), num_poses={num_poses}"
    )
    print(evaluate.table(reports))
    result: dict[str, object] = {"runs": [r.to_dict() for r in reports]}
    if len(reports) > 1:  # the baseline, then the run
        gains = {m: evaluate.paired_bootstrap(*reports, metric=m) for m in ("pck", "pck_found")}
        for metric, (gain, low, high) in gains.items():
            print(
                f"gain in {metric}: {gain:+.3f} "
                f"(95 % bootstrap interval over images: {low:+.3f} … {high:+.3f})"
            )
        result["gains"] = {
            m: dict(zip(("gain", "low", "high"), g, strict=True)) for m, g in gains.items()
        }
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    if args.predictions:
        Path(args.predictions).write_text(json.dumps(evaluate.coco_results(predictions)))
    return 0


def _add_evaluate_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    evaluate = sub.add_parser(
        "evaluate",
        help="accuracy on labelled photos: COCO AP/AR, PCK@0.2 of the torso, recall",
        description=(
            "Run the detector (static-image mode) on every labelled photo and score it: COCO "
            "keypoint AP/AR (pycocotools, COCO-17 subset of the 33 points), PCK@0.2 of the "
            "torso (a missed person counts as wrong), and the share of people found."
        ),
    )
    evaluate.add_argument(
        "--coco",
        required=True,
        metavar="ANNOTATIONS.json",
        help="COCO keypoint file, or a list of {image, persons[].keypoints_coco17, bbox}",
    )
    evaluate.add_argument("--images", help="folder the file names are relative to")
    evaluate.add_argument("--model", choices=("lite", "full", "heavy"), default="full")
    evaluate.add_argument("--runtime", choices=RUNTIME_NAMES, default="litert")
    evaluate.add_argument(
        "--num-poses",
        type=_bounded_int(1),
        help="most people per photo (default: the most labelled on one photo)",
    )
    evaluate.add_argument(
        "--tiles", type=_bounded_int(1), default=1, help="detector tiles (finds small people)"
    )
    evaluate.add_argument(
        "--refine-passes", type=int, choices=(1, 2), default=1, help="2: second landmark pass"
    )
    evaluate.add_argument("--flip-tta", action="store_true", help="average with the mirror")
    evaluate.add_argument(
        "--compat", choices=("graph", "mediapipe-python"), help="MediaPipe flavour to reproduce"
    )
    evaluate.add_argument(
        "--baseline",
        action="store_true",
        help="also run the default options and print the gain with a bootstrap interval",
    )
    evaluate.add_argument("--json", help="write the figures (and per-image counts) here")
    evaluate.add_argument(
        "--predictions", help="write the predictions here (COCO keypoint results format)"
    )
    evaluate.add_argument("--model-dir", type=Path, help="use model files from this folder")
    evaluate.add_argument("--quiet", action="store_true", help="no progress bar")


class _Parser(argparse.ArgumentParser):
    """argparse with the README's rule for bad arguments: one line on stderr, exit status 1.

    (argparse's own is the usage block and status 2.) Subcommand parsers are this class too.
    """

    def error(self, message: str) -> NoReturn:
        """Print ``<prog>: error: <message> (see <prog> --help)`` and exit with status 1."""
        self.exit(1, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hifipose`` command."""
    parser: argparse.ArgumentParser = _Parser(
        prog="hifipose", description="High-fidelity BlazePose pose tracking."
    )
    parser.add_argument("--version", action="version", version=f"hifipose {__version__}")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    sub = parser.add_subparsers(dest="command", required=True)

    _add_track_parser(sub)
    _add_analyze_parser(sub)
    demo = sub.add_parser(
        "demo",
        help="track the built-in sample clip into ./hifipose-demo/",
        description=(
            "Write a short sample clip (scikit-image's astronaut photo, with a moving camera) "
            "into the output folder, then track it as `hifipose track` does: sample.mp4, "
            "keypoints.jsonl and overlay.mp4 (LiteRT runtime)."
        ),
    )
    demo.add_argument("--output", type=Path, default=DEMO_DIR, help="output folder")
    demo.add_argument(
        "--model", choices=("lite", "full", "heavy"), default="full", help="landmark model"
    )
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.add_argument("--model-dir", type=Path, help="use model files from this folder")

    bench = sub.add_parser("bench", help="time hifipose, optionally against MediaPipe")
    bench.add_argument("--models", default="lite,full,heavy", help="comma-separated models")
    bench.add_argument("--runtimes", default="litert", help="comma-separated runtimes")
    bench.add_argument("--frames", type=_bounded_int(2), default=60, help="frames per pass")
    bench.add_argument(
        "--threads", type=_threads, default=(None, 1), help="thread counts (default: default,1)"
    )
    bench.add_argument(
        "--rounds", type=_bounded_int(1), default=5, help="interleaved rounds (median)"
    )
    bench.add_argument("--size", type=_size, default=(640, 480), help="frame size WxH")
    bench.add_argument("--input", help="a video to time on (default: the built-in sample)")
    bench.add_argument(
        "--vs-mediapipe", action="store_true", help="also time MediaPipe Tasks and solution"
    )
    bench.add_argument(
        "--multi", help="a clip with three people: add the several-people rows (full model)"
    )
    bench.add_argument("--cold-start", action="store_true", help="time fresh-process starts")
    bench.add_argument(
        "--memory-frames", type=_bounded_int(0), default=0, help="RSS check over N frames"
    )
    bench.add_argument("--json", help="write the report as JSON here")
    bench.add_argument("--markdown", help="write the tables as Markdown here")
    bench.add_argument("--quiet", action="store_true")

    _add_serve_parser(sub)
    _add_batch_parser(sub)
    _add_evaluate_parser(sub)
    models = sub.add_parser(
        "models",
        help="list, fetch, verify or clean the model files",
        description=(
            "The four BlazePose model files (npm package @mediapipe/pose, pinned by size and "
            "SHA-256) in the per-user cache (HIFIPOSE_CACHE_DIR, else ~/.cache/hifipose)."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "actions:\n"
            "  list    each file's size, SHA-256 and state (ok, missing, corrupt)\n"
            "  fetch   download the missing or corrupt files, verified\n"
            "  verify  as list; exit 1 if a file is missing or corrupt\n"
            "  path    print the cache folder\n"
            "  clean   delete stale partial files and converted ONNX files of old versions"
        ),
    )
    models.add_argument(
        "action", choices=("list", "fetch", "verify", "path", "clean"), help="what to do"
    )
    models.add_argument("--force", action="store_true", help="fetch again even if cached")
    models.add_argument("--json", action="store_true", help="list/verify/clean as JSON")
    models.add_argument("--model-dir", type=Path, help="use this folder instead of the cache")
    models.add_argument("--quiet", action="store_true", help="fetch without per-file lines")
    _add_common_flags(sub)
    return parser


def _add_common_flags(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Accept --debug and --verbose after every subcommand too (keep this call last)."""
    for subparser in sub.choices.values():
        group = subparser.add_argument_group("logging")
        group.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP
        )
        group.add_argument(
            "--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 error, 130 interrupted)."""
    args = build_parser().parse_args(argv)
    if not (args.debug or args.verbose):
        quiet_native_logs()
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "track": run_track_command,
        "analyze": run_analyze,
        "demo": run_demo,
        "bench": run_bench,
        "models": run_models,
        "serve": run_serve,
        "batch": run_batch,
        "evaluate": run_evaluate,
    }
    try:
        return commands[args.command](args)
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was published", file=sys.stderr)
        return 130
    except (HifiposeError, OSError) as exc:
        if args.debug:
            raise
        print(f"hifipose: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
