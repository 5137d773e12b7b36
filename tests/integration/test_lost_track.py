"""The lost-track path against MediaPipe: blank frames, the person cut out, a jump cut.

MediaPipe's Pose graph (mediapipe==0.10.14, video mode) and hifipose are fed the same clip
(:func:`~tests.integration.helpers.lost_track_clip`, built from pose_squats.mp4) frame by
frame. Compared: which frames have a pose, the landmarks on the frames right after each
loss (where a filter that is not reset on loss shows), and how often the detector ran.
MediaPipe does not report its detector runs; the graph's rule gives them: the detector
runs on the first frame and on every frame after a frame without a pose (blazepose-spec §4).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import hifipose
from tests import tolerances as tol
from tests.conftest import REPORT, clip_frames
from tests.integration.helpers import compare_to_references, lost_track_clip

#: How many frames with a pose, from each re-acquisition on, count as "after a loss".
AFTER_LOSS_FRAMES = 5


@pytest.mark.parametrize("model_type", ["lite", "full"])
def test_lost_track_matches_mediapipe(
    model_type: str, shared_data: Path, model_dir: Path, mediapipe_reference
) -> None:
    frames, kinds = lost_track_clip(clip_frames(shared_data / "tfjs_golden" / "pose_squats.mp4"))
    references = mediapipe_reference("lost-track", frames, static=False, model_type=model_type)
    with hifipose.create_detector(model_type=model_type, model_dir=model_dir) as detector:
        stats = compare_to_references(frames, detector, references)
        runs = detector.detector_runs
    has_pose = [reference is not None for reference in references]
    assert not stats.presence_mismatches, f"pose/no-pose differs on {stats.presence_mismatches}"
    assert not stats.other_person
    # the clip does what it is for: MediaPipe loses the person on every blank, cut-out and
    # first jump-cut frame, and on nothing else
    assert [i for i, k in enumerate(kinds) if not has_pose[i]] == [
        i
        for i, k in enumerate(kinds)
        if k in ("blank", "cut_out") or (k != kinds[i - 1] and "jump" in (k, kinds[i - 1]))
    ]
    expected_runs = 1 + sum(not has_pose[i - 1] for i in range(1, len(frames)))
    # after each loss: the first frames with a pose, from the re-detection on
    after_loss = [
        i + offset
        for i in range(1, len(frames))
        if has_pose[i] and not has_pose[i - 1]
        for offset in range(AFTER_LOSS_FRAMES)
        if i + offset < len(frames) and all(has_pose[i : i + offset + 1])
    ]
    with_pose = [i for i in range(len(frames)) if has_pose[i]]
    rel = dict(zip(with_pose, stats.errors["rel"], strict=True))
    world = dict(zip(with_pose, stats.errors["world_m"], strict=True))
    after_rel = [rel[i] for i in after_loss]
    after_world = [world[i] for i in after_loss]
    measured = tol.LOST_TRACK_MEASURED[model_type]
    figures = {
        "after_loss_rel_mean": float(np.mean(after_rel)),
        "after_loss_rel_max": float(np.max(after_rel)),
        "after_loss_world_m_mean": float(np.mean(after_world)),
        "rel_mean": stats.figures()["rel_mean"],
    }
    REPORT.append(
        f"lost track ({model_type}, {len(frames)} frames, {len(after_loss)} after a loss): "
        f"detector runs {runs} (MediaPipe's rule: {expected_runs}), "
        f"{has_pose.count(False)} frames without a pose, as MediaPipe; "
        + ", ".join(
            f"{name} {value:.5f} (bound {tol.PARITY_MARGIN * measured[name]:.5f})"
            for name, value in figures.items()
        )
    )
    assert runs == expected_runs
    assert len(after_loss) == 5 * AFTER_LOSS_FRAMES  # 5 losses, each followed by ≥ 5 frames
    for name, value in figures.items():
        assert value <= tol.PARITY_MARGIN * measured[name], (name, value, measured[name])
