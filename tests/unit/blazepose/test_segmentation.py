import math

import numpy as np

from hifipose.blazepose.crop import crop_image
from hifipose.blazepose.roi import Roi
from hifipose.blazepose.segmentation import mask_support, mask_to_image


def test_values_mask_lands_on_the_roi_and_keeps_orientation() -> None:
    roi = Roi(center_px=(60.0, 40.0), size_px=(40.0, 40.0), angle_rad=math.pi / 2)
    crop = crop_image(
        np.zeros((80, 120, 3), np.uint8), roi, tensor_size=256, value_range=(0, 1), border="zero"
    )
    logits = np.full((1, 256, 256, 1), -30.0, np.float32)
    logits[0, :, :128, 0] = 30.0  # the crop's left half is "person"
    mask = mask_to_image(logits, crop.crop_from_image, (120, 80))
    assert mask.shape == (80, 120)
    assert mask.dtype == np.float32
    assert mask[2, 2] == 0.0  # outside the ROI
    # rotated +90°: the crop's left (u < 0) maps to image y < centre (above)
    assert mask[30, 60] > 0.99
    assert mask[50, 60] < 0.01
    assert mask.min() >= 0.0 and mask.max() <= 1.0


def test_mask_is_zero_outside_its_support() -> None:
    rng = np.random.default_rng(2)
    for angle in (0.0, 0.4, math.pi / 2, 2.5):
        roi = Roi(center_px=(50.0, 45.0), size_px=(50.0, 50.0), angle_rad=angle)
        crop = crop_image(
            np.zeros((80, 120, 3), np.uint8),
            roi,
            tensor_size=256,
            value_range=(0, 1),
            border="zero",
        )
        logits = rng.normal(0, 5, (1, 256, 256, 1)).astype(np.float32)
        mask = mask_to_image(logits, crop.crop_from_image, (120, 80))
        x0, y0, x1, y1 = mask_support(crop.crop_from_image, 256, (120, 80))
        assert 0 <= x0 < x1 <= 120 and 0 <= y0 < y1 <= 80
        outside = mask.copy()
        outside[y0:y1, x0:x1] = 0.0
        assert not outside.any()
        assert mask[y0:y1, x0:x1].any()
        # tight: the box is at most a couple of pixels wider than the non-zero region
        ys, xs = np.nonzero(mask)
        assert xs.min() - x0 <= 3 and y0 <= ys.min() and x1 - xs.max() <= 4
