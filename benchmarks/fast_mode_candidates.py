"""What could be a fast mode on this CPU: the landmark model's speed and what each costs.

Issue 26 asks for a fast mode (never the default) that tracks faster than the exact one and
is accepted: within 1 point of fp32's PCK@0.2 on the labelled photos, with no photo or clip
frame flipping between pose and no pose. Which modes can be faster depends on the CPU: bf16
needs AVX512_BF16 or AMX, OpenVINO's int8 needs VNNI or AMX (it is refused without), and
LiteRT's int8 runs XNNPACK's int8 kernels, which gain little without VNNI. This script
measures, on the machine it runs on:

* the landmark model alone on LiteRT (2 threads, the outputs tracking reads, sessions taking
  turns in blocks as ``bench_int8.model_ms``): fp32; int8 as shipped (``precision="int8"``);
  int8 with every trunk op quantised (only the heatmap and segmentation branches float: the
  most int8 can do); fp32 without the heatmap branch;
* the accuracy of the one candidate that saves work outside the model too: tracking without
  the heatmap refinement (which also drops that branch), against fp32 with it, by the
  acceptance rule above (PCK, ``hifipose evaluate``'s AP, deviation and flips on the clips).

    PYTHONPATH=src .venv/bin/python benchmarks/fast_mode_candidates.py \\
        --markdown benchmarks/results/fast_mode_candidates.md \\
        --json benchmarks/results/fast_mode_candidates.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np
from _common import add_report_options, print_saved, publish, read_frames
from ai_edge_litert.interpreter import Interpreter
from bench_int8 import CLIPS, LABELLED, deviation, model_ms, pck, track
from numpy.typing import NDArray

import hifipose
import hifipose.detector
from hifipose.bench import machine
from hifipose.config import ModelType
from hifipose.convert import prune_tflite
from hifipose.convert.quantize import float_ops, quantize_tflite, recipe_float_ops
from hifipose.detector import landmark_outputs
from hifipose.evaluate import evaluate_detector, load_annotations
from hifipose.models import ensure_model, landmark_model_name

# The development package (dev/hifipose_dev), not part of the wheel.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dev"))
from hifipose_dev.data import read_rgb

MODELS = ("lite", "full", "heavy")
RANGES = Path(hifipose.convert.__file__).parent / "int8_ranges"
#: The heatmap output of the landmark model (what the refinement reads).
HEATMAP = "Identity_3"


class _Model:
    """A .tflite model on LiteRT, 2 threads, with the ``run`` that ``model_ms`` calls."""

    def __init__(self, blob: bytes, outputs: tuple[str, ...]) -> None:
        self._interpreter = Interpreter(model_content=prune_tflite(blob, outputs), num_threads=2)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]

    def run(self, feeds: Mapping[str, NDArray[np.float32]]) -> None:
        self._interpreter.set_tensor(self._input, feeds["input_1"])
        self._interpreter.invoke()


def variants(model: ModelType) -> dict[str, _Model]:
    """The model's candidate forms, by name (see the module docstring)."""
    data = ensure_model(landmark_model_name(model)).read_bytes()
    record = json.loads((RANGES / f"pose_landmark_{model}.json").read_text())
    ranges = {key: (float(low), float(high)) for key, (low, high) in record["ranges"].items()}
    means = record.get("means")
    tracking = landmark_outputs(enable_segmentation=False)
    shipped = quantize_tflite(data, ranges, keep_float=recipe_float_ops(data, record), means=means)
    trunk = quantize_tflite(
        data, ranges, keep_float=float_ops(data, stem_ops=0, tail_ops=0), means=means
    )
    return {
        "fp32": _Model(data, tracking),
        "int8 (shipped)": _Model(shipped, tracking),
        "int8 (whole trunk)": _Model(trunk, tracking),
        "fp32 without heatmap": _Model(data, tuple(o for o in tracking if o != HEATMAP)),
    }


@contextmanager
def without_refinement() -> Iterator[None]:
    """The pipeline with the heatmap refinement skipped (the decoded landmarks kept as they are)."""
    module = hifipose.detector
    refine = module.__dict__["refine_with_heatmap"]
    setattr(module, "refine_with_heatmap", lambda landmarks, _heatmap, _kernel: landmarks)  # noqa: B010
    try:
        yield
    finally:
        setattr(module, "refine_with_heatmap", refine)  # noqa: B010


