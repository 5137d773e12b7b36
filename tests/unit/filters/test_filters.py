import math

import numpy as np
import pytest

from hifipose.errors import ConfigError
from hifipose.filters import LowPassFilter, OneEuroFilter, smooth_segmentation


def test_low_pass_hand_computed() -> None:
    f = LowPassFilter(0.1)
    out = [float(f.apply(v)) for v in (1.0, 2.0, 4.0)]
    # 1 passes; 0.1·2 + 0.9·1 = 1.1; 0.1·4 + 0.9·1.1 = 1.39
    assert out == pytest.approx([1.0, 1.1, 1.39])
    assert float(f.last_raw_value) == 4.0  # type: ignore[arg-type]


def test_low_pass_reset_and_shape_change() -> None:
    f = LowPassFilter(0.5)
    f.apply([0.0, 0.0])
    f.reset()
    np.testing.assert_array_equal(f.apply([4.0, 8.0]), [4.0, 8.0])
    np.testing.assert_array_equal(f.apply([1.0, 2.0, 3.0]), [1.0, 2.0, 3.0])  # new shape: restart


@pytest.mark.parametrize("alpha", [0.0, -0.1, 1.5])
def test_low_pass_rejects_bad_alpha(alpha: float) -> None:
    with pytest.raises(ConfigError, match="alpha"):
        LowPassFilter(alpha)


def test_one_euro_alphas_at_30_fps_match_the_graph_comments() -> None:
    f = OneEuroFilter(min_cutoff=0.05, beta=80, derivate_cutoff=1.0)
    assert f.alpha(0.05) == pytest.approx(0.0104, abs=1e-4)
    assert f.alpha(0.01) == pytest.approx(0.0021, abs=1e-4)
    assert f.alpha(0.1) == pytest.approx(0.0205, abs=1e-4)
    assert f.alpha(1.0) == pytest.approx(0.173, abs=1e-3)


def _alpha(cutoff: float, freq: float) -> float:
    return 1.0 / (1.0 + freq / (2 * math.pi * cutoff))


def test_one_euro_hand_computed_sequence() -> None:
    f = OneEuroFilter(min_cutoff=0.05, beta=80.0, derivate_cutoff=1.0)
    scale = 1 / 200.0
    assert float(f.apply(10.0, 0, scale)) == 10.0  # first sample passes through
    # second sample, 50 ms later: frequency 20 Hz
    freq = 20.0
    dx = (12.0 - 10.0) * scale * freq  # 0.2; its low-pass: first sample passes → 0.2?
    # the derivative filter saw 0 on the first sample, so: a·0.2 + (1 − a)·0
    a_d = _alpha(1.0, freq)
    edx = a_d * dx
    a = _alpha(0.05 + 80 * abs(edx), freq)
    expected = a * 12.0 + (1 - a) * 10.0
    assert float(f.apply(12.0, 50_000, scale)) == pytest.approx(expected, rel=1e-12)
    # third sample, 25 ms later: frequency 40 Hz; derivative uses the *raw* previous value
    freq = 40.0
    dx3 = (11.0 - 12.0) * scale * freq
    a_d = _alpha(1.0, freq)
    edx3 = a_d * dx3 + (1 - a_d) * edx
    a = _alpha(0.05 + 80 * abs(edx3), freq)
    expected3 = a * 11.0 + (1 - a) * expected
    assert float(f.apply(11.0, 75_000, scale)) == pytest.approx(expected3, rel=1e-12)


def test_one_euro_non_increasing_timestamp_returns_raw_and_keeps_state() -> None:
    values = [1.0, 3.0, 2.0, 5.0]
    clean = OneEuroFilter(min_cutoff=0.1, beta=40.0, derivate_cutoff=1.0)
    dirty = OneEuroFilter(min_cutoff=0.1, beta=40.0, derivate_cutoff=1.0)
    times = [0, 33_333, 66_666, 99_999]
    expected = [float(clean.apply(v, t)) for v, t in zip(values, times, strict=True)]
    got = []
    for v, t in zip(values, times, strict=True):
        got.append(float(dirty.apply(v, t)))
        if t == 33_333:
            assert float(dirty.apply(100.0, 33_333)) == 100.0  # repeated: raw value back
            assert float(dirty.apply(-7.0, 10_000)) == -7.0  # backwards: raw value back
    assert got == pytest.approx(expected, rel=1e-15)


def test_one_euro_is_elementwise_and_resets() -> None:
    f = OneEuroFilter(min_cutoff=0.05, beta=80.0, derivate_cutoff=1.0)
    g = [OneEuroFilter(min_cutoff=0.05, beta=80.0, derivate_cutoff=1.0) for _ in range(2)]
    for t, row in enumerate(([0.0, 5.0], [1.0, 5.5], [3.0, 4.0])):
        vector = f.apply(row, t * 33_333, 0.01)
        scalars = [float(gi.apply(v, t * 33_333, 0.01)) for gi, v in zip(g, row, strict=True)]
        np.testing.assert_allclose(vector, scalars, rtol=1e-15)
    f.reset()
    assert f.frequency == 30.0
    np.testing.assert_array_equal(f.apply([9.0, 9.0], 0), [9.0, 9.0])


def test_segmentation_smoothing_values() -> None:
    previous = np.full((2, 2), 1.0, np.float32)
    current = np.array([[0.5, 0.0], [1.0, 0.5]], np.float32)
    out = smooth_segmentation(current, previous)
    # p = 0.5: t = 0, u = 1 → p + (prev − p)·0.7 = 0.85; p = 0 or 1: t = 0.25 → u = 0 → p
    t = 0.25
    poly = t * (5.68842 + t * (-0.748699 + t * (-57.8051 + t * (291.309 + t * -624.717))))
    u = 1 - min(1.0, poly)
    np.testing.assert_allclose(out, [[0.85, 0.0 + (1.0 - 0.0) * u * 0.7], [1.0, 0.85]], atol=1e-6)
    assert out.dtype == np.float32


def test_segmentation_smoothing_passes_through_without_history() -> None:
    current = np.random.default_rng(0).random((3, 4)).astype(np.float32)
    assert smooth_segmentation(current, None) is current
    assert smooth_segmentation(current, np.zeros((4, 3), np.float32)) is current


def test_segmentation_smoothing_keeps_almost_nothing_where_the_mask_is_certain() -> None:
    """p = 0 keeps ≤ 3e-5 of the previous mask: why the blend may run in the crop alone.

    Outside the crop MediaPipe blends p = 0 with the previous frame mask; hifipose leaves
    those pixels at 0, which this bound makes the same to 3e-5.
    """
    rng = np.random.default_rng(1)
    previous = rng.random((60, 80)).astype(np.float32)
    current = np.zeros((60, 80), np.float32)
    out = smooth_segmentation(current, previous)
    assert out.max() <= 3.1e-5
    assert out.max() > 0.0  # the polynomial leaves a trace; it is small, not absent
    assert not np.shares_memory(out, current) and not np.shares_memory(out, previous)
