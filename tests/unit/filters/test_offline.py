"""Offline (two-sided) smoothing: amplitude and lag, jitter, gaps, visibility, frame rate."""

from __future__ import annotations

import numpy as np
import pytest

from hifipose.errors import ConfigError
from hifipose.filters import OneEuroFilter
from hifipose.filters.offline import smooth_results, smooth_series
from hifipose.pose import FrameResult, Pose
from tests.conftest import CountingMask

FPS = 30.0
FREQ = 3.0


def gain_and_lag_frames(times_s: np.ndarray, output: np.ndarray) -> tuple[float, float]:
    """Amplitude ratio and lag (frames) of a unit sine at FREQ, from its Fourier coefficient."""
    core = slice(len(times_s) // 5, -len(times_s) // 5)  # away from the ends
    t, y = times_s[core], output[core]
    phasor = 2 * np.mean(y * np.exp(-2j * np.pi * FREQ * t))  # for sin: amplitude, phase −90°
    reference = 2 * np.mean(np.sin(2 * np.pi * FREQ * t) * np.exp(-2j * np.pi * FREQ * t))
    ratio = phasor / reference
    lag_s = -np.angle(ratio) / (2 * np.pi * FREQ)
    return float(abs(ratio)), float(lag_s * FPS)


def one_euro_landmark(values: np.ndarray, times_ms: np.ndarray, object_scale: float) -> np.ndarray:
    """MediaPipe's landmark filter (0.05 Hz, beta 80, derivative 1 Hz), values scaled by 1/size."""
    f = OneEuroFilter(min_cutoff=0.05, beta=80.0, derivate_cutoff=1.0)
    return np.array(
        [
            float(f.apply(v, round(t * 1000), 1.0 / object_scale))
            for v, t in zip(values, times_ms, strict=True)
        ]
    )


def test_3hz_keeps_amplitude_without_lag_and_one_euro_lags() -> None:
    times_ms = np.arange(300) * 1000.0 / FPS
    seconds = times_ms / 1000.0
    amplitude = 20.0  # pixels, on a person whose object scale is 300 px
    signal = amplitude * np.sin(2 * np.pi * FREQ * seconds)
    adaptive = {"min_cutoff_hz": 0.05, "beta": 80.0, "speed_scale": 300.0}
    for method, options in (("rts", {}), ("butterworth", {}), ("rts", adaptive)):
        output = smooth_series(signal, times_ms, method=method, **options)  # type: ignore[arg-type]
        gain, lag = gain_and_lag_frames(seconds, output / amplitude)
        print(f"{method}: 3 Hz amplitude kept {gain:.3f}, lag {lag:+.3f} frames")
        assert gain >= 0.95
        assert abs(lag) <= 1.0
    causal = one_euro_landmark(signal + 500.0, times_ms, object_scale=300.0) - 500.0
    gain, lag = gain_and_lag_frames(seconds, causal / amplitude)
    print(f"MediaPipe's one-euro landmark filter: amplitude {gain:.3f}, lag {lag:+.3f} frames")
    assert lag > 0.0  # causal: it can only lag


def jitter(x: np.ndarray) -> float:
    """RMS of the second difference along time."""
    return float(np.sqrt(np.mean(np.square(np.diff(x, n=2, axis=0)))))


def test_white_noise_jitter_drops_five_fold() -> None:
    rng = np.random.default_rng(0)
    times_ms = np.arange(600) * 1000.0 / FPS
    noise = rng.normal(0.0, 1.0, (600, 4))
    smoothed = smooth_series(noise, times_ms)
    assert jitter(noise) / jitter(smoothed) >= 5.0


def test_short_gaps_are_filled_long_gaps_split_the_series() -> None:
    times_ms = np.arange(90) * 1000.0 / FPS
    ramp = 2.0 * np.arange(90)
    with_gap = ramp.copy()
    with_gap[40:45] = np.nan  # 6 frames between valid samples: 200 ms < 300 ms
    out = smooth_series(with_gap, times_ms)
    np.testing.assert_allclose(out, ramp, atol=1e-3)  # a ramp is the model's own motion
    steps = np.where(np.arange(90) < 40, 0.0, 100.0)
    steps[40:55] = np.nan  # 16 frames: 533 ms > 300 ms: never smoothed across
    for method in ("rts", "savgol", "butterworth"):
        out = smooth_series(steps, times_ms, method=method)
        assert np.isnan(out[40:55]).all()
        np.testing.assert_allclose(out[:40], 0.0, atol=1e-6)
        np.testing.assert_allclose(out[55:], 100.0, atol=1e-6)


def test_low_visibility_points_are_missing() -> None:
    times_ms = np.arange(60) * 1000.0 / FPS
    still = np.full(60, 10.0)
    visibility = np.ones(60)
    still[30] = 500.0  # a hallucinated jump the model was unsure of
    visibility[30] = 0.1
    out = smooth_series(still, times_ms, weights=visibility)
    np.testing.assert_allclose(out, 10.0, atol=1e-6)
    assert smooth_series(still, times_ms)[30] > 100  # counted when visible


def test_variable_frame_rate_uses_the_timestamps() -> None:
    rng = np.random.default_rng(2)
    times_ms = np.cumsum(rng.uniform(20.0, 47.0, 400))  # 21–50 fps, irregular
    seconds = times_ms / 1000.0
    signal = np.sin(2 * np.pi * 1.5 * seconds)
    for method in ("rts", "savgol", "butterworth"):
        out = smooth_series(signal, times_ms, method=method)
        core = slice(40, -40)
        assert np.abs(out[core] - signal[core]).max() < 0.05, method
    with pytest.raises(ConfigError, match="increasing"):
        smooth_series(signal, times_ms[::-1])
    with pytest.raises(ConfigError, match="method"):
        smooth_series(signal, times_ms, method="kalman")


def pose(x: float, track_id: int | None) -> Pose:
    image = np.zeros((33, 5), np.float32)
    image[:, 0] = x
    image[:, 3:] = 1.0
    return Pose(image, np.full((33, 3), x / 100.0), 0.9, track_id=track_id)


def test_smooth_results_works_per_track_and_keeps_frames() -> None:
    rng = np.random.default_rng(5)
    results = []
    for i in range(60):
        poses = [pose(100 + rng.normal(0, 3), 1)]
        if i % 2 == 0 or i > 40:  # track 2 appears in every other frame, then every frame
            poses.append(pose(400 + rng.normal(0, 3), 2))
        results.append(FrameResult(i, i * 1000 / FPS, (640, 480), tuple(poses)))
    out = smooth_results(results)
    assert [r.index for r in out] == list(range(60))
    assert [[p.track_id for p in r.poses] for r in out] == [
        [p.track_id for p in r.poses] for r in results
    ]
    for track_id, centre in ((1, 100.0), (2, 400.0)):
        raw = np.array(
            [p.image_array[0, 0] for r in results for p in r.poses if p.track_id == track_id]
        )
        new = np.array(
            [p.image_array[0, 0] for r in out for p in r.poses if p.track_id == track_id]
        )
        assert abs(new.mean() - centre) < 3  # never pulled towards the other person
        assert jitter(new) < jitter(raw) / 3
    world_raw = np.array([r.poses[0].world_array_m[0, 0] for r in results])
    world_new = np.array([r.poses[0].world_array_m[0, 0] for r in out])
    assert abs(world_new.mean() - 1.0) < 0.03
    assert jitter(world_new) < jitter(world_raw) / 3  # world keypoints are smoothed too
    fixed = smooth_results(results, adaptive=False)
    assert jitter(np.array([r.poses[0].image_array[0, 0] for r in fixed])) > jitter(new)
    twins = [FrameResult(0, 0.0, (640, 480), (pose(1, None), pose(2, None)))]
    with pytest.raises(ConfigError, match="several poses"):
        smooth_results(twins)


def test_smooth_results_leaves_lazy_masks_unread() -> None:
    """A whole clip is held at once: frame-sized masks would cost 8 MB a person a frame."""
    masks = [CountingMask((640, 480)) for _ in range(20)]
    results = [
        FrameResult(i, i * 1000 / FPS, (640, 480), (pose(100.0 + i, 1).replace(segmentation=m),))
        for i, m in enumerate(masks)
    ]
    out = smooth_results(results)
    assert all(m.reads == [] for m in masks)
    assert out[5].poses[0].segmentation is not None and masks[5].reads == [None]


@pytest.mark.parametrize("fps", [30.0, 20.0, 10.0])
def test_a_gap_of_exactly_max_gap_ms_is_filled_and_one_frame_more_splits(fps: float) -> None:
    """The edge: valid samples exactly 300 ms apart (in float times) count as a short gap."""
    times_ms = np.arange(60) * 1000.0 / fps
    gap = round(0.3 * fps)  # frames between the two valid samples around the gap
    ramp = 2.0 * np.arange(60)
    at_edge = ramp.copy()
    at_edge[21 : 20 + gap] = np.nan
    assert times_ms[20 + gap] - times_ms[20] == pytest.approx(300.0)
    out = smooth_series(at_edge, times_ms)
    np.testing.assert_allclose(out, ramp, atol=1e-3)  # filled, not split
    past = ramp.copy()
    past[21 : 21 + gap] = np.nan  # one frame more: past the edge
    assert np.isnan(smooth_series(past, times_ms)[21 : 21 + gap]).all()


def test_a_sample_exactly_at_min_visibility_counts() -> None:
    times_ms = np.arange(30) * 1000.0 / FPS
    values = np.full(30, 10.0)
    values[15] = 500.0
    visibility = np.ones(30)
    visibility[15] = 0.5
    assert smooth_series(values, times_ms, weights=visibility, min_visibility=0.5)[15] > 50
    visibility[15] = np.nextafter(0.5, 0.0)
    out = smooth_series(values, times_ms, weights=visibility, min_visibility=0.5)
    np.testing.assert_allclose(out, 10.0, atol=1e-6)
