import math

import cv2
import numpy as np
import pytest

from hifipose.blazepose.crop import (
    crop_image,
    fixed_point_maps,
    legacy_box_points,
    letterbox_roi,
    whole_image_roi,
)
from hifipose.blazepose.roi import Roi


def _ramp_x(width: int = 200, height: int = 100) -> np.ndarray:
    """An image whose value is its x coordinate (asymmetric in x and y)."""
    ramp = np.tile(np.arange(width, dtype=np.uint8), (height, 1))
    return np.repeat(ramp[:, :, None], 3, axis=2)


def test_shapes_and_value_range() -> None:
    crop = crop_image(
        _ramp_x(), whole_image_roi((200, 100)), tensor_size=32, value_range=(-1, 1), border="zero"
    )
    assert crop.tensor.shape == (1, 32, 32, 3)
    assert crop.tensor.dtype == np.float32
    assert crop.tensor.min() >= -1.0
    assert crop.tensor.max() <= 1.0


def test_values_unrotated_crop_samples_from_the_top_left_corner() -> None:
    roi = Roi(center_px=(100.0, 50.0), size_px=(64.0, 64.0), angle_rad=0.0)
    crop = crop_image(_ramp_x(), roi, tensor_size=64, value_range=(0, 1), border="zero")
    # destination column i samples x = 100 - 32 + i: no half-pixel shift
    np.testing.assert_allclose(crop.tensor[0, 10, :, 0] * 255, np.arange(68, 132), atol=1e-3)


def test_convention_positive_angle_turns_the_crop_clockwise() -> None:
    roi = Roi(center_px=(100.0, 50.0), size_px=(64.0, 64.0), angle_rad=math.pi / 2)
    crop = crop_image(_ramp_x(), roi, tensor_size=64, value_range=(0, 1), border="replicate")
    # crop (i, j) samples centre + R(θ)·(i - 32, j - 32) = (100 - (j - 32), 50 + (i - 32)),
    # so the image's x ramp runs down the crop's rows, decreasing.
    column = crop.tensor[0, :, 20, 0] * 255
    np.testing.assert_allclose(column, 132 - np.arange(64), atol=1e-3)
    np.testing.assert_allclose(crop.tensor[0, 5, :, 0], crop.tensor[0, 5, 0, 0])  # rows constant


def test_values_matrix_maps_image_to_crop() -> None:
    roi = Roi(center_px=(80.0, 40.0), size_px=(50.0, 50.0), angle_rad=0.3)
    crop = crop_image(_ramp_x(), roi, tensor_size=100, value_range=(0, 1), border="zero")
    centre = crop.crop_from_image @ np.array([80.0, 40.0, 1.0])
    np.testing.assert_allclose(centre[:2] / centre[2], (50.0, 50.0), atol=1e-4)


def test_values_zero_border_becomes_minus_one() -> None:
    roi = Roi(center_px=(0.0, 0.0), size_px=(40.0, 40.0), angle_rad=0.0)
    crop = crop_image(_ramp_x(), roi, tensor_size=40, value_range=(-1, 1), border="zero")
    assert crop.tensor[0, 0, 0, 0] == pytest.approx(-1.0)


@pytest.mark.parametrize(
    ("size", "padded", "padding"),
    [
        ((1000.0, 667.0), (1000.0, 1000.0), (0.0, 0.1665, 0.0, 0.1665)),  # landscape
        ((500.0, 1000.0), (1000.0, 1000.0), (0.25, 0.0, 0.25, 0.0)),  # portrait
        ((64.0, 64.0), (64.0, 64.0), (0.0, 0.0, 0.0, 0.0)),  # square: nothing to pad
    ],
)
def test_values_letterbox(
    size: tuple[float, float], padded: tuple[float, float], padding: tuple
) -> None:
    roi, pads = letterbox_roi(Roi((0.0, 0.0), size, 0.0), (224, 224))
    assert roi.size_px == pytest.approx(padded)
    assert pads == pytest.approx(padding)


