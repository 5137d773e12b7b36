"""Colour conversion: what converting on the model's crops instead of the whole frame could save.

OpenCV decodes BGR; the pipeline takes RGB, so ``track`` converts every decoded frame
(``cv2.cvtColor``, on the decoding thread) and the overlay writer converts back for encoding.
Swapping the channels on the model's crops instead is exact (each crop is a per-channel warp
of the frame), so it would save the whole-frame conversions and cost the crop ones. This
times, per frame size (median over rounds of a median over repetitions, ms):

* one whole-frame ``cvtColor`` (BGR → RGB);
* the crop-side alternative: one ``cvtColor`` of the 256×256 landmark crop (tracking) and of
  the 224×224 detector crop (when the detector runs);
* ``estimate_poses`` per frame in video mode (full model, LiteRT, default threads) on the
  squat clip from ../shared/data letterboxed into that size, for scale.

    .venv/bin/python benchmarks/bench_colour.py --rounds 5 --markdown benchmarks/results/colour.md
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from _common import DATA, letterbox_frame, read_frames
from numpy.typing import NDArray

import hifipose

CLIP = DATA / "tfjs_golden" / "pose_squats.mp4"
SIZES = ((640, 480), (1280, 720), (1920, 1080))


def letterboxed(size_wh: tuple[int, int]) -> list[NDArray[np.uint8]]:
    """The squat clip's frames (BGR, as decoded) letterboxed into ``size_wh``."""
    return [letterbox_frame(frame, size_wh) for frame in read_frames(CLIP)]


def median_ms(call: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``call`` over ``repeats`` runs, in ms."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def pipeline_ms(frames_bgr: list[NDArray[np.uint8]], model: str) -> float:
    """Median ``estimate_poses`` ms per frame over the clip, tracking (conversion not timed)."""
    frames = [cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in frames_bgr]
    times = []
    with hifipose.create_detector(model_type=model) as detector:
        for i, frame in enumerate(frames):
            started = time.perf_counter()
            detector.estimate_poses(frame, timestamp_ms=i * 1000 / 30)
            times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="full")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--markdown")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    clips = {size: letterboxed(size) for size in SIZES}
    landmark_crop = np.ascontiguousarray(clips[SIZES[0]][0][:256, :256])
    detector_crop = np.ascontiguousarray(clips[SIZES[0]][0][:224, :224])
    rows: dict[str, dict[tuple[int, int], list[float]]] = {
        name: {size: [] for size in SIZES} for name in ("frame", "crops", "pipeline")
    }
    for _ in range(args.rounds):
        for size, frames in clips.items():
            frame = frames[len(frames) // 2]
            rows["frame"][size].append(
                median_ms(lambda f=frame: cv2.cvtColor(f, cv2.COLOR_BGR2RGB), args.repeats)
            )
            rows["crops"][size].append(
                median_ms(lambda: cv2.cvtColor(landmark_crop, cv2.COLOR_BGR2RGB), args.repeats)
                + median_ms(lambda: cv2.cvtColor(detector_crop, cv2.COLOR_BGR2RGB), args.repeats)
            )
            rows["pipeline"][size].append(pipeline_ms(frames, args.model))
    load_after = os.getloadavg()[0]
    lines = [
        f"Colour conversion against the pipeline, {args.model} model, LiteRT (default threads), "
        f"median of {args.rounds} rounds (`benchmarks/bench_colour.py`). 'Saved' is what "
        "converting on the crops instead of the frame would save per frame, counting the "
        "overlay's conversion back to BGR too when rendering (an upper bound: drawing would "
        "still need a copy of the frame); the crop side counts both crops as if the detector "
        "ran every frame (it runs on a few).",
        "",
        "| frame size | whole-frame cvtColor ms | both crops ms | estimate_poses ms "
        "| saved, keypoints | saved, rendering |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for size in SIZES:
        frame, crops, pipeline = (statistics.median(rows[k][size]) for k in rows)
        keypoints = (frame - crops) / pipeline
        rendering = (2 * frame - crops) / pipeline
        lines.append(
            f"| {size[0]}×{size[1]} | {frame:.3f} | {crops:.3f} | {pipeline:.2f} | "
            f"{100 * keypoints:.1f} % | {100 * rendering:.1f} % |"
        )
    lines += [
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores; 1-minute load average "
        f"{load_before:.2f} before, {load_after:.2f} after. OpenCV {cv2.__version__}.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
