"""Parity with MediaPipe itself: mediapipe==0.10.14's Pose graph, fed the same model files.

Static mode runs on every photo and every frame of every clip in ../shared/data; video mode
(tracking + smoothing) on every clip, frame by frame. Each runs on every CPU runtime; MediaPipe
runs once per model and mode (the ``mediapipe_reference`` fixture). Every figure (image
landmarks, world landmarks, visibility, z; the mean over frames and the 95th percentile) is
held to its measured value times a margin (tests/tolerances.py, measured by
benchmarks/parity_figures.py); the figures and bounds are printed in the run's summary.

The legacy solution clears the per-landmark presence, so presence (and, once more, the
landmarks) are compared with MediaPipe Tasks' PoseLandmarker, which also runs the graph's
heatmap kernel of 7 (blazepose-spec §3.5).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import hifipose
from tests import tolerances as tol
from tests.conftest import (
    CPU_RUNTIMES,
    REPORT,
    clip_frames,
    read_rgb,
    shared_clips,
    shared_images,
)
from tests.integration.helpers import PARITY_PERCENTILE, ParityStats, compare_to_references

MODEL_TYPES = ("lite", "full", "heavy")


def _assert_parity(stats: ParityStats, label: str, sequence: str) -> None:
    """Hold every figure of ``stats`` to its bound; ``sequence`` is ``mode/name/model``."""
    REPORT.append(f"{label}: {stats.summary()}")
    assert stats.rel_errors, f"{label}: no frame with a pose"
    assert not stats.presence_mismatches, (
        f"{label}: pose/no-pose differs on frames {stats.presence_mismatches}"
    )
    bounds = tol.parity_bounds(sequence)
    other_person = len(stats.other_person)
    assert other_person <= bounds["other_person"], (
        f"{label}: {other_person} frames on another person (frames {stats.other_person}), "
        f"measured {bounds['other_person']:.0f}"
    )
    figures = stats.figures()
    REPORT.append(
        f"    bounds (× {tol.parity_margin(sequence)} the largest of the runtimes): "
        + ", ".join(
            f"{name} {figures[name]:.4g} ≤ {bound:.4g}"
            for name, bound in bounds.items()
            if name in figures
        )
    )
    failed = {k: (v, bounds[k]) for k, v in figures.items() if v > bounds[k]}
    assert not failed, f"{label}: over the bound (value, bound): {failed}"


#: (model, runtime) pairs. The heavy model on the converted runtimes is marked slow: CI leaves it
#: out (`scripts/check` under CI=true; about 4 minutes there), a full `scripts/check` runs it.
#: The converter is the same for every model, and test_convert holds each converted model's
#: outputs to LiteRT's, whose heavy parity runs everywhere.
MODEL_RUNTIMES = [
    pytest.param(
        model_type,
        runtime,
        id=f"{model_type}-{runtime}",
        marks=[pytest.mark.slow] if model_type == "heavy" and runtime != "litert" else [],
    )
    for runtime in CPU_RUNTIMES
    for model_type in MODEL_TYPES
]


@pytest.mark.parametrize(("model_type", "runtime"), MODEL_RUNTIMES)
def test_static_mode_matches_mediapipe(
    model_type: str, runtime: str, shared_data: Path, model_dir: Path, mediapipe_reference
) -> None:
    frames = [read_rgb(p) for p in shared_images()]
    for clip in shared_clips():
        frames.extend(clip_frames(clip))
    references = mediapipe_reference("all", frames, static=True, model_type=model_type)
    with hifipose.create_detector(
        model_type=model_type, runtime=runtime, static_image_mode=True, model_dir=model_dir
    ) as detector:
        stats = compare_to_references(frames, detector, references)
    _assert_parity(
        stats,
        f"static {model_type} on {runtime} ({len(frames)} images and frames)",
        f"static/all/{model_type}",
    )


@pytest.mark.parametrize(("model_type", "runtime"), MODEL_RUNTIMES)
@pytest.mark.parametrize("clip", shared_clips(), ids=lambda p: p.name)
def test_video_mode_matches_mediapipe(
    clip: Path, model_type: str, runtime: str, model_dir: Path, mediapipe_reference
) -> None:
    frames = clip_frames(clip)
    references = mediapipe_reference(str(clip), frames, static=False, model_type=model_type)
    with hifipose.create_detector(
        model_type=model_type, runtime=runtime, model_dir=model_dir
    ) as detector:
        stats = compare_to_references(frames, detector, references)
    _assert_parity(
        stats, f"video {model_type} on {runtime} {clip.name}", f"video/{clip.name}/{model_type}"
    )


def test_video_mode_openvino_matches_mediapipe(model_dir: Path, mediapipe_reference) -> None:
    # openvino is not in CPU_RUNTIMES (every model and clip on it would add minutes to CI):
    # one clip and model here, its model outputs against LiteRT in test_convert.
    clip = next(c for c in shared_clips() if c.name == "pose_squats.mp4")
    frames = clip_frames(clip)
    references = mediapipe_reference(str(clip), frames, static=False, model_type="full")
    with hifipose.create_detector(
        model_type="full", runtime="openvino", model_dir=model_dir
    ) as detector:
        stats = compare_to_references(frames, detector, references)
    _assert_parity(stats, f"video full on openvino {clip.name}", f"video/{clip.name}/full")


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_static_presence_and_landmarks_match_mediapipe_tasks(
    model_type: str, shared_data: Path, model_dir: Path
) -> None:
    pytest.importorskip("mediapipe", reason="MediaPipe Tasks is the reference here")
    golden = shared_data / "tfjs_golden"
    frames = [read_rgb(golden / "pose.jpg"), *clip_frames(golden / "pose_squats.mp4")[::2]]
    errors: dict[str, list[float]] = {n: [] for n in ("presence", "visibility", "rel", "z_rel")}
    with (
        hifipose.create_detector(
            model_type=model_type, runtime="mediapipe", static_image_mode=True, model_dir=model_dir
        ) as tasks,
        hifipose.create_detector(
            model_type=model_type, static_image_mode=True, model_dir=model_dir
        ) as ours,
    ):
        for frame in frames:
            (reference,), (pose,) = tasks.estimate_poses(frame), ours.estimate_poses(frame)
            ref, got = reference.image_array, pose.image_array
            diagonal = float(np.hypot(*(ref[:, :2].max(0) - ref[:, :2].min(0))))
            errors["presence"].append(float(np.abs(got[:, 4] - ref[:, 4]).mean()))
            errors["visibility"].append(float(np.abs(got[:, 3] - ref[:, 3]).mean()))
            distance = np.linalg.norm(got[:, :2] - ref[:, :2], axis=1).mean()
            errors["rel"].append(float(distance) / diagonal)
            errors["z_rel"].append(float(np.abs(got[:, 2] - ref[:, 2]).mean()) / diagonal)
    p = PARITY_PERCENTILE
    figures = {
        f"{name}_{stat}": float(np.mean(v) if stat == "mean" else np.percentile(v, p))
        for name, v in errors.items()
        for stat in ("mean", f"p{p}")
    }
    measured = tol.TASKS_MEASURED[model_type]
    bounds = {k: tol.PARITY_MARGIN * v for k, v in measured.items()}
    REPORT.append(
        f"static {model_type} on litert vs MediaPipe Tasks ({len(frames)} frames): "
        + ", ".join(f"{k} {figures[k]:.3g} ≤ {bounds[k]:.3g}" for k in bounds)
    )
    failed = {k: (figures[k], bounds[k]) for k in bounds if figures[k] > bounds[k]}
    assert not failed, f"over the bound (value, bound): {failed}"
