"""Segmentation-mask smoothing over time (MediaPipe ``SegmentationSmoothingCalculator``)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["smooth_segmentation"]

# Polynomial that turns the squared distance from 0.5 into an "uncertainty" weight.
_C1, _C2, _C3, _C4, _C5 = 5.68842, -0.748699, -57.8051, 291.309, -624.717


def _blend(
    p: NDArray[np.float32], previous: NDArray[np.float32], ratio: float
) -> NDArray[np.float32]:
    t = p - np.float32(0.5)
    np.square(t, out=t)
    poly = t * np.float32(_C5)
    for coefficient in (_C4, _C3, _C2, _C1):
        poly += np.float32(coefficient)
        poly *= t
    np.minimum(poly, np.float32(1.0), out=poly)
    uncertainty = np.subtract(np.float32(1.0), poly, out=poly)
    uncertainty *= np.float32(ratio)
    np.subtract(previous, p, out=t)
    t *= uncertainty
    t += p
    return t


def smooth_segmentation(
    current: NDArray[np.float32],
    previous: NDArray[np.float32] | None,
    *,
    combine_with_previous_ratio: float = 0.7,
    support: tuple[int, int, int, int] | None = None,
) -> NDArray[np.float32]:
    """Blend the current mask with the previous smoothed one where the current is unsure.

    With p the current probability and t = (p − 0.5)²:
    u = 1 − min(1, t·(c1 + t·(c2 + t·(c3 + t·(c4 + t·c5))))), and
    out = p + (previous − p)·u·ratio. Confident pixels (p near 0 or 1) keep p; pixels near
    0.5 lean on the previous mask.

    Args:
        current: H×W float32 mask in [0, 1].
        previous: The previous output, or None (then ``current`` is returned as is). A
            previous mask of another shape is ignored.
        combine_with_previous_ratio: Weight of the previous mask where fully unsure.
        support: ``(x0, y0, x1, y1)``, end-exclusive: ``current`` is exactly 0 outside this
            box. The formula then runs only inside it; outside, where p = 0, it reduces to
            previous·u(0)·ratio, one multiplication, with the same float32 result.

    Returns:
        The smoothed H×W float32 mask (a new array).
    """
    if previous is None or previous.shape != current.shape:
        return current
    p = current.astype(np.float32, copy=False)
    if support is None:
        return _blend(p, previous, combine_with_previous_ratio)
    zero = np.zeros((1, 1), np.float32)
    factor = _blend(zero, np.ones_like(zero), combine_with_previous_ratio)[0, 0]
    out: NDArray[np.float32] = previous * factor
    x0, y0, x1, y1 = support
    if x1 > x0 and y1 > y0:
        out[y0:y1, x0:x1] = _blend(
            p[y0:y1, x0:x1], previous[y0:y1, x0:x1], combine_with_previous_ratio
        )
    return out
