"""Batch throughput and worker memory: ``hifipose batch`` vs a plain MediaPipe loop.

Speed: the same short clips (cut from ../shared/data: the squat clip, one person, and the
crossing clip, three people; 640x360) tracked by ``hifipose.batch.run`` with 1 and 2
workers (full model, 1 inference thread each) and by a plain loop in one process over
MediaPipe's legacy ``solutions.pose`` (full model, a ``Pose`` per video, as users write
it). Total frames/s is frames over wall time, start-up included.

Memory: one batch worker (a ``VideoWorker``, the code each pool process runs, never
recycled) tracks N short videos; its RSS is sampled every 50 videos.

    .venv/bin/python benchmarks/bench_batch.py                        # both parts
    .venv/bin/python benchmarks/bench_batch.py --part speed --clips 24
    .venv/bin/python benchmarks/bench_batch.py --part rss --videos 1000
    .venv/bin/python benchmarks/bench_batch.py --markdown benchmarks/results/batch.md
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import cv2
from _common import DATA, read_frames, rss_mb

from hifipose._version import __version__
from hifipose.batch import BatchOptions, run
from hifipose.batch.discovery import VideoJob
from hifipose.batch.worker import VideoWorker, WorkerSetup

SOURCES = (DATA / "tfjs_golden" / "pose_squats.mp4", DATA / "multi" / "crossing_squats.mp4")


def make_clips(folder: Path, clips: int, frames: int, size: tuple[int, int]) -> int:
    """Write ``clips`` clips of ``frames`` frames; return the total frame count."""
    decoded = [
        [cv2.resize(frame, size, interpolation=cv2.INTER_AREA) for frame in read_frames(path)]
        for path in SOURCES
    ]
    total = 0
    for index in range(clips):
        source = decoded[index % len(decoded)]
        start = (index * 3) % max(1, len(source) - frames)
        chunk = (source * 2)[start : start + frames]
        path = folder / f"clip{index:04d}.mp4"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 10.0, size)
        for frame in chunk:
            writer.write(frame)
        writer.release()
        total += len(chunk)
    return total


def mediapipe_loop(folder: Path) -> int:
    from mediapipe.python.solutions import pose as mp_pose

    from hifipose.bench import install_solution_models

    install_solution_models()
    frames = 0
    for path in sorted(folder.glob("*.mp4")):
        with mp_pose.Pose(model_complexity=1, static_image_mode=False) as pose:
            for frame in read_frames(path, rgb=True):
                pose.process(frame)
                frames += 1
    return frames


def speed(clips: int, frames: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        total = make_clips(folder, clips, frames, (640, 360))
        rows = []
        for workers in (1, 2):
            out = Path(tmp) / f"out{workers}"
            started = time.perf_counter()
            summary = run([str(folder)], out, options=BatchOptions(model="full"), workers=workers)
            seconds = time.perf_counter() - started
            assert summary.frames == total, (summary.frames, total)
            rows.append((f"hifipose batch, {workers} worker(s) x 1 thread", seconds))
            shutil.rmtree(out)
        started = time.perf_counter()
        assert mediapipe_loop(folder) == total
        rows.append(
            ("MediaPipe solutions.pose, plain loop, 1 process", time.perf_counter() - started)
        )
    base = rows[-1][1]
    lines = [
        f"{clips} clips x {frames} frames (640x360, 1 or 3 people), {total} frames, full model",
        "",
        "| engine | seconds | frames/s | vs MediaPipe loop |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {name} | {s:.1f} | {total / s:.1f} | {base / s:.2f}x |" for name, s in rows]
    return "\n".join(lines)


def rss(videos: int, frames: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        distinct = 40
        make_clips(folder, distinct, frames, (320, 180))
        paths = sorted(folder.glob("*.mp4"))
        worker = VideoWorker(WorkerSetup(BatchOptions(model="full"), str(Path(tmp) / "out"), 1))
        samples: list[tuple[int, float]] = []
        started = time.perf_counter()
        for index in range(videos):
            path = paths[index % distinct]
            outcome = worker.track(VideoJob(f"v{index:05d}", str(path)))
            assert outcome.status == "done", outcome
            if (index + 1) % 50 == 0:
                samples.append((index + 1, rss_mb(os.getpid())))
                print(f"  {index + 1} videos: RSS {samples[-1][1]:.1f} MB", flush=True)
        seconds = time.perf_counter() - started
        worker.close()
    first = samples[0][1]
    peak = max(mb for _, mb in samples)
    lines = [
        f"One worker (full model, never recycled), {videos} videos of {frames} frames "
        f"(320x180), {seconds:.0f} s:",
        "",
        "| videos | RSS MB |",
        "|---:|---:|",
        *(f"| {n} | {mb:.1f} |" for n, mb in samples),
        "",
        f"RSS after 50 videos {first:.1f} MB, at the end {samples[-1][1]:.1f} MB, peak "
        f"{peak:.1f} MB: growth {samples[-1][1] - first:+.1f} MB (peak {peak - first:+.1f} MB).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("speed", "rss", "both"), default="both")
    parser.add_argument("--clips", type=int, default=24)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--videos", type=int, default=1000)
    parser.add_argument("--rss-frames", type=int, default=5)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    header = (
        f"hifipose {__version__}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    parts = [f"# hifipose batch\n\n{header}\n"]
    # Memory first, while nothing else (MediaPipe) is loaded in this process.
    if args.part in {"rss", "both"}:
        memory = "## Worker memory\n\n" + rss(args.videos, args.rss_frames)
    if args.part in {"speed", "both"}:
        parts.append("## Throughput\n\n" + speed(args.clips, args.frames))
    if args.part in {"rss", "both"}:
        parts.append(memory)
    text = "\n\n".join(parts) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
