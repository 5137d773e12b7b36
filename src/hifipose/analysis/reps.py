"""Repetition counting with hysteresis, on any scalar signal, with state per track.

A repetition is entering a state and leaving it again: with ``direction="above"`` the
counter enters when the signal rises above ``enter`` and counts one repetition when it then
falls below ``exit`` (``enter > exit``; MediaPipe's pose-classification counter is this with
6 and 4 on a class confidence). ``direction="below"`` mirrors it (enter under ``enter``,
count over ``exit``; e.g. an included joint angle). Comparisons are strict, as MediaPipe's.
The gap between the two thresholds is the hysteresis: jitter inside it never counts. NaN
samples (a missing angle) change nothing.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
from numpy.typing import ArrayLike

from hifipose.errors import ConfigError

__all__ = [
    "Direction",
    "HysteresisCounter",
    "RepCount",
    "RepEvent",
    "TrackCounters",
    "hysteresis_counter",
]

Direction = Literal["above", "below"]
DIRECTIONS: Final = ("above", "below")


@dataclass(frozen=True, slots=True)
class RepEvent:
    """One counted repetition: the sample indices where it was entered and completed."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class RepCount:
    """The result of :func:`hysteresis_counter`.

    Attributes:
        count: Completed repetitions.
        events: One :class:`RepEvent` per repetition, in order.
        in_rep: Whether the signal ended inside a repetition (entered, not yet left).
    """

    count: int
    events: tuple[RepEvent, ...]
    in_rep: bool


@dataclass
class HysteresisCounter:
    """A repetition counter fed one sample at a time (see the module for the rule).

    Args:
        enter: The threshold that starts a repetition.
        exit: The threshold that completes it.
        direction: ``"above"`` (enter > exit) or ``"below"`` (enter < exit).

    Examples:
        >>> counter = HysteresisCounter(enter=6, exit=4)
        >>> [counter.update(v) for v in (0, 7, 5, 3, 7, 2)]
        [False, False, False, True, False, True]
        >>> counter.count
        2
    """

    enter: float
    exit: float
    direction: Direction = "above"
    count: int = field(default=0, init=False)
    in_rep: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            msg = f"direction must be 'above' or 'below', got {self.direction!r}"
            raise ConfigError(msg)
        ok = self.enter > self.exit if self.direction == "above" else self.enter < self.exit
        if not ok:
            relation = ">" if self.direction == "above" else "<"
            msg = (
                f"direction={self.direction!r} needs enter {relation} exit, "
                f"got enter={self.enter}, exit={self.exit}"
            )
            raise ConfigError(msg)

    def update(self, value: float) -> bool:
        """Take one sample; return True when it completes a repetition."""
        if math.isnan(value):  # nothing is known about this sample
            return False
        sign = 1.0 if self.direction == "above" else -1.0
        if not self.in_rep:
            self.in_rep = sign * value > sign * self.enter
            return False
        if sign * value < sign * self.exit:
            self.count += 1
            self.in_rep = False
            return True
        return False

    def reset(self) -> None:
        """Back to zero repetitions, outside a repetition."""
        self.count = 0
        self.in_rep = False


def hysteresis_counter(
    signal: ArrayLike, enter: float, exit: float, direction: Direction = "above"
) -> RepCount:
    """Count repetitions in a whole signal (see the module for the rule).

    Args:
        signal: (T,) samples; NaN samples are skipped.
        enter: The threshold that starts a repetition.
        exit: The threshold that completes it.
        direction: ``"above"`` or ``"below"``.

    Returns:
        The count, the (start, end) sample index of each repetition, and the final state.
    """
    counter = HysteresisCounter(enter, exit, direction)
    events: list[RepEvent] = []
    start = -1
    for i, value in enumerate(np.asarray(signal, dtype=np.float64).ravel().tolist()):
        was_in = counter.in_rep
        if counter.update(value):
            events.append(RepEvent(start, i))
        elif counter.in_rep and not was_in:
            start = i
    return RepCount(counter.count, tuple(events), counter.in_rep)


@dataclass
class TrackCounters:
    """One :class:`HysteresisCounter` per track id, created on first sight.

    Keyed by ``track_id`` (None is one anonymous track), never by a pose's position in
    the frame's list, so people keep their own counts when the list order changes.
    """

    enter: float
    exit: float
    direction: Direction = "above"
    counters: dict[Hashable, HysteresisCounter] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        HysteresisCounter(self.enter, self.exit, self.direction)  # validate once, early

    def update(self, track_id: Hashable, value: float) -> bool:
        """Feed one sample of one track; True when it completes a repetition."""
        counter = self.counters.get(track_id)
        if counter is None:
            counter = self.counters[track_id] = HysteresisCounter(
                self.enter, self.exit, self.direction
            )
        return counter.update(value)

    def count(self, track_id: Hashable) -> int:
        """The track's repetitions so far (0 for a track never seen)."""
        counter = self.counters.get(track_id)
        return 0 if counter is None else counter.count

    def counts(self) -> dict[Hashable, int]:
        """Repetitions per track id."""
        return {key: c.count for key, c in self.counters.items()}
