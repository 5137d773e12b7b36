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
    REPORT.append(
        f"video mask (full, smoothed) vs MediaPipe: IoU mean {np.mean(ious):.3f} "
        f"(worst {np.min(ious):.3f}), mean |Δp| {np.mean(differences):.4f}"
    )
    assert np.mean(ious) >= tol.VIDEO_MASK_MEAN_IOU
    assert np.mean(differences) <= tol.VIDEO_MASK_MEAN_ABS
