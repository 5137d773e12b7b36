"""runtime="openvino" and its fast modes (bf16, int8) against LiteRT fp32: speed and accuracy.

For each landmark model (lite, full, heavy):

* the model alone (pruned to the outputs tracking reads, one 256×256 crop, 2 threads),
  LiteRT fp32, OpenVINO f32 / bf16 / int8 and LiteRT int8, taking turns in blocks (see
  bench_int8.model_ms), plus the detector (LiteRT fp32, OpenVINO f32 / bf16); GFLOP/s from
  the landmark model's convolution GFLOP;
* the acceptance of each mode against LiteRT fp32: PCK@0.2 and ``hifipose evaluate``'s COCO
  AP on the 20 labelled photos (static image mode), the deviation from fp32 (% of the fp32
  box diagonal) on those photos and on the shared clips (tracking), and the photos and
  frames where only one of the two found a pose (flips). A mode is accepted when its PCK is
  within 0.01 (1 point) of fp32's and nothing flips.

    .venv/bin/python benchmarks/bench_openvino.py --rounds 3 \
        --markdown benchmarks/results/openvino.md --json benchmarks/results/openvino.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from _common import add_report_options, print_saved, publish, read_frames
from bench_int8 import CLIPS, LABELLED, _cpu_name, deviation, gflop, model_ms, pck, track

import hifipose
from hifipose.detector import landmark_outputs
from hifipose.errors import DeviceUnavailableError
from hifipose.evaluate import evaluate_detector, load_annotations
from hifipose.models import ensure_model, landmark_model_name
from hifipose.runtimes.base import Session, SessionOptions, open_session

MODELS = ("lite", "full", "heavy")
#: mode → create_detector options; "litert fp32" is the reference.
MODES: dict[str, dict[str, str]] = {
    "litert fp32": {},
    "openvino f32": {"runtime": "openvino"},
    "openvino bf16": {"runtime": "openvino", "precision": "bf16"},
    "openvino int8": {"runtime": "openvino", "precision": "int8"},
    "litert int8": {"precision": "int8"},
}
DETECTOR_MODES = ("litert fp32", "openvino f32", "openvino bf16")


def runnable_modes(path: Path) -> dict[str, str]:
    """Each mode this CPU cannot run (bf16 without AVX512_BF16 or AMX) → the reason."""
    skipped: dict[str, str] = {}
    for mode in MODES:
        try:
            _session(mode, path, None).close()
        except DeviceUnavailableError as error:
            skipped[mode] = str(error)
    return skipped


def _session(mode: str, path: Path, outputs: tuple[str, ...] | None) -> Session:
    options = MODES[mode]
    return open_session(
        options.get("runtime", "litert"),
        path,
        SessionOptions(
            num_threads=2, precision=options.get("precision", "float32"), outputs=outputs
        ),
    )


def accuracy(
    m: str,
    photos: list[Any],
    annotations: list[Any],
    clips: list[list[Any]],
    skipped: dict[str, str],
) -> dict[str, Any]:
    """Each mode against litert fp32 on the labelled photos and the clips."""
    truth = load_annotations(LABELLED / "annotations.json")
    entry: dict[str, Any] = {}
    predictions: dict[str, list[Any]] = {}
    tracked: dict[str, list[Any]] = {}
    for mode, options in MODES.items():
        if mode in skipped:
            continue
        with hifipose.create_detector(model_type=m, static_image_mode=True, **options) as det:  # type: ignore[arg-type]
            predictions[mode] = [
                np.array([[k.x, k.y] for k in p[0].keypoints])
                if (p := det.estimate_poses(i))
                else None
                for i in photos
            ]
        with hifipose.create_detector(model_type=m, **options) as det:  # type: ignore[arg-type]
            tracked[mode] = [r for frames in clips for r in track(det, frames)]
        evaluation, _ = evaluate_detector(truth, LABELLED, {"model_type": m, **options})
        score, with_pose = pck(annotations, predictions[mode])
        entry[mode] = {
            "pck": score,
            "photos_with_pose": with_pose,
            "evaluate": evaluation.row(),
            "photo_deviation": deviation(predictions["litert fp32"], predictions[mode]),
            "clip_deviation": deviation(tracked["litert fp32"], tracked[mode]),
        }
        print(f"  {m} {mode}: PCK {score:.1f}", flush=True)
    return entry


def render(report: dict[str, Any]) -> str:
    """The Markdown tables of a report."""
    models = list(report["models"])
    lines = [
        f"runtime='openvino' against LiteRT; median of {report['rounds']} interleaved rounds. "
        "Model alone: pruned to the outputs tracking reads, one 256×256 crop, 2 threads, "
        "median ms of runs in blocks of 10 taking turns (first 2 of each block not counted).",
        "",
        f"Machine: {report.get('machine', '?')}; load average (1 / 5 min) "
        f"{'/'.join(f'{v:.1f}' for v in report.get('load_before', []))} before and "
        f"{'/'.join(f'{v:.1f}' for v in report.get('load_after', []))} after "
        "(shared with other work: absolute times are noisy, compare within a row).",
        "",
        *(
            f"Not run on this CPU: {mode} ({why})."
            for mode, why in report.get("skipped", {}).items()
        ),
        *([""] if report.get("skipped") else []),
        "| model | GFLOP | " + " | ".join(f"{mode} ms" for mode in MODES) + " | "
        "OpenVINO f32 / bf16 / int8 vs LiteRT fp32 | GFLOP/s LiteRT / OV f32 / bf16 / int8 |",
        "|---|---|" + "---|" * len(MODES) + "---|---|",
    ]
    for m in models:
        e = report["models"][m]
        t, g = e["model_ms"], e.get("gflop")
        base = t["litert fp32"]
        ov = ("openvino f32", "openvino bf16", "openvino int8")
        rates = (
            " / ".join(f"{g / t[k] * 1e3:.0f}" if k in t else "–" for k in ("litert fp32", *ov))
            if g
            else "–"
        )
        lines.append(f"| {m} | {g:.2f} | " if g else f"| {m} | – | ")
        lines[-1] += (
            " | ".join(f"{t[mode]:.2f}" if mode in t else "–" for mode in MODES)
            + " | "
            + " / ".join(f"{base / t[k]:.2f}×" if k in t else "–" for k in ov)
            + f" | {rates} |"
        )
    lines += [
        "",
        "Acceptance against LiteRT fp32 (static image mode on the 20 labelled photos; tracking "
        "on the shared clips). PCK@0.2 of the torso (%, bench_int8's), `hifipose evaluate`'s "
        "COCO AP and PCK@0.2; deviation: % of the fp32 box diagonal, mean / p95; flips: photos "
        "or frames where only one of the two found a pose. Accepted: PCK within 1 point and "
        "no flip.",
        "",
        "| model | mode | PCK | evaluate AP | evaluate PCK@0.2 | photo deviation | photo flips "
        "| clip deviation | clip flips | accepted |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in (m for m in models if "accuracy" in report["models"][m]):
        a = report["models"][m]["accuracy"]
        base = a["litert fp32"]["pck"]
        for mode, e in a.items():
            p, c = e["photo_deviation"], e["clip_deviation"]
            ok = abs(e["pck"] - base) <= 1.0 and p["flips"] == 0 and c["flips"] == 0
            lines.append(
                f"| {m} | {mode} | {e['pck']:.1f} | {e['evaluate']['AP']:.3f} "
                f"| {e['evaluate']['PCK@0.2']:.3f} | {p['mean_pct']:.2f} % / {p['p95_pct']:.2f} % "
                f"| {p['flips']} of {p['frames']} | {c['mean_pct']:.2f} % / {c['p95_pct']:.2f} % "
                f"| {c['flips']} of {c['frames']} | {'yes' if ok else 'no'} |"
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=40, help="model runs per round")
    parser.add_argument("--no-accuracy", action="store_true")
    add_report_options(parser, "tables")
    args = parser.parse_args()
    if args.render_only:
        print_saved(args.render_only, render)
        return 0
    models = args.models.split(",")
    annotations = json.loads((LABELLED / "annotations.json").read_text())
    photos = [
        cv2.cvtColor(cv2.imread(str(LABELLED / a["image"])), cv2.COLOR_BGR2RGB) for a in annotations
    ]
    report: dict[str, Any] = {"models": {}, "load_before": os.getloadavg()[:2]}
    skipped = runnable_modes(ensure_model(landmark_model_name("lite")))
    report["skipped"] = skipped
    crop = cv2.resize(photos[0], (256, 256)).astype(np.float32)[None] / 255.0
    outputs = landmark_outputs(enable_segmentation=False)
    for m in [*models, "detector"]:
        if m == "detector":
            path = ensure_model("pose_detection")
            sessions = {
                mode: _session(mode, path, None) for mode in DETECTOR_MODES if mode not in skipped
            }
            feed = cv2.resize(photos[0], (224, 224)).astype(np.float32)[None] / 127.5 - 1.0
            entry: dict[str, Any] = {}
        else:
            path = ensure_model(landmark_model_name(m))  # type: ignore[arg-type]
            sessions = {
                mode: _session(mode, path, outputs) for mode in MODES if mode not in skipped
            }
            feed = crop
            entry = {"gflop": gflop(path)}
        times: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            for key, value in model_ms(sessions, feed, args.runs).items():
                times.setdefault(key, []).append(value)
        entry["model_ms"] = {k: statistics.median(v) for k, v in times.items()}
        for session in sessions.values():
            session.close()
        print(f"{m}: {entry['model_ms']}", flush=True)
        report["models"][m] = entry
    if not args.no_accuracy:
        clips = [list(read_frames(path, rgb=True)) for path in CLIPS]
        for m in models:
            report["models"][m]["accuracy"] = accuracy(m, photos, annotations, clips, skipped)
    report["rounds"] = args.rounds
    report["load_after"] = os.getloadavg()[:2]
    report["machine"] = f"{_cpu_name()}, {os.cpu_count()} cores"
    publish(report, render, args.markdown, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
