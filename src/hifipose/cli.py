"""The ``hifipose`` command line: the only module that prints.

Commands: ``track`` (video/image/folder/glob/webcam → keypoints and an overlay), ``demo``
(the same on a built-in sample), ``serve`` (the live web demo), ``models list|fetch|verify|path``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from hifipose._version import __version__
from hifipose.config import RUNTIME_NAMES
from hifipose.errors import HifiposeError

__all__ = ["main"]

DEMO_DIR = Path("hifipose-demo")


class _Progress:
    """A one-line progress bar on a terminal; silent otherwise."""

    def __init__(self, total: int | None, *, enabled: bool) -> None:
        self.total, self.enabled = total, enabled and sys.stderr.isatty()
        self.started = time.perf_counter()
        self._last = 0.0

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if not self.enabled or now - self._last < 0.2:
            return
        self._last = now
        rate = done / max(now - self.started, 1e-9)
        if self.total:
            eta = (self.total - done) / rate if rate > 0 else math.inf
            bar = "#" * int(30 * done / self.total)
            text = f"\r[{bar:<30}] {done}/{self.total} frames  {rate:5.1f} fps  ETA {eta:5.1f}s"
        else:
            text = f"\r{done} frames  {rate:5.1f} fps"
        sys.stderr.write(text)
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


@dataclass
class TrackSummary:
    """What ``track`` did."""

    frames: int = 0
    frames_with_pose: int = 0
    detector_runs: int | None = 0
    seconds: float = 0.0

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def run_track(args: argparse.Namespace) -> TrackSummary:
    """Track every frame of ``args.input``; write keypoints and/or an overlay."""
    from hifipose.api import create_detector
    from hifipose.io.render import (
        OverlayVideoWriter,
        PngSequenceWriter,
        draw_poses,
        open_renderer,
    )
    from hifipose.io.sources import open_source
    from hifipose.io.writers import open_writer
    from hifipose.pose import FrameResult

    summary = TrackSummary()
    source = open_source(args.input, max_frames=args.max_frames)
    static = args.static or source.kind in {"image", "images"}
    with ExitStack() as stack:
        stack.enter_context(source)
        writer = stack.enter_context(open_writer(args.output)) if args.output else None
        detector = stack.enter_context(
            create_detector(
                model_type=args.model,
                runtime=args.runtime,
                static_image_mode=static,
                enable_smoothing=not args.no_smoothing,
                enable_segmentation=args.segmentation,
                num_poses=args.num_poses,
                detect_every=args.detect_every,
                max_lost_ms=args.max_lost_ms,
                detector_tiles=args.tiles,
                model_dir=args.model_dir,
            )
        )
        renderer: OverlayVideoWriter | PngSequenceWriter | None = None
        progress = _Progress(source.frame_count, enabled=not args.quiet)
        started = time.perf_counter()
        for frame in source:
            poses = detector.estimate_poses(
                frame.image_rgb, timestamp_ms=None if static else frame.timestamp_ms
            )
            summary.frames += 1
            summary.frames_with_pose += bool(poses)
            height, width = frame.image_rgb.shape[:2]
            if writer is not None:
                writer.write(
                    FrameResult(frame.index, frame.timestamp_ms, (width, height), tuple(poses))
                )
            if args.render or args.show:
                elapsed = time.perf_counter() - started
                caption = (
                    f"{args.model} | {args.runtime} | {summary.frames / max(elapsed, 1e-9):.1f} fps"
                )
                drawn = draw_poses(
                    frame.image_rgb, poses, segmentation=args.segmentation, caption=caption
                )
                if args.render:
                    if renderer is None:
                        renderer = open_renderer(args.render, source.fps or 30.0, (width, height))
                        stack.enter_context(renderer)
                    renderer.write(drawn)
                if args.show:
                    _show(drawn)
            progress.update(summary.frames)
        progress.done()
        summary.seconds = time.perf_counter() - started
        summary.detector_runs = detector.detector_runs
    return summary


def _show(image_rgb: NDArray[np.uint8]) -> None:
    import cv2

    try:
        cv2.imshow("hifipose", cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))
        cv2.waitKey(1)
    except cv2.error as exc:
        msg = "--show needs a display and an OpenCV build with GUI support (opencv-python)"
        raise HifiposeError(msg) from exc


def _print_summary(summary: TrackSummary, args: argparse.Namespace) -> None:
    runs = "" if summary.detector_runs is None else f"detector ran {summary.detector_runs} times, "
    print(
        f"{summary.frames} frames, {summary.frames_with_pose} with a pose, "
        f"{runs}{summary.fps:.1f} fps"
    )
    for label, path in (("keypoints", args.output), ("overlay", args.render)):
        if path:
            print(f"{label}: {Path(path).resolve()}")


def run_track_command(args: argparse.Namespace) -> int:
    """``hifipose track``: check there is something to write, track, print the summary."""
    if args.output is None and args.render is None and not args.show:
        print(
            "hifipose track: nothing to do; give -o KEYPOINTS and/or --render OVERLAY",
            file=sys.stderr,
        )
        return 2
    _print_summary(run_track(args), args)
    return 0


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
    track_args = argparse.Namespace(
        input=str(clip_path),
        output=str(folder / "keypoints.jsonl"),
        render=str(folder / "overlay.mp4"),
        model=args.model,
        runtime="litert",
        static=False,
        no_smoothing=False,
        segmentation=False,
        num_poses=1,
        detect_every=15,
        max_lost_ms=1000.0,
        tiles=1,
        max_frames=None,
        show=False,
        quiet=args.quiet,
        model_dir=args.model_dir,
    )
    summary = run_track(track_args)
    print(f"demo: tracked {clip_path.resolve()} (scikit-image's astronaut, moving camera)")
    _print_summary(summary, track_args)
    return 0


def run_models(args: argparse.Namespace) -> int:
    """``hifipose models list|fetch|verify|path``."""
    from hifipose.models import fetch_models, model_status, models_dir

    if args.action == "path":
        print(Path(args.model_dir) if args.model_dir else models_dir())
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
    rows = model_status(Path(args.model_dir) if args.model_dir else None)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            name, size, digest = row["name"], row["size_bytes"], row["sha256"]
            print(f"{name:<22} {size:>10} B  sha256 {digest}…  {row['state']}")
    bad = [r for r in rows if r["state"] != "ok"]
    if args.action == "verify" and bad:
        print(
            f"{len(bad)} model file(s) missing or corrupt: run `hifipose models fetch`",
            file=sys.stderr,
        )
        return 1
    return 0


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
        return tuple(None if t == "default" else int(t) for t in text.split(","))
    except ValueError:
        msg = f"expected thread counts like 'default,1', got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


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


def run_serve(args: argparse.Namespace) -> int:
    """``hifipose serve``: the live web demo (webcam in the browser) on uvicorn."""
    import secrets

    from hifipose._optional import require

    for module in ("starlette", "uvicorn", "websockets"):
        require(module, extra="serve")
    from hifipose.serve import ServeConfig, is_loopback_host, run_server

    token = args.token
    if token is None and not is_loopback_host(args.host):
        token = secrets.token_urlsafe(24)
        print(
            "\n" + "!" * 78 + f"\n!! WARNING: --host {args.host} exposes the demo (and the webcam "
            "frames sent to it)\n!! to your network. No --token was given, so this one was "
            f"generated:\n!!     {token}\n!! Anyone with the URL below can use the server. "
            "Browsers allow the camera only\n!! on localhost or over https.\n" + "!" * 78,
            file=sys.stderr,
        )
    config = ServeConfig(
        host=args.host,
        port=args.port,
        token=token,
        model_type=args.model,
        max_frame_bytes=args.max_frame_kb * 1024,
        max_upload_bytes=args.max_upload_mb * 1024 * 1024,
        model_dir=args.model_dir,
    )
    shown = "127.0.0.1" if args.host in {"0.0.0.0", "::"} else args.host  # noqa: S104
    shown = f"[{shown}]" if ":" in shown else shown
    query = f"?token={token}" if token else ""
    print(f"hifipose serve: open http://{shown}:{args.port}/{query}  (Ctrl-C stops)")
    run_server(config, log_level="info" if args.debug else "warning")
    return 0


def _add_serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="live web demo: webcam pose tracking in the browser")
    serve.add_argument("--host", default="127.0.0.1", help="interface (default: loopback only)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--token", help="secret every request must carry (needed off loopback)")
    serve.add_argument("--model", choices=("lite", "full", "heavy"), default="lite")
    serve.add_argument("--max-frame-kb", type=int, default=1024, help="largest frame accepted")
    serve.add_argument("--max-upload-mb", type=int, default=200, help="largest video upload")
    serve.add_argument("--model-dir", type=Path, help="use model files from this folder")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hifipose`` command."""
    parser = argparse.ArgumentParser(
        prog="hifipose", description="High-fidelity BlazePose pose tracking."
    )
    parser.add_argument("--version", action="version", version=f"hifipose {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True)

    track = sub.add_parser("track", help="track a video, image, folder, glob or webcam")
    track.add_argument(
        "input", help="video file, image, folder of images, glob, or webcam index (0)"
    )
    track.add_argument(
        "-o", "--output", help="keypoints file: .jsonl, .csv, .parquet or .json (COCO)"
    )
    track.add_argument("--render", help="overlay output: a .mp4 file, or a folder for PNGs")
    track.add_argument("--model", choices=("lite", "full", "heavy"), default="full")
    track.add_argument(
        "--runtime", choices=RUNTIME_NAMES, default="litert", help="inference runtime"
    )
    track.add_argument("--static", action="store_true", help="detect on every frame; no tracking")
    track.add_argument("--no-smoothing", action="store_true", help="turn landmark smoothing off")
    track.add_argument(
        "--segmentation", action="store_true", help="compute (and tint) the person mask"
    )
    track.add_argument(
        "--num-poses", type=int, default=1, help="most people per frame (each keeps an id)"
    )
    track.add_argument(
        "--detect-every",
        type=int,
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
        "--tiles", type=int, default=1, help="also run the detector on K tiles (small people)"
    )
    track.add_argument("--max-frames", type=int, help="stop after N frames")
    track.add_argument("--show", action="store_true", help="show the overlay in a window")
    track.add_argument("--quiet", action="store_true", help="no progress bar")
    track.add_argument("--model-dir", type=Path, help="use model files from this folder")

    demo = sub.add_parser("demo", help="track the built-in sample clip into ./hifipose-demo/")
    demo.add_argument("--output", type=Path, default=DEMO_DIR, help="output folder")
    demo.add_argument("--model", choices=("lite", "full", "heavy"), default="full")
    demo.add_argument("--quiet", action="store_true")
    demo.add_argument("--model-dir", type=Path)

    bench = sub.add_parser("bench", help="time hifipose, optionally against MediaPipe")
    bench.add_argument("--models", default="lite,full,heavy", help="comma-separated models")
    bench.add_argument("--runtimes", default="litert", help="comma-separated runtimes")
    bench.add_argument("--frames", type=int, default=60, help="frames per pass")
    bench.add_argument(
        "--threads", type=_threads, default=(None, 1), help="thread counts (default: default,1)"
    )
    bench.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median)")
    bench.add_argument("--size", type=_size, default=(640, 480), help="frame size WxH")
    bench.add_argument("--input", help="a video to time on (default: the built-in sample)")
    bench.add_argument(
        "--vs-mediapipe", action="store_true", help="also time MediaPipe Tasks and solution"
    )
    bench.add_argument(
        "--multi", help="a clip with three people: add the several-people rows (full model)"
    )
    bench.add_argument("--cold-start", action="store_true", help="time fresh-process starts")
    bench.add_argument("--memory-frames", type=int, default=0, help="RSS check over N frames")
    bench.add_argument("--json", help="write the report as JSON here")
    bench.add_argument("--markdown", help="write the tables as Markdown here")
    bench.add_argument("--quiet", action="store_true")

    _add_serve_parser(sub)
    models = sub.add_parser("models", help="list, fetch or verify the model files")
    models.add_argument("action", choices=("list", "fetch", "verify", "path"))
    models.add_argument("--force", action="store_true", help="fetch again even if cached")
    models.add_argument("--json", action="store_true", help="list/verify as JSON")
    models.add_argument("--model-dir", type=Path, help="check this folder instead of the cache")
    models.add_argument("--quiet", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 error, 130 interrupted)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "track": run_track_command,
        "demo": run_demo,
        "bench": run_bench,
        "models": run_models,
        "serve": run_serve,
    }
    try:
        return commands[args.command](args)
    except KeyboardInterrupt:
        print(
            "\ninterrupted: no output was published (partial files end in .partial)",
            file=sys.stderr,
        )
        return 130
    except (HifiposeError, OSError) as exc:
        if args.debug:
            raise
        print(f"hifipose: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