def _opencv3_bilinear(image: np.ndarray, source_xy: np.ndarray, fraction: np.ndarray, border: str):
    """OpenCV 3.4's fixed-point bilinear blend, written out: weights (32 − a)(32 − b) etc."""
    height, width = image.shape[:2]
    x, y = source_xy[..., 0].astype(np.int64), source_xy[..., 1].astype(np.int64)
    fx, fy = (fraction & 31).astype(np.int64), (fraction >> 5).astype(np.int64)
    total = np.zeros((*x.shape, image.shape[2]), np.int64)
    for dy, wy in ((0, 32 - fy), (1, fy)):
        for dx, wx in ((0, 32 - fx), (1, fx)):
            px, py = x + dx, y + dy
            value = image[np.clip(py, 0, height - 1), np.clip(px, 0, width - 1)].astype(np.int64)
            if border == "zero":
                value *= ((px >= 0) & (px < width) & (py >= 0) & (py < height))[..., None]
            total += value * (wx * wy)[..., None]
    return ((total + 512) >> 10).astype(np.uint8)


@pytest.mark.parametrize("border", ["zero", "replicate"])
def test_fixed_point_crop_blends_as_opencv_3_4(border: str) -> None:
    """The installed OpenCV's fixed-point remap must still be 3.4's integer blend."""
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, (90, 160, 3), dtype=np.uint8)
    for _ in range(6):
        roi = Roi(
            center_px=(rng.uniform(-20, 180), rng.uniform(-20, 110)),
            size_px=(rng.uniform(10, 200),) * 2,
            angle_rad=rng.uniform(-math.pi, math.pi),
        )
        crop = crop_image(
            image, roi, tensor_size=48, value_range=(0, 1), border=border, fixed_point=True
        )
        image_from_crop = np.linalg.inv(crop.crop_from_image)
        expected = _opencv3_bilinear(image, *fixed_point_maps(image_from_crop, (48, 48)), border)
        np.testing.assert_array_equal(np.rint(crop.tensor[0] * 255), expected)


def test_fixed_point_maps_round_source_positions_to_1_32_pixel() -> None:
    shift = np.array([[1.0, 0.0, 3.25], [0.0, 1.0, -7.5], [0.0, 0.0, 1.0]])
    source_xy, fraction = fixed_point_maps(shift, (130, 4))
    assert source_xy.shape == (4, 130, 2) and source_xy.dtype == np.int16
    np.testing.assert_array_equal(source_xy[2, :, 0], np.arange(130) + 3)
    np.testing.assert_array_equal(source_xy[:, 0, 1], np.arange(4) - 8)
    assert set(np.unique(fraction)) == {16 * 32 + 8}  # rows +0.5, columns +0.25 pixel
    third = np.array([[1 / 3, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    source_xy, fraction = fixed_point_maps(third, (70, 1))
    # 70/3 = 23.33 → 746.67/32 rounds to 747/32: pixel 23, fraction 11
    assert (source_xy[0, 70 - 1, 0], fraction[0, 69] & 31) == (23, round(69 / 3 * 32) & 31)


def test_fixed_point_crop_is_the_same_crop_within_a_few_grey_levels() -> None:
    image = cv2.GaussianBlur(
        np.random.default_rng(3).integers(0, 256, (120, 200, 3), dtype=np.uint8), (0, 0), 2
    )
    roi = Roi(center_px=(90.0, 70.0), size_px=(110.0, 110.0), angle_rad=0.4)
    ours = crop_image(image, roi, tensor_size=64, value_range=(0, 1), border="replicate")
    legacy = crop_image(
        image, roi, tensor_size=64, value_range=(0, 1), border="replicate", fixed_point=True
    )
    np.testing.assert_allclose(legacy.crop_from_image, ours.crop_from_image, rtol=1e-5, atol=1e-4)
    assert np.abs(legacy.tensor - ours.tensor).max() <= 3 / 255 + 1e-6


def test_legacy_box_points_are_the_roi_corners() -> None:
    roi = Roi(center_px=(412.3, 233.9), size_px=(301.7, 301.7), angle_rad=-0.7)
    expected = cv2.boxPoints((roi.center_px, roi.size_px, math.degrees(roi.angle_rad)))
    corners = legacy_box_points(roi)
    assert corners.dtype == np.float32
    np.testing.assert_allclose(corners, expected, atol=1e-3)
