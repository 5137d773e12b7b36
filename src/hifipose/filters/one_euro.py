"""The one-euro filter, vectorised over an array (MediaPipe ``OneEuroFilter``).

Conventions:
    Timestamps are integers in microseconds; frequencies are in Hz. All elements of the
    array share one timestamp and one value scale.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hifipose.filters.low_pass import LowPassFilter

__all__ = ["OneEuroFilter"]


class OneEuroFilter:
    """An adaptive low-pass filter: smooth when still, responsive when moving.

    For each sample at time t (µs):

    1. If t ≤ the previous timestamp, the raw value is returned and no state changes.
    2. Otherwise, if there was a previous timestamp, ``frequency = 1e6 / (t − t_prev)``
       (before the second sample the initial frequency, 30 Hz, stays).
    3. ``dx = (x − x_prev_raw) · value_scale · frequency`` (0 for the first sample); it is
       low-passed with α(derivate_cutoff).
    4. ``cutoff = min_cutoff + beta · |dx_smoothed|`` and the output is x low-passed with
       α(cutoff), where ``α(fc) = 1 / (1 + (1 / (2π·fc)) · frequency)``.

    MediaPipe skips the frequency update when a timestamp is exactly 0 (its "unset" value);
    here "unset" is tracked explicitly, so t = 0 is an ordinary timestamp.

    Args:
        min_cutoff: Cutoff frequency (Hz) when the value is still: one, or an array that
            broadcasts against the samples (a value per element, e.g. per row).
        beta: How fast the cutoff grows with the (scaled) speed: one, or an array as
            ``min_cutoff``.
        derivate_cutoff: Cutoff frequency (Hz) for the speed estimate.
        frequency: Initial sampling frequency (Hz).
    """

    def __init__(
        self,
        *,
        min_cutoff: float | NDArray[np.float64],
        beta: float | NDArray[np.float64],
        derivate_cutoff: float,
        frequency: float = 30.0,
    ) -> None:
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.derivate_cutoff = derivate_cutoff
        self._initial_frequency = frequency
        self.frequency = frequency
        self._x = LowPassFilter(1.0)
        self._dx = LowPassFilter(1.0)
        self._last_us: int | None = None

    def alpha(self, cutoff: float | NDArray[np.float64]) -> float | NDArray[np.float64]:
        """Low-pass weight for ``cutoff`` (Hz) at the current frequency."""
        if isinstance(cutoff, float | int) and cutoff:  # the same double arithmetic, in Python
            return 1.0 / (1.0 + 1.0 / (2 * math.pi * cutoff) * self.frequency)
        if isinstance(cutoff, np.ndarray) and cutoff.ndim and cutoff.dtype == np.float64:
            return 1.0 / (1.0 + 1.0 / (2 * math.pi * cutoff) * self.frequency)
        tau = 1.0 / (2 * math.pi * np.asarray(cutoff, dtype=np.float64))
        result = 1.0 / (1.0 + tau * self.frequency)
        return float(result) if np.ndim(result) == 0 else result

    def apply(
        self, value: ArrayLike, timestamp_us: int, value_scale: float = 1.0
    ) -> NDArray[np.float64]:
        """Filter one sample taken at ``timestamp_us``; see the class docstring."""
        x = np.array(value, dtype=np.float64)  # the filter's own copy
        return self.apply_owned(x, timestamp_us, value_scale).copy()

    def apply_owned(
        self, x: NDArray[np.float64], timestamp_us: int, value_scale: float = 1.0
    ) -> NDArray[np.float64]:
        """:meth:`apply` without its two copies: ``x`` is float64 and the filter may keep it.

        Returns the filter's state itself (or ``x``): the caller reads it, never writes it.
        """
        if self._last_us is not None:
            if timestamp_us <= self._last_us:
                return x
            self.frequency = 1e6 / (timestamp_us - self._last_us)
        self._last_us = timestamp_us
        last_raw = self._x.last_raw_value
        if last_raw is not None and last_raw.shape == x.shape:
            dvalue = x - last_raw
            if value_scale != 1.0:  # × 1 changes no bit
                dvalue *= value_scale
            dvalue *= self.frequency
        else:
            dvalue = np.zeros_like(x)
        # the inner filters keep these arrays (no copies): none is used here afterwards
        smoothed_dvalue = self._dx._update(dvalue, self.alpha(self.derivate_cutoff))
        # min_cutoff + beta · |dx|, in place (the same two roundings)
        cutoff = np.abs(smoothed_dvalue)
        cutoff *= self.beta
        cutoff += self.min_cutoff
        return self._x._update(x, self.alpha(cutoff))

    def reset(self) -> None:
        """Forget all state, including the estimated frequency."""
        self._x.reset()
        self._dx.reset()
        self._last_us = None
        self.frequency = self._initial_frequency
