"""The smoothed person mask in video mode against MediaPipe's Pose graph (mediapipe 0.10.14)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import hifipose
from tests import tolerances as tol
from tests.conftest import REPORT, clip_frames, shared_clips


def test_video_mask_matches_mediapipe(model_dir: Path, mediapipe_solution) -> None:
    ious, differences = [], []
    for clip in shared_clips():
        with (
            hifipose.create_detector(
                model_type="full", enable_segmentation=True, model_dir=model_dir
            ) as detector,
            mediapipe_solution.Pose(model_complexity=1, enable_segmentation=True) as solution,
        ):
            for frame in clip_frames(clip):
                poses = detector.estimate_poses(frame)
                reference = solution.process(frame).segmentation_mask
                assert len(poses) == 1
                assert reference is not None
                ours = poses[0].segmentation
                assert ours is not None
                assert ours.shape == reference.shape
                a, b = ours > 0.5, reference > 0.5
                ious.append((a & b).sum() / (a | b).sum())
                differences.append(float(np.abs(ours - reference).mean()))
    figures = {
        "iou_mean": float(np.mean(ious)),
        "iou_p5": float(np.percentile(ious, 5)),
        "abs_mean": float(np.mean(differences)),
        "abs_p95": float(np.percentile(differences, 95)),
    }
    measured = tol.VIDEO_MASK_MEASURED
    # IoU: higher is better, so its bound is the measured shortfall from 1 times the margin
    bounds = {
        k: 1 - tol.PARITY_MARGIN * (1 - v) if k.startswith("iou") else tol.PARITY_MARGIN * v
        for k, v in measured.items()
    }
    REPORT.append(
        f"video mask (full, smoothed) vs MediaPipe, {len(ious)} frames: "
        + ", ".join(
            f"{k} {figures[k]:.4f} {'≥' if k.startswith('iou') else '≤'} {bounds[k]:.4f}"
            for k in bounds
        )
    )
    assert figures["iou_mean"] >= bounds["iou_mean"]
    assert figures["iou_p5"] >= bounds["iou_p5"]
    assert figures["abs_mean"] <= bounds["abs_mean"]
    assert figures["abs_p95"] <= bounds["abs_p95"]
