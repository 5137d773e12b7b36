import numpy as np

from hifipose.blazepose.anchors import ssd_anchor_centers


def test_shapes() -> None:
    centers = ssd_anchor_centers()
    assert centers.shape == (2254, 2)
    assert centers.dtype == np.float32
    assert not centers.flags.writeable


def test_values_first_and_last_anchor_centres() -> None:
    centers = ssd_anchor_centers()
    # Stride 8 → 28×28 grid: the first cell's centre is half a cell in, twice (2 anchors).
    np.testing.assert_allclose(centers[0], (0.5 / 28, 0.5 / 28), rtol=1e-6)
    np.testing.assert_allclose(centers[1], (0.5 / 28, 0.5 / 28), rtol=1e-6)
    # Row-major: the third anchor is the next cell to the right (x moves first).
    np.testing.assert_allclose(centers[2], (1.5 / 28, 0.5 / 28), rtol=1e-6)
    # Stride 16 group starts at 28·28·2 = 1568.
    np.testing.assert_allclose(centers[1568], (0.5 / 14, 0.5 / 14), rtol=1e-6)
    # Three merged stride-32 layers: 6 anchors per 7×7 cell, the last at the last cell.
    np.testing.assert_allclose(centers[1568 + 392 : 1568 + 392 + 6], [(0.5 / 7, 0.5 / 7)] * 6)
    np.testing.assert_allclose(centers[-1], (6.5 / 7, 6.5 / 7), rtol=1e-6)


def test_values_group_sizes() -> None:
    centers = ssd_anchor_centers()
    assert np.unique(centers[:1568], axis=0).shape[0] == 28 * 28
    assert np.unique(centers[1568:1960], axis=0).shape[0] == 14 * 14
    assert np.unique(centers[1960:], axis=0).shape[0] == 7 * 7
