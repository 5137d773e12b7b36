"""Holistic speed: hifipose's hands and face against mediapipe 0.10.14's Holistic, same run.

Per model (lite, full, heavy), on the squat clip at its own size (``tfjs_golden/
pose_squats.mp4``, 720×1280, one person, both hands and the face in view), video mode, LiteRT
with its default threads; in each round, each frame goes through all three in turn (frame i
through each before frame i + 1, so that the machine's changing load falls on all alike):

* hifipose ``create_detector(model_type=..., holistic=True)``: pose, hands and face;
* hifipose without ``holistic`` (the pose alone: what the parts add);
* hifipose Holistic with its parts in one lane on both threads (LiteRT only: what the two
  lanes of ``PartsPipeline`` gain; their outputs are bit-identical);
* mediapipe 0.10.14's ``solutions.holistic.Holistic(model_complexity=...)`` fed the npm model
  files (``hifipose_dev.holistic_parity``), as the parity tests run it.

Each is a fresh detector or graph per round, run once on the first frame and reset, then timed
on every frame (ms per frame: its total wall time over the frames; decoding is not included).
The table gives the median over rounds; "MediaPipe / hifipose" is the per-round ratio (above 1:
hifipose is faster), median and range, because absolute times drift on a shared machine.

Several people: ``crossing_squats.mp4`` (1280×720, up to three people), full model,
``num_poses`` 1, 2 and 3 with ``holistic=True`` and MediaPipe's Holistic (one person), frame by
frame in turn as above: ms per frame, people and parts (hands + faces) found per frame, and the
cost per extra person (the time added over ``num_poses=1`` divided by the people added per
frame).

``--profile`` then runs hifipose Holistic once more per model with timers around the parts
pipeline's stages and its models' sessions: where a frame's time goes (pose, hand recrop, face
detector, hand landmarks, face landmarks: each split into model runs and the rest, i.e. crops,
decoding and ROIs).

    PYTHONPATH=src .venv/bin/python benchmarks/holistic_speed.py --rounds 5 --profile \\
        --markdown benchmarks/results/holistic_speed.md \\
        --json benchmarks/results/holistic_speed.json

(``--note`` says how loaded the machine was; its default is "quiet machine"). The committed
``holistic_speed_loaded.md`` was measured with ``--rounds 3`` on a loaded 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, ParamSpec, TypeVar

import numpy as np
from _common import add_report_options, print_saved, publish, ratio_range
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "dev"))

import hifipose  # noqa: E402
import hifipose.api as hifipose_api  # noqa: E402
from hifipose.runtimes.base import Session  # noqa: E402
from hifipose_dev.data import SHARED_DATA, clip_frames  # noqa: E402
from hifipose_dev.holistic_parity import holistic_solution  # noqa: E402

MODELS = ("lite", "full", "heavy")
COMPLEXITY = {"lite": 0, "full": 1, "heavy": 2}
CLIP = SHARED_DATA / "tfjs_golden" / "pose_squats.mp4"
CROWD = SHARED_DATA / "multi" / "crossing_squats.mp4"
FRAME_MS = 1000.0 / 30.0
PART_NAMES = ("left_hand", "right_hand", "face")
#: PartsPipeline's stage methods (each: crops, the model on them, decoding).
STAGES = {
    "_recrop": "hand recrop",
    "_face_detect": "face detector",
    "_hands": "hand landmarks",
    "_faces": "face landmarks",
}
Frames = Sequence[NDArray[np.uint8]]
Step = Callable[[NDArray[np.uint8], int], tuple[int, int]]
P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def hifipose_runner(
    warm_up: NDArray[np.uint8],
    model: str,
    *,
    holistic: bool,
    num_poses: int = 1,
    threads: int | None = None,
    one_lane: bool = False,
) -> Iterator[Step]:
    """hifipose in video mode, run once on ``warm_up`` and reset: a step per frame.

    A step takes (frame, index) and returns (people, parts found) on that frame. ``one_lane``:
    the Holistic parts run as before the lanes (one lane on all threads), by emptying the
    private list of lane runtimes while the detector is made.
    """
    lane_runtimes = hifipose_api._LANE_RUNTIMES
    if one_lane:
        hifipose_api._LANE_RUNTIMES = ()
    try:
        detector = hifipose.create_detector(
            model_type=model, holistic=holistic, num_poses=num_poses, num_threads=threads
        )
    finally:
        hifipose_api._LANE_RUNTIMES = lane_runtimes
    with detector:
        detector.estimate_poses(warm_up)  # first detection, the interpreters' allocations
        detector.reset()

        def step(frame: NDArray[np.uint8], index: int) -> tuple[int, int]:
            poses = detector.estimate_poses(frame, timestamp_ms=index * FRAME_MS)
            parts = sum(getattr(p, name) is not None for p in poses for name in PART_NAMES)
            return len(poses), parts if holistic else 0

        yield step


@contextmanager
def mediapipe_runner(
    warm_up: NDArray[np.uint8], mp_holistic: ModuleType, model: str
) -> Iterator[Step]:
    """mediapipe's Holistic in video mode: a step per frame, as :func:`hifipose_runner`."""
    with mp_holistic.Holistic(model_complexity=COMPLEXITY[model]) as solution:
        solution.process(warm_up)
        solution.reset()

        def step(frame: NDArray[np.uint8], _index: int) -> tuple[int, int]:
            result = solution.process(frame)
            parts = sum(getattr(result, f"{name}_landmarks") is not None for name in PART_NAMES)
            return int(result.pose_landmarks is not None), parts

        yield step


