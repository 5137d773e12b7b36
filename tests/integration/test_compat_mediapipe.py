"""``compat="mediapipe-python"`` against the legacy ``mp.solutions.pose`` (mediapipe==0.10.14).

The legacy solution runs a 9×9 heatmap window and no segmentation smoothing (blazepose-spec
§3.5, §5.6); the compat switch does the same, so it should sit much closer to it than the
default (the graph's 7×7 and mask blending). Static mode runs on every shared photo and
on every frame of every clip, video mode on every clip, for every model, on LiteRT (the
other runtimes differ from it by float32 summation order only: test_parity_mediapipe.py).
MediaPipe runs once per model and mode, shared with the parity tests (``mediapipe_reference``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import hifipose
from tests import tolerances as tol
from tests.conftest import REPORT, clip_frames, read_rgb, shared_clips, shared_images
from tests.integration.helpers import ParityStats, compare_to_references

MODEL_TYPES = ("lite", "full", "heavy")


def _compat_stats(frames, references, model_type: str, model_dir: Path, *, static: bool):
    with hifipose.create_detector(
        model_type=model_type,
        static_image_mode=static,
        model_dir=model_dir,
        compat="mediapipe-python",
    ) as detector:
        return compare_to_references(frames, detector, references)


def _check(stats: ParityStats, label: str, sequence: str, graph: dict[str, float]) -> None:
    """Hold ``stats`` to compat's bound and require it closer than the graph default."""
    figures = stats.figures()
    bound = tol.COMPAT_REL_MEAN_BOUND[sequence]
    REPORT.append(
        f"compat {label}: landmarks mean {100 * figures['rel_mean']:.3f}% of the box diagonal "
        f"(≤ {100 * bound:.3f}%; graph default {100 * graph['rel_mean']:.3f}%), "
        f"p95 {100 * figures['rel_p95']:.3f}% (graph {100 * graph['rel_p95']:.3f}%), "
        f"world {100 * figures['world_m_mean']:.3f} cm (graph {100 * graph['world_m_mean']:.3f})"
    )
    assert stats.rel_errors, f"{label}: no frame with a pose"
    assert not stats.presence_mismatches, f"{label}: pose/no-pose differs"
    assert figures["rel_mean"] <= bound, f"{label}: {figures['rel_mean']:.5f} > {bound:.5f}"
    # the switch moves every sequence toward the legacy solution, not away from it
    assert figures["rel_mean"] < graph["rel_mean"], label


def _graph_figures(frames, references, model_type: str, model_dir: Path) -> dict[str, float]:
    with hifipose.create_detector(
        model_type=model_type, static_image_mode=True, model_dir=model_dir
    ) as detector:
        return compare_to_references(frames, detector, references).figures()


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_compat_static_matches_the_legacy_solution(
    model_type: str, model_dir: Path, mediapipe_reference
) -> None:
    groups = [("photos", [read_rgb(p) for p in shared_images()])]
    groups += [(clip.name, list(clip_frames(clip))) for clip in shared_clips()]
    frames = [frame for _, group in groups for frame in group]
    references = mediapipe_reference("all", frames, static=True, model_type=model_type)
    start = 0
    for name, group in groups:
        refs = references[start : start + len(group)]
        start += len(group)
        stats = _compat_stats(group, refs, model_type, model_dir, static=True)
        graph = _graph_figures(group, refs, model_type, model_dir)
        _check(stats, f"static {model_type} {name}", f"static/{name}/{model_type}", graph)


@pytest.mark.parametrize("model_type", MODEL_TYPES)
@pytest.mark.parametrize("clip", shared_clips(), ids=lambda p: p.name)
def test_compat_video_matches_the_legacy_solution(
    clip: Path, model_type: str, model_dir: Path, mediapipe_reference
) -> None:
    frames = clip_frames(clip)
    references = mediapipe_reference(str(clip), frames, static=False, model_type=model_type)
    stats = _compat_stats(frames, references, model_type, model_dir, static=False)
    sequence = f"video/{clip.name}/{model_type}"
    graph = tol.PARITY_MEASURED[f"{sequence}/litert"]  # the default mode's measured figures
    _check(stats, f"video {model_type} {clip.name}", sequence, graph)


def test_compat_mask_matches_the_legacy_solution(model_dir: Path, mediapipe_solution) -> None:
    """The legacy solution blends no masks: neither does compat, so the masks agree."""
    ious, differences = [], []
    for clip in shared_clips():
        with (
            hifipose.create_detector(
                model_type="full",
                enable_segmentation=True,
                model_dir=model_dir,
                compat="mediapipe-python",
            ) as detector,
            mediapipe_solution.Pose(model_complexity=1, enable_segmentation=True) as solution,
        ):
            for frame in clip_frames(clip):
                (pose,) = detector.estimate_poses(frame)
                reference = solution.process(frame).segmentation_mask
                assert pose.segmentation is not None
                assert reference is not None
                a, b = pose.segmentation > 0.5, reference > 0.5
                ious.append((a & b).sum() / (a | b).sum())
                differences.append(float(np.abs(pose.segmentation - reference).mean()))
    figures = {
        "iou_mean": float(np.mean(ious)),
        "iou_p5": float(np.percentile(ious, 5)),
        "abs_mean": float(np.mean(differences)),
        "abs_p95": float(np.percentile(differences, 95)),
    }
    graph = tol.VIDEO_MASK_MEASURED
    REPORT.append(
        f"compat video mask (full) vs the legacy solution, {len(ious)} frames: "
        + ", ".join(f"{k} {v:.4f} (graph default {graph[k]:.4f})" for k, v in figures.items())
    )
    bounds = tol.COMPAT_MASK_BOUNDS
    assert figures["iou_mean"] >= bounds["iou_mean"]
    assert figures["iou_p5"] >= bounds["iou_p5"]
    assert figures["abs_mean"] <= bounds["abs_mean"]
    assert figures["abs_p95"] <= bounds["abs_p95"]
