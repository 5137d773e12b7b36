"""The tracking frame's own work outside the landmark model, before and after a change.

Tracking mode, one person, LiteRT, the squat clip from ../shared/data letterboxed into
640×480 (as ``benchmarks/run.sh``). Per model, in one child process per source tree:

* the frame's own work outside the model, per stage, in the calling thread's CPU time (each
  stage's function wrapped; other processes' load does not inflate it, cache misses apart):
  input checks, crop (warp, tensor), tensor in/out (the session's ``run`` less ``invoke``;
  ``run_filled`` less ``invoke`` and the crop it calls, where the session has it;
  ``run_each`` less those and the decoding it calls),
  decode (landmarks, heatmap refinement), projection, association, filters (smoothing, the
  track's record, next ROI), ``Pose`` construction, and the rest (the lock, the clock, the
  tracker's bookkeeping, Python glue);
* the ratio frame / model with 2 threads: the model's quiet time (its fastest back-to-back
  ``invoke`` in the whole run, any tree) plus that CPU work; and with one inference thread,
  where every part runs on the calling thread, frame and model both in CPU time;
* wall clock with 2 threads, medians and fastest: the model alone (back-to-back ``invoke``),
  ``estimate_poses`` over the 65 frames held in memory (from a list, as ``hifipose bench``
  times them: mostly out of the CPU's cache) and "fresh" (each frame copied just before the
  call, outside the timing, as a frame just decoded is).

Each source tree (``--src``, the first the baseline; default: ``--baseline REV`` of this
repository, extracted with ``git archive``, then this tree's ``src``) runs in its own child
process; the children alternate, round by round, so that load on a shared machine falls on
both, and each figure is the median over rounds of per-frame figures. The machine's load
average is reported.

    .venv/bin/python benchmarks/bench_overhead.py --baseline 41147a2 --rounds 3 --passes 2 \\
        --markdown benchmarks/results/overhead.md --json benchmarks/results/overhead.json
"""

from __future__ import annotations

