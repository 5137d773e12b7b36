"""⑦ Smoothing filters (MediaPipe semantics), each a small stateful class or a pure function."""

from __future__ import annotations

from hifipose.filters.low_pass import LowPassFilter
from hifipose.filters.one_euro import OneEuroFilter
from hifipose.filters.segmentation import smooth_segmentation

__all__ = ["LowPassFilter", "OneEuroFilter", "smooth_segmentation"]
