"""Holistic parity: hifipose's pose, hands and face against mediapipe 0.10.14's own Holistic.

MediaPipe's ``solutions.holistic`` runs with the npm hand, recrop, face and face-detector files
(``hifipose_dev.holistic_parity``); hifipose runs ``create_detector(holistic=True,
compat="mediapipe-python")`` on LiteRT. For each model (lite, full, heavy):

* static: every shared photo (``../shared/data``), a fresh MediaPipe graph per photo (its parts
  would otherwise track across unrelated photos);
* video: the squat clip (``tfjs_golden/pose_squats.mp4``, the shared clip with one person and
  both hands in view), frame by frame in video mode.

Error of a part on a frame: the mean distance over its points (x, y, pixels) as a % of the
diagonal of MediaPipe's box around that part (pose: its 33 points). Static rows give the mean
and the worst photo; video rows the median and the 90th percentile over frames, because hands
in video move by whole percents under input noise in MediaPipe itself. Presence agreement: the
frames where both or neither found the part, out of all.

The noise floor beside each row is MediaPipe against itself: the same frames plus a uniform
integer in {-1, 0, +1} per pixel and channel (clipped to 0..255), one run per seed, each
compared with MediaPipe on the clean frames by the same measure; the floor pools every seed's
frames (its presence agreement likewise). Run from the repository root:

    PYTHONPATH=src .venv/bin/python benchmarks/holistic_parity.py --seeds 5 \\
        --markdown benchmarks/results/holistic_parity.md

(about 10 minutes on 2 cores). ``--json FILE`` also keeps every frame's errors (~140 kB, not
committed); ``--render-only FILE`` prints the tables of such a file again.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from _common import add_report_options, print_saved, publish
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "dev"))

import hifipose  # noqa: E402
from hifipose_dev.data import SHARED_DATA, clip_frames, read_rgb, shared_images  # noqa: E402
from hifipose_dev.holistic_parity import holistic_arrays, holistic_solution  # noqa: E402

MODELS = ("lite", "full", "heavy")
COMPLEXITY = {"lite": 0, "full": 1, "heavy": 2}
PARTS = ("pose", "left_hand", "right_hand", "face")
CLIP = SHARED_DATA / "tfjs_golden" / "pose_squats.mp4"
Frames = Sequence[NDArray[np.uint8]]
Points = dict[str, NDArray[np.float64] | None]


def percent_of_box(ours: NDArray[np.float64], reference: NDArray[np.float64]) -> float:
    """Mean x, y distance of ``ours`` to ``reference`` as a % of ``reference``'s box diagonal."""
    diagonal = float(np.hypot(*(reference[:, :2].max(0) - reference[:, :2].min(0))))
    return 100.0 * float(np.hypot(*(ours[:, :2] - reference[:, :2]).T).mean()) / diagonal


def noisy(frame: NDArray[np.uint8], rng: np.random.Generator) -> NDArray[np.uint8]:
    """``frame`` plus a uniform integer in {-1, 0, +1} per pixel and channel, clipped."""
    shifted = frame.astype(np.int16) + rng.integers(-1, 2, frame.shape, dtype=np.int16)
    return np.clip(shifted, 0, 255).astype(np.uint8)


def mediapipe_points(
    mp_holistic: ModuleType, frames: Frames, model: str, *, static: bool
) -> list[Points]:
    """MediaPipe Holistic's parts per frame (static: a fresh graph per frame)."""
    out: list[Points] = []
    solution = None
    try:
        for frame in frames:
            if solution is None or static:
                if solution is not None:
                    solution.close()
                solution = mp_holistic.Holistic(
                    static_image_mode=static, model_complexity=COMPLEXITY[model]
                )
            out.append(holistic_arrays(solution.process(frame), frame.shape[1::-1]))
    finally:
        if solution is not None:
            solution.close()
    return out


