"""The TF.js golden image: pose.jpg against the expected landmarks, world landmarks and mask."""

from __future__ import annotations

from pathlib import Path

import pytest

import hifipose
from tests import tolerances as tol
from tests.conftest import CPU_RUNTIMES, REPORT
from tests.integration.helpers import golden_errors, load_golden


# "mediapipe" runs MediaPipe Tasks' own graph behind hifipose's API, from the same files.
@pytest.mark.parametrize("runtime", [*CPU_RUNTIMES, "mediapipe"])
@pytest.mark.parametrize("model_type", ["lite", "full", "heavy"])
def test_golden_image_within_tfjs_tolerances(
    model_type: str, runtime: str, shared_data: Path, model_dir: Path
) -> None:
    golden = load_golden(shared_data)
    with hifipose.create_detector(
        model_type=model_type,
        runtime=runtime,
        static_image_mode=True,
        enable_segmentation=True,
        model_dir=model_dir,
    ) as detector:
        poses = detector.estimate_poses(golden.image)

    assert len(poses) == 1
    assert 0.0 < poses[0].score <= 1.0
    errors = golden_errors(poses[0], golden)
    REPORT.append(
        f"golden pose.jpg {model_type} on {runtime}: max {errors.max_px:.2f} px, "
        f"world max {errors.max_world_m:.3f} m, mask IoU {errors.mask_iou:.3f}"
    )

    assert errors.max_px <= tol.GOLDEN_MAX_PX
    assert errors.max_world_m <= tol.GOLDEN_MAX_WORLD_M
    assert errors.mask_iou >= tol.GOLDEN_MIN_MASK_IOU
    if model_type == "full":
        assert errors.max_px <= tol.GOLDEN_FULL_MAX_PX
        assert errors.max_world_m <= tol.GOLDEN_FULL_MAX_WORLD_M
        assert errors.mask_iou >= tol.GOLDEN_FULL_MIN_MASK_IOU
