"""``hifipose track``: a video, image, folder, glob or webcam → keypoints and an overlay.

One input runs in this process; several run in turn or, with ``--jobs``, in the batch
engine's local pool. The frame loop is :class:`hifipose.stream.PoseStream`'s; this module
checks the outputs first, sends each result to them and prints the summary.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

import numpy as np
from numpy.typing import NDArray

from hifipose._native_logs import native_stderr_filtered
from hifipose._version import __version__
from hifipose.cli._common import (
    EXIT_DONE_WITH_FAILURES,
    VIDEO_OUTPUT_SUFFIXES,
    add_camera,
    add_detector_flag,
    add_detector_flags,
    add_field_flag,
    add_model,
    add_model_dir,
    add_quiet,
    add_runtime,
    bounded_int,
    detector_options,
    given_camera,
    plural,
    refuse_overwrites,
)
from hifipose.errors import ConfigError, HifiposeError
from hifipose.pose import FrameResult

if TYPE_CHECKING:
    from hifipose.analysis.presets import TrackAnswer
    from hifipose.batch import VideoJob, VideoOutcome
    from hifipose.camera import CameraSpec
    from hifipose.io.render import OverlayVideoWriter, PngSequenceWriter
    from hifipose.io.sources import FrameSource


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
        """Frames tracked per second (0 before any)."""
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
            writer = open_writer(
                args.output,
                video_id=video_id,
                camera=self.camera is not None,
                holistic=bool(getattr(args, "holistic", False)),
            )
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
        from hifipose.io.writers import BvhWriter, CsvWriter

        if isinstance(self.keypoints, BvhWriter):
            return list(self.keypoints.written), list(self.keypoints.removed)
        if isinstance(self.keypoints, CsvWriter):  # with --holistic, its face file too
            return [Path(self.args.output), *self.keypoints.companion_paths], []
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
        poses, segmentation = result.poses, self.args.enable_segmentation

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
                caption = f"{args.model_type} | {args.runtime} | {rate:.1f} fps"
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
    options: dict[str, Any] = detector_options(args) | {
        "smoothing": _smoothing_mode(args),
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
    caption = f"{args.model_type} | {args.runtime} | offline smoothing"
    if not outputs.wants_images:
        for result in smoothed:
            outputs.emit(result, None, caption)
        return
    threads = _decode_threads(args)
    with open_source(args.input, max_frames=args.max_frames, threads=threads) as again:
        for frame, result in zip(again, smoothed, strict=False):
            outputs.emit(result, frame.image_rgb, caption)


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
    refuse_overwrites(outputs, inputs)


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


def _camera_spec(args: argparse.Namespace) -> CameraSpec | None:
    """The camera from --fov / --intrinsics; the default guess for a .bvh (it needs a root)."""
    from hifipose.camera import CameraSpec

    given = given_camera(args)
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
    models = ("pose_detection", landmark_model_name(args.model_type))
    camera = {}
    if outputs.camera is not None and outputs.size_wh is not None:
        camera = {"camera": camera_metadata(outputs.camera, outputs.size_wh)}
    return {
        "hifipose_version": __version__,
        "options": {
            "model": args.model_type,
            "runtime": args.runtime,
            "static": static,
            "smoothing": "none" if static else _smoothing_mode(args),
            "segmentation": args.enable_segmentation,
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


def _count_lines(summary: TrackSummary) -> list[str]:
    """``--count``'s answer: one line of repetitions per person, in track order."""
    return [
        f"{summary.exercise}: {'person' if who is None else f'person #{who}'}: "
        f"{plural(n, 'repetition')}"
        for who, n in sorted((summary.counts or {}).items(), key=lambda kv: kv[0] or 0)
    ]


def _keypoint_lines(summary: TrackSummary) -> list[str]:
    """``keypoints: PATH`` for each keypoint file written (a ``.bvh`` per person: several)."""
    lines = [f"keypoints: {path.resolve()}" for path in summary.keypoint_files]
    if summary.replaced_files:
        names = ", ".join(path.name for path in summary.replaced_files)
        lines.append(f"deleted an earlier run's files that these replace: {names}")
    return lines


def print_summary(summary: TrackSummary, args: argparse.Namespace) -> int:
    """Print what was done; return the exit status (3 when inputs were skipped)."""
    runs = (
        ""
        if summary.detector_runs is None
        else f"detector ran {plural(summary.detector_runs, 'time')}, "
    )
    print(
        f"{plural(summary.frames, 'frame')}, {summary.frames_with_pose} with a pose, "
        f"{runs}{summary.fps:.1f} fps"
    )
    for line in [*_count_lines(summary), *_keypoint_lines(summary)]:
        print(line)
    if args.render:
        print(f"overlay: {Path(args.render).resolve()}")
    if not summary.skipped:
        return 0
    print(f"skipped {plural(len(summary.skipped), 'unreadable file')}:")
    for path, _ in summary.skipped:
        print(f"  {path}")
    print(
        f"hifipose: done with failures: {plural(len(summary.skipped), 'input file')} skipped",
        file=sys.stderr,
    )
    return EXIT_DONE_WITH_FAILURES


def run(args: argparse.Namespace) -> int:
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
        return print_summary(run_track(plans[0]), plans[0])
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
            f"\ninterrupted: the outputs of {plural(kept, 'finished input')} are kept",
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


#: The ``DetectorConfig`` fields ``track`` has no flag of its own for, and why.
TRACK_OWN_FIELDS: Final = {
    "static_image_mode": "--static (on by default for images)",
    "enable_smoothing": "--smoothing (online: on)",
    "num_threads": "--jobs (one inference thread per parallel input)",
    "strict_timestamps": "track repairs container and camera timestamps",
    "smooth_segmentation": "mask blending stays MediaPipe's",
}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``track`` and its flags."""
    from hifipose.stream import RunOptions

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
        type=bounded_int(1),
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
    add_model(track)
    add_runtime(track, help="inference runtime")
    track.add_argument("--static", action="store_true", help="detect on every frame; no tracking")
    track.add_argument("--no-smoothing", action="store_true", help="same as --smoothing none")
    add_field_flag(
        track,
        RunOptions,
        "smoothing",
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
    add_detector_flag(track, "enable_segmentation")
    add_detector_flag(track, "num_poses", type=bounded_int(1))
    add_detector_flag(track, "detect_every", type=bounded_int(1))
    add_detector_flag(track, "max_lost_ms")
    add_detector_flag(track, "detector_tiles", type=bounded_int(1))
    add_field_flag(track, RunOptions, "max_frames", type=bounded_int(1), help="stop after N frames")
    track.add_argument("--show", action="store_true", help="show the overlay in a window")
    add_quiet(track)
    add_model_dir(track)
    add_detector_flags(track, leave_out=TRACK_OWN_FIELDS)
    add_camera(
        track,
        fov_help="camera's horizontal field of view: adds camera-space 3D (metres) to the output",
    )
    track.add_argument(
        "--rerun",
        nargs="?",
        const="spawn",
        metavar="URL",
        help="log live to a Rerun viewer: spawn one, or connect to URL (needs hifipose[rerun])",
    )
