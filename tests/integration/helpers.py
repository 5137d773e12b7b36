"""Shared helpers for the integration tests: running hifipose and MediaPipe side by side."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

import hifipose

COMPLEXITY = {"lite": 0, "full": 1, "heavy": 2}


@dataclass
class ParityStats:
    """Per-frame agreement between hifipose and MediaPipe on one sequence."""

    rel_errors: list[float] = field(default_factory=list)  # mean px distance / box diagonal
    world_errors_m: list[float] = field(default_factory=list)  # mean 3D distance, metres
    visibility_errors: list[float] = field(default_factory=list)  # mean |Δ visibility|
    presence_mismatches: list[int] = field(default_factory=list)  # frame indices
    frames: int = 0

    def summary(self) -> str:
        rel = 100 * np.mean(self.rel_errors) if self.rel_errors else float("nan")
        rel_max = 100 * np.max(self.rel_errors) if self.rel_errors else float("nan")
        world = 100 * np.mean(self.world_errors_m) if self.world_errors_m else float("nan")
        vis = np.mean(self.visibility_errors) if self.visibility_errors else float("nan")
        return (
            f"{len(self.rel_errors)}/{self.frames} frames with a pose, "
            f"{len(self.presence_mismatches)} pose/no-pose mismatches; "
            f"landmarks mean {rel:.3f}% of box diagonal (worst frame {rel_max:.3f}%), "
            f"world mean {world:.3f} cm, visibility mean |Δ| {vis:.4f}"
        )


def mediapipe_arrays(
    result: object, size_wh: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray] | None:
    """MediaPipe's (33, 4) x_px, y_px, z_px, visibility and (33, 3) world landmarks, or None."""
    landmarks = getattr(result, "pose_landmarks", None)
    if landmarks is None:
        return None
    width, height = size_wh
    image = np.array(
        [[p.x * width, p.y * height, p.z * width, p.visibility] for p in landmarks.landmark]
    )
    world = np.array([[p.x, p.y, p.z] for p in result.pose_world_landmarks.landmark])  # type: ignore[attr-defined]
    return image, world


def mediapipe_references(
    frames: Sequence[np.ndarray], solution: object
) -> list[tuple[np.ndarray, np.ndarray] | None]:
    """MediaPipe's arrays (see :func:`mediapipe_arrays`) for each frame, fed in order."""
    return [
        mediapipe_arrays(solution.process(frame), (frame.shape[1], frame.shape[0]))  # type: ignore[attr-defined]
        for frame in frames
    ]


def compare_to_references(
    frames: Sequence[np.ndarray],
    detector: hifipose.detector.PoseDetector,
    references: Sequence[tuple[np.ndarray, np.ndarray] | None],
) -> ParityStats:
    """Feed the frames to hifipose, in order, and collect the agreement with MediaPipe's."""
    stats = ParityStats()
    for index, (frame, reference) in enumerate(zip(frames, references, strict=True)):
        ours = detector.estimate_poses(frame)
        stats.frames += 1
        if (reference is None) != (not ours):
            stats.presence_mismatches.append(index)
            continue
        if reference is None:
            continue
        ref_image, ref_world = reference
        pose = ours[0]
        diagonal = float(np.hypot(*(ref_image[:, :2].max(0) - ref_image[:, :2].min(0))))
        distance = np.linalg.norm(pose.image_array[:, :2] - ref_image[:, :2], axis=1).mean()
        stats.rel_errors.append(float(distance) / diagonal)
        stats.world_errors_m.append(
            float(np.linalg.norm(pose.world_array_m - ref_world, axis=1).mean())
        )
        stats.visibility_errors.append(
            float(np.abs(pose.image_array[:, 3] - ref_image[:, 3]).mean())
        )
    return stats


def compare_sequences(
    frames: Sequence[np.ndarray],
    detector: hifipose.detector.PoseDetector,
    solution: object,
) -> ParityStats:
    """Feed the same frames to both, in order, and collect the agreement."""
    return compare_to_references(frames, detector, mediapipe_references(frames, solution))


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
