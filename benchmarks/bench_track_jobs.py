"""``hifipose track A B C D --jobs 2`` against ``--jobs 1``: total frames/s of several inputs.

Runs, in interleaved rounds, the same ``track`` command line over the shared clips (each
given ``--copies`` times, so the inputs are ``--copies`` × 2):

* ``--jobs 1``: the inputs in turn, one process, the runtime's default inference threads;
* ``--jobs 2``: two worker processes of the batch engine's local pool, one thread each;
* ``--runtime mediapipe`` (MediaPipe Tasks), ``--jobs 1``: the ratio's denominator.

Each command is a fresh ``python -m hifipose`` process (OMP_NUM_THREADS unset). Two rates
per run: the command's wall clock (start-up, imports and model loading included: what a
user waits for) and the command's own clock (from the first input to the last outcome:
worker start-up and each input's detector creation included, interpreter start-up not).
Each round also runs every command with ``--max-frames 1``: its own clock is then the
start-up (worker processes, imports, one detector per input) that short clips pay.
The machine may be shared: the 1-minute load average is recorded before every command,
and the CPU time of the command and its workers (user + system) gives frames per
CPU-second, a figure that other sessions' load disturbs much less than frames/s.

    .venv/bin/python benchmarks/bench_track_jobs.py --rounds 5 \
        --markdown benchmarks/results/track_jobs.md
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import DATA, ROOT, add_report_options, print_saved, publish, ratio_range

CLIPS = ("tfjs_golden/pose_squats.mp4", "multi/crossing_squats.mp4")
SUMMARY = re.compile(r"(\d+) inputs, (\d+) frames in ([\d.]+) s")
CASES = {  # row → extra arguments
    "--jobs 1 (default threads)": ["--jobs", "1"],
    "--jobs 2 (1 thread each)": ["--jobs", "2"],
    "mediapipe, --jobs 1": ["--jobs", "1", "--runtime", "mediapipe"],
}
MEDIAPIPE = "mediapipe, --jobs 1"
BASELINE = "--jobs 1 (default threads)"


def run_case(inputs: list[str], out: Path, model: str, extra: list[str]) -> dict[str, float]:
    """One ``track`` command: frames, wall and own seconds, CPU seconds, the load before."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["PYTHONPATH"] = str(ROOT / "src")
    command = [sys.executable, "-m", "hifipose", "track", *inputs, "--model", model, "--quiet"]
    command += ["-o", str(out / "{index}_{stem}.csv"), *extra]
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command and its workers
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    match = SUMMARY.search(done.stdout)
    if done.returncode != 0 or match is None:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return {
        "frames": int(match[2]),
        "wall_s": wall,
        "own_s": float(match[3]),
        "cpu_s": cpu,
        "load": load,
    }


def paired(rounds: list[dict[str, dict[str, float]]], name: str, other: str, key: str) -> str:
    """Median (min–max) over rounds of the frames/s ratio of two rows of the same round."""
    # seconds: other / name = fps ratio
    return ratio_range(r[other][key] / r[name][key] for r in rounds)


def render(report: dict[str, Any]) -> str:
    """The Markdown table of a report."""
    rounds = report["rounds"]
    loads = [case["load"] for r in rounds for case in r.values()]
    lines = [
        f"`hifipose track` over {report['inputs']} inputs ({report['frames']} frames: "
        f"{', '.join(report['clips'])}, each {report['copies']}×), {report['model']} model, "
        f"litert unless stated, {report['cores']} cores ({report['machine']}), "
        f"{len(rounds)} interleaved rounds; frames/s are medians over rounds, ratios the "
        "median (min–max) over rounds of the ratio within a round. Wall: the whole "
        "`python -m hifipose` command; own clock: the command's, from the first input to "
        "the last (worker and detector start-up included); start-up: the own clock of the "
        "same command with `--max-frames 1`; cores used: CPU seconds of the command and its "
        "workers over its own clock (interpreter start-up counts in the CPU time only).",
        "",
        f"Load: the machine was shared with other sessions; the 1-minute load average before "
        f"a command was {min(loads):.1f}–{max(loads):.1f} (median "
        f"{statistics.median(loads):.1f}) on {report['cores']} cores.",
        "",
        "| case | frames/s (wall) | frames/s (own clock) | vs --jobs 1 (own clock) "
        "| vs MediaPipe (own clock) | vs MediaPipe (wall) | start-up (s) "
        "| frames per CPU-second | cores used |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in CASES:
        wall = statistics.median(r[name]["frames"] / r[name]["wall_s"] for r in rounds)
        own = statistics.median(r[name]["frames"] / r[name]["own_s"] for r in rounds)
        versus = paired(rounds, name, BASELINE, "own_s") if name != BASELINE else ""
        mp_own = paired(rounds, name, MEDIAPIPE, "own_s") if name != MEDIAPIPE else ""
        mp_wall = paired(rounds, name, MEDIAPIPE, "wall_s") if name != MEDIAPIPE else ""
        starts = [r[name]["startup_s"] for r in rounds if "startup_s" in r[name]]
        startup = f"{statistics.median(starts):.1f}" if starts else "not measured"
        cpus = [r[name]["frames"] / r[name]["cpu_s"] for r in rounds if "cpu_s" in r[name]]
        per_cpu = f"{statistics.median(cpus):.1f}" if cpus else "not measured"
        used = [r[name]["cpu_s"] / r[name]["own_s"] for r in rounds if "cpu_s" in r[name]]
        cores = f"{statistics.median(used):.2f}" if used else "not measured"
        lines.append(
            f"| {name} | {wall:.1f} | {own:.1f} | {versus} | {mp_own} | {mp_wall} "
            f"| {startup} | {per_cpu} | {cores} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="full")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--copies", type=int, default=2, help="times each clip is an input")
    add_report_options(parser)
    args = parser.parse_args()
    if args.render_only:
        print_saved(args.render_only, render)
        return 0
    inputs = [str(DATA / clip) for clip in CLIPS] * args.copies
    rounds: list[dict[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as folder:
        for index in range(args.rounds):
            results = {}
            for name, extra in CASES.items():
                results[name] = run_case(inputs, Path(folder), args.model, extra)
                start = run_case(inputs, Path(folder), args.model, [*extra, "--max-frames", "1"])
                results[name]["startup_s"] = start["own_s"]
                fps = results[name]["frames"] / results[name]["own_s"]
                load = results[name]["load"]
                print(f"round {index + 1}: {name}: {fps:.1f} fps (load {load:.1f})", flush=True)
            rounds.append(results)
    report = {
        "model": args.model,
        "clips": list(CLIPS),
        "copies": args.copies,
        "inputs": len(inputs),
        "frames": rounds[0][BASELINE]["frames"],
        "cores": len(os.sched_getaffinity(0)),
        "machine": platform.processor() or platform.machine(),
        "rounds": rounds,
    }
    publish(report, render, args.markdown, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
