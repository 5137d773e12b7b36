"""The stream's clock: caller timestamps to a strictly increasing microsecond time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from hifipose._checks import check_timestamp_ms
from hifipose.errors import TimestampError

__all__ = ["DEFAULT_FRAME_INTERVAL_US", "StreamClock"]

#: MediaPipe's Python solution feeds frames on a fixed 33,333 µs clock.
DEFAULT_FRAME_INTERVAL_US: Final = 33_333
_MIN_US, _MAX_US = -(2**63), 2**63 - 1


@dataclass
class StreamClock:
    """Turns caller timestamps into a strictly increasing microsecond clock.

    Rule: a frame without a timestamp comes one frame interval after the previous one
    (:data:`DEFAULT_FRAME_INTERVAL_US`, MediaPipe's Python clock; the first such frame is
    at 0). A timestamp that does not increase (a duplicate, jitter, a jump backwards) is
    replaced by the previous one plus the last genuine frame interval, so the filters
    always see time moving forward at a plausible rate; with ``strict=True`` it raises
    :class:`TimestampError` instead, as MediaPipe does. Negative timestamps are fine as
    long as they increase.
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
