"""``compat="mediapipe-python"`` against the legacy ``mp.solutions.pose`` (mediapipe==0.10.14).

The legacy solution runs a 9×9 heatmap window and no segmentation smoothing (blazepose-spec
§3.5, §5.6), and its wheel crops with OpenCV 3.4 (§1.2); the compat switch does all three.
Every input is held on its own, for every model, on LiteRT (the other runtimes differ from
it by float32 summation order only: test_parity_mediapipe.py): each photo and each clip in
static mode, each clip in video mode, and the video masks. MediaPipe's landmarks come from
the session's shared reference runs (``mediapipe_reference``).

One case cannot meet the 0.15 % target, for a measured reason: crossing_squats.mp4 in video
mode from the frame where two people first overlap. There the tracking loop feeds each
frame's landmarks into the next crop, and through the occlusion it amplifies float32 noise:
hifipose's own three runtimes (identical crops, outputs within 2e-5) then differ from each
other by 0.35-0.50 % of the box diagonal (full, mean over the clip, up to 7 % on one frame),
as much as compat differs from MediaPipe. Before that frame the clip is held to the target,
the whole clip to its measured figure (tests/tolerances.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import hifipose
from tests import tolerances as tol
from tests.conftest import (
    REPORT,
    SHARED_DATA,
    clip_frames,
    read_rgb,
    shared_clips,
    shared_images,
)
from tests.integration.helpers import COMPLEXITY, ParityStats, compare_to_references

#: Compat mode's code is the same for every model: the heavy model is marked slow, left out by CI
#: (`scripts/check` under CI=true; about 3 minutes there) and run by a full `scripts/check`.
MODEL_TYPES = ("lite", "full", pytest.param("heavy", marks=pytest.mark.slow))
CROSSING = "crossing_squats.mp4"


def _compat_stats(frames, references, model_type: str, model_dir: Path, *, static: bool):
    with hifipose.create_detector(
        model_type=model_type,
        static_image_mode=static,
        model_dir=model_dir,
        compat="mediapipe-python",
    ) as detector:
        return compare_to_references(frames, detector, references)


def first_overlap_frame(clip: Path) -> int | None:
    """The first frame where two people's boxes overlap (the clip's ground truth), or None."""
    truth = clip.with_suffix(".json")
    if not truth.is_file():
        return None
    for frame in json.loads(truth.read_text())["frames"]:
        boxes = [person["box"] for person in frame["persons"]]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                if a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]:
                    return int(frame["index"])
    return None


def _rel_mean(stats: ParityStats, before: int | None = None) -> float:
    values = [
        rel
        for index, rel in zip(stats.indices, stats.rel_errors, strict=True)
        if before is None or index < before
    ]
    return float(np.mean(values))


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_compat_static_matches_the_legacy_solution_on_every_input(
    model_type: str, model_dir: Path, mediapipe_reference
) -> None:
    """Each photo and each clip (every frame detected afresh) ≤ 0.15 % of the box diagonal."""
    inputs = [(p.relative_to(SHARED_DATA).as_posix(), [read_rgb(p)]) for p in shared_images()]
    inputs += [(clip.name, list(clip_frames(clip))) for clip in shared_clips()]
    frames = [frame for _, group in inputs for frame in group]
    references = mediapipe_reference("all", frames, static=True, model_type=model_type)
    start, worst, failures = 0, ("", 0.0), []
    for name, group in inputs:
        refs = references[start : start + len(group)]
        start += len(group)
        stats = _compat_stats(group, refs, model_type, model_dir, static=True)
        if stats.presence_mismatches or stats.other_person:
            failures.append(f"{name}: pose/no-pose or person differs ({stats.summary()})")
        if not stats.rel_errors:
            continue  # neither finds a pose (checked just above)
        rel = _rel_mean(stats)
        worst = max(worst, (name, rel), key=lambda item: item[1])
        if rel > tol.COMPAT_TARGET_REL_MEAN:
            failures.append(f"{name}: {100 * rel:.3f}% > {100 * tol.COMPAT_TARGET_REL_MEAN}%")
    graph = tol.PARITY_MEASURED[f"static/all/{model_type}/litert"]["rel_mean"]
    REPORT.append(
        f"compat static {model_type}, {len(inputs)} inputs: worst mean {100 * worst[1]:.3f}% of "
        f"the box diagonal ({worst[0]}); the graph default over all: {100 * graph:.3f}%"
    )
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("model_type", MODEL_TYPES)
@pytest.mark.parametrize("clip", shared_clips(), ids=lambda p: p.name)
def test_compat_video_matches_the_legacy_solution(
    clip: Path, model_type: str, model_dir: Path, mediapipe_reference
) -> None:
    frames = clip_frames(clip)
    references = mediapipe_reference(str(clip), frames, static=False, model_type=model_type)
    stats = _compat_stats(frames, references, model_type, model_dir, static=False)
    assert not stats.presence_mismatches, stats.summary()
    assert not stats.other_person, stats.summary()
    overlap = first_overlap_frame(clip)
    whole = _rel_mean(stats)
    bound = tol.COMPAT_VIDEO_REL_MEAN_BOUND.get(f"{clip.name}/{model_type}")
    graph = tol.PARITY_MEASURED[f"video/{clip.name}/{model_type}/litert"]["rel_mean"]
    if overlap is None:
        REPORT.append(
            f"compat video {model_type} {clip.name}: mean {100 * whole:.3f}% of the box "
            f"diagonal (graph default {100 * graph:.3f}%)"
        )
        assert whole <= tol.COMPAT_TARGET_REL_MEAN, stats.summary()
        return
    before = _rel_mean(stats, before=overlap)
    REPORT.append(
        f"compat video {model_type} {clip.name}: frames before people overlap (< {overlap}) "
        f"mean {100 * before:.3f}%, whole clip {100 * whole:.3f}% (bound {100 * bound:.3f}%; "
        f"graph default {100 * graph:.3f}%)"
        if bound is not None
        else f"compat video {model_type} {clip.name}: no bound for the whole clip"
    )
    assert before <= tol.COMPAT_TARGET_REL_MEAN, stats.summary()
    assert bound is not None, f"measure {clip.name}/{model_type} and add its bound"
    assert whole <= bound, stats.summary()


def _mask_agreement(
    clip: Path, model_type: str, model_dir: Path, solution_module
) -> tuple[list[float], list[float]]:
    """Per frame: IoU of the > 0.5 masks and mean |Δ| of compat's and the legacy solution's."""
    ious, differences = [], []
    with (
        hifipose.create_detector(
            model_type=model_type,
            enable_segmentation=True,
            model_dir=model_dir,
            compat="mediapipe-python",
        ) as detector,
        solution_module.Pose(
            model_complexity=COMPLEXITY[model_type], enable_segmentation=True
        ) as solution,
    ):
        for frame in clip_frames(clip):
            (pose,) = detector.estimate_poses(frame)
            reference = solution.process(frame).segmentation_mask
            assert pose.segmentation is not None
            assert reference is not None
            a, b = pose.segmentation > 0.5, reference > 0.5
            ious.append(float((a & b).sum() / (a | b).sum()))
            differences.append(float(np.abs(pose.segmentation - reference).mean()))
    return ious, differences


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_compat_mask_matches_the_legacy_solution(
    model_type: str, model_dir: Path, mediapipe_solution
) -> None:
    """The smoothed video mask: the legacy solution blends none (spec §5.6), nor does compat."""
    for clip in shared_clips():
        ious, differences = _mask_agreement(clip, model_type, model_dir, mediapipe_solution)
        overlap = first_overlap_frame(clip)
        held = slice(None, overlap)  # the crossing clip: up to its chaotic part (see top)
        figures = {
            "iou_mean": float(np.mean(ious[held])),
            "iou_min": float(np.min(ious[held])),
            "abs_mean": float(np.mean(differences[held])),
            "abs_max": float(np.max(differences[held])),
        }
        whole = {"iou_mean": float(np.mean(ious)), "abs_mean": float(np.mean(differences))}
        REPORT.append(
            f"compat video mask {model_type} {clip.name}"
            + (f" (frames < {overlap})" if overlap is not None else "")
            + ": "
            + ", ".join(f"{k} {v:.5f}" for k, v in figures.items())
            + "; whole clip "
            + ", ".join(f"{k} {v:.5f}" for k, v in whole.items())
        )
        bounds = tol.COMPAT_MASK_BOUNDS
        assert figures["iou_mean"] >= bounds["iou_mean"], figures
        assert figures["iou_min"] >= bounds["iou_min"], figures
        assert figures["abs_mean"] <= bounds["abs_mean"], figures
        assert figures["abs_max"] <= bounds["abs_max"], figures
        assert whole["iou_mean"] >= bounds["whole_iou_mean"], whole
        assert whole["abs_mean"] <= bounds["whole_abs_mean"], whole