def hifipose_points(frames: Frames, model: str, *, static: bool) -> list[Points]:
    """hifipose's first pose and its parts per frame (LiteRT, compat mediapipe-python)."""
    out: list[Points] = []
    with hifipose.create_detector(
        model_type=model, static_image_mode=static, holistic=True, compat="mediapipe-python"
    ) as detector:
        for frame in frames:
            poses = detector.estimate_poses(frame)
            pose = poses[0] if poses else None
            points: Points = {"pose": None if pose is None else pose.image_array[:, :3]}
            for part in PARTS[1:]:
                found = None if pose is None else getattr(pose, part)
                points[part] = None if found is None else found.image_array
            out.append(points)
    return out


def compare(ours: list[Points], reference: list[Points]) -> dict[str, dict[str, Any]]:
    """Per part: the % error on each frame both found it, and the presence agreement.

    ``disagree`` lists the frames (indices) where only one side found the part.
    """
    figures: dict[str, dict[str, Any]] = {}
    for part in PARTS:
        errors, disagree = [], []
        for index, (mine, theirs) in enumerate(zip(ours, reference, strict=True)):
            a, b = mine[part], theirs[part]
            if (a is None) != (b is None):
                disagree.append(index)
            elif a is not None and b is not None:
                errors.append(round(percent_of_box(a, b), 5))
        figures[part] = {
            "errors": errors,
            "agree": len(ours) - len(disagree),
            "frames": len(ours),
            "disagree": disagree,
        }
    return figures


