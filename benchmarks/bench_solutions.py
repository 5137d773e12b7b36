"""hifipose.solutions: the shim's cost over create_detector, and its speed against MediaPipe's.

Per round, on the squat clip (tfjs_golden/pose_squats.mp4, 720×1280, video mode, the
model given, LiteRT default threads), side by side on each frame:

* ``create_detector(compat="mediapipe-python").estimate_poses`` per frame (the pipeline alone);
* ``hifipose.solutions.pose.Pose().process`` per frame (the same pipeline through the shim);
* mediapipe 0.10.14's ``solutions.pose.Pose().process`` per frame (fed the same model files).

Each figure is the median ms per frame over the clip; the table gives the median over rounds,
the ratios are paired per frame. The shim's own work (the frame check and the landmark
conversion) is also timed on its own, many times on one result, so its share does not drown in
the machine's noise.

``--accuracy`` instead runs the full sweep the CI tests take a subset of: every shared still
and clip, static and video mode, the three models, the shim against mediapipe 0.10.14 (mean
distance / box diagonal per input, and frames where one finds a pose and the other not).

    .venv/bin/python benchmarks/bench_solutions.py --rounds 3 \
        --markdown benchmarks/results/solutions.md
    .venv/bin/python benchmarks/bench_solutions.py --accuracy \
        --markdown benchmarks/results/solutions_accuracy.md
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
from _common import DATA, read_frames
from numpy.typing import NDArray

import hifipose
from hifipose.bench import install_solution_models
from hifipose.solutions import pose as hp_pose
from hifipose.solutions._solution import check_rgb, landmark_lists

CLIP = DATA / "tfjs_golden" / "pose_squats.mp4"
COMPLEXITY = {"lite": 0, "full": 1, "heavy": 2}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
VIDEO_SUFFIXES = (".mp4", ".mov", ".webm")


def timed_ms(process: Callable[[NDArray[np.uint8]], object], frame: NDArray[np.uint8]) -> float:
    """Wall time of ``process(frame)``, ms."""
    started = time.perf_counter()
    process(frame)
    return 1000 * (time.perf_counter() - started)


def conversion_us(frame: NDArray[np.uint8], model: str, repeats: int) -> float:
    """The shim's own work per frame (check + landmark lists), µs: median of ``repeats``."""
    with hifipose.create_detector(model_type=model, compat="mediapipe-python") as detector:
        (pose,) = detector.estimate_poses(frame)
    size = (frame.shape[1], frame.shape[0])
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        check_rgb(frame)
        landmark_lists(pose, size)
        times.append(time.perf_counter() - started)
    return 1e6 * statistics.median(times)


def speed(args: argparse.Namespace) -> str:
    from mediapipe.python.solutions import pose as mp_pose

    install_solution_models()
    frames = [cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in read_frames(CLIP)]
    load_before = os.getloadavg()[0]
    rows: dict[str, list[float]] = {"pipeline": [], "shim": [], "mediapipe": []}
    shim_ratio, mp_ratio = [], []
    for _ in range(args.rounds):
        # The three run side by side, frame by frame (each tracking the clip on its own), so
        # the shared machine's load falls on all three alike; ratios are paired per frame.
        complexity = COMPLEXITY[args.model]
        with (
            hifipose.create_detector(model_type=args.model, compat="mediapipe-python") as d,
            hp_pose.Pose(model_complexity=complexity) as shim,
            mp_pose.Pose(model_complexity=complexity) as original,
        ):
            calls = (d.estimate_poses, shim.process, original.process)
            times = []
            for i, frame in enumerate(frames):
                # the call order turns frame by frame: whatever runs after MediaPipe meets its
                # threads still winding down
                order = [(i + k) % 3 for k in range(3)]
                took = {j: timed_ms(calls[j], frame) for j in order}
                times.append((took[0], took[1], took[2]))
        for key, column in zip(rows, zip(*times, strict=True), strict=True):
            rows[key].append(statistics.median(column))
        shim_ratio.append(statistics.median(s / p for p, s, _ in times))
        mp_ratio.append(statistics.median(m / s for _, s, m in times))
    own_us = conversion_us(frames[0], args.model, args.repeats)
    load_after = os.getloadavg()[0]
    pipeline, shim, original = (statistics.median(rows[k]) for k in rows)

    def spread(values: list[float]) -> str:
        return f"{statistics.median(values):.3f}× ({min(values):.3f}–{max(values):.3f})"

    lines = [
        f"hifipose.solutions against create_detector and mediapipe 0.10.14's solutions.pose: "
        f"{args.model} model, video mode, {CLIP.name} ({len(frames)} frames, "
        f"{frames[0].shape[1]}×{frames[0].shape[0]}), LiteRT default threads; median ms per "
        f"frame, median of {args.rounds} rounds (`benchmarks/bench_solutions.py`).",
        "",
        "| run | ms per frame | frames/s |",
        "|---|---:|---:|",
        f'| `create_detector(compat="mediapipe-python")` | {pipeline:.2f} | '
        f"{1000 / pipeline:.1f} |",
        f"| `hifipose.solutions.pose.Pose().process` | {shim:.2f} | {1000 / shim:.1f} |",
        f"| mediapipe 0.10.14 `solutions.pose.Pose().process` | {original:.2f} | "
        f"{1000 / original:.1f} |",
        "",
        f"- The shim over the pipeline alone (median per-frame ratio; median and range over "
        f"rounds): {spread(shim_ratio)}.",
        f"- The shim's own work, timed alone ({args.repeats} repeats: the frame check and the "
        f"two landmark lists): {own_us:.1f} µs per frame, {100 * own_us / 1000 / pipeline:.2f} % "
        "of the pipeline's time per frame.",
        f"- mediapipe 0.10.14 over the shim (the same way): {spread(mp_ratio)} (above 1: "
        "hifipose is faster).",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, shared with other jobs while "
        f"this ran (1-minute load average {load_before:.2f} before, {load_after:.2f} after): "
        "the round-to-round spread is that noise; the shim's own µs are the steadier figure.",
    ]
    return "\n".join(lines)


