import math

import numpy as np
import pytest

from hifipose.blazepose.crop import crop_image
from hifipose.blazepose.landmarks import (
    decode_landmarks,
    decode_world_landmarks,
    project_landmarks,
    refine_with_heatmap,
)
from hifipose.blazepose.roi import Roi


def test_values_decode_scales_by_crop_size_and_activates_scores() -> None:
    raw = np.zeros((39, 5), np.float32)
    raw[0] = [128.0, 64.0, -25.6, 0.0, 2.0]
    out = decode_landmarks(raw.reshape(1, 195))
    assert out.shape == (39, 5)
    np.testing.assert_allclose(out[0], [0.5, 0.25, -0.1, 0.5, 1 / (1 + math.exp(-2))], rtol=1e-6)


def _heatmap_with_peak(row: int, col: int, channel: int = 0) -> np.ndarray:
    heatmap = np.full((1, 64, 64, 39), -20.0, np.float32)  # sigmoid ≈ 0 everywhere
    heatmap[0, row, col, channel] = 20.0  # sigmoid ≈ 1
    heatmap[0, row, col + 1, channel] = 0.0  # sigmoid = 0.5: pulls x right by 1/3 cell
    return heatmap


def test_values_refinement_moves_to_the_weighted_peak() -> None:
    landmarks = np.zeros((39, 5), np.float32)
    landmarks[0, :2] = (31.2 / 64, 10.7 / 64)  # cell (col 31, row 10), window covers 33
    refined = refine_with_heatmap(landmarks, _heatmap_with_peak(row=12, col=33))
    expected_col = (33 * 1.0 + 34 * 0.5) / 1.5  # plus ~0 from the other cells
    assert refined[0, 0] == pytest.approx(expected_col / 64, abs=1e-6)
    assert refined[0, 1] == pytest.approx(12 / 64, abs=1e-6)  # no half-cell offset
    np.testing.assert_array_equal(refined[1:], landmarks[1:])  # other channels have no peak


def test_values_refinement_needs_a_confident_cell() -> None:
    landmarks = np.zeros((39, 5), np.float32)
    landmarks[0, :2] = (0.5, 0.5)
    heatmap = np.full((64, 64, 39), -0.1, np.float32)  # every confidence just below 0.5
    np.testing.assert_array_equal(refine_with_heatmap(landmarks, heatmap), landmarks)


def test_values_refinement_skips_points_outside_the_grid() -> None:
    landmarks = np.zeros((39, 5), np.float32)
    landmarks[0, :2] = (1.01, 0.5)  # col 64: outside
    landmarks[1, :2] = (-0.01, 0.5)  # trunc(-0.64) = 0: inside, as in C++
    heatmap = np.full((64, 64, 39), 10.0, np.float32)
    refined = refine_with_heatmap(landmarks, heatmap)
    assert refined[0, 0] == pytest.approx(1.01)
    assert refined[1, 0] == pytest.approx(1.5 / 64)  # mean of cols 0..3 (window clipped)


@pytest.mark.parametrize("angle", [0.0, 0.4, -2.5, math.pi / 2])
@pytest.mark.parametrize("size", [(60.0, 60.0), (40.0, 60.0)])
def test_values_projection_round_trips_through_the_crop(angle: float, size: tuple) -> None:
    roi = Roi(center_px=(120.0, 70.0), size_px=size, angle_rad=angle)
    image = np.zeros((150, 250, 3), np.uint8)
    crop = crop_image(image, roi, tensor_size=256, value_range=(0, 1), border="zero")
    points_px = np.array([[100.0, 60.0], [130.0, 85.0], [120.0, 70.0]])
    homogeneous = np.c_[points_px, np.ones(3)] @ crop.crop_from_image.T
    crop_norm = homogeneous[:, :2] / homogeneous[:, 2:] / 256
    landmarks = np.c_[crop_norm, np.full(3, 0.1), np.ones((3, 2))].astype(np.float32)
    projected = project_landmarks(landmarks, roi, crop.padding)
    np.testing.assert_allclose(projected[:, :2], points_px, atol=1e-3)
    # z is divided like x by the unpadded share of the crop, then scaled by the ROI width
    assert projected[0, 2] == pytest.approx(0.1 / (1 - 2 * crop.padding[0]) * size[0], rel=1e-5)
    np.testing.assert_array_equal(projected[:, 3:], landmarks[:, 3:])


def test_values_world_landmarks_rotate_about_z_only() -> None:
    raw = np.zeros((39, 3), np.float32)
    raw[0] = (1.0, 0.0, 0.5)
    world = decode_world_landmarks(raw.reshape(1, 117), math.pi / 2)
    np.testing.assert_allclose(world[0], (0.0, 1.0, 0.5), atol=1e-6)  # +x → +y (clockwise)
    assert world.shape == (39, 3)
