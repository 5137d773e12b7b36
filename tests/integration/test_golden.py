"""The TF.js golden image: pose.jpg against the expected landmarks, world landmarks and mask."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

import hifipose
from tests import tolerances as tol
from tests.conftest import CPU_RUNTIMES, REPORT, read_rgb


@pytest.mark.parametrize("runtime", CPU_RUNTIMES)
@pytest.mark.parametrize("model_type", ["lite", "full", "heavy"])
def test_golden_image_within_tfjs_tolerances(
    model_type: str, runtime: str, shared_data: Path, model_dir: Path
) -> None:
    folder = shared_data / "tfjs_golden"
    expected = json.loads((folder / "pose_expected.json").read_text())
    image = read_rgb(folder / "pose.jpg")
    # the reference mask paints the person blue and the background red
    mask_expected = cv2.imread(str(folder / "pose_segmentation.png"))[:, :, 0] > 127  # BGR

    with hifipose.create_detector(
        model_type=model_type,
        runtime=runtime,
        static_image_mode=True,
        enable_segmentation=True,
        model_dir=model_dir,
    ) as detector:
        poses = detector.estimate_poses(image)

    assert len(poses) == 1
    pose = poses[0]
    image_error = np.linalg.norm(
        pose.image_array[:, :2] - np.array(expected["landmarks_px"])[:, :2], axis=1
    ).max()
    world_error = np.abs(pose.world_array_m - np.array(expected["world_landmarks_m"])[:, :3]).max()
    assert pose.segmentation is not None
    assert pose.segmentation.shape == image.shape[:2]
    mask = pose.segmentation > 0.5
    iou = (mask & mask_expected).sum() / (mask | mask_expected).sum()
    REPORT.append(
        f"golden pose.jpg {model_type} on {runtime}: max {image_error:.2f} px, "
        f"world max {world_error:.3f} m, mask IoU {iou:.3f}"
    )

    assert image_error <= tol.GOLDEN_MAX_PX
    assert world_error <= tol.GOLDEN_MAX_WORLD_M
    assert iou >= tol.GOLDEN_MIN_MASK_IOU
    if model_type == "full":
        assert image_error <= tol.GOLDEN_FULL_MAX_PX
        assert world_error <= tol.GOLDEN_FULL_MAX_WORLD_M
        assert iou >= tol.GOLDEN_FULL_MIN_MASK_IOU
