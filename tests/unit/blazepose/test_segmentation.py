import math
import pickle

import cv2
import numpy as np
import pytest

from hifipose.blazepose.crop import crop_image
from hifipose.blazepose.roi import Roi
from hifipose.blazepose.segmentation import (
    CropMask,
    activate_mask,
    crop_mask_to_image,
    fixed_point_affine_maps,
    mask_in_crop,
    supersample_mask,
)


def _crop_from_image(roi: Roi, size_wh: tuple[int, int]) -> np.ndarray:
    width, height = size_wh
    image = np.zeros((height, width, 3), np.uint8)
    crop = crop_image(image, roi, tensor_size=256, value_range=(0, 1), border="zero")
    return crop.crop_from_image


def _frame_space_mask(logits: np.ndarray, crop_from_image: np.ndarray, size_wh) -> np.ndarray:
    """The frame-space stage as it was before masks stayed in the crop (reference)."""
    mask = logits.reshape(256, 256).astype(np.float32)
    np.negative(mask, out=mask)
    with np.errstate(over="ignore"):
        np.exp(mask, out=mask)
    mask += 1.0
    np.reciprocal(mask, out=mask)
    return cv2.warpAffine(
        mask,
        np.ascontiguousarray(crop_from_image[:2]),
        size_wh,
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )


def test_values_mask_lands_on_the_roi_and_keeps_orientation() -> None:
    roi = Roi(center_px=(60.0, 40.0), size_px=(40.0, 40.0), angle_rad=math.pi / 2)
    logits = np.full((1, 256, 256, 1), -30.0, np.float32)
    logits[0, :, :128, 0] = 30.0  # the crop's left half is "person"
    mask = CropMask(activate_mask(logits), _crop_from_image(roi, (120, 80)), (120, 80)).to_image()
    assert mask.shape == (80, 120)
    assert mask.dtype == np.float32
    assert mask[2, 2] == 0.0  # outside the ROI
    # rotated +90°: the crop's left (u < 0) maps to image y < centre (above)
    assert mask[30, 60] > 0.99
    assert mask[50, 60] < 0.01
    assert mask.min() >= 0.0 and mask.max() <= 1.0


def test_crop_mask_on_the_frame_is_bit_identical_to_the_frame_space_stage() -> None:
    """Without smoothing (static images, compat) the lazy mask is the old mask, bit for bit."""
    rng = np.random.default_rng(2)
    for angle in (0.0, 0.4, math.pi / 2, 2.5):
        roi = Roi(center_px=(50.0, 45.0), size_px=(70.0, 70.0), angle_rad=angle)
        crop_from_image = _crop_from_image(roi, (120, 80))
        logits = rng.normal(0, 5, (1, 256, 256, 1)).astype(np.float32)
        logits[0, 0, :4, 0] = [1e4, -1e4, 100.0, -100.0]  # exp overflow gives exactly 0 or 1
        ours = CropMask(activate_mask(logits), crop_from_image, (120, 80)).to_image()
        expected = _frame_space_mask(logits, crop_from_image, (120, 80))
        np.testing.assert_array_equal(ours, expected)


def test_mask_read_at_another_size_is_the_resized_frame_mask() -> None:
    roi = Roi(center_px=(900.0, 560.0), size_px=(700.0, 700.0), angle_rad=0.3)
    size_wh = (1920, 1080)
    yy, xx = np.mgrid[0:256, 0:256]
    probabilities = (1 / (1 + np.exp(((xx - 128) ** 2 + (yy - 120) ** 2 - 80**2) / 400))).astype(
        np.float32
    )
    mask = CropMask(probabilities, _crop_from_image(roi, size_wh), size_wh)
    frame = mask.to_image()
    for out_wh in ((160, 90), (480, 270), (300, 400), (1920, 1080)):  # (300, 400): stretched
        small = mask.to_image(out_wh)
        assert small.shape == (out_wh[1], out_wh[0])
        resized = cv2.resize(frame, out_wh, interpolation=cv2.INTER_LINEAR)
        # the same bilinear read at the same points, give or take OpenCV's 1/32-pixel grid
        assert np.abs(small - resized).max() < 0.02
    np.testing.assert_array_equal(mask.to_image((1920, 1080)), frame)


