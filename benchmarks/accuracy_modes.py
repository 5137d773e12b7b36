"""The accuracy modes' cost and gain: ms per image (static mode) and figures on labelled photos.

Times static-image mode on the squat clip (30 frames, letterboxed to 640×480) with every
accuracy and compat mode, interleaved rounds (``hifipose.bench``'s mode rows, as
``hifipose bench`` prints them), then runs ``hifipose evaluate``'s scoring on
../shared/data/labelled for every model and mode with ``num_poses`` = the most people on one
photo, each gain with its paired bootstrap interval over the photos. Writes Markdown to
benchmarks/results/accuracy_modes.md and prints it.

    PYTHONPATH=src .venv/bin/python benchmarks/accuracy_modes.py
"""

from __future__ import annotations

from pathlib import Path

from hifipose import bench
from hifipose.evaluate import evaluate_detector, load_annotations, paired_bootstrap
from hifipose.io.sources import open_source

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
MODELS = ("lite", "full", "heavy")
RUNS: dict[str, dict[str, object]] = {
    "default": {},
    "refine_passes=2": {"refine_passes": 2},
    "flip_tta": {"flip_tta": True},
    "refine_passes=2 + flip_tta": {"refine_passes": 2, "flip_tta": True},
    "both + detector_tiles=2": {"refine_passes": 2, "flip_tta": True, "detector_tiles": 2},
}


def main() -> None:
    with open_source(str(DATA / "tfjs_golden" / "pose_squats.mp4"), max_frames=30) as source:
        frames = bench.letterbox([f.image_rgb for f in source], (640, 480))
    lines = [
        "Static-image mode, 30 frames of the squat clip at 640×480, litert, default threads, "
        "median of 5 interleaved rounds (ms per image):",
        "",
        "| model | mode | ms | extra ms |",
        "|---|---|---|---|",
    ]
    for model in MODELS:
        for row in bench.mode_rows(model, frames, 5, lambda _line: None):
            lines.append(f"| {model} | {row.mode} | {row.static_ms:.1f} | {row.extra_ms:+.1f} |")
    folder = DATA / "labelled"
    truth = load_annotations(folder / "annotations.json")
    num_poses = max(len(i.persons) for i in truth)
    lines += [
        "",
        f"../shared/data/labelled (20 photos), num_poses={num_poses}, litert; gain in PCK@0.2 "
        "against the same model's default, 95 % paired bootstrap interval over the photos:",
        "",
        "| model | mode | AP | AR | PCK@0.2 | PCK found | recall | PCK gain |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for model in MODELS:
        base = None
        for name, options in RUNS.items():
            report, _ = evaluate_detector(
                truth, folder, {"model_type": model, "num_poses": num_poses, **options}
            )
            base = base or report
            gain, low, high = paired_bootstrap(base, report)
            lines.append(
                f"| {model} | {name} | {report.coco['AP']:.3f} | {report.coco['AR']:.3f} | "
                f"{report.pck:.3f} | {report.pck_found:.3f} | {report.recall:.3f} | "
                f"{gain:+.3f} [{low:+.3f}, {high:+.3f}] |"
            )
    text = "\n".join(lines) + "\n"
    (ROOT / "benchmarks" / "results" / "accuracy_modes.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