import argparse
import functools
import importlib
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
    import cv2  # the child's import

    width, height = size_wh
    scale = min(width / frame.shape[1], height / frame.shape[0])
    small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.zeros((height, width, 3), np.uint8)
    y0, x0 = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
    canvas[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
    return canvas


def _timed(
    function: Callable[..., Any],
    stage: str,
    sink: dict[str, float],
    clock: Callable[[], float] = time.thread_time,
) -> Callable[..., Any]:
    """``function`` adding the ``clock`` time of each call to ``sink[stage]`` (seconds)."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - any wrapped function
        started = clock()
        try:
            return function(*args, **kwargs)
        finally:
            sink[stage] = sink.get(stage, 0.0) + clock() - started

    return wrapper


def _breakdown(
    detector: Any,  # noqa: ANN401 - either tree's PoseDetector
    interpreter: Any,  # noqa: ANN401 - LiteRT's Interpreter
    invoke: Callable[[], None],
    frames: list[NDArray[np.uint8]],
    passes: int,
) -> list[dict[str, float]]:
    """Per frame, seconds per stage: each stage's function wrapped in a timer (µs in all).

    The stages outside the model in this thread's CPU time (what load from other processes
    does not inflate, cache misses apart); ``invoke`` in wall time (its threads).
    """
    sink: dict[str, float] = {}
    for module_name, name, stage in STAGES:
        module = importlib.import_module(module_name)
        setattr(module, name, _timed(getattr(module, name), stage, sink))
    for owner, name, stage in METHODS:
        module_name, class_name = owner.split(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        setattr(cls, name, _timed(getattr(cls, name), stage, sink))
    session = detector._landmarks
    # a session that has the crop written into its input (run_filled) runs the crop inside;
    # one whose outputs are decoded in its own buffers (run_each) runs the decoding inside
    each = hasattr(session, "run_each")
    filled = each or hasattr(session, "run_filled")
    method = "run_each" if each else "run_filled" if filled else "run"
    setattr(session, method, _timed(getattr(session, method), "run", sink))
    interpreter.invoke = _timed(invoke, "invoke", sink, time.perf_counter)
    invoke_cpu: dict[str, float] = {}
    inner = interpreter.invoke
    interpreter.invoke = _timed(inner, "invoke_cpu", invoke_cpu)
    per_frame: list[dict[str, float]] = []
    for _ in range(passes):
        detector.reset()
        for index, frame in enumerate(frames):
            sink.clear()
            invoke_cpu.clear()
            started = time.thread_time()
            detector.estimate_poses(frame, timestamp_ms=index * FRAME_MS)
            total = time.thread_time() - started - invoke_cpu["invoke_cpu"]
            if index:
                stages = dict(sink)
                # run (CPU, this thread) less invoke's CPU on this thread
                stages["tensor in/out"] = stages.pop("run") - invoke_cpu["invoke_cpu"]
                if filled:
                    stages["tensor in/out"] -= stages["crop"]
                if each:
                    stages["tensor in/out"] -= stages["decode"]
                stages["filters"] -= stages.get("Pose", 0.0)
                outside = [s for s in stages if s != "invoke"]
                stages["rest"] = total - sum(stages[s] for s in outside)
                per_frame.append(stages)
    return per_frame


def _one_thread_cpu(model: str, frames: list[NDArray[np.uint8]]) -> tuple[float, float]:
    """Median CPU seconds per tracking frame and per invoke with one inference thread.

    Everything then runs on this thread, so its CPU time is the frame's whole work, which
    other processes' load does not inflate (beyond cache misses).
    """
    import hifipose

    with hifipose.create_detector(model_type=model, num_threads=1) as detector:
        interpreter = detector._landmarks._interpreter  # type: ignore[attr-defined]
        sink: dict[str, float] = {}
        interpreter.invoke = _timed(interpreter.invoke, "invoke", sink)
        frame_cpu, invoke_cpu = [], []
        detector.estimate_poses(frames[0])
        detector.reset()
        for index, frame in enumerate(frames):
            sink.clear()
            started = time.thread_time()
            detector.estimate_poses(frame, timestamp_ms=index * FRAME_MS)
            if index:
                frame_cpu.append(time.thread_time() - started)
                invoke_cpu.append(sink["invoke"])
    return statistics.median(frame_cpu), statistics.median(invoke_cpu)


def child(model: str, passes: int) -> dict[str, Any]:
    """Time one model with the ``hifipose`` on ``sys.path``; the figures as a dict (ms)."""
    import hifipose  # the tree under test, from PYTHONPATH

    frames = [_letterbox(f, SIZE_WH) for f in read_frames(CLIP, 65, rgb=True)]
    detector = hifipose.create_detector(model_type=model)
    interpreter = detector._landmarks._interpreter  # type: ignore[attr-defined]
    invoke = interpreter.invoke

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
    for _ in range(passes):  # interleaved, so load falls on all three alike
        alone += model_alone(len(frames))
        cold += frame_pass(fresh=False)
        fresh += frame_pass(fresh=True)
    per_frame = _breakdown(detector, interpreter, invoke, frames, passes)
    detector.close()
    frame_cpu_1t, invoke_cpu_1t = _one_thread_cpu(model, frames)
    ms = 1e3
    stages = {
        stage: ms * statistics.median(f.get(stage, 0.0) for f in per_frame) for stage in STAGE_ORDER
    }
    return {
        "model_alone_ms": ms * statistics.median(alone),
        "model_alone_min_ms": ms * min(alone),
        "frame_ms": ms * statistics.median(cold),
        "frame_min_ms": ms * min(cold),
        "frame_fresh_ms": ms * statistics.median(fresh),
        "frame_fresh_min_ms": ms * min(fresh),
        "outside_cpu_ms": ms
        * statistics.median(sum(v for k, v in f.items() if k != "invoke") for f in per_frame),
        "frame_cpu_1t_ms": ms * frame_cpu_1t,
        "model_cpu_1t_ms": ms * invoke_cpu_1t,
        "stages_ms": stages,
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
    out["ratio_cpu_1t"] = statistics.median(
        r["frame_cpu_1t_ms"] / r["model_cpu_1t_ms"] for r in runs
    )
    out["ratio_min"] = statistics.median(r["frame_min_ms"] / r["model_alone_min_ms"] for r in runs)
    out["ratio_fresh_min"] = statistics.median(
        r["frame_fresh_min_ms"] / r["model_alone_min_ms"] for r in runs
    )
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
    results = {m: {label: _median_runs(r) for label, r in runs[m].items()} for m in models}
    for model, by_tree in results.items():
        # two threads: the model's quietest invoke of the whole run (any tree: the same
        # model) plus the frame's own CPU work
        quiet = min(r["model_alone_min_ms"] for tree in runs[model].values() for r in tree)
        for result in by_tree.values():
            result["model_quiet_ms"] = quiet
            result["ratio_estimate"] = 1 + result["outside_cpu_ms"] / quiet
    return {
        "clip": f"{CLIP.name} letterboxed to {SIZE_WH[0]}×{SIZE_WH[1]}, 65 frames",
        "rounds": rounds,
        "passes": passes,
        "trees": [label for label, _ in trees],
        "results": results,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }


def render(report: dict[str, Any]) -> str:
    """The markdown tables of a report."""
    trees = report["trees"]
    rows = [
        (model, label, by_tree[label])
        for model, by_tree in report["results"].items()
        for label in trees
    ]
    lines = [
        f"Tracking mode, one person, LiteRT, {report['clip']}; medians over "
        f"{report['rounds']} alternating rounds (one child process per tree and model, "
        f"{report['passes']} passes each) of per-frame figures, ms "
        "(`benchmarks/bench_overhead.py`). The frame's own work is timed in CPU time of the "
        "calling thread (each stage's function wrapped), which other processes' load does "
        "not inflate (cache misses apart); the model's time is wall time (its two threads).",
        "",
        "**Outside the model, and the ratio frame / model** (2 threads: the model's fastest "
        "back-to-back invoke in the whole run, its quiet time, plus the frame's own CPU "
        "work; 1 thread: both in CPU time, every part on one thread):",
        "",
        "| model | tree | model alone (fastest) | outside the model, CPU | "
        "ratio, 2 threads | model, 1 thread, CPU | frame, 1 thread, CPU | ratio, 1 thread |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for model, label, r in rows:
        lines.append(
            f"| {model} | {label} | {r['model_quiet_ms']:.2f} | {r['outside_cpu_ms']:.2f} | "
            f"{r['ratio_estimate']:.2f}× | {r['model_cpu_1t_ms']:.2f} | "
            f"{r['frame_cpu_1t_ms']:.2f} | {r['ratio_cpu_1t']:.2f}× |"
        )
    lines += [
        "",
        "Per stage, CPU ms per frame outside the model ('invoke': the model inside the frame, "
        "wall; 'tensor in/out': the session's run less invoke; 'rest': the lock, clock, "
        "tracker bookkeeping and glue):",
        "",
        "| model | tree | " + " | ".join(STAGE_ORDER) + " |",
        "|---|---|" + "---:|" * len(STAGE_ORDER),
    ]
    for model, label, r in rows:
        cells = " | ".join(f"{r['stages_ms'][s]:.3f}" for s in STAGE_ORDER)
        lines.append(f"| {model} | {label} | {cells} |")
    lines += [
        "",
        "Wall clock, 2 threads (noisy on a loaded machine: medians and fastest frames; "
        "frames from a list in memory as `hifipose bench` times them, or 'fresh', each "
        "copied just before the call as a frame just decoded):",
        "",
        "| model | tree | model alone | frame | frame, fresh | fastest model | fastest frame | "
        "ratio of fastest | ratio of fastest, fresh |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for model, label, r in rows:
        lines.append(
            f"| {model} | {label} | {r['model_alone_ms']:.2f} | {r['frame_ms']:.2f} | "
            f"{r['frame_fresh_ms']:.2f} | {r['model_alone_min_ms']:.2f} | "
            f"{r['frame_min_ms']:.2f} | {r['ratio_min']:.2f}× | {r['ratio_fresh_min']:.2f}× |"
        )
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
