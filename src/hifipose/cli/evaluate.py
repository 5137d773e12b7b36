"""``hifipose evaluate``: COCO AP/AR, PCK@0.2 and recall on labelled photos."""

from __future__ import annotations

import argparse
import json
from contextlib import ExitStack
from pathlib import Path

from hifipose._native_logs import native_stderr_filtered
from hifipose._publish import publish_text
from hifipose.cli._common import (
    add_detector_flag,
    add_model,
    add_model_dir,
    add_quiet,
    add_runtime,
    bounded_int,
)
from hifipose.config import DetectorConfig
from hifipose.errors import ConfigError

#: ``--compare``: the documented options, each alone over the defaults.
COMPARED: dict[str, dict[str, object]] = {
    "detector_tiles=1": {"detector_tiles": 1},
    "detector_tiles=3": {"detector_tiles": 3},
    "refine_passes=2": {"refine_passes": 2},
    "flip_tta": {"flip_tta": True},
}


def run(args: argparse.Namespace) -> int:
    """``hifipose evaluate``: COCO AP/AR, PCK@0.2 and recall on labelled photos."""
    from hifipose import evaluate

    truth = [i for i in evaluate.load_annotations(args.coco) if len(i.persons) >= args.min_people]
    if not truth:
        msg = f"{args.coco}: no image has {args.min_people} or more labelled people"
        raise ConfigError(msg)
    images = Path(args.images) if args.images else Path(args.coco).parent
    num_poses = args.num_poses or max([len(i.persons) for i in truth] + [1])
    common = {
        "model_type": args.model_type,
        "runtime": args.runtime,
        "num_poses": num_poses,
        "model_dir": args.model_dir,
    }
    modes = {
        "detector_tiles": args.detector_tiles,
        "refine_passes": args.refine_passes,
        "flip_tta": args.flip_tta,
        "compat": args.compat,
    }
    defaults = {name: getattr(DetectorConfig(), name) for name in modes}
    chosen = [f"{k}={v}" for k, v in modes.items() if v != defaults[k]]
    label = f"{args.model_type} " + (" ".join(chosen) or "default")
    runs: list[tuple[str, dict[str, object]]] = [(label, modes)]
    if args.baseline and chosen:
        runs.insert(0, (f"{args.model_type} default", {}))
    if args.compare:
        runs += [(f"{args.model_type} {name}", dict(extra)) for name, extra in COMPARED.items()]
    if args.compare or args.vs_tasks:
        runs.append((f"MediaPipe Tasks {args.model_type}", {"runtime": "mediapipe"}))
    reports, chosen_predictions = [], {}
    for name, options in runs:
        with ExitStack() as quiet:
            if not (getattr(args, "verbose", False) or getattr(args, "debug", False)):
                quiet.enter_context(native_stderr_filtered())
            report, predictions = evaluate.evaluate_detector(
                truth, images, common | options, label=name, progress=not args.quiet
            )
        reports.append(report)
        if name == label:
            chosen_predictions = predictions
    print(
        f"{len(truth)} images, {reports[0].persons} labelled people "
        f"({reports[0].persons_with_torso} with a labelled torso), num_poses={num_poses}"
    )
    print(evaluate.table(reports))
    result: dict[str, object] = {"runs": [r.to_dict() for r in reports]}
    if args.baseline and chosen:  # the baseline, then the run
        gains = {m: evaluate.paired_bootstrap(*reports[:2], metric=m) for m in ("pck", "pck_found")}
        for metric, (gain, low, high) in gains.items():
            print(
                f"gain in {metric}: {gain:+.3f} "
                f"(95 % bootstrap interval over images: {low:+.3f} … {high:+.3f})"
            )
        result["gains"] = {
            m: dict(zip(("gain", "low", "high"), g, strict=True)) for m, g in gains.items()
        }
    if args.json:
        publish_text(args.json, json.dumps(result, indent=2))
    if args.predictions:
        publish_text(args.predictions, json.dumps(evaluate.coco_results(chosen_predictions)))
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``evaluate`` and its flags."""
    evaluate = sub.add_parser(
        "evaluate",
        help="accuracy on labelled photos: COCO AP/AR, PCK@0.2 of the torso, recall",
        description=(
            "Run the detector (static-image mode) on every labelled photo and score it: COCO "
            "keypoint AP/AR (pycocotools, COCO-17 subset of the 33 points), PCK@0.2 of the "
            "torso (a missed person counts as wrong), and the share of people found."
        ),
    )
    evaluate.add_argument(
        "--coco",
        required=True,
        metavar="ANNOTATIONS.json",
        help="COCO keypoint file, or a list of {image, persons[].keypoints_coco17, bbox}",
    )
    evaluate.add_argument("--images", help="folder the file names are relative to")
    add_model(evaluate)
    add_runtime(evaluate)
    add_detector_flag(
        evaluate,
        "num_poses",
        type=bounded_int(1),
        default=None,
        help="most people per photo (default: the most labelled on one photo)",
    )
    add_detector_flag(
        evaluate,
        "detector_tiles",
        type=bounded_int(1),
        help="detector tiles (finds small people)",
    )
    add_detector_flag(evaluate, "refine_passes", help="2: second landmark pass")
    add_detector_flag(evaluate, "flip_tta", help="average with the mirror")
    add_detector_flag(evaluate, "compat", help="MediaPipe flavour to reproduce")
    evaluate.add_argument(
        "--baseline",
        action="store_true",
        help="also run the default options and print the gain with a bootstrap interval",
    )
    evaluate.add_argument(
        "--min-people",
        type=bounded_int(1),
        default=1,
        metavar="N",
        help="only the images with N or more labelled people (2: the several-people photos)",
    )
    evaluate.add_argument(
        "--vs-tasks",
        action="store_true",
        help="also run MediaPipe Tasks (runtime mediapipe) with the same num_poses",
    )
    evaluate.add_argument(
        "--compare",
        action="store_true",
        help="also run each documented option alone (--tiles 1, --tiles 3, --refine-passes 2, "
        "--flip-tta) and MediaPipe Tasks, in this run",
    )
    evaluate.add_argument("--json", help="write the figures (and per-image counts) here")
    evaluate.add_argument(
        "--predictions", help="write the predictions here (COCO keypoint results format)"
    )
    add_model_dir(evaluate)
    add_quiet(evaluate)
