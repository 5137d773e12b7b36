"""The tracking frame's own work outside the landmark model, before and after a change.

Tracking mode, one person, LiteRT (default threads), the squat clip from ../shared/data
letterboxed into 640×480 (as ``benchmarks/run.sh``). Per model it times, in one process:

* model alone: the landmark interpreter's ``invoke`` back to back on one input, the model's
  own time (the issue's "model alone");
* frame: ``estimate_poses`` per frame, over the 65 frames held in memory (from a list, as
  ``hifipose bench`` times them: mostly out of the CPU's cache) and "fresh" (each frame copied
  just before the call, outside the timing, as a frame just decoded is);
* the ratio frame / model alone, and per stage (a separate pass with each stage's function
  wrapped in a timer): input checks, crop (warp, tensor), tensor in/out (the session's
  ``run`` less ``invoke``), the model's ``invoke``, decode (landmarks, heatmap refinement),
  projection, association, filters (smoothing, the track's record, next ROI), ``Pose``
  construction, and the rest (the lock, the clock, the tracker's bookkeeping, Python glue).

Each source tree (``--src``, the first the baseline; default: ``--baseline REV`` of this
repository, extracted with ``git archive``, then this tree's ``src``) runs in its own child
process; the children alternate, round by round, so that load on a shared machine falls on
both, and each figure is the median over rounds of per-frame medians. The machine's load
average is reported.

    .venv/bin/python benchmarks/bench_overhead.py --baseline 41147a2 --rounds 5 \\
        --markdown benchmarks/results/overhead.md --json benchmarks/results/overhead.json
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _common import DATA, ROOT, add_report_options, print_saved, publish, read_frames
from numpy.typing import NDArray

CLIP = DATA / "tfjs_golden" / "pose_squats.mp4"
SIZE_WH = (640, 480)
FRAME_MS = 1000 / 30
#: (module, attribute, stage): the functions the breakdown pass wraps; nested ones are
#: subtracted from their caller (tensor in/out = run − invoke, filters = _smooth − Pose).
STAGES = (
    ("hifipose.detector", "check_image", "checks"),
    ("hifipose.detector", "crop_image", "crop"),
    ("hifipose.detector", "project_landmarks", "projection"),
    ("hifipose.detector", "rotate_world", "projection"),
    ("hifipose.detector", "_to_pose", "Pose"),
)
METHODS = (
    ("hifipose.detector:BlazePoseDetector", "_crop_view", "decode"),
    ("hifipose.tracker:MultiTracker", "associate", "association"),
    ("hifipose.detector:BlazePoseDetector", "_smooth", "filters"),
)
STAGE_ORDER = (
    "checks",
    "crop",
    "tensor in/out",
    "invoke",
    "decode",
    "projection",
    "association",
    "filters",
    "Pose",
    "rest",
)


# --- the child: one source tree, one model ---------------------------------------------


def _letterbox(frame: NDArray[np.uint8], size_wh: tuple[int, int]) -> NDArray[np.uint8]:
    """As ``hifipose.bench.letterbox`` (area averaging), without importing either tree."""
    import cv2  # noqa: PLC0415 - the child's import

    width, height = size_wh
    scale = min(width / frame.shape[1], height / frame.shape[0])
    small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.zeros((height, width, 3), np.uint8)
    y0, x0 = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
    canvas[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
    return canvas


def _timed(function: Callable[..., Any], stage: str, sink: dict[str, float]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - any wrapped function
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            sink[stage] = sink.get(stage, 0.0) + time.perf_counter() - started

    return wrapper


def child(model: str, passes: int) -> dict[str, Any]:
    """Time one model with the ``hifipose`` on ``sys.path``; the figures as a dict (ms)."""
    import importlib  # noqa: PLC0415

    import hifipose  # noqa: PLC0415 - the tree under test, from PYTHONPATH

    frames = [_letterbox(f, SIZE_WH) for f in read_frames(CLIP, 65, rgb=True)]
    detector = hifipose.create_detector(model_type=model)
    interpreter = detector._landmarks._interpreter  # type: ignore[attr-defined]  # noqa: SLF001
    invoke = interpreter.invoke
    in_frame: list[float] = []

    def timed_invoke() -> None:
        started = time.perf_counter()
        invoke()
        in_frame.append(time.perf_counter() - started)

    def model_alone(count: int) -> list[float]:
        times = []
        for _ in range(count):
            started = time.perf_counter()
            invoke()
            times.append(time.perf_counter() - started)
        return times

    def frame_pass(*, fresh: bool) -> list[float]:
        detector.reset()
        times = []
        for index, source in enumerate(frames):
            frame = source.copy() if fresh else source
            started = time.perf_counter()
            detector.estimate_poses(frame, timestamp_ms=index * FRAME_MS)
            times.append(time.perf_counter() - started)
        return times[1:]  # the first frame runs the detector

    detector.estimate_poses(frames[0])  # warm-up
    alone, cold, fresh = [], [], []
    interpreter.invoke = timed_invoke
    for _ in range(passes):  # interleaved, so load falls on all three alike
        alone += model_alone(len(frames))
        cold += frame_pass(fresh=False)
        fresh += frame_pass(fresh=True)
    invoke_in_frame = statistics.median(in_frame)

    # Breakdown pass: each stage's function wrapped in a timer (a few µs in all).
    sink: dict[str, float] = {}
    for module_name, name, stage in STAGES:
        module = importlib.import_module(module_name)
        setattr(module, name, _timed(getattr(module, name), stage, sink))
    for owner, name, stage in METHODS:
        module_name, class_name = owner.split(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        setattr(cls, name, _timed(getattr(cls, name), stage, sink))
    session = detector._landmarks  # type: ignore[attr-defined]  # noqa: SLF001
    session.run = _timed(session.run, "run", sink)
    interpreter.invoke = _timed(invoke, "invoke", sink)
    per_frame: list[dict[str, float]] = []
    for _ in range(passes):
        detector.reset()
        for index, frame in enumerate(frames):
            sink.clear()
            started = time.perf_counter()
            detector.estimate_poses(frame, timestamp_ms=index * FRAME_MS)
            total = time.perf_counter() - started
            if index:
                stages = dict(sink)
                stages["tensor in/out"] = stages.pop("run") - stages["invoke"]
                stages["filters"] -= stages.get("Pose", 0.0)
                stages["rest"] = total - sum(stages.values())
                per_frame.append(stages)
    detector.close()
    ms = 1e3
    return {
        "model_alone_ms": ms * statistics.median(alone),
        "invoke_in_frame_ms": ms * invoke_in_frame,
        "frame_ms": ms * statistics.median(cold),
        "frame_fresh_ms": ms * statistics.median(fresh),
        "stages_ms": {
            stage: ms * statistics.median(f.get(stage, 0.0) for f in per_frame)
            for stage in STAGE_ORDER
        },
    }


# --- the parent: alternate the trees, collect, render ------------------------------------


def _extract(revision: str, into: Path) -> Path:
    """This repository's ``src`` at ``revision`` (``git archive``), under ``into``."""
    archive = into / "src.tar"
    subprocess.run(
        ["git", "-C", str(ROOT), "archive", "-o", str(archive), revision, "src"],  # noqa: S607
        check=True,
    )
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def _run_child(src: Path, model: str, passes: int) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(src))
    done = subprocess.run(
        [sys.executable, __file__, "--child", model, "--passes", str(passes)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _median_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [k for k in runs[0] if k != "stages_ms"]
    out: dict[str, Any] = {k: statistics.median(r[k] for r in runs) for k in keys}
    out["stages_ms"] = {
        s: statistics.median(r["stages_ms"][s] for r in runs) for s in runs[0]["stages_ms"]
    }
    out["ratio"] = statistics.median(r["frame_ms"] / r["model_alone_ms"] for r in runs)
    out["ratio_fresh"] = statistics.median(r["frame_fresh_ms"] / r["model_alone_ms"] for r in runs)
    return out


def measure(
    trees: list[tuple[str, Path]], models: list[str], rounds: int, passes: int
) -> dict[str, Any]:
    """Alternate the trees round by round; per model and tree the medians over rounds."""
    load_before = os.getloadavg()[0]
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {
        m: {label: [] for label, _ in trees} for m in models
    }
    for round_index in range(rounds):
        for model in models:
            order = trees if round_index % 2 == 0 else trees[::-1]
            for label, src in order:
                runs[model][label].append(_run_child(src, model, passes))
                print(f"round {round_index + 1}/{rounds} {model} {label}", file=sys.stderr)
    return {
        "clip": f"{CLIP.name} letterboxed to {SIZE_WH[0]}×{SIZE_WH[1]}, 65 frames",
        "rounds": rounds,
        "passes": passes,
        "trees": [label for label, _ in trees],
        "results": {m: {label: _median_runs(r) for label, r in runs[m].items()} for m in models},
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }


def render(report: dict[str, Any]) -> str:
    """The markdown tables of a report."""
    trees = report["trees"]
    lines = [
        f"Tracking mode, one person, LiteRT (default threads), {report['clip']}; medians over "
        f"{report['rounds']} alternating rounds (one child process per tree and model, "
        f"{report['passes']} passes each) of per-frame medians, ms "
        "(`benchmarks/bench_overhead.py`). Ratio: frame / model alone (the landmark "
        "interpreter's invoke back to back). Frames from a list in memory, as "
        "`hifipose bench` times them; 'fresh': each copied just before the call, as a frame "
        "just decoded.",
        "",
        "| model | tree | model alone | frame | ratio | outside the model | "
        "frame, fresh | ratio, fresh |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for model, by_tree in report["results"].items():
        for label in trees:
            r = by_tree[label]
            lines.append(
                f"| {model} | {label} | {r['model_alone_ms']:.2f} | {r['frame_ms']:.2f} | "
                f"{r['ratio']:.2f}× | {r['frame_ms'] - r['model_alone_ms']:.2f} | "
                f"{r['frame_fresh_ms']:.2f} | {r['ratio_fresh']:.2f}× |"
            )
    lines += [
        "",
        "Per stage (ms per frame, breakdown pass with each stage's function timed; 'invoke' "
        "is the model inside the frame, 'rest' the lock, clock, tracker bookkeeping and "
        "glue):",
        "",
        "| model | tree | " + " | ".join(STAGE_ORDER) + " |",
        "|---|---|" + "---:|" * len(STAGE_ORDER),
    ]
    for model, by_tree in report["results"].items():
        for label in trees:
            stages = by_tree[label]["stages_ms"]
            cells = " | ".join(f"{stages[s]:.3f}" for s in STAGE_ORDER)
            lines.append(f"| {model} | {label} | {cells} |")
    lines += [
        "",
        f"Machine: {report['machine']}; 1-minute load average {report['load_before']:.2f} "
        f"before, {report['load_after']:.2f} after.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", metavar="MODEL", help=argparse.SUPPRESS)
    parser.add_argument("--passes", type=int, default=3, help="passes over the clip per child")
    parser.add_argument("--baseline", default="HEAD", help="git revision of the 'before' tree")
    parser.add_argument(
        "--src", action="append", type=Path, help="source trees to compare (replaces --baseline)"
    )
    parser.add_argument("--models", default="lite,full,heavy")
    parser.add_argument("--rounds", type=int, default=5)
    add_report_options(parser)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.passes)))
        return
    if args.render_only:
        print_saved(args.render_only, render)
        return
    with tempfile.TemporaryDirectory() as scratch:
        if args.src:
            trees = [(str(src), src.resolve()) for src in args.src]
        else:
            before = _extract(args.baseline, Path(scratch))
            trees = [(f"before ({args.baseline})", before), ("after", ROOT / "src")]
        report = measure(trees, args.models.split(","), args.rounds, args.passes)
    publish(report, render, args.markdown, args.json)


if __name__ == "__main__":
    main()