def pooled(runs: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Several seeds' comparisons as one: errors and agreement pooled over their frames."""
    return {
        part: {
            "errors": [e for run in runs for e in run[part]["errors"]],
            "agree": sum(run[part]["agree"] for run in runs),
            "frames": sum(run[part]["frames"] for run in runs),
            "seed_medians": [
                float(np.median(run[part]["errors"])) if run[part]["errors"] else None
                for run in runs
            ],
        }
        for part in PARTS
    }


def measure_mode(
    mp_holistic: ModuleType, frames: Frames, model: str, *, static: bool, seeds: int
) -> dict[str, Any]:
    """One model on one set of frames: hifipose against MediaPipe, and MediaPipe's floor."""
    started = time.perf_counter()
    reference = mediapipe_points(mp_holistic, frames, model, static=static)
    ours = hifipose_points(frames, model, static=static)
    floor_runs = []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        perturbed = [noisy(frame, rng) for frame in frames]
        floor_runs.append(
            compare(mediapipe_points(mp_holistic, perturbed, model, static=static), reference)
        )
    print(
        f"  {model} {'static' if static else 'video'}: {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    return {"hifipose": compare(ours, reference), "floor": pooled(floor_runs)}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Every model, static and video: the report :func:`render` prints."""
    photos = shared_images()
    stills = [read_rgb(path) for path in photos]
    clip = clip_frames(CLIP)[: args.frames]
    load_before = os.getloadavg()[0]
    results: dict[str, Any] = {}
    with holistic_solution() as mp_holistic:
        for model in args.models:
            results[model] = {
                "static": measure_mode(mp_holistic, stills, model, static=True, seeds=args.seeds),
                "video": measure_mode(mp_holistic, clip, model, static=False, seeds=args.seeds),
            }
    return {
        "photos": [str(p.relative_to(SHARED_DATA)) for p in photos],
        "clip": str(CLIP.relative_to(SHARED_DATA)),
        "clip_frames": len(clip),
        "seeds": args.seeds,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "results": results,
    }


def _stat(errors: list[float], how: Callable[[NDArray[np.float64]], float]) -> str:
    return f"{how(np.asarray(errors)):.3f}" if errors else "–"


def _agree(figures: dict[str, Any]) -> str:
    return f"{figures['agree']}/{figures['frames']}"


def _within_floor(report: dict[str, Any]) -> str:
    """How many rows sit at or under MediaPipe's own floor (static: mean; video: median)."""
    counts = {"static": [0, 0], "video": [0, 0]}
    for modes in report["results"].values():
        for mode, how in (("static", np.mean), ("video", np.median)):
            for part in PARTS:
                ours = modes[mode]["hifipose"][part]["errors"]
                floor = modes[mode]["floor"][part]["errors"]
                if ours and floor:
                    counts[mode][0] += how(ours) <= how(floor)
                    counts[mode][1] += 1
    (static, static_rows), (video, video_rows) = counts["static"], counts["video"]
    return (
        f"hifipose's error is at or under MediaPipe's own noise floor in {static} of "
        f"{static_rows} static rows (mean) and {video} of {video_rows} video rows (median). "
        "A static floor's worst photo can be a different person: noise can change which "
        "person MediaPipe picks in a photo of several."
    )


def render(report: dict[str, Any]) -> str:
    """The report as Markdown: a static and a video table, MediaPipe's floor beside each row."""
    p90: Callable[[NDArray[np.float64]], float] = lambda e: float(np.percentile(e, 90))  # noqa: E731
    worst: Callable[[NDArray[np.float64]], float] = lambda e: float(e.max())  # noqa: E731
    mean: Callable[[NDArray[np.float64]], float] = lambda e: float(e.mean())  # noqa: E731
    median: Callable[[NDArray[np.float64]], float] = lambda e: float(np.median(e))  # noqa: E731
    seeds = report["seeds"]
    lines = [
        "# Holistic parity against mediapipe 0.10.14 (solutions.holistic, npm model files)",
        "",
        "Measured by `PYTHONPATH=src .venv/bin/python benchmarks/holistic_parity.py` "
        f"(seeds {seeds}; {report['machine']}, LiteRT, compat mediapipe-python). A part's error "
        "on a frame: the mean x, y distance over its points as a % of the diagonal of "
        "MediaPipe's box around that part. Floor: MediaPipe against itself with ±1 grey of "
        f"uniform integer noise on its input ({seeds} seeds pooled). Presence: frames where "
        "both or neither found the part.",
        "",
        f"Static: {len(report['photos'])} photos of ../shared/data, a fresh MediaPipe graph per "
        "photo; mean and worst photo.",
        "",
        "| model | part | photos by both | presence | mean % | worst % | floor mean % "
        "| floor worst % | floor presence |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for model, modes in report["results"].items():
        ours, floor = modes["static"]["hifipose"], modes["static"]["floor"]
        for part in PARTS:
            o, f = ours[part], floor[part]
            lines.append(
                f"| {model} | {part} | {len(o['errors'])} | {_agree(o)} | "
                f"{_stat(o['errors'], mean)} | {_stat(o['errors'], worst)} | "
                f"{_stat(f['errors'], mean)} | {_stat(f['errors'], worst)} | {_agree(f)} |"
            )
    lines += [
        "",
        f"Video: {report['clip']} ({report['clip_frames']} frames, video mode); median and 90th "
        "percentile over frames; floor seed medians: the median of each seed's run.",
        "",
        "| model | part | frames by both | presence | median % | p90 % | floor median % "
        "| floor p90 % | floor seed medians % | floor presence |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for model, modes in report["results"].items():
        ours, floor = modes["video"]["hifipose"], modes["video"]["floor"]
        for part in PARTS:
            o, f = ours[part], floor[part]
            seed_medians = ", ".join("–" if m is None else f"{m:.2f}" for m in f["seed_medians"])
            lines.append(
                f"| {model} | {part} | {len(o['errors'])} | {_agree(o)} | "
                f"{_stat(o['errors'], median)} | {_stat(o['errors'], p90)} | "
                f"{_stat(f['errors'], median)} | {_stat(f['errors'], p90)} | {seed_medians} | "
                f"{_agree(f)} |"
            )
    lines += ["", _within_floor(report), ""]
    before, after = report["load"]
    lines += [
        f"1-minute load average {before} before, {after} after (the figures are not timings: "
        "load changes none of them).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    """Parse the options, measure (or re-render a saved report), print and write it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--seeds", type=int, default=3, help="noise runs per model and mode")
    parser.add_argument("--frames", type=int, default=None, help="first N clip frames (all)")
    add_report_options(parser, "tables")
    args = parser.parse_args()
    if args.render_only:
        print_saved(args.render_only, render)
        return
    publish(measure(args), render, args.markdown, args.json)


if __name__ == "__main__":
    main()
