"""An exponential low-pass filter, vectorised over an array (MediaPipe ``LowPassFilter``)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hifipose.errors import ConfigError

__all__ = ["LowPassFilter"]


class LowPassFilter:
    """y_k = α·x_k + (1 − α)·y_{k−1}; the first sample passes through and initialises.

    Every element of the array is an independent filter. A change of shape restarts the
    filter (the next sample is treated as the first).

    Args:
        alpha: Weight of the new sample, in (0, 1].

    Example:
        >>> f = LowPassFilter(0.1)
        >>> [round(float(f.apply(v)[()]), 3) for v in (1.0, 2.0, 4.0)]
        [1.0, 1.1, 1.39]
    """

    def __init__(self, alpha: float) -> None:
        _check_alpha(alpha)
        self.alpha = alpha
        self._raw: NDArray[np.float64] | None = None
        self._stored: NDArray[np.float64] | None = None

    @property
    def has_last_raw_value(self) -> bool:
        """Whether a sample has been seen since the last reset."""
        return self._raw is not None

    @property
    def last_raw_value(self) -> NDArray[np.float64] | None:
        """The last unfiltered input, or None."""
        return self._raw

    def apply(
        self, value: ArrayLike, alpha: float | NDArray[np.float64] | None = None
    ) -> NDArray[np.float64]:
        """Filter one sample (an array; ``alpha`` may be an array of the same shape)."""
        x = np.array(value, dtype=np.float64)  # the filter's own copy
        return self._update(x, self.alpha if alpha is None else alpha).copy()

    def apply_owned(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """:meth:`apply` (with the filter's own α) without its two copies.

        ``x`` is float64 and the filter may keep it; the result is the filter's state
        itself: the caller reads it, never writes it.
        """
        return self._update(x, self.alpha)

    def _update(
        self, x: NDArray[np.float64], alpha: float | NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """:meth:`apply` on a float64 ``x`` the filter keeps (the caller lets it go).

        Returns the filter's state itself: the caller reads it and never writes to it.
        """
        stored = self._stored
        if stored is None or stored.shape != x.shape:
            result = x.copy()
        else:
            result = alpha * x + (1.0 - alpha) * stored
        self._raw = x
        self._stored = result
        return result

    def reset(self) -> None:
        """Forget the past: the next sample passes through."""
        self._raw = self._stored = None


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha <= 1.0:
        msg = f"alpha must be in (0, 1], got {alpha}"
        raise ConfigError(msg)
