"""Parity with MediaPipe itself: mediapipe==0.10.14's Pose graph, fed the same model files.

Static mode runs on every photo and every frame of every clip in ../shared/data; video mode
(tracking + smoothing) on every clip, frame by frame. Each runs on every CPU runtime; MediaPipe
runs once per model and mode (the ``mediapipe_reference`` fixture).
"""

from __future__ import annotations

from pathlib import Path

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
from tests.integration.helpers import compare_to_references

MODEL_TYPES = ("lite", "full", "heavy")


def _assert_parity(stats, label: str) -> None:
    REPORT.append(f"{label}: {stats.summary()}")
    assert stats.rel_errors, f"{label}: no frame with a pose"
    assert not stats.presence_mismatches, (
        f"{label}: pose/no-pose differs on frames {stats.presence_mismatches}"
    )
    mean_rel = sum(stats.rel_errors) / len(stats.rel_errors)
    mean_world = sum(stats.world_errors_m) / len(stats.world_errors_m)
    assert mean_rel <= tol.PARITY_MEAN_REL, f"{label}: {stats.summary()}"
    assert mean_world <= tol.PARITY_MEAN_WORLD_M, f"{label}: {stats.summary()}"


@pytest.mark.parametrize("runtime", CPU_RUNTIMES)
@pytest.mark.parametrize("model_type", MODEL_TYPES)
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
    _assert_parity(stats, f"static {model_type} on {runtime} ({len(frames)} images and frames)")


@pytest.mark.parametrize("runtime", CPU_RUNTIMES)
@pytest.mark.parametrize("model_type", MODEL_TYPES)
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
    _assert_parity(stats, f"video {model_type} on {runtime} {clip.name}")
