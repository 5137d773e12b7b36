"""precision="int8" against float32 and MediaPipe: speed, deviation and accuracy.

For each landmark model (lite, full, heavy):

* speed, interleaved rounds (median): the landmark model alone on LiteRT, fp32 and int8 (2
  threads and 1), with its GFLOP (convolutions, 2 per multiply-add) and the achieved GFLOP/s;
  and tracking the squat clip (ms per frame) with hifipose fp32, hifipose int8 and MediaPipe
  Tasks in the same run;
* deviation of int8 from fp32, in % of the fp32 pose's box diagonal (mean over frames, and
  the 95th percentile), tracking the shared clips, plus frames where only one found a pose;
* accuracy against human labels on ../shared/data/labelled (static image mode): PCK@0.2 of
  the torso over the labelled COCO-17 points, a missed person counting 0. Each photo is
  scored against the labelled person nearest the prediction (12 of the 20 photos have several
  labelled people; BlazePose reports one). The photos are not in the calibration set. And
  ``hifipose evaluate``'s figures on the same photos (COCO keypoint AP with pycocotools, its
  PCK@0.2 over every labelled person, recall of people).

    .venv/bin/python benchmarks/bench_int8.py --rounds 3 \
        --markdown benchmarks/results/int8.md --json benchmarks/results/int8.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from _common import DATA, add_report_options, print_saved, publish, read_frames
from numpy.typing import NDArray

import hifipose
from hifipose.convert import prune_tflite
from hifipose.convert.quantize import _Graph
from hifipose.detector import landmark_outputs
from hifipose.evaluate import evaluate_detector, load_annotations
from hifipose.models import ensure_model, landmark_model_name
from hifipose.runtimes.base import SessionOptions, open_session

LABELLED = DATA / "labelled"
CLIPS = (DATA / "tfjs_golden" / "pose_squats.mp4", DATA / "multi" / "crossing_squats.mp4")
COCO17 = [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]
MODELS = ("lite", "full", "heavy")


def gflop(model_path: Path) -> float:
    """Convolution GFLOP of one tracking run (2 per multiply-add), from the graph's shapes.

    The model is pruned to the outputs tracking reads (no segmentation), as the pipeline runs it.
    """
    graph = _Graph(
        prune_tflite(model_path.read_bytes(), landmark_outputs(enable_segmentation=False))
    )
    total = 0
    for op in graph.sg.operators:
        name = graph.op_name(op)
        if name not in {"CONV_2D", "DEPTHWISE_CONV_2D"}:
            continue
        out = graph.sg.tensors[op.outputs[0]].shape
        weights = graph.sg.tensors[op.inputs[1]].shape
        per_output = int(np.prod(weights[1:3])) * (int(weights[3]) if name == "CONV_2D" else 1)
        total += 2 * int(np.prod(out)) * per_output
    return total / 1e9


def model_ms(
    sessions: dict[str, Any], crop: NDArray[np.float32], runs: int, block: int = 10
) -> dict[str, float]:
    """Median ms per run of each session, the sessions taking turns block by block.

    Taking turns exposes every session to the same load on a shared machine. The turns are
    blocks of ``block`` runs whose first 2 are not counted: right after another session ran,
    the first runs of a session measured 7-25 % slower (each interpreter has its own XNNPACK
    thread pool, whose workers keep spinning for a while after a run), which single alternating
    runs counted every time.
    """
    for session in sessions.values():
        for _ in range(3):
            session.run({"input_1": crop})
    times: dict[str, list[float]] = {key: [] for key in sessions}
    for _ in range(max(1, runs // (block - 2))):
        for key, session in sessions.items():
            for index in range(block):
                started = time.perf_counter()
                session.run({"input_1": crop})
                if index >= 2:
                    times[key].append(1e3 * (time.perf_counter() - started))
    return {key: statistics.median(values) for key, values in times.items()}


def track(detector: hifipose.PoseDetector, frames: list[NDArray[np.uint8]]) -> list[Any]:
    detector.reset()
    out = []
    for index, frame in enumerate(frames):
        poses = detector.estimate_poses(frame, index * 1000.0 / 30.0)
        out.append(np.array([[k.x, k.y] for k in poses[0].keypoints]) if poses else None)
    return out


def track_ms(detector: hifipose.PoseDetector, frames: list[NDArray[np.uint8]]) -> float:
    detector.reset()
    started = time.perf_counter()
    for index, frame in enumerate(frames):
        detector.estimate_poses(frame, index * 1000.0 / 30.0)
    return 1e3 * (time.perf_counter() - started) / len(frames)


def deviation(reference: list[Any], other: list[Any]) -> dict[str, float]:
    values, flips = [], 0
    for a, b in zip(reference, other, strict=True):
        if (a is None) != (b is None):
            flips += 1
        elif a is not None:
            diagonal = float(np.linalg.norm(a.max(0) - a.min(0)))
            values.append(100 * float(np.linalg.norm(a - b, axis=1).mean()) / diagonal)
    return {
        "mean_pct": float(np.mean(values)),
        "p95_pct": float(np.percentile(values, 95)),
        "flips": flips,
        "frames": len(reference),
    }


def pck(annotations: list[dict[str, Any]], predictions: list[Any]) -> tuple[float, int]:
    """PCK@0.2 of the torso over labelled points (%), and how many photos had a pose."""
    hits = total = 0
    for entry, keypoints in zip(annotations, predictions, strict=True):
        people = [np.array(p["keypoints_coco17"], float) for p in entry["persons"]]
        if keypoints is None:
            total += int(max((g[:, 2] > 0).sum() for g in people))
            continue
        pred = keypoints[COCO17]

        def error(g: NDArray[np.float64], pred: NDArray[np.float64] = pred) -> float:
            seen = g[:, 2] > 0
            return float(np.linalg.norm(pred[seen] - g[seen, :2], axis=1).mean())

        truth = min((g for g in people if (g[:, 2] > 0).any()), key=error)
        seen = truth[:, 2] > 0
        if (truth[[5, 6, 11, 12], 2] > 0).all():
            torso = float(np.linalg.norm(truth[[5, 6], :2].mean(0) - truth[[11, 12], :2].mean(0)))
        else:  # no full torso labelled: half the labelled points' extent
            labelled = truth[seen, :2]
            torso = 0.5 * float(np.linalg.norm(labelled.max(0) - labelled.min(0)))
        distance = np.linalg.norm(pred - truth[:, :2], axis=1)
        hits += int(((distance < 0.2 * torso) & seen).sum())
        total += int(seen.sum())
    return 100 * hits / total, sum(p is not None for p in predictions)


def labelled_accuracy(
    m: str, photos: list[NDArray[np.uint8]], annotations: list[dict[str, Any]]
) -> dict[str, Any]:
    """fp32 and int8 on the labelled photos: the bench's PCK, deviation and evaluate's figures."""
    entry: dict[str, Any] = {}
    fp32_static = hifipose.create_detector(model_type=m, static_image_mode=True)  # type: ignore[arg-type]
    int8_static = hifipose.create_detector(  # type: ignore[arg-type]
        model_type=m, static_image_mode=True, precision="int8"
    )
    labelled = {}
    for key, detector in (("fp32", fp32_static), ("int8", int8_static)):
        predictions = [
            np.array([[k.x, k.y] for k in p[0].keypoints])
            if (p := detector.estimate_poses(i))
            else None
            for i in photos
        ]
        labelled[key] = predictions
        entry[f"pck_{key}"], entry[f"photos_with_pose_{key}"] = pck(annotations, predictions)
    entry["photo_deviation"] = deviation(labelled["fp32"], labelled["int8"])
    truth = load_annotations(LABELLED / "annotations.json")
    for key, options in (("fp32", {}), ("int8", {"precision": "int8"})):
        evaluation, _ = evaluate_detector(truth, LABELLED, {"model_type": m, **options})
        entry[f"evaluate_{key}"] = evaluation.row()
    return entry


def _cpu_name() -> str:
    """The CPU's model name (Linux), else what platform knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def render(report: dict[str, Any]) -> str:
    """The Markdown tables of a report."""
    models = list(report["models"])
    rounds = report["rounds"]
    lines = [
        f"precision='int8' (LiteRT) against fp32 and MediaPipe Tasks; median of {rounds} "
        "interleaved rounds. Model: the landmark model alone (pruned to the outputs tracking "
        "reads) on one 256×256 crop, median ms of runs in blocks of 10 taking turns (the "
        "first 2 of each block not counted). "
        "Tracking: the squat clip (65 frames, 720×1280), ms per frame, the whole pipeline.",
        "",
        f"Machine: {report.get('machine', '?')}; load average (1 / 5 min) "
        f"{'/'.join(f'{v:.1f}' for v in report.get('load_before', []))} before and "
        f"{'/'.join(f'{v:.1f}' for v in report.get('load_after', []))} after "
        "(shared with other work).",
        "",
        "| model | GFLOP | fp32 ms (2 thr / 1) | int8 ms (2 thr / 1) | int8 speed-up (2 / 1) "
        "| GFLOP/s fp32 / int8 (1 thr) | track ms fp32 / int8 / Tasks | int8 vs fp32 "
        "| fp32 vs Tasks | int8 vs Tasks |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in models:
        e = report["models"][m]
        t, k = e["model_ms"], e["track_ms"]
        g = e["gflop"]
        lines.append(
            f"| {m} | {g:.2f} | {t['float32 2t']:.2f} / {t['float32 1t']:.2f} "
            f"| {t['int8 2t']:.2f} / {t['int8 1t']:.2f} "
            f"| {t['float32 2t'] / t['int8 2t']:.2f}× / {t['float32 1t'] / t['int8 1t']:.2f}× "
            f"| {g / t['float32 1t'] * 1e3:.0f} / {g / t['int8 1t'] * 1e3:.0f} "
            f"| {k['hifipose fp32']:.2f} / {k['hifipose int8']:.2f} / {k['mediapipe tasks']:.2f} "
            f"| {k['hifipose fp32'] / k['hifipose int8']:.2f}× "
            f"| {k['mediapipe tasks'] / k['hifipose fp32']:.2f}× "
            f"| {k['mediapipe tasks'] / k['hifipose int8']:.2f}× |"
        )
    lines += [
        "",
        "Accuracy. Deviation: int8 from fp32, % of the fp32 box diagonal, mean / p95; flips: "
        "frames or photos where only one of them found a pose. PCK@0.2 (torso) on the 20 "
        "labelled photos, static image mode; differences of a few points are noise.",
        "",
        "| model | clip deviation mean / p95 | clip flips | photo deviation mean / p95 "
        "| photo flips | PCK fp32 | PCK int8 | photos with a pose fp32 / int8 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in models:
        e = report["models"][m]
        c, p = e["clip_deviation"], e["photo_deviation"]
        lines.append(
            f"| {m} | {c['mean_pct']:.2f} % / {c['p95_pct']:.2f} % | {c['flips']} of "
            f"{c['frames']} | {p['mean_pct']:.2f} % / {p['p95_pct']:.2f} % | {p['flips']} of "
            f"{p['frames']} | {e['pck_fp32']:.1f} | {e['pck_int8']:.1f} "
            f"| {e['photos_with_pose_fp32']} / {e['photos_with_pose_int8']} |"
        )
    if all("evaluate_fp32" in report["models"][m] for m in models):
        lines += [
            "",
            "`hifipose evaluate` on the same photos (static image mode; AP and AR: COCO keypoint "
            "metrics by pycocotools on the COCO-17 subset; PCK@0.2 over every labelled person, "
            "a missed person counting 0; recall of labelled people), fp32 → int8:",
            "",
            "| model | AP | AP50 | AR | PCK@0.2 | recall |",
            "|---|---|---|---|---|---|",
        ]
        for m in models:
            a, b = report["models"][m]["evaluate_fp32"], report["models"][m]["evaluate_int8"]
            cells = " | ".join(
                f"{a[key]:.3f} → {b[key]:.3f}" for key in ("AP", "AP50", "AR", "PCK@0.2", "recall")
            )
            lines.append(f"| {m} | {cells} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=60, help="model runs per round")
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
    clips = [list(read_frames(path, rgb=True)) for path in CLIPS]
    report: dict[str, Any] = {"models": {}, "load_before": os.getloadavg()[:2]}
    model_times: dict[str, dict[str, list[float]]] = {m: {} for m in models}
    track_times: dict[str, dict[str, list[float]]] = {m: {} for m in models}
    sessions: dict[str, dict[str, Any]] = {}
    trackers: dict[str, dict[str, Any]] = {}
    for m in models:
        path = ensure_model(landmark_model_name(m))  # type: ignore[arg-type]
        sessions[m] = {
            f"{precision} {threads}t": open_session(
                "litert",
                path,
                SessionOptions(
                    num_threads=threads,
                    precision=precision,
                    outputs=landmark_outputs(enable_segmentation=False),
                ),
            )
            for precision in ("float32", "int8")
            for threads in (2, 1)
        }
        trackers[m] = {
            "hifipose fp32": hifipose.create_detector(model_type=m),  # type: ignore[arg-type]
            "hifipose int8": hifipose.create_detector(model_type=m, precision="int8"),  # type: ignore[arg-type]
            "mediapipe tasks": hifipose.create_detector(model_type=m, runtime="mediapipe"),  # type: ignore[arg-type]
        }
        report["models"][m] = {"gflop": gflop(path)}
    # the model's time does not depend on the pixels; a resized photo stands for a crop
    crop_image = cv2.resize(photos[0], (256, 256)).astype(np.float32)[None] / 255.0
    for round_index in range(args.rounds):
        for m in models:
            for key, value in model_ms(sessions[m], crop_image, args.runs).items():
                model_times[m].setdefault(key, []).append(value)
            for key, detector in trackers[m].items():
                track_times[m].setdefault(key, []).append(track_ms(detector, clips[0]))
        print(f"round {round_index + 1} done", flush=True)
    for m in models:
        entry = report["models"][m]
        entry["model_ms"] = {k: statistics.median(v) for k, v in model_times[m].items()}
        entry["track_ms"] = {k: statistics.median(v) for k, v in track_times[m].items()}
        entry.update(labelled_accuracy(m, photos, annotations))
        reference = [r for frames in clips for r in track(trackers[m]["hifipose fp32"], frames)]
        other = [r for frames in clips for r in track(trackers[m]["hifipose int8"], frames)]
        entry["clip_deviation"] = deviation(reference, other)
    report["rounds"] = args.rounds
    report["load_after"] = os.getloadavg()[:2]
    report["machine"] = f"{_cpu_name()}, {os.cpu_count()} cores"
    publish(report, render, args.markdown, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