def accuracy(model: ModelType, clips: list[list[NDArray[np.uint8]]]) -> dict[str, Any]:
    """fp32 with and without the heatmap refinement, by the fast modes' acceptance rule."""
    annotations = json.loads((LABELLED / "annotations.json").read_text())
    photos = [read_rgb(LABELLED / a["image"]) for a in annotations]
    truth = load_annotations(LABELLED / "annotations.json")
    runs: dict[str, dict[str, Any]] = {}
    for name, refined in (("with", True), ("without", False)):
        with nullcontext() if refined else without_refinement():
            with hifipose.create_detector(model_type=model, static_image_mode=True) as detector:
                predicted = [
                    np.array([[k.x, k.y] for k in p[0].keypoints])
                    if (p := detector.estimate_poses(photo))
                    else None
                    for photo in photos
                ]
            with hifipose.create_detector(model_type=model) as detector:
                tracked = [pose for frames in clips for pose in track(detector, frames)]
            evaluation, _ = evaluate_detector(truth, LABELLED, {"model_type": model})
        score, with_pose = pck(annotations, predicted)
        runs[name] = {
            "pck": score,
            "photos_with_pose": with_pose,
            "evaluate": evaluation.row(),
            "predicted": predicted,
            "tracked": tracked,
        }
    return {
        name: {
            "pck": run["pck"],
            "photos_with_pose": run["photos_with_pose"],
            "evaluate": run["evaluate"],
            "photo_deviation": deviation(runs["with"]["predicted"], run["predicted"]),
            "clip_deviation": deviation(runs["with"]["tracked"], run["tracked"]),
        }
        for name, run in runs.items()
    }


def render(report: dict[str, Any]) -> str:
    """The report as Markdown."""
    lines = [
        "Fast-mode candidates on this CPU (`benchmarks/fast_mode_candidates.py`). Model: the "
        "landmark model alone on LiteRT, 2 threads, the outputs tracking reads, median ms of "
        f"{report['rounds']} rounds of sessions taking turns; speed-up against fp32.",
        "",
        f"Machine: {report['machine']}, {report['load_after']:.1f} at the end.",
        "",
        "| model | fp32 ms | int8 (shipped) | int8 (whole trunk) | fp32 without heatmap |",
        "|---|---:|---:|---:|---:|",
    ]
    for model, entry in report["models"].items():
        ms = entry["model_ms"]
        cells = [f"{ms[k]:.2f} ms ({ms['fp32'] / ms[k]:.2f}×)" for k in list(ms)[1:]]
        lines.append(f"| {model} | {ms['fp32']:.2f} | {' | '.join(cells)} |")
    lines += [
        "",
        "Tracking without the heatmap refinement, against fp32 with it (the acceptance rule: "
        "PCK@0.2 within 1 point, no flip). PCK on the 20 labelled photos (static image mode); "
        "AP: `hifipose evaluate`; deviation in % of the box diagonal, mean / p95; flips: "
        "photos or clip frames where only one found a pose.",
        "",
        "| model | refinement | PCK | AP | photo deviation | clip deviation | flips | accepted |",
        "|---|---|---:|---:|---|---|---:|---|",
    ]
    for model, entry in report["models"].items():
        if "accuracy" not in entry:
            continue
        reference = entry["accuracy"]["with"]["pck"]
        for name, row in entry["accuracy"].items():
            photo, clip = row["photo_deviation"], row["clip_deviation"]
            flips = photo["flips"] + clip["flips"]
            accepted = "—" if name == "with" else _verdict(row["pck"], reference, flips)
            lines.append(
                f"| {model} | {name} | {row['pck']:.1f} | {row['evaluate']['AP']:.3f} | "
                f"{photo['mean_pct']:.2f} % / {photo['p95_pct']:.2f} % | "
                f"{clip['mean_pct']:.2f} % / {clip['p95_pct']:.2f} % | {flips} | {accepted} |"
            )
    return "\n".join(lines) + "\n"


def _verdict(score: float, reference: float, flips: int) -> str:
    if flips:
        return f"no ({flips} flips)"
    return "yes" if score >= reference - 1.0 else f"no (PCK {score - reference:+.1f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=40, help="model runs per round")
    parser.add_argument("--no-accuracy", action="store_true")
    add_report_options(parser)
    args = parser.parse_args()
    if args.render_only:
        print_saved(args.render_only, render)
        return 0
    report: dict[str, Any] = {"machine": machine(), "rounds": args.rounds, "models": {}}
    annotations = json.loads((LABELLED / "annotations.json").read_text())
    photo = read_rgb(LABELLED / annotations[0]["image"])
    crop = cv2.resize(photo, (256, 256)).astype(np.float32)[None] / 255.0
    clips = [] if args.no_accuracy else [list(read_frames(p, rgb=True)) for p in CLIPS]
    models = cast(list[ModelType], args.models.split(","))
    for model in models:
        sessions = variants(model)
        times: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            for key, value in model_ms(sessions, crop, args.runs).items():
                times.setdefault(key, []).append(value)
        entry: dict[str, Any] = {"model_ms": {k: statistics.median(v) for k, v in times.items()}}
        print(f"{model}: {entry['model_ms']}", flush=True)
        if not args.no_accuracy:
            entry["accuracy"] = accuracy(model, clips)
        report["models"][model] = entry
    report["load_after"] = os.getloadavg()[0]
    publish(report, render, args.markdown, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
