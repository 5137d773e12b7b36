"""Shared helpers for the integration tests: running hifipose and MediaPipe side by side."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

import hifipose
from hifipose_dev.parity import (
    COMPLEXITY,
    OTHER_PERSON_REL,
    PARITY_METRICS,
    PARITY_PERCENTILE,
    ParityStats,
    compare_sequences,
    compare_to_references,
    mediapipe_arrays,
    mediapipe_references,
)

__all__ = [
    "COMPLEXITY",
    "OTHER_PERSON_REL",
    "PARITY_METRICS",
    "PARITY_PERCENTILE",
    "Golden",
    "GoldenErrors",
    "ParityStats",
    "compare_sequences",
    "compare_to_references",
    "golden_errors",
    "load_golden",
    "lost_track_clip",
    "mediapipe_arrays",
    "mediapipe_references",
]


@dataclass(frozen=True)
class Golden:
    """The TF.js golden fixture: pose.jpg, its expected landmarks and its expected mask."""

    image: np.ndarray
    expected: dict[str, list[list[float]]]
    mask: np.ndarray  # bool H×W, True = person


def load_golden(shared_data: Path) -> Golden:
    """Read ../shared/data/tfjs_golden/pose.jpg and its expected values."""
    folder = shared_data / "tfjs_golden"
    image = cv2.cvtColor(cv2.imread(str(folder / "pose.jpg")), cv2.COLOR_BGR2RGB)
    expected = json.loads((folder / "pose_expected.json").read_text())
    # the reference mask paints the person blue and the background red (read as BGR)
    mask = cv2.imread(str(folder / "pose_segmentation.png"))[:, :, 0] > 127
    return Golden(image, expected, mask)


@dataclass(frozen=True)
class GoldenErrors:
    """How far one pose on pose.jpg is from the TF.js expected values."""

    max_px: float
    max_world_m: float
    mask_iou: float


def golden_errors(pose: hifipose.Pose, golden: Golden) -> GoldenErrors:
    """Largest image / world landmark errors and the mask IoU against the TF.js fixture."""
    expected = golden.expected
    image_error = np.linalg.norm(
        pose.image_array[:, :2] - np.array(expected["landmarks_px"])[:, :2], axis=1
    ).max()
    world_error = np.abs(pose.world_array_m - np.array(expected["world_landmarks_m"])[:, :3]).max()
    assert pose.segmentation is not None
    assert pose.segmentation.shape == golden.image.shape[:2]
    mask = pose.segmentation > 0.5
    iou = (mask & golden.mask).sum() / (mask | golden.mask).sum()
    return GoldenErrors(float(image_error), float(world_error), float(iou))


#: The person's box in every frame of tfjs_golden/pose_squats.mp4 (720×1280), with a margin:
#: (x0, y0, x1, y1) pixels. Measured: the landmarks span x 192–517, y 224–1009 over the clip.
SQUATS_PERSON_BOX = (120, 140, 600, 1120)


def lost_track_clip(frames: Sequence[np.ndarray]) -> tuple[list[np.ndarray], list[str]]:
    """A clip that loses the person three ways, built from pose_squats.mp4's frames.

    In order: 8 frames; 1 blank (black) frame; 7 frames; 2 frames with the person blacked
    out (the rest of the room stays); 8 frames; 2 blank frames; 8 frames; 8 frames of a
    jump cut (the frame shrunk to half size in the bottom-right corner of a grey canvas:
    the person reappears smaller, elsewhere); 12 frames back at full size (a second jump).
    Source frames advance by one per output frame except on blank frames.

    Returns:
        The frames and each frame's kind: ``"person"``, ``"blank"``, ``"cut_out"`` or
        ``"jump"``.
    """
    height, width = frames[0].shape[:2]
    x0, y0, x1, y1 = SQUATS_PERSON_BOX
    plan = [
        *["person"] * 8,
        "blank",
        *["person"] * 7,
        *["cut_out"] * 2,
        *["person"] * 8,
        *["blank"] * 2,
        *["person"] * 8,
        *["jump"] * 8,
        *["person"] * 12,
    ]
    out: list[np.ndarray] = []
    source = 0
    for kind in plan:
        if kind == "blank":
            out.append(np.zeros_like(frames[0]))
            continue
        frame = frames[source]
        source += 1
        if kind == "cut_out":
            frame = frame.copy()
            frame[y0:y1, x0:x1] = 0
        elif kind == "jump":
            small = cv2.resize(frame, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
            frame = np.full_like(frames[0], 128)
            frame[height - height // 2 :, width - width // 2 :] = small
        out.append(frame)
    return out, plan
