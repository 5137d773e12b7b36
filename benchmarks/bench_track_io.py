"""``hifipose track`` at 1080p: decoding and overlay rendering around the inference.

Makes a 1920×1080 mp4 (the squat clip from ../shared/data, letterboxed, played twice), then
times, in interleaved rounds (median frames/s):

* a plain single-thread loop (``cv2.VideoCapture.read`` → RGB → ``estimate_poses``), with
  FFmpeg's default threads and with one FFmpeg thread;
* ``hifipose track -o keypoints.csv`` with FFmpeg's default decoding threads (what it uses)
  and with one FFmpeg thread (what a 2-core machine was thought to need);
* ``hifipose track --render overlay.mp4`` with drawing and encoding on the calling thread (as
  before: a copy of the RGB frame drawn, converted to BGR, encoded) and now (the writer
  thread draws into the BGR conversion it encodes, so the calling thread only infers), the
  step between them (the writer thread encodes, the calling thread draws); before and the step
  decode with FFmpeg's default threads, now uses what ``track`` chooses (one FFmpeg thread
  when it renders a video on ≤ 2 cores), and a last row is now with FFmpeg's default;
* the same two ``track`` commands with ``--runtime mediapipe`` (MediaPipe Tasks), for ratios.

    .venv/bin/python benchmarks/bench_track_io.py --rounds 5 --quiet-load 1.5 \
        --markdown benchmarks/results/track_io.md --json benchmarks/results/track_io.json
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from _common import (
    DATA,
    add_report_options,
    letterbox_frame,
    print_saved,
    publish,
    ratio_range,
    read_frames,
)
from numpy.typing import NDArray

import hifipose
import hifipose.io.render as render_module
import hifipose.io.sources as sources_module
from hifipose.cli import build_parser
from hifipose.cli.track import run_track
from hifipose.errors import OutputError
from hifipose.io.render import Draw

CLIP = DATA / "tfjs_golden" / "pose_squats.mp4"


class SyncOverlayWriter:
    """The overlay writer as it was: encoding on the caller's thread (the baseline)."""

    def __init__(self, path: Path, fps: float, size_wh: tuple[int, int]) -> None:
        self.path = path
        self._writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, size_wh)
        if not self._writer.isOpened():
            raise OutputError(str(path))

    def write(self, image_rgb: NDArray[np.uint8], draw: Draw | None = None) -> None:
        # As before: a copy of the frame drawn on the main thread, converted, then encoded.
        # (``draw`` now draws BGR colours; on the RGB copy the pixels differ, the work not.)
        canvas = image_rgb.copy()
        if draw is not None:
            draw(canvas)
        self._writer.write(cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))

    def close(self) -> None:
        self._writer.release()

    def __enter__(self) -> SyncOverlayWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MainDrawOverlayWriter(render_module.OverlayVideoWriter):
    """The previous step: the writer thread encodes, the caller's thread draws a copy."""

    def write(self, image_rgb: NDArray[np.uint8], draw: Draw | None = None) -> None:
        canvas = image_rgb.copy()
        if draw is not None:
            draw(canvas)
        super().write(canvas)


def make_clip(path: Path, size_wh: tuple[int, int], repeats: int) -> int:
    """Letterbox the squat clip into ``size_wh`` and write it ``repeats`` times; frame count."""
    frames = [letterbox_frame(frame, size_wh) for frame in read_frames(CLIP)]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 30.0, size_wh)
    for _ in range(repeats):
        for frame in frames:
            writer.write(frame)
    writer.release()
    return len(frames) * repeats


def plain_loop(clip: Path, model: str, ffmpeg_threads: int) -> float:
    """Frames/s of a single-thread read → RGB → estimate loop."""
    capture = cv2.VideoCapture(str(clip), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, ffmpeg_threads])
    with hifipose.create_detector(model_type=model) as detector:
        started = time.perf_counter()
        frames = 0
        while True:
            ok, frame_bgr = capture.read()
            if not ok:
                break
            ms = capture.get(cv2.CAP_PROP_POS_MSEC)
            detector.estimate_poses(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB), ms)
            frames += 1
        seconds = time.perf_counter() - started
    capture.release()
    return frames / seconds


@contextlib.contextmanager
def patched(module: object, name: str, value: object) -> Iterator[None]:
    original = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, original)


def cli_track(
    clip: Path,
    out: Path,
    model: str,
    runtime: str,
    *,
    render: bool,
    decode_threads: int | None = None,
    sync_render: bool = False,
    main_draw: bool = False,
) -> float:
    """Frames/s of ``hifipose track`` (timed by the command itself, detector creation excluded).

    ``decode_threads`` forces FFmpeg's decoding threads (0: FFmpeg's default); None keeps
    what ``track`` chooses (1 when it renders a video on ≤ 2 cores, else FFmpeg's default).
    """
    args = ["track", str(clip), "--model", model, "--runtime", runtime, "--quiet"]
    args += ["--render", str(out / "overlay.mp4")] if render else ["-o", str(out / "k.csv")]
    with contextlib.ExitStack() as stack:
        if decode_threads is not None:
            original = sources_module.open_source

            def forced(spec: str, **options: int | None) -> sources_module.FrameSource:
                return original(spec, **{**options, "threads": decode_threads})  # type: ignore[arg-type]

            stack.enter_context(patched(sources_module, "open_source", forced))
        if sync_render:
            stack.enter_context(patched(render_module, "open_renderer", SyncOverlayWriter))
        if main_draw:
            stack.enter_context(patched(render_module, "open_renderer", MainDrawOverlayWriter))
        summary = run_track(build_parser().parse_args(args))
    return summary.fps


