"""hifipose.solutions.holistic against mediapipe 0.10.14's own ``solutions.holistic``.

Both are fed the same frames side by side (each frame to one, then the other) and the same
model files (MediaPipe's through ``hifipose_dev.holistic_parity``: the npm files in place of
its wheel's). Per part (left hand, right hand, face; left and right the person's own, as both
name them): frames where both found it, frames where only one did, and the mean distance
between the two point sets as % of MediaPipe's box diagonal for that part (the measure of
docs/holistic-spec.md §8), its median and maximum over frames. Speed: median ms per frame of
each ``process`` after the first five frames (in video mode the first frames run the
detectors), and the median of the per-frame ratio.

In static mode MediaPipe's graph still keeps each hand's and the face's previous ROI (its
loop-back, docs/holistic-spec.md §5) while hifipose starts every image afresh: on related
frames one MediaPipe ``Holistic`` then differs from hifipose's on some frames. ``--fresh``
gives MediaPipe a new ``Holistic`` per frame (every image on its own, as hifipose; its
speed is then not comparable and is not printed).

    PYTHONPATH=src .venv/bin/python benchmarks/bench_holistic_solution.py \
        [--clip tfjs_golden/pose_squats.mp4] [--frames 60] [--complexity 1] [--static [--fresh]]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from _common import DATA

from hifipose.solutions import holistic as hp_holistic

# The development package (dev/hifipose_dev), not part of the wheel.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dev"))
from hifipose_dev.holistic_parity import holistic_solution

PARTS = {
    "left hand": "left_hand_landmarks",
    "right hand": "right_hand_landmarks",
    "face": "face_landmarks",
}
WARM_UP = 5


def rgb_frames(path: Path, limit: int) -> list[np.ndarray]:
    """The clip's first ``limit`` frames, RGB."""
    capture = cv2.VideoCapture(str(path))
    frames = []
    while len(frames) < limit:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    capture.release()
    return frames


def points(landmarks: Any, size_wh: tuple[int, int]) -> np.ndarray | None:  # noqa: ANN401
    """Either package's landmark list (MediaPipe's has no types) as (N, 2) px; None: absent."""
    if landmarks is None:
        return None
    width, height = size_wh
    return np.array([[p.x * width, p.y * height] for p in landmarks.landmark])


def percent_of_diagonal(ours: np.ndarray, theirs: np.ndarray) -> float:
    """Mean point distance as % of the diagonal of ``theirs``' box."""
    diagonal = float(np.linalg.norm(theirs.max(axis=0) - theirs.min(axis=0)))
    return 100.0 * float(np.linalg.norm(ours - theirs, axis=1).mean()) / diagonal


def main() -> None:
    """Run both solutions on the clip and print the comparison as Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", default="tfjs_golden/pose_squats.mp4")
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--complexity", type=int, default=1, choices=(0, 1, 2))
    parser.add_argument("--static", action="store_true", help="static_image_mode=True")
    parser.add_argument("--fresh", action="store_true", help="a new MediaPipe graph per frame")
    args = parser.parse_args()
    if args.fresh and not args.static:
        parser.error("--fresh needs --static")
    frames = rgb_frames(DATA / args.clip, args.frames)
    options = {"static_image_mode": args.static, "model_complexity": args.complexity}
    errors: dict[str, list[float]] = {part: [] for part in PARTS}
    only_one = dict.fromkeys(PARTS, 0)
    ms: dict[str, list[float]] = {"hifipose": [], "mediapipe": []}
    with (
        holistic_solution() as mp_holistic,
        mp_holistic.Holistic(**options) as kept,
        hp_holistic.Holistic(**options) as ours,
    ):
        for frame in frames:
            theirs = mp_holistic.Holistic(**options) if args.fresh else kept
            started = time.perf_counter()
            mine = ours.process(frame)
            middle = time.perf_counter()
            original = theirs.process(frame)
            ended = time.perf_counter()
            if args.fresh:
                theirs.close()
            ms["hifipose"].append(1000 * (middle - started))
            ms["mediapipe"].append(1000 * (ended - middle))
            size_wh = (frame.shape[1], frame.shape[0])
            for part, field in PARTS.items():
                a = points(getattr(mine, field), size_wh)
                b = points(getattr(original, field), size_wh)
                if (a is None) != (b is None):
                    only_one[part] += 1
                elif a is not None and b is not None:
                    errors[part].append(percent_of_diagonal(a, b))
    mode = (
        ("static, a fresh MediaPipe graph per frame" if args.fresh else "static")
        if args.static
        else "video"
    )
    print(f"{args.clip}, {len(frames)} frames, {mode}, model_complexity {args.complexity}\n")
    print("| part | frames by both | by one only | mean % | median % | max % |")
    print("|---|---|---|---|---|---|")
    for part, values in errors.items():
        stats = (
            f"{statistics.fmean(values):.3f} | {statistics.median(values):.3f} | {max(values):.3f}"
            if values
            else "– | – | –"
        )
        print(f"| {part} | {len(values)} | {only_one[part]} | {stats} |")
    if args.fresh:
        return
    timed = {name: values[WARM_UP:] for name, values in ms.items()}
    ratios = [m / h for h, m in zip(timed["hifipose"], timed["mediapipe"], strict=True)]
    print(
        f"\nms per frame (median): hifipose {statistics.median(timed['hifipose']):.0f}, "
        f"mediapipe {statistics.median(timed['mediapipe']):.0f}; "
        f"mediapipe / hifipose per frame (median) {statistics.median(ratios):.2f}"
    )


if __name__ == "__main__":
    main()