def test_mask_in_another_crop_reads_the_frame_mask_at_the_same_points() -> None:
    size_wh = (640, 480)
    first = _crop_from_image(Roi((300.0, 250.0), (300.0, 300.0), 0.1), size_wh)
    second = _crop_from_image(Roi((320.0, 240.0), (280.0, 280.0), -0.05), size_wh)
    yy, xx = np.mgrid[0:256, 0:256]
    probabilities = np.clip((xx + yy) / 510.0, 0, 1).astype(np.float32)  # a smooth ramp
    mask = CropMask(probabilities, first, size_wh)
    resampled = mask_in_crop(mask, second, 256)
    assert resampled.shape == (256, 256) and resampled.dtype == np.float32
    # where the second crop lies inside the first, its pixels read the same frame points
    frame = mask.to_image()
    on_frame = crop_mask_to_image(resampled, second, size_wh)
    inside = (frame > 0.05) & (on_frame > 0.05)
    inside = cv2.erode(inside.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert inside.sum() > 0.2 * inside.size  # most of the second crop
    assert np.abs(frame - on_frame)[inside].max() < 0.01
    # the same crop gives the mask back exactly (up to OpenCV's fixed-point grid)
    np.testing.assert_allclose(mask_in_crop(mask, first, 256), probabilities, atol=1e-6)


def test_supersampled_mask_reads_the_crop_mask_at_the_fine_pixels() -> None:
    rng = np.random.default_rng(4)
    size_wh = (640, 480)
    crop_from_image = _crop_from_image(Roi((300.0, 250.0), (500.0, 500.0), 0.3), size_wh)
    probabilities = rng.random((256, 256)).astype(np.float32)
    mask = CropMask(probabilities, crop_from_image, size_wh)
    for factor in (2, 3):
        fine = supersample_mask(mask, factor)
        side = 256 * factor
        assert fine.probabilities.shape == (side, side)
        # fine pixel j sits at crop coordinate (j − (factor − 1)/2) / factor; zero outside
        at = (np.arange(side) - (factor - 1) / 2) / factor
        map_x = np.tile(at.astype(np.float32), (side, 1))
        expected = cv2.remap(
            np.pad(probabilities, 1), map_x + 1, map_x.T + 1, cv2.INTER_LINEAR
        )  # padded with the zero ring the frame reads beyond the crop
        np.testing.assert_allclose(fine.probabilities, expected, atol=2e-3)
    # the same frame points: the frame read through either grid agrees (a smooth mask: the
    # fine grid interpolates the coarse one, which only smooths its corners further)
    yy, xx = np.mgrid[0:256, 0:256]
    blob = 1 / (1 + np.exp(((xx - 128) ** 2 + (yy - 120) ** 2 - 80**2) / 400))
    smooth = CropMask(blob.astype(np.float32), crop_from_image, size_wh)
    frame, frame_fine = smooth.to_image(), supersample_mask(smooth, 2).to_image()
    assert np.abs(frame - frame_fine).max() < 0.01
    assert supersample_mask(mask, 1) is mask


def test_crop_mask_is_read_only_and_pickles() -> None:
    mask = CropMask(np.full((256, 256), 0.25, np.float32), np.eye(3), (64, 48))
    with pytest.raises(ValueError, match="read-only"):
        mask.probabilities[0, 0] = 1.0
    again = pickle.loads(pickle.dumps(mask))  # noqa: S301 - our own bytes
    np.testing.assert_array_equal(again.to_image(), mask.to_image())


def test_fixed_point_mask_blends_as_opencv_3_4() -> None:
    """The fixed-point mask reads the crop at 1/32-pixel positions, blended in float."""
    rng = np.random.default_rng(4)
    logits = rng.normal(0, 3, (1, 256, 256, 1)).astype(np.float32)
    probability = activate_mask(logits)
    for angle in (0.0, 0.7, -2.0):
        roi = Roi(center_px=(55.0, 35.0), size_px=(70.0, 70.0), angle_rad=angle)
        crop_from_image = _crop_from_image(roi, (120, 80))
        mask = CropMask(probability, crop_from_image, (120, 80), fixed_point=True).to_image()
        source_xy, fraction = fixed_point_affine_maps(crop_from_image[:2], (120, 80))
        x, y = source_xy[..., 0].astype(int), source_xy[..., 1].astype(int)
        fx, fy = (fraction & 31) / np.float32(32), (fraction >> 5) / np.float32(32)
        expected = np.zeros((80, 120))
        for dy, wy in ((0, 1 - fy), (1, fy)):
            for dx, wx in ((0, 1 - fx), (1, fx)):
                inside = (x + dx >= 0) & (x + dx < 256) & (y + dy >= 0) & (y + dy < 256)
                value = probability[np.clip(y + dy, 0, 255), np.clip(x + dx, 0, 255)]
                expected += value * inside * wy * wx
        np.testing.assert_allclose(mask, expected, atol=2e-6)
        exact = crop_mask_to_image(probability, crop_from_image, (120, 80))
        assert 0 < np.abs(mask - exact).max() < 0.05  # the same mask, sampled 1/32 px apart


def test_fixed_point_affine_maps_work_in_1_1024_then_1_32_pixel() -> None:
    # x·0.3 + 2.01: OpenCV adds round(0.3·x·1024) and round(2.01·1024) + 16, then >> 5
    source_xy, fraction = fixed_point_affine_maps(np.array([[0.3, 0, 2.01], [0, 1, 0]]), (9, 2))
    fixed = (np.rint(0.3 * np.arange(9) * 1024) + np.rint(2.01 * 1024) + 16).astype(int) >> 5
    np.testing.assert_array_equal(source_xy[1, :, 0], fixed >> 5)
    np.testing.assert_array_equal(fraction[1] & 31, fixed & 31)
    np.testing.assert_array_equal(source_xy[:, 0, 1], [0, 1])