BEFORE = "track --render, as before (draw + encode on the main thread)"
NOW = "track --render, now (draw + encode on the writer thread; 1 FFmpeg thread on ≤ 2 cores)"
BASELINES = {  # row → the row it is compared with
    "plain loop, FFmpeg 1 thread": "plain loop, FFmpeg default threads",
    "track -o, FFmpeg 1 thread": "track -o, FFmpeg default threads",
    "track --render, encode on the writer thread, draw on the main thread": BEFORE,
    NOW: BEFORE,
    "track --render, now but FFmpeg default threads": NOW,
}


def paired(results: dict[str, list[float]], name: str, other: str) -> str:
    """Median (min–max) over rounds of the frames/s ratio of two rows timed in the same round."""
    return ratio_range(a / b for a, b in zip(results[name], results[other], strict=True))


def wait_for_quiet(limit: float | None, max_wait_s: float) -> float:
    """Wait until the 1-minute load average is below ``limit`` (at most ``max_wait_s``); it."""
    deadline = time.monotonic() + max_wait_s
    while limit is not None and os.getloadavg()[0] >= limit and time.monotonic() < deadline:
        time.sleep(5)
    return os.getloadavg()[0]


def render(report: dict[str, Any]) -> str:
    """The Markdown table of a report."""
    fps, results = report["fps_median"], report["fps_all"]
    lines = [
        f"`hifipose track`, {report['model']} model, litert, {report['frames']} frames of "
        f"{report['size']} (mp4v), {report['cores']} cores, {report['rounds']} interleaved "
        "rounds: median frames/s, and ratios as the median (min–max) over rounds of the ratio "
        "within a round. MediaPipe Tasks does the same command in the same rounds.",
        "",
        "1-minute load average at the start of each round (the machine is shared; a load "
        "near or above the core count makes the threaded rows lose their spare core): "
        + ", ".join(f"{load:.1f}" for load in report.get("load_at_round_start", [])),
        "",
        "| case | frames/s | vs the row it is compared with | vs MediaPipe |",
        "|---|---|---|---|",
    ]
    for name, value in fps.items():
        mediapipe = "mediapipe: track --render" if "render" in name else "mediapipe: track -o"
        versus = paired(results, name, BASELINES[name]) if name in BASELINES else ""
        vs_mp = "" if name.startswith("mediapipe") else paired(results, name, mediapipe)
        lines.append(f"| {name} | {value:.1f} | {versus} | {vs_mp} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="full")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2, help="times the clip is played")
    parser.add_argument("--size", default="1920x1080")
    add_report_options(parser)
    parser.add_argument(
        "--quiet-load",
        type=float,
        help="before each round, wait (up to --max-wait s) until the 1-minute load is below this",
    )
    parser.add_argument("--max-wait", type=float, default=180.0)
    args = parser.parse_args()
    if args.render_only:
        print_saved(args.render_only, render)
        return 0
    size_wh = tuple(int(v) for v in args.size.split("x"))
    assert len(size_wh) == 2
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        clip = out / "clip.mp4"
        frames = make_clip(clip, (size_wh[0], size_wh[1]), args.repeats)
        m = args.model
        cases: dict[str, Callable[[], float]] = {
            "plain loop, FFmpeg default threads": lambda: plain_loop(clip, m, 0),
            "plain loop, FFmpeg 1 thread": lambda: plain_loop(clip, m, 1),
            "track -o, FFmpeg 1 thread": lambda: cli_track(
                clip, out, m, "litert", render=False, decode_threads=1
            ),
            "track -o, FFmpeg default threads": lambda: cli_track(
                clip, out, m, "litert", render=False
            ),
            "track --render, as before (draw + encode on the main thread)": lambda: cli_track(
                clip, out, m, "litert", render=True, sync_render=True, decode_threads=0
            ),
            "track --render, encode on the writer thread, draw on the main thread": lambda: (
                cli_track(clip, out, m, "litert", render=True, main_draw=True, decode_threads=0)
            ),
            NOW: lambda: cli_track(clip, out, m, "litert", render=True),
            "track --render, now but FFmpeg default threads": lambda: cli_track(
                clip, out, m, "litert", render=True, decode_threads=0
            ),
            "mediapipe: track -o": lambda: cli_track(clip, out, m, "mediapipe", render=False),
            "mediapipe: track --render": lambda: cli_track(clip, out, m, "mediapipe", render=True),
        }
        results: dict[str, list[float]] = {name: [] for name in cases}
        loads: list[float] = []
        for round_index in range(args.rounds):
            loads.append(wait_for_quiet(args.quiet_load, args.max_wait))
            for name, case in cases.items():
                results[name].append(case())
                print(f"round {round_index + 1}: {name}: {results[name][-1]:.1f} fps", flush=True)
    fps = {name: statistics.median(values) for name, values in results.items()}
    report = {
        "model": args.model,
        "size": args.size,
        "frames": frames,
        "rounds": args.rounds,
        "cores": len(os.sched_getaffinity(0)),
        "load_at_round_start": loads,
        "machine": platform.processor() or platform.machine(),
        "fps_median": fps,
        "fps_all": results,
    }
    publish(report, render, args.markdown, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
