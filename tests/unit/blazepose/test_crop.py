import math

import numpy as np
import pytest

from hifipose.blazepose.crop import crop_image, letterbox_roi, whole_image_roi
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
