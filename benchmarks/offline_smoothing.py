"""Offline (two-sided) smoothing against MediaPipe's causal one-euro filter: amplitude, lag, jitter.

Synthetic 30 fps signals, so the truth is known:
* a 3 Hz sine of several amplitudes (pixels, on a person whose size is 300 px), plus
  0.2 px of white noise: the amplitude kept and the lag (frames) at 3 Hz;
* a still point with 0.2 px of white noise: the jitter (RMS of the second difference).
The one-euro filter is hifipose's copy of MediaPipe's (landmark constants: min cut-off
0.05 Hz, beta 80, derivative cut-off 1 Hz, values scaled by 1 / person size).

    .venv/bin/python benchmarks/offline_smoothing.py > benchmarks/results/offline_smoothing.md
"""

from __future__ import annotations

import numpy as np

from hifipose.filters import OneEuroFilter
from hifipose.filters.offline import LANDMARK_SPEED_RULE, smooth_series

FPS, FREQ, SIZE_PX, NOISE_PX = 30.0, 3.0, 300.0, 0.2
TIMES_MS = np.arange(300) * 1000.0 / FPS


def gain_and_lag(output: np.ndarray, amplitude: float) -> tuple[float, float]:
    core = slice(60, 240)
    t = TIMES_MS[core] / 1000.0
    basis = np.exp(-2j * np.pi * FREQ * t)
    ratio = np.mean(output[core] * basis) / np.mean(
        amplitude * np.sin(2 * np.pi * FREQ * t) * basis
    )
    return float(abs(ratio)), float(-np.angle(ratio) / (2 * np.pi * FREQ) * FPS)


def one_euro(values: np.ndarray) -> np.ndarray:
    f = OneEuroFilter(min_cutoff=0.05, beta=80.0, derivate_cutoff=1.0)
    return np.array(
        [
            float(f.apply(v + 1000.0, round(t * 1000), 1.0 / SIZE_PX)) - 1000.0
            for v, t in zip(values, TIMES_MS, strict=True)
        ]
    )


def methods() -> dict[str, object]:
    low, beta = LANDMARK_SPEED_RULE
    return {
        "offline rts, adaptive (default)": lambda x: smooth_series(
            x, TIMES_MS, min_cutoff_hz=low, beta=beta, speed_scale=SIZE_PX
        ),
        "offline rts, 6 Hz": lambda x: smooth_series(x, TIMES_MS),
        "offline butterworth, 6 Hz": lambda x: smooth_series(x, TIMES_MS, method="butterworth"),
        "offline savgol, 9 samples (0.3 s)": lambda x: smooth_series(x, TIMES_MS, method="savgol"),
        "MediaPipe one-euro (causal, online)": one_euro,
    }


def main() -> None:
    rng = np.random.default_rng(0)
    noise = rng.normal(0.0, NOISE_PX, TIMES_MS.size)
    amplitudes = (2.0, 5.0, 20.0, 50.0)
    head = " | ".join(f"{a:g} px: kept, lag" for a in amplitudes)
    print(f"3 Hz sine at {FPS:g} fps (+{NOISE_PX} px noise), person {SIZE_PX:g} px tall\n")
    print(f"| filter | {head} | still point: jitter ↓ |")
    print("|---|" + "---|" * (len(amplitudes) + 1))
    raw_jitter = np.sqrt(np.mean(np.diff(noise, 2) ** 2))
    for name, run in methods().items():
        cells = []
        for amplitude in amplitudes:
            signal = amplitude * np.sin(2 * np.pi * FREQ * TIMES_MS / 1000.0) + noise
            gain, lag = gain_and_lag(run(signal), amplitude)  # type: ignore[operator]
            cells.append(f"{gain:.3f}, {lag:+.2f} fr")
        still = run(noise.copy())  # type: ignore[operator]
        ratio = raw_jitter / np.sqrt(np.mean(np.diff(still, 2) ** 2))
        print(f"| {name} | {' | '.join(cells)} | {ratio:.1f}× |")


if __name__ == "__main__":
    main()
