"""Zero-lag smoothing of whole recorded tracks (two-sided filters, applied after tracking).

MediaPipe's one-euro filters are causal: each output sees only the past, so fast motion
lags behind. For a recorded clip the whole series is known, and a two-sided smoother has no
lag. Three are offered, all applied per track, per keypoint coordinate:

* ``"rts"`` (default): a Kalman filter with a constant-acceleration model run forward, then
  the Rauch–Tung–Striebel smoother run backward. Time steps come from the timestamps, so a
  variable frame rate needs no resampling. The process noise is set from ``cutoff_hz``:
  with white jerk of density q and measurement variance r per sample (interval Δt), the
  steady-state smoother is the low-pass 1 / (1 + (f / f_c)⁶) with (2π·f_c)⁶ = q / (r·Δt).
  A keypoint's measurement variance is r / visibility², so doubtful points count less.
  Optionally (the default of :func:`smooth_results`) the cut-off follows the speed with
  MediaPipe's one-euro rule, in a second pass (see :func:`smooth_series`).
* ``"savgol"``: Savitzky–Golay (polyorder 3, window the odd number of samples nearest
  0.25 s, at least 5) on a uniform time grid.
* ``"butterworth"``: a 2nd-order low-pass run forward and backward (``sosfiltfilt``: zero
  phase, 4th-order roll-off) at ``cutoff_hz``, with Winter's correction for the double pass
  (the −3 dB point lands on ``cutoff_hz``), on a uniform time grid.

Conventions:
    Timestamps are milliseconds and must increase. A sample is *missing* when it is not
    finite or its weight (the keypoint's visibility) is below ``min_visibility``. A run of
    missing samples whose valid neighbours are at most ``max_gap_ms`` apart is a short gap
    and is filled (the smoother's estimate, or linear interpolation for the grid filters);
    a longer gap splits the series into segments that are smoothed separately, never across
    the gap. Samples in a long gap, and missing samples before a track's first or after its
    last valid sample, come back NaN from :func:`smooth_series`; :func:`smooth_results` keeps
    their raw values. The default cut-off is ``min(6 Hz, frame rate / 5)``: 6 Hz is the usual
    biomechanics cut-off (Pose2Sim, Sports2D), and the cap keeps low frame rates smoothed.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hifipose.errors import ConfigError
from hifipose.pose import FrameResult, Pose

__all__ = [
    "DEFAULT_MAX_GAP_MS",
    "DEFAULT_MIN_VISIBILITY",
    "SMOOTHING_METHODS",
    "default_cutoff_hz",
    "smooth_results",
    "smooth_series",
]

SMOOTHING_METHODS: Final = ("rts", "savgol", "butterworth", "none")
DEFAULT_MAX_GAP_MS: Final = 300.0
DEFAULT_MIN_VISIBILITY: Final = 0.5
DEFAULT_CUTOFF_HZ: Final = 6.0
SAVGOL_POLYORDER: Final = 3
SAVGOL_WINDOW_S: Final = 0.25
BUTTER_ORDER: Final = 2  # per pass; forward-backward doubles the roll-off
ADAPT_HOLD_S: Final = 0.15
#: MediaPipe's one-euro (min_cutoff Hz, beta) for landmarks and for world landmarks.
LANDMARK_SPEED_RULE: Final = (0.05, 80.0)
WORLD_SPEED_RULE: Final = (0.1, 40.0)
_MIN_WEIGHT: Final = 1e-3

FloatArray = NDArray[np.float64]


def default_cutoff_hz(frame_rate_hz: float) -> float:
    """The default cut-off: 6 Hz, or a fifth of the frame rate when that is lower."""
    return min(DEFAULT_CUTOFF_HZ, frame_rate_hz / 5.0)


def smooth_series(
    values: ArrayLike,
    timestamps_ms: ArrayLike,
    *,
    method: str = "rts",
    weights: ArrayLike | None = None,
    min_visibility: float = DEFAULT_MIN_VISIBILITY,
    max_gap_ms: float = DEFAULT_MAX_GAP_MS,
    cutoff_hz: float | None = None,
    min_cutoff_hz: float | None = None,
    beta: float = 0.0,
    speed_scale: ArrayLike = 1.0,
) -> FloatArray:
    """Smooth time series sampled at ``timestamps_ms`` along axis 0, without lag.

    Args:
        values: (T, ...) samples; every trailing element is its own series.
        timestamps_ms: (T,) strictly increasing times in milliseconds.
        method: ``"rts"``, ``"savgol"``, ``"butterworth"`` or ``"none"`` (see the module).
        weights: Optional (T, ...) confidences in [0, 1] (e.g. visibility), broadcastable
            to ``values``; below ``min_visibility`` a sample is missing, and ``"rts"``
            scales the measurement variance by 1 / weight².
        min_visibility: The weight under which a sample is missing.
        max_gap_ms: The longest gap (between the valid samples around it) that is filled.
        cutoff_hz: The low-pass cut-off; default :func:`default_cutoff_hz` of the median
            frame rate. With ``min_cutoff_hz`` it is the highest cut-off.
        min_cutoff_hz: ``"rts"`` only: make the cut-off follow the speed, as MediaPipe's
            one-euro filter does but on both sides in time: a first pass at ``cutoff_hz``
            estimates each sample's speed (units/s: |v| less two standard deviations of
            its estimate, the noise measured from the pass's residuals; divided by
            ``speed_scale``; the largest value within ±0.15 s), and the second pass runs
            with the cut-off ``min(cutoff_hz, min_cutoff_hz + beta · speed)`` at that
            sample. Still stretches are smoothed hard, moving ones barely, neither with lag.
        beta: How fast the cut-off grows with speed (Hz per scaled unit/s).
        speed_scale: Divides the speed: a scalar, or one value per sample (T,) (e.g. the
            person's size in pixels, MediaPipe's "object scale").

    Returns:
        (T, ...) float64: smoothed values; NaN where nothing is estimated (long gaps and
        missing samples outside the first..last valid sample of a segment).

    Raises:
        ConfigError: Unknown method, mismatched shapes, or timestamps that do not increase.
    """
    if method not in SMOOTHING_METHODS:
        msg = f"smoothing method must be one of {SMOOTHING_METHODS}, got {method!r}"
        raise ConfigError(msg)
    x = np.asarray(values, dtype=np.float64)
    t = np.asarray(timestamps_ms, dtype=np.float64)
    if x.ndim == 0 or t.shape != x.shape[:1]:
        msg = f"timestamps_ms must have shape ({x.shape[:1]}), got {t.shape}"
        raise ConfigError(msg)
    if t.size > 1 and not np.all(np.diff(t) > 0):
        msg = "timestamps_ms must be strictly increasing"
        raise ConfigError(msg)
    shape = x.shape
    flat = x.reshape(shape[0], -1)
    if weights is None:
        w = np.ones_like(flat)
    else:
        w = np.broadcast_to(np.asarray(weights, dtype=np.float64), shape).reshape(flat.shape)
    valid = np.isfinite(flat) & (w >= min_visibility)
    if method == "none" or t.size < 3:
        return np.where(valid, flat, np.nan).reshape(shape)
    seconds = t / 1000.0
    dt = float(np.median(np.diff(seconds)))
    cutoff = default_cutoff_hz(1.0 / dt) if cutoff_hz is None else float(cutoff_hz)
    if cutoff <= 0:
        msg = f"cutoff_hz must be positive, got {cutoff_hz}"
        raise ConfigError(msg)
    starts, filled = _segments(seconds, valid, max_gap_ms / 1000.0)
    if method == "rts":
        weight = np.clip(w, _MIN_WEIGHT, 1.0)

        def rts(cutoffs: float | FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
            return _rts(
                flat,
                weight,
                valid=valid,
                starts=starts,
                seconds=seconds,
                dt_nominal=dt,
                cutoff_hz=cutoffs,
            )

        out, velocity, velocity_sd = rts(cutoff)
        if min_cutoff_hz is not None:
            # Only speed beyond two standard deviations of its estimate counts: the first
            # pass assumed noise as large as each series' spread; rescale to the real noise.
            relative = _noise_to_spread(flat, out, valid)
            speed = np.maximum(np.abs(velocity) - 2.0 * velocity_sd * relative, 0.0)
            cutoffs = _adaptive_cutoffs(
                speed, speed_scale, dt=dt, low=min_cutoff_hz, high=cutoff, beta=beta
            )
            out = rts(cutoffs)[0]
    else:
        out = _grid_filter(
            flat,
            valid=valid,
            starts=starts,
            seconds=seconds,
            dt=dt,
            cutoff_hz=cutoff,
            method=method,
        )
    out[~filled] = np.nan
    return out.reshape(shape)


def _noise_to_spread(z: FloatArray, fit: FloatArray, valid: NDArray[np.bool_]) -> FloatArray:
    """Per series: robust spread (1.4826 · MAD) of the residuals over the series' spread."""
    ratio = np.zeros(z.shape[1])
    for j in range(z.shape[1]):
        seen = valid[:, j]
        if seen.sum() < 2:
            continue
        residual = z[seen, j] - fit[seen, j]
        spread = float(z[seen, j].std())
        if spread > 0:
            mad = float(np.median(np.abs(residual - np.median(residual))))
            ratio[j] = 1.4826 * mad / spread
    return ratio


