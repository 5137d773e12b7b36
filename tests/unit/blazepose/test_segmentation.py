import math

import numpy as np

from hifipose.blazepose.crop import crop_image
from hifipose.blazepose.roi import Roi
from hifipose.blazepose.segmentation import fixed_point_affine_maps, mask_support, mask_to_image


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


def test_fixed_point_mask_blends_as_opencv_3_4() -> None:
    """The fixed-point mask reads the crop at 1/32-pixel positions, blended in float."""
    rng = np.random.default_rng(4)
    logits = rng.normal(0, 3, (1, 256, 256, 1)).astype(np.float32)
    probability = 1 / (1 + np.exp(-logits[0, :, :, 0]))
    for angle in (0.0, 0.7, -2.0):
        roi = Roi(center_px=(55.0, 35.0), size_px=(70.0, 70.0), angle_rad=angle)
        crop = crop_image(
            np.zeros((80, 120, 3), np.uint8),
            roi,
            tensor_size=256,
            value_range=(0, 1),
            border="zero",
        )
        mask = mask_to_image(logits, crop.crop_from_image, (120, 80), fixed_point=True)
        source_xy, fraction = fixed_point_affine_maps(crop.crop_from_image[:2], (120, 80))
        x, y = source_xy[..., 0].astype(int), source_xy[..., 1].astype(int)
        fx, fy = (fraction & 31) / np.float32(32), (fraction >> 5) / np.float32(32)
        expected = np.zeros((80, 120))
        for dy, wy in ((0, 1 - fy), (1, fy)):
            for dx, wx in ((0, 1 - fx), (1, fx)):
                inside = (x + dx >= 0) & (x + dx < 256) & (y + dy >= 0) & (y + dy < 256)
                value = probability[np.clip(y + dy, 0, 255), np.clip(x + dx, 0, 255)]
                expected += value * inside * wy * wx
        np.testing.assert_allclose(mask, expected, atol=2e-6)
        exact = mask_to_image(logits, crop.crop_from_image, (120, 80))
        assert 0 < np.abs(mask - exact).max() < 0.05  # the same mask, sampled 1/32 px apart


def test_fixed_point_affine_maps_work_in_1_1024_then_1_32_pixel() -> None:
    # x·0.3 + 2.01: OpenCV adds round(0.3·x·1024) and round(2.01·1024) + 16, then >> 5
    source_xy, fraction = fixed_point_affine_maps(np.array([[0.3, 0, 2.01], [0, 1, 0]]), (9, 2))
    fixed = (np.rint(0.3 * np.arange(9) * 1024) + np.rint(2.01 * 1024) + 16).astype(int) >> 5
    np.testing.assert_array_equal(source_xy[1, :, 0], fixed >> 5)
    np.testing.assert_array_equal(fraction[1] & 31, fixed & 31)
    np.testing.assert_array_equal(source_xy[:, 0, 1], [0, 1])