def _arrays(results: object, size_wh: tuple[int, int]) -> NDArray[np.float64] | None:
    landmarks = getattr(results, "pose_landmarks", None)
    if landmarks is None:
        return None
    width, height = size_wh
    return np.array([[p.x * width, p.y * height] for p in landmarks.landmark])


def _sequence_errors(frames: Sequence, static: bool, model: str) -> tuple[list[float], int]:
    from mediapipe.python.solutions import pose as mp_pose

    errors, mismatches = [], 0
    complexity = COMPLEXITY[model]
    with (
        hp_pose.Pose(static_image_mode=static, model_complexity=complexity) as shim,
        mp_pose.Pose(static_image_mode=static, model_complexity=complexity) as original,
    ):
        for frame in frames:
            size = (frame.shape[1], frame.shape[0])
            ours, theirs = (
                _arrays(shim.process(frame), size),
                _arrays(original.process(frame), size),
            )
            if (ours is None) != (theirs is None):
                mismatches += 1
            elif ours is not None and theirs is not None:
                diagonal = float(np.hypot(*(theirs.max(0) - theirs.min(0))))
                errors.append(float(np.linalg.norm(ours - theirs, axis=1).mean()) / diagonal)
    return errors, mismatches


def accuracy(args: argparse.Namespace) -> str:
    install_solution_models()
    stills = sorted(
        p
        for p in DATA.rglob("*")
        if p.suffix.lower() in IMAGE_SUFFIXES and "segmentation" not in p.stem
    )
    clips = sorted(p for p in DATA.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES)
    clip_frames = {c: [cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in read_frames(c)] for c in clips}
    still_frames = [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in stills]
    lines = [
        "hifipose.solutions.pose against mediapipe 0.10.14's solutions.pose (the same model "
        "files): "
        "mean landmark distance / MediaPipe's box diagonal, per input, and frames where only one "
        "finds a pose (`benchmarks/bench_solutions.py --accuracy`). Target: 0.15 %.",
        "",
        "| model | mode | input | frames | mean | worst frame | pose/no-pose |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for model in args.models.split(","):
        errors, mismatches = [], 0
        for frame in still_frames:
            e, m = _sequence_errors([frame], True, model)
            errors += e
            mismatches += m
        lines.append(
            f"| {model} | static | {len(stills)} stills (each its own input; worst shown) | "
            f"{len(stills)} | {100 * np.mean(errors):.4f} % (worst {100 * max(errors):.4f} %) | "
            f"{100 * max(errors):.4f} % | {mismatches} |"
        )
        for clip, frames in clip_frames.items():
            for static in (True, False):
                e, m = _sequence_errors(frames, static, model)
                lines.append(
                    f"| {model} | {'static' if static else 'video'} | {clip.name} | "
                    f"{len(frames)} | {100 * np.mean(e):.4f} % | {100 * max(e):.4f} % | {m} |"
                )
        if args.markdown:  # after each model: a long sweep keeps what it has measured
            Path(args.markdown).write_text("\n".join([*lines, "", "(sweep in progress)"]) + "\n")
    lines += [
        "",
        "crossing_squats.mp4 in video mode carries two people who overlap from frame 41: there "
        "the tracking loop amplifies float32 noise, and hifipose's own runtimes differ from each "
        "other as much (tests/integration/test_compat_mediapipe.py).",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="full", choices=tuple(COMPLEXITY))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2000)
    parser.add_argument("--accuracy", action="store_true", help="the full accuracy sweep instead")
    parser.add_argument("--models", default="lite,full,heavy", help="with --accuracy")
    parser.add_argument("--markdown")
    args = parser.parse_args()
    text = accuracy(args) if args.accuracy else speed(args)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
