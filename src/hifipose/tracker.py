"""The per-stream state: the tracked ROI, the smoothing filters and the stream's clock.

MediaPipe's Pose graph in video mode (blazepose-spec §4–5): the detector runs only when
there is no ROI from the previous frame; every pose found yields the next frame's ROI from
the *smoothed* auxiliary landmarks; a frame without a pose clears the ROI (the next frame
runs the detector) and resets the 2D and auxiliary filters, while the visibility and world
filters keep their state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from numpy.typing import NDArray

from hifipose._checks import check_timestamp_ms
from hifipose.blazepose.roi import Roi, roi_from_points
from hifipose.errors import TimestampError
from hifipose.filters import LowPassFilter, OneEuroFilter, smooth_segmentation

__all__ = ["DEFAULT_FRAME_INTERVAL_US", "PoseFilters", "StreamClock", "TrackState"]

#: MediaPipe's Python solution feeds frames on a fixed 33,333 µs clock.
DEFAULT_FRAME_INTERVAL_US: Final = 33_333
#: Object scales below this (pixels) turn the coordinate filters off for the frame.
MIN_OBJECT_SCALE: Final = 1e-6
VISIBILITY_ALPHA: Final = 0.1
AUX_START, AUX_END = 33, 34
_MIN_US, _MAX_US = -(2**63), 2**63 - 1


@dataclass
class StreamClock:
    """Turns caller timestamps into a strictly increasing microsecond clock.

    Rule: a frame without a timestamp comes one frame interval after the previous one
    (33.333 ms, MediaPipe's Python clock; the first such frame is at 0). A timestamp that
    does not increase (a duplicate, jitter, a jump backwards) is replaced by the previous
    one plus the last genuine frame interval, so the filters always see time moving forward
    at a plausible rate; with ``strict=True`` it raises :class:`TimestampError` instead,
    as MediaPipe does. Negative timestamps are fine as long as they increase.
    """

    strict: bool = False
    last_us: int | None = None
    interval_us: int = DEFAULT_FRAME_INTERVAL_US

    def tick(self, timestamp_ms: float | None) -> int:
        """Return the frame's time in microseconds and advance the clock.

        Raises:
            TimestampError: ``timestamp_ms`` is not finite or out of range (see
                :func:`~hifipose._checks.check_timestamp_ms`), a repaired time would leave
                the signed 64-bit microsecond range, or (strict) it does not increase.
        """
        if timestamp_ms is None:
            now = 0 if self.last_us is None else self.last_us + self.interval_us
        else:
            now = round(check_timestamp_ms(timestamp_ms) * 1000)
            if self.last_us is not None:
                if now <= self.last_us:
                    if self.strict:
                        msg = (
                            f"timestamp_ms must increase: got {timestamp_ms} after "
                            f"{self.last_us / 1000} (pass strict_timestamps=False to repair)"
                        )
                        raise TimestampError(msg)
                    now = self.last_us + self.interval_us
                else:
                    self.interval_us = now - self.last_us
        if not _MIN_US <= now <= _MAX_US:
            msg = f"the stream's clock left the signed 64-bit microsecond range at {now} µs"
            raise TimestampError(msg)
        self.last_us = now
        return now

    def reset(self) -> None:
        """Forget the stream's time."""
        self.last_us = None
        self.interval_us = DEFAULT_FRAME_INTERVAL_US


def _one_euro(min_cutoff: float, beta: float) -> OneEuroFilter:
    return OneEuroFilter(min_cutoff=min_cutoff, beta=beta, derivate_cutoff=1.0)


@dataclass
class PoseFilters:
    """MediaPipe's ``PoseLandmarkFiltering`` and ``PoseSegmentationFiltering`` for one stream.

    Three one-euro filter banks (33 landmarks: min_cutoff 0.05, beta 80; world landmarks:
    0.1, 40, no value scaling; auxiliary landmarks: 0.01, 10), each derivative cutoff 1.0,
    plus an α = 0.1 low-pass filter on visibility. The image filters work in pixels with
    values scaled by 1 / object scale, the object scale being the side (pixels) of the
    unexpanded square through the *unfiltered* auxiliary points.
    """

    landmarks: OneEuroFilter = field(default_factory=lambda: _one_euro(0.05, 80.0))
    world: OneEuroFilter = field(default_factory=lambda: _one_euro(0.1, 40.0))
    aux: OneEuroFilter = field(default_factory=lambda: _one_euro(0.01, 10.0))
    landmark_visibility: LowPassFilter = field(
        default_factory=lambda: LowPassFilter(VISIBILITY_ALPHA)
    )
    previous_mask: NDArray[np.float32] | None = None

    def smooth_aux(self, aux_px: NDArray[np.float32], t_us: int) -> NDArray[np.float32]:
        """Smooth the 2 auxiliary landmarks (pixels); runs even with smoothing off."""
        scale = object_scale(aux_px)
        if scale < MIN_OBJECT_SCALE:
            return aux_px
        out = aux_px.copy()
        out[:, :3] = self.aux.apply(aux_px[:, :3].astype(np.float64), t_us, 1.0 / scale)
        return out

    def smooth_landmarks(
        self, landmarks_px: NDArray[np.float32], aux_px: NDArray[np.float32], t_us: int
    ) -> NDArray[np.float32]:
        """Smooth the 33 image landmarks' visibility and x, y, z (pixels)."""
        out = landmarks_px.copy()
        out[:, 3] = self.landmark_visibility.apply(landmarks_px[:, 3].astype(np.float64))
        scale = object_scale(aux_px)
        if scale >= MIN_OBJECT_SCALE:
            out[:, :3] = self.landmarks.apply(
                landmarks_px[:, :3].astype(np.float64), t_us, 1.0 / scale
            )
        return out

    def smooth_world(self, world_m: NDArray[np.float32], t_us: int) -> NDArray[np.float32]:
        """Smooth the world landmarks (metres, no value scaling).

        MediaPipe also low-passes the world landmarks' copy of the image visibility; that
        filter sees the same inputs, α and resets as the image one, so its output is the
        image visibility already returned: it is not run twice.
        """
        return self.world.apply(world_m.astype(np.float64), t_us, 1.0).astype(np.float32)

    def smooth_mask(
        self, mask: NDArray[np.float32], support: tuple[int, int, int, int] | None = None
    ) -> NDArray[np.float32]:
        """Blend the mask with the previous smoothed one (ratio 0.7) and remember it.

        ``support`` is the box outside which ``mask`` is exactly 0 (see
        :func:`~hifipose.filters.smooth_segmentation`); it only saves time.
        """
        smoothed = smooth_segmentation(mask, self.previous_mask, support=support)
        self.previous_mask = smoothed
        return smoothed

    def on_lost(self) -> None:
        """A frame without a pose: reset what MediaPipe resets (2D, aux, mask history)."""
        self.landmarks.reset()
        self.aux.reset()
        self.previous_mask = None

    def reset(self) -> None:
        """Forget everything."""
        self.on_lost()
        self.world.reset()
        self.landmark_visibility.reset()


def object_scale(aux_px: NDArray[np.float32]) -> float:
    """The side in pixels of the unexpanded square through the two auxiliary points."""
    start, end = aux_px[0, :2], aux_px[1, :2]
    return 2.0 * math.hypot(float(end[0] - start[0]), float(end[1] - start[1]))


def roi_from_aux(aux_px: NDArray[np.float32]) -> Roi:
    """The next frame's ROI from the (smoothed) auxiliary landmarks 33 and 34, in pixels."""
    return roi_from_points(
        (float(aux_px[0, 0]), float(aux_px[0, 1])), (float(aux_px[1, 0]), float(aux_px[1, 1]))
    )


@dataclass
class TrackState:
    """Everything one stream remembers between frames.

    Attributes:
        roi: The ROI for the next frame; None runs the detector on the next frame.
        filters: The smoothing filters.
        clock: The stream's clock.
        detector_runs: How many times the person detector has run on this stream.
    """

    roi: Roi | None = None
    filters: PoseFilters = field(default_factory=PoseFilters)
    clock: StreamClock = field(default_factory=StreamClock)
    detector_runs: int = 0

    def reset(self) -> None:
        """Forget the track, the filters and the clock (``detector_runs`` is kept)."""
        self.roi = None
        self.filters.reset()
        self.clock.reset()