def _adaptive_cutoffs(
    speed: FloatArray, speed_scale: ArrayLike, *, dt: float, low: float, high: float, beta: float
) -> FloatArray:
    """Per-sample cut-offs from speeds: the one-euro rule, the speed held over ±0.15 s."""
    from scipy.ndimage import maximum_filter1d

    scale = np.asarray(speed_scale, dtype=np.float64)
    if scale.ndim == 1:
        scale = scale[:, None]
    scaled = speed / np.maximum(scale, 1e-12)
    held = maximum_filter1d(scaled, size=2 * round(ADAPT_HOLD_S / dt) + 1, axis=0, mode="nearest")
    result: FloatArray = np.clip(low + beta * held, low, high)
    return result


def _segments(
    seconds: FloatArray, valid: NDArray[np.bool_], max_gap_s: float
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Per series: where a segment starts (a valid sample), and which samples get a value."""
    starts = np.zeros_like(valid)
    filled = valid.copy()
    for j in range(valid.shape[1]):
        idx = np.flatnonzero(valid[:, j])
        if idx.size == 0:
            continue
        gaps = np.diff(seconds[idx]) > max_gap_s + 1e-9
        starts[idx[0], j] = True
        starts[idx[1:][gaps], j] = True
        for a, b in zip(idx[:-1][~gaps], idx[1:][~gaps], strict=True):
            if b > a + 1:
                filled[a + 1 : b, j] = True
    return starts, filled


@dataclass
class _ForwardPass:
    """What the Kalman filter's forward pass keeps for the RTS backward pass."""

    x_pred: FloatArray  # (T, M, 3) predicted states
    p_pred: FloatArray  # (T, M, 3, 3) their covariances
    x_filt: FloatArray  # (T, M, 3) filtered states
    p_filt: FloatArray  # (T, M, 3, 3) their covariances
    transitions: FloatArray  # (T, 3, 3): step k−1 → k


def _standardise(
    z: FloatArray, valid: NDArray[np.bool_]
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Series with mean 0 and spread 1 (over valid samples), and the centre and scale."""
    m = z.shape[1]
    centre = np.zeros(m)
    scale = np.ones(m)
    for j in range(m):
        vals = z[valid[:, j], j]
        if vals.size:
            centre[j] = vals.mean()
            spread = vals.std()
            scale[j] = spread if spread > 0 else 1.0
    return (np.where(valid, z, 0.0) - centre) / scale, centre, scale


def _forward(
    zn: FloatArray,
    w: FloatArray,
    *,
    valid: NDArray[np.bool_],
    starts: NDArray[np.bool_],
    seconds: FloatArray,
    q: FloatArray,
) -> _ForwardPass:
    """The constant-acceleration Kalman filter; a segment start re-initialises the state."""
    n, m = zn.shape
    omega6 = float(q.max()) / max(float(np.median(np.diff(seconds))), 1e-9)
    omega = omega6 ** (1 / 6)
    prior = np.diag([1e2, (100 * omega) ** 2, (100 * omega**2) ** 2])  # ~diffuse
    out = _ForwardPass(
        np.zeros((n, m, 3)),
        np.zeros((n, m, 3, 3)),
        np.zeros((n, m, 3)),
        np.zeros((n, m, 3, 3)),
        np.zeros((n, 3, 3)),
    )
    x = np.zeros((m, 3))
    p = np.broadcast_to(prior, (m, 3, 3)).copy()
    for k in range(n):
        if k > 0:
            dt = seconds[k] - seconds[k - 1]
            f = np.array([[1.0, dt, dt * dt / 2], [0.0, 1.0, dt], [0.0, 0.0, 1.0]])
            white_jerk = np.array(
                [
                    [dt**5 / 20, dt**4 / 8, dt**3 / 6],
                    [dt**4 / 8, dt**3 / 3, dt**2 / 2],
                    [dt**3 / 6, dt**2 / 2, dt],
                ]
            )
            out.transitions[k] = f
            x = x @ f.T
            p = f @ p @ f.T + q[k, :, None, None] * white_jerk
        restart = starts[k]
        x[restart] = 0.0
        x[restart, 0] = zn[k, restart]
        p[restart] = prior
        out.x_pred[k], out.p_pred[k] = x, p
        obs = valid[k]
        gain = p[:, :, 0] / (p[:, 0, 0] + 1.0 / np.square(w[k]))[:, None]
        x = x + gain * np.where(obs, zn[k] - x[:, 0], 0.0)[:, None]
        p = np.where(obs[:, None, None], p - gain[:, :, None] * p[:, None, 0, :], p)
        out.x_filt[k], out.p_filt[k] = x, p
    return out


def _rts(
    z: FloatArray,
    w: FloatArray,
    *,
    valid: NDArray[np.bool_],
    starts: NDArray[np.bool_],
    seconds: FloatArray,
    dt_nominal: float,
    cutoff_hz: float | FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Constant-acceleration Kalman filter + RTS smoother, vectorised over the M series.

    ``cutoff_hz`` is one value or one per sample and series (T, M). Returns the smoothed
    positions, velocities (units per second) and the velocities' standard deviations as
    if the measurement noise had the series' own spread (rescale by the real noise).
    """
    n, m = z.shape
    zn, centre, scale = _standardise(z, valid)  # one prior fits pixels and metres alike
    cutoffs = np.broadcast_to(np.asarray(cutoff_hz, dtype=np.float64), (n, m))
    q = dt_nominal * (2 * math.pi * cutoffs) ** 6  # r = 1 per sample at full visibility
    fwd = _forward(zn, w, valid=valid, starts=starts, seconds=seconds, q=q)
    smoothed = fwd.x_filt.copy()
    velocity_var = np.empty((n, m))
    p_next = fwd.p_filt[n - 1]
    velocity_var[n - 1] = p_next[:, 1, 1]
    for k in range(n - 2, -1, -1):
        cross = fwd.p_filt[k] @ fwd.transitions[k + 1].T
        gain = np.linalg.solve(fwd.p_pred[k + 1], cross.transpose(0, 2, 1)).transpose(0, 2, 1)
        gain[starts[k + 1]] = 0.0  # never smooth across a segment boundary
        step = smoothed[k + 1] - fwd.x_pred[k + 1]
        smoothed[k] = fwd.x_filt[k] + np.einsum("mij,mj->mi", gain, step)
        p_next = fwd.p_filt[k] + gain @ (p_next - fwd.p_pred[k + 1]) @ gain.transpose(0, 2, 1)
        velocity_var[k] = p_next[:, 1, 1]
    return (
        smoothed[:, :, 0] * scale + centre,
        smoothed[:, :, 1] * scale,
        np.sqrt(np.maximum(velocity_var, 0.0)) * scale,
    )


def _grid_filter(
    z: FloatArray,
    *,
    valid: NDArray[np.bool_],
    starts: NDArray[np.bool_],
    seconds: FloatArray,
    dt: float,
    cutoff_hz: float,
    method: str,
) -> FloatArray:
    """Savitzky–Golay or zero-phase Butterworth per segment, on a uniform time grid."""
    from scipy import signal

    fs = 1.0 / dt
    out = np.where(valid, z, np.nan)
    sos: FloatArray | None = None
    if method == "butterworth":
        # Winter's correction: two passes square the response, so move the design cut-off
        # up until the −3 dB point of the double pass lands on cutoff_hz.
        correction = (2**0.5 - 1) ** (1 / (2 * BUTTER_ORDER))
        warped = math.tan(math.pi * min(cutoff_hz, 0.49 * fs) / fs) / correction
        design = min(math.atan(warped) * fs / math.pi, 0.49 * fs)
        sos = np.asarray(signal.butter(BUTTER_ORDER, design, fs=fs, output="sos"))
    window = max(5, 2 * round(SAVGOL_WINDOW_S * fs / 2) + 1)
    for j in range(z.shape[1]):
        idx = np.flatnonzero(valid[:, j])
        if idx.size == 0:
            continue
        bounds = [*np.flatnonzero(starts[idx, j]), idx.size]
        for a, b in itertools.pairwise(bounds):
            seg = idx[a:b]
            t0, t1 = seconds[seg[0]], seconds[seg[-1]]
            count = round((t1 - t0) / dt) + 1
            grid = t0 + np.arange(count) * dt
            series = np.interp(grid, seconds[seg], z[seg, j])
            if sos is None:
                if count <= window:
                    continue
                smooth = signal.savgol_filter(series, window, SAVGOL_POLYORDER, mode="interp")
            else:
                if count <= 3 * (2 * len(sos) + 1):
                    continue
                smooth = signal.sosfiltfilt(sos, series)
            span = slice(seg[0], seg[-1] + 1)
            out[span, j] = np.interp(seconds[span], grid, smooth)
    return out


def smooth_results(
    results: Sequence[FrameResult],
    method: str = "rts",
    *,
    max_gap_ms: float = DEFAULT_MAX_GAP_MS,
    min_visibility: float = DEFAULT_MIN_VISIBILITY,
    cutoff_hz: float | None = None,
    adaptive: bool = True,
) -> list[FrameResult]:
    """Smooth every track of a recorded stream over its whole duration.

    Poses are grouped by ``track_id`` (None is one anonymous track). Each track's image
    keypoints (x, y in pixels, z) and world keypoints (metres) are smoothed with
    :func:`smooth_series`, weighted by the keypoint's visibility; visibility, presence,
    scores and masks are kept. Frames where a track has no pose stay without it (a gap in
    the track's time series). Tracking should have run with ``enable_smoothing=False``, so
    that the raw landmarks are smoothed once (the ROI loop keeps MediaPipe's auxiliary
    filter either way).

    Args:
        results: The stream's frames in order (timestamps increasing).
        method: See :func:`smooth_series`.
        max_gap_ms: The longest gap that is filled; longer ones split a track.
        min_visibility: Keypoints less visible than this are missing (then filled from their
            neighbours when the gap is short; kept raw otherwise).
        cutoff_hz: The low-pass cut-off; default :func:`default_cutoff_hz`.
        adaptive: ``"rts"`` only: let the cut-off follow each keypoint's speed with
            MediaPipe's one-euro constants (image keypoints: 0.05 Hz + 80 × speed in
            person sizes per second, the size being the pose box's longer side; world
            keypoints: 0.1 Hz + 40 × speed in m/s), capped at ``cutoff_hz``: see
            :func:`smooth_series`. False smooths at ``cutoff_hz`` throughout.

    Returns:
        New frame results: the same frames and poses, with smoothed keypoint arrays.

    Raises:
        ConfigError: Unknown method, timestamps that do not increase, or a frame with
            several poses of the same ``track_id`` (e.g. several untracked poses).
    """
    members: dict[int | None, list[tuple[int, int]]] = {}
    for f, result in enumerate(results):
        seen: set[int | None] = set()
        for p, pose in enumerate(result.poses):
            if pose.track_id in seen:
                msg = (
                    f"frame {result.index} has several poses with track_id {pose.track_id}: "
                    "poses must carry distinct track ids to be smoothed over time"
                )
                raise ConfigError(msg)
            seen.add(pose.track_id)
            members.setdefault(pose.track_id, []).append((f, p))
    replaced: dict[tuple[int, int], Pose] = {}
    for where in members.values():
        poses = [results[f].poses[p] for f, p in where]
        stamps = np.array([results[f].timestamp_ms for f, _ in where])
        image = np.stack([pose.image_array for pose in poses]).astype(np.float64)
        world = np.stack([pose.world_array_m for pose in poses]).astype(np.float64)
        weights = image[:, :, 3:4]
        sizes = np.array([max(pose.box.width, pose.box.height, 1.0) for pose in poses])
        new_xyz, new_world = (
            smooth_series(
                values,
                stamps,
                method=method,
                weights=weights,
                min_visibility=min_visibility,
                max_gap_ms=max_gap_ms,
                cutoff_hz=cutoff_hz,
                min_cutoff_hz=min_cutoff if adaptive else None,
                beta=beta,
                speed_scale=scale,
            )
            for values, (min_cutoff, beta), scale in (
                (image[:, :, :3], LANDMARK_SPEED_RULE, sizes),
                (world, WORLD_SPEED_RULE, 1.0),
            )
        )
        image[:, :, :3] = np.where(np.isfinite(new_xyz), new_xyz, image[:, :, :3])
        world = np.where(np.isfinite(new_world), new_world, world)
        for i, (key, pose) in enumerate(zip(where, poses, strict=True)):
            replaced[key] = pose.replace(
                image_array=image[i].astype(np.float32), world_array_m=world[i]
            )
    return [
        dataclasses.replace(result, poses=tuple(replaced[(f, p)] for p in range(len(result.poses))))
        for f, result in enumerate(results)
    ]
