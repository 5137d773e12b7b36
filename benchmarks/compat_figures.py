"""compat="mediapipe-python" against mediapipe 0.10.14's legacy solution; where the rest comes from.

Three tables (LiteRT unless stated):

1. Per input, per model: the landmark error (mean over frames of the mean image distance, %
   of the box diagonal) of compat against ``mp.solutions.pose``: every photo and clip in
   static mode, every clip in video mode (what tests/integration/test_compat_mediapipe.py
   holds).
2. The sources of the static residue, full model: landmarks from MediaPipe's own ROI (its
   float32 ``pose_rect_from_detection``, read from the legacy graph) cropped by compat,
   against MediaPipe's; and from compat's own ROI (double precision). If the first is ~0,
   the runtime and the crop are MediaPipe's and the rest is the ROI's last bits.
3. Video mode, the three runtimes' compat runs against each other: the float32 noise floor
   the tracking loop amplifies (crops identical, model outputs within 2e-5).

Writes Markdown to benchmarks/results/compat.md and prints it.

    PYTHONPATH=src .venv/bin/python benchmarks/compat_figures.py
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from types import ModuleType

import numpy as np

import hifipose
from hifipose.bench import install_solution_models

# The development package (dev/hifipose_dev), not part of the wheel.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dev"))
from hifipose.blazepose.roi import Roi
from hifipose.models import MODEL_SPECS, ensure_model
from hifipose_dev.data import SHARED_DATA, clip_frames, read_rgb, shared_clips, shared_images
from hifipose_dev.parity import COMPLEXITY, compare_to_references, mediapipe_references

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("lite", "full", "heavy")
RUNTIMES = ("litert", "onnxruntime", "torch")


def _detector(model: str, *, static: bool, runtime: str = "litert") -> hifipose.PoseDetector:
    model_dir = ensure_model(next(iter(MODEL_SPECS)), fetch=False).parent
    return hifipose.create_detector(
        model_type=model,
        static_image_mode=static,
        model_dir=model_dir,
        runtime=runtime,
        compat="mediapipe-python",
    )


def per_input(mp_pose: ModuleType) -> list[str]:
    """Table 1."""
    lines = ["| mode | input | lite | full | heavy |", "|---|---|---|---|---|"]
    inputs = [(p.relative_to(SHARED_DATA).as_posix(), [read_rgb(p)]) for p in shared_images()]
    inputs += [(c.name, list(clip_frames(c))) for c in shared_clips()]
    videos = [(c.name, list(clip_frames(c))) for c in shared_clips()]
    for mode, group in (("static", inputs), ("video", videos)):
        for name, frames in group:
            cells = []
            for model in MODELS:
                with mp_pose.Pose(
                    static_image_mode=mode == "static", model_complexity=COMPLEXITY[model]
                ) as solution:
                    references = mediapipe_references(frames, solution)
                with _detector(model, static=mode == "static") as detector:
                    stats = compare_to_references(frames, detector, references)
                if stats.presence_mismatches or stats.other_person:
                    cells.append("differs")
                elif not stats.rel_errors:
                    cells.append("no pose (both)")
                else:
                    cells.append(f"{100 * np.mean(stats.rel_errors):.3f} %")
            lines.append(f"| {mode} | {name} | " + " | ".join(cells) + " |")
    return lines


def residue_sources(mp_pose: ModuleType) -> list[str]:
    """Table 2: compat's landmarks from MediaPipe's own ROI and from its own."""
    from mediapipe.python.solution_base import SolutionBase

    lines = [
        "| input | ROI Δ (px, max of centre/size) | from MediaPipe's ROI: max Δ px "
        "| from compat's ROI: max Δ px |",
        "|---|---|---|---|",
    ]
    solution = SolutionBase(
        binary_graph_path=mp_pose._BINARYPB_FILE_PATH,  # the legacy graph itself
        side_inputs={
            "model_complexity": 1,
            "smooth_landmarks": False,
            "enable_segmentation": False,
            "smooth_segmentation": False,
            "use_prev_landmarks": False,
        },
        outputs=["pose_landmarks", "pose_rect_from_detection"],
    )
    f32 = np.float32
    with _detector("full", static=True) as detector:
        for path in shared_images():
            image = read_rgb(path)
            height, width = image.shape[:2]
            result = solution.process(image)
            if result.pose_landmarks is None:
                continue
            rect = result.pose_rect_from_detection
            theirs = Roi(
                center_px=(float(f32(rect.x_center) * width), float(f32(rect.y_center) * height)),
                size_px=(float(f32(rect.width) * width), float(f32(rect.height) * height)),
                angle_rad=float(rect.rotation),
            )
            ours = detector._detect(image, 1)  # the ROI compat computes
            if not ours:
                continue
            reference = np.array(
                [[p.x * width, p.y * height] for p in result.pose_landmarks.landmark]
            )
            deltas = []
            for roi in (theirs, ours[0]):
                (raw,) = detector._landmark_passes(image, [roi])
                deltas.append(
                    "no pose"
                    if raw is None
                    else f"{np.abs(raw.landmarks_px[:33, :2] - reference).max():.4f}"
                )
            roi_delta = max(
                *np.abs(np.subtract(ours[0].center_px, theirs.center_px)),
                abs(ours[0].size_px[0] - theirs.size_px[0]),
            )
            name = path.relative_to(SHARED_DATA).as_posix()
            lines.append(f"| {name} | {roi_delta:.1e} | {deltas[0]} | {deltas[1]} |")
    solution.close()
    return lines


def runtime_spread() -> list[str]:
    """Table 3: video mode, compat on each runtime against the others."""
    lines = [
        "| clip | model | "
        + " | ".join(f"{a} vs {b}" for a, b in itertools.combinations(RUNTIMES, 2))
        + " |",
        "|---|---|---|---|---|",
    ]
    for clip in shared_clips():
        frames = clip_frames(clip)
        for model in MODELS:
            outputs = {}
            for runtime in RUNTIMES:
                with _detector(model, static=False, runtime=runtime) as detector:
                    outputs[runtime] = [detector.estimate_poses(f) for f in frames]
            cells = []
            for a, b in itertools.combinations(RUNTIMES, 2):
                errors = []
                for x, y in zip(outputs[a], outputs[b], strict=True):
                    if x and y:
                        p, q = x[0].image_array[:, :2], y[0].image_array[:, :2]
                        diagonal = float(np.hypot(*(q.max(0) - q.min(0))))
                        errors.append(float(np.linalg.norm(p - q, axis=1).mean()) / diagonal)
                cells.append(f"{100 * np.mean(errors):.3f} % (max {100 * np.max(errors):.2f} %)")
            lines.append(f"| {clip.name} | {model} | " + " | ".join(cells) + " |")
    return lines


def main() -> int:
    from mediapipe.python.solutions import pose as mp_pose

    install_solution_models()
    text = [
        '# compat="mediapipe-python" against mediapipe 0.10.14\'s `mp.solutions.pose`',
        "",
        "Generated by `benchmarks/compat_figures.py` (see its docstring).",
        "",
        "## 1. Landmark error per input (% of the box diagonal, mean over frames)",
        "",
        *per_input(mp_pose),
        "",
        "## 2. Where the static residue comes from (full model)",
        "",
        *residue_sources(mp_pose),
        "",
        "## 3. Video mode: compat on one runtime against another (same metric)",
        "",
        *runtime_spread(),
        "",
    ]
    out = ROOT / "benchmarks" / "results" / "compat.md"
    out.write_text("\n".join(text))
    print("\n".join(text))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
