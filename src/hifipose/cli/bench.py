"""``hifipose bench``: time hifipose (and MediaPipe) and print the tables."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from hifipose._publish import publish_text
from hifipose.cli._common import add_quiet, bounded_int

if TYPE_CHECKING:
    pass


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


def _precisions(text: str) -> tuple[str, ...]:
    from hifipose.config import PRECISIONS

    names = tuple(text.split(","))
    if not names or any(name not in PRECISIONS for name in names):
        msg = f"expected precisions among {', '.join(PRECISIONS)}, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return names


def run(args: argparse.Namespace) -> int:
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
        precisions=args.precisions,
        threads=args.threads,
        rounds=args.rounds,
        vs_mediapipe=args.vs_mediapipe,
        cold_start=args.cold_start,
        overhead_sizes=() if args.speed_only else tuple(dict.fromkeys((args.size, (1920, 1080)))),
        accuracy_modes=not args.speed_only,
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
        publish_text(args.json, report.to_json())
    if args.markdown:
        publish_text(args.markdown, text)
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``bench`` and its flags."""
    bench = sub.add_parser("bench", help="time hifipose, optionally against MediaPipe")
    bench.add_argument("--models", default="lite,full,heavy", help="comma-separated models")
    bench.add_argument("--runtimes", default="litert", help="comma-separated runtimes")
    bench.add_argument(
        "--precisions",
        type=_precisions,
        default=("float32",),
        help="comma-separated: float32, bf16 (openvino), int8 (litert, openvino)",
    )
    bench.add_argument("--frames", type=bounded_int(2), default=60, help="frames per pass")
    bench.add_argument(
        "--threads", type=_threads, default=(None, 1), help="thread counts (default: default,1)"
    )
    bench.add_argument(
        "--rounds", type=bounded_int(1), default=5, help="interleaved rounds (median)"
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
        "--speed-only",
        action="store_true",
        help="only the speed table (no outside-inference sizes, no accuracy modes)",
    )
    bench.add_argument(
        "--memory-frames", type=bounded_int(0), default=0, help="RSS check over N frames"
    )
    bench.add_argument("--json", help="write the report as JSON here")
    bench.add_argument("--markdown", help="write the tables as Markdown here")
    add_quiet(bench, help=None)
