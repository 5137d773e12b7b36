import math

import numpy as np

from hifipose.blazepose.crop import crop_image
from hifipose.blazepose.roi import Roi
from hifipose.blazepose.segmentation import mask_to_image


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
