"""Segmentation-mask smoothing over time (MediaPipe ``SegmentationSmoothingCalculator``)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["smooth_segmentation"]

# Polynomial that turns the squared distance from 0.5 into an "uncertainty" weight.
_C1, _C2, _C3, _C4, _C5 = 5.68842, -0.748699, -57.8051, 291.309, -624.717


# Rows of this many values go through the blend at once: its temporaries stay in the cache
# (the blend is a dozen passes; a 512×512 mask in one go is twice as slow on a 2-core Zen 5).
_CHUNK_VALUES = 1 << 16


def _blend(
    p: NDArray[np.float32],
    previous: NDArray[np.float32],
    ratio: float,
    out: NDArray[np.float32] | None = None,
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
    blended: NDArray[np.float32] = np.add(t, p, out=t if out is None else out)
    return blended


def smooth_segmentation(
    current: NDArray[np.float32],
    previous: NDArray[np.float32] | None,
    *,
    combine_with_previous_ratio: float = 0.7,
) -> NDArray[np.float32]:
    """Blend the current mask with the previous smoothed one where the current is unsure.

    With p the current probability and t = (p − 0.5)²:
    u = 1 − min(1, t·(c1 + t·(c2 + t·(c3 + t·(c4 + t·c5))))), and
    out = p + (previous − p)·u·ratio. Confident pixels (p near 0 or 1) keep p; pixels near
    0.5 lean on the previous mask. At p = 0 (and 1), u = 4.3e-5: a pixel the current mask
    calls certain keeps at most 3e-5 of the previous one, which is why the blend can run
    in the crop (the frame outside the crop, where MediaPipe blends p = 0 with the
    previous mask, stays within 3e-5 of 0).

    Args:
        current: H×W float32 mask in [0, 1] (the frame's, or a crop's).
        previous: The previous output on the same pixels, or None (then ``current`` is
            returned as is). A previous mask of another shape is ignored.
        combine_with_previous_ratio: Weight of the previous mask where fully unsure.

    Returns:
        The smoothed H×W float32 mask (a new array).
    """
    if previous is None or previous.shape != current.shape:
        return current
    p = current.astype(np.float32, copy=False)
    out = np.empty_like(p)
    rows = max(1, _CHUNK_VALUES // max(1, p.shape[1]))
    for start in range(0, p.shape[0], rows):
        end = start + rows
        _blend(p[start:end], previous[start:end], combine_with_previous_ratio, out[start:end])
    return out