def interleaved(
    runners: dict[str, AbstractContextManager[Step]], frames: Frames
) -> dict[str, dict[str, float]]:
    """Run every runner on each frame in turn; per runner: ms, people and parts per frame.

    All runners run on frame i before any runs on frame i + 1, so that a change of the
    machine's load falls on all of them alike.
    """
    totals = {name: [0.0, 0, 0] for name in runners}
    with ExitStack() as stack:
        steps = {name: stack.enter_context(runner) for name, runner in runners.items()}
        for index, frame in enumerate(frames):
            for name, step in steps.items():
                started = time.perf_counter()
                people, parts = step(frame, index)
                total = totals[name]
                total[0] += time.perf_counter() - started
                total[1] += people
                total[2] += parts
    count = len(frames)
    return {
        name: {"ms": 1e3 * seconds / count, "people": people / count, "parts": parts / count}
        for name, (seconds, people, parts) in totals.items()
    }


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over rounds."""
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


#: The profile's sums: the parts' two lanes add to them from two threads.
_SUMS = threading.Lock()


class TimedSession:
    """A session that adds each run's wall time to ``seconds[name]``.

    It has ``run_filled`` where the session it wraps has it (the crops then go straight
    into the runtime's input, as without the timer).
    """

    def __init__(self, inner: Session, name: str, seconds: dict[str, float]) -> None:
        self._inner, self._name, self._seconds = inner, name, seconds
        self.input_names, self.output_names = inner.input_names, inner.output_names
        if hasattr(inner, "run_filled"):
            self.run_filled = _timed(inner.run_filled, name, seconds)

    def run(
        self, inputs: Mapping[str, NDArray[np.float32]], output_names: Sequence[str] | None = None
    ) -> dict[str, NDArray[np.float32]]:
        started = time.perf_counter()
        out = self._inner.run(inputs, output_names)
        with _SUMS:
            self._seconds[self._name] += time.perf_counter() - started
        return out

    def close(self) -> None:
        self._inner.close()


def _timed(method: Callable[P, R], name: str, seconds: dict[str, float]) -> Callable[P, R]:
    """``method``, adding each call's wall time to ``seconds[name]``."""

    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        started = time.perf_counter()
        out = method(*args, **kwargs)
        with _SUMS:
            seconds[name] += time.perf_counter() - started
        return out

    return wrapper


def profile(
    frames: Frames, model: str, num_poses: int = 1, threads: int | None = None
) -> dict[str, float]:
    """ms per frame in each part of hifipose Holistic (one pass, video mode).

    Reaches into the detector's parts pipeline (private: a measuring tool, not an API): each
    stage method and each model session (of both lanes) is wrapped in a timer. With two
    lanes the stages' times are summed over both threads.
    """
    seconds: dict[str, float] = defaultdict(float)
    with hifipose.create_detector(
        model_type=model, holistic=True, num_poses=num_poses, num_threads=threads
    ) as detector:
        pipeline = detector._parts  # type: ignore[attr-defined]
        for lane in pipeline._lanes:
            sessions = lane.sessions
            for name in list(sessions):
                sessions[name] = TimedSession(sessions[name], f"model {name}", seconds)
        for method, stage in STAGES.items():
            setattr(pipeline, method, _timed(getattr(pipeline, method), stage, seconds))
        pipeline.run = _timed(pipeline.run, "parts", seconds)
        detector.estimate_poses(frames[0])
        detector.reset()
        seconds.clear()
        started = time.perf_counter()
        for index, frame in enumerate(frames):
            detector.estimate_poses(frame, timestamp_ms=index * FRAME_MS)
        seconds["frame"] = time.perf_counter() - started
    return {name: 1e3 * value / len(frames) for name, value in seconds.items()}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Every model's rounds, the several-people rounds and the profile: the report."""
    frames = clip_frames(CLIP)[: args.frames]
    crowd = clip_frames(CROWD)[: args.frames]
    threads = args.threads
    load_before = os.getloadavg()[0]
    models: dict[str, Any] = {}
    people: dict[str, Any] = {}
    with holistic_solution() as mp_holistic:
        for model in args.models:
            runs: dict[str, list[dict[str, float]]] = defaultdict(list)
            for round_index in range(args.rounds):
                timed = interleaved(
                    {
                        "holistic": hifipose_runner(
                            frames[0], model, holistic=True, threads=threads
                        ),
                        "pose": hifipose_runner(frames[0], model, holistic=False, threads=threads),
                        "one lane": hifipose_runner(
                            frames[0], model, holistic=True, threads=threads, one_lane=True
                        ),
                        "mediapipe": mediapipe_runner(frames[0], mp_holistic, model),
                    },
                    frames,
                )
                for name, figures in timed.items():
                    runs[name].append(figures)
                print(
                    f"{model} round {round_index}: hifipose {timed['holistic']['ms']:.1f} ms, "
                    f"MediaPipe {timed['mediapipe']['ms']:.1f} ms",
                    file=sys.stderr,
                )
            models[model] = {name: medians(rows) for name, rows in runs.items()}
            models[model]["ratios"] = [
                m["ms"] / h["ms"] for m, h in zip(runs["mediapipe"], runs["holistic"], strict=True)
            ]
        crowd_runs: dict[str, list[dict[str, float]]] = defaultdict(list)
        for _ in range(args.rounds):
            runners: dict[str, AbstractContextManager[Step]] = {
                str(n): hifipose_runner(
                    crowd[0], "full", holistic=True, num_poses=n, threads=threads
                )
                for n in args.people
            }
            runners["mediapipe"] = mediapipe_runner(crowd[0], mp_holistic, "full")
            for name, figures in interleaved(runners, crowd).items():
                crowd_runs[name].append(figures)
        people = {name: medians(rows) for name, rows in crowd_runs.items()}
    profiles = (
        {
            **{model: profile(frames, model, threads=threads) for model in args.models},
            "full, crossing_squats, num_poses=3": profile(crowd, "full", 3, threads),
        }
        if args.profile
        else {}
    )
    return {
        "clip": f"{CLIP.relative_to(SHARED_DATA)} ({len(frames)} frames, "
        f"{frames[0].shape[1]}×{frames[0].shape[0]})",
        "crowd": f"{CROWD.relative_to(SHARED_DATA)} ({len(crowd)} frames, "
        f"{crowd[0].shape[1]}×{crowd[0].shape[0]})",
        "rounds": args.rounds,
        "threads": args.threads,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "note": args.note,
        "models": models,
        "people": people,
        "profile": profiles,
    }


def _profile_rows(figures: dict[str, float]) -> list[tuple[str, float]]:
    """The profile as (what, ms per frame) rows that add up to the frame time."""
    models = {"hand recrop": "hand_recrop", "face detector": "face_detection_short_range"}
    models |= {"hand landmarks": "hand_landmark_full", "face landmarks": "face_landmark"}
    rows = [("pose (detector, landmarks, filters)", figures["frame"] - figures["parts"])]
    for stage in STAGES.values():
        inference = figures.get(f"model {models[stage]}", 0.0)
        rows.append((f"{stage}: model runs", inference))
        rows.append((f"{stage}: crops, decoding", figures.get(stage, 0.0) - inference))
    staged = sum(figures.get(stage, 0.0) for stage in STAGES.values())
    # with two lanes the stages overlap: their sum exceeds the parts' wall time
    rows.append(
        ("parts: search ROIs, tracking rule, less the lanes' overlap", figures["parts"] - staged)
    )
    return rows


def render(report: dict[str, Any]) -> str:
    """The report as Markdown tables."""
    lines = [
        "# Holistic speed against mediapipe 0.10.14 (solutions.holistic, npm model files)",
        "",
        f"Measured by `benchmarks/holistic_speed.py` ({report['machine']}; {report['note']}). "
        f"{report['clip']}, video mode, LiteRT {report.get('threads') or 'default'} threads "
        "(MediaPipe: its own); median ms per frame over "
        f"{report['rounds']} rounds; MediaPipe / hifipose: the per-round ratio, median (range), "
        "above 1 hifipose is faster.",
        "",
        "| model | hifipose Holistic ms | frames/s | MediaPipe Holistic ms | frames/s "
        "| MediaPipe / hifipose | hifipose pose alone ms | hifipose, parts in one lane ms "
        "| parts found per frame (hifipose / MediaPipe) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for model, row in report["models"].items():
        ours, theirs = row["holistic"], row["mediapipe"]
        one_lane = f"{row['one lane']['ms']:.1f}" if "one lane" in row else "–"
        lines.append(
            f"| {model} | {ours['ms']:.1f} | {1e3 / ours['ms']:.1f} | {theirs['ms']:.1f} | "
            f"{1e3 / theirs['ms']:.1f} | {ratio_range(row['ratios'])} | "
            f"{row['pose']['ms']:.1f} | {one_lane} | {ours['parts']:.2f} / {theirs['parts']:.2f} |"
        )
    people = report["people"]
    if people:
        base = people[str(min(int(n) for n in people if n != "mediapipe"))]
        lines += [
            "",
            f"Several people: {report['crowd']}, full model, `holistic=True`; cost per extra "
            "person: ms added over `num_poses=1` per person added per frame. MediaPipe's "
            f"Holistic (one person) on the same frames: {people['mediapipe']['ms']:.1f} ms.",
            "",
            "| num_poses | ms per frame | frames/s | people per frame | parts per frame "
            "| ms per extra person |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for num_poses, row in people.items():
            if num_poses == "mediapipe":
                continue
            added = row["people"] - base["people"]
            extra = f"{(row['ms'] - base['ms']) / added:.1f}" if added > 0.05 else "–"
            lines.append(
                f"| {num_poses} | {row['ms']:.1f} | {1e3 / row['ms']:.1f} | "
                f"{row['people']:.2f} | {row['parts']:.2f} | {extra} |"
            )
    if report["profile"]:
        names = list(report["profile"])
        lines += [
            "",
            "Where the time goes (`--profile`: one more pass with timers; ms per frame).",
            "",
            "| stage | " + " | ".join(names) + " |",
            "|---|" + "---:|" * len(names),
        ]
        table = [_profile_rows(report["profile"][name]) for name in names]
        for index, (what, _) in enumerate(table[0]):
            cells = " | ".join(f"{rows[index][1]:.1f}" for rows in table)
            lines.append(f"| {what} | {cells} |")
        frame_cells = " | ".join(f"{report['profile'][n]['frame']:.1f}" for n in names)
        lines.append(f"| **frame** | {frame_cells} |")
    before, after = report["load"]
    lines += ["", f"1-minute load average {before} before, {after} after.", ""]
    return "\n".join(lines)


def main() -> None:
    """Parse the options, time (or re-render a saved report), print and write it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--frames", type=int, default=None, help="first N frames of each clip")
    parser.add_argument("--people", nargs="+", type=int, default=[1, 2, 3], help="num_poses")
    parser.add_argument("--threads", type=int, help="hifipose's num_threads (default: its own)")
    parser.add_argument("--profile", action="store_true", help="also time the parts' stages")
    parser.add_argument(
        "--note", default="quiet machine", help="how loaded the machine was (into the table)"
    )
    add_report_options(parser)
    args = parser.parse_args()
    if args.render_only:
        print_saved(args.render_only, render)
        return
    publish(measure(args), render, args.markdown, args.json)


if __name__ == "__main__":
    main()
