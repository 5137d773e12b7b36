"""Measure hifipose's agreement with MediaPipe (mediapipe==0.10.14): the figures the tests pin.

Runs exactly what tests/integration/test_parity_mediapipe.py runs (every photo and clip
frame in ../shared/data, static mode; every clip, video mode; each model on each CPU
runtime, against ``mediapipe.solutions.pose`` fed the same frames), and prints per
(mode, sequence, model, runtime) the mean and the 95th percentile over frames of the image
landmark error (% of the box diagonal), world error (cm), |Δ visibility| and |Δ z| (% of
the box diagonal). The parity tests hold each figure to ``measured × PARITY_MARGIN``
(tests/tolerances.py); rerun this after a deliberate numeric change and paste the
``PARITY_MEASURED`` literal it prints into tests/tolerances.py.

    PYTHONPATH=src .venv/bin/python benchmarks/parity_figures.py
    PYTHONPATH=src .venv/bin/python benchmarks/parity_figures.py --models lite --runtimes litert
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import hifipose
from hifipose.bench import install_solution_models

# The development package (dev/hifipose_dev), not part of the wheel.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dev"))
from hifipose_dev.data import CPU_RUNTIMES, clip_frames, read_rgb, shared_clips, shared_images
from hifipose_dev.parity import COMPLEXITY, compare_to_references, mediapipe_references

MODEL_TYPES = ("lite", "full", "heavy")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODEL_TYPES))
    parser.add_argument("--runtimes", default=",".join(CPU_RUNTIMES))
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    from mediapipe.python.solutions import pose as mp_pose

    install_solution_models()
    static_frames = [read_rgb(p) for p in shared_images()]
    for clip in shared_clips():
        static_frames.extend(clip_frames(clip))
    sequences: list[tuple[str, str, tuple]] = [("static", "all", tuple(static_frames))]
    sequences += [("video", clip.name, clip_frames(clip)) for clip in shared_clips()]
    measured: dict[str, dict[str, float]] = {}
    print(
        "| mode | sequence | model | runtime | frames | rel mean % | rel p95 % | world mean cm"
        " | world p95 cm | vis mean | vis p95 | z mean % | z p95 % | pose/no-pose | other person |"
    )
    print("|" + "---|" * 15)
    for model_type in args.models.split(","):
        for mode, name, frames in sequences:
            started = time.perf_counter()
            with mp_pose.Pose(
                static_image_mode=mode == "static", model_complexity=COMPLEXITY[model_type]
            ) as solution:
                references = mediapipe_references(frames, solution)
            mp_s = time.perf_counter() - started
            for runtime in args.runtimes.split(","):
                started = time.perf_counter()
                with hifipose.create_detector(
                    model_type=model_type, runtime=runtime, static_image_mode=mode == "static"
                ) as detector:
                    stats = compare_to_references(frames, detector, references)
                ours_s = time.perf_counter() - started
                f: dict[str, float] = stats.figures()
                f["presence_mismatches"] = len(stats.presence_mismatches)
                f["other_person"] = len(stats.other_person)
                measured[f"{mode}/{name}/{model_type}/{runtime}"] = f
                print(
                    f"| {mode} | {name} | {model_type} | {runtime} | {stats.frames} "
                    f"| {100 * f['rel_mean']:.4f} | {100 * f['rel_p95']:.4f} "
                    f"| {100 * f['world_m_mean']:.4f} | {100 * f['world_m_p95']:.4f} "
                    f"| {f['visibility_mean']:.5f} | {f['visibility_p95']:.5f} "
                    f"| {100 * f['z_rel_mean']:.4f} | {100 * f['z_rel_p95']:.4f} "
                    f"| {len(stats.presence_mismatches)} | {len(stats.other_person)} |"
                    f"  <!-- mediapipe {mp_s:.0f} s, hifipose {ours_s:.0f} s -->",
                    flush=True,
                )
    print("\nPARITY_MEASURED = {")
    for key, figures in measured.items():
        values = ", ".join(f'"{k}": {v:.3g}' for k, v in figures.items())
        print(f'    "{key}": {{{values}}},')
    print("}")
    if args.json:
        args.json.write_text(json.dumps(measured, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
