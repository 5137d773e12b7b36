"""Exercise presets: a repetition counter on a named angle, for common exercises.

Each preset averages one or more world-space (3D) flexion angles of :data:`ANGLES` (both
sides, ignoring a side whose points are not visible) into one signal in degrees, and
counts with :class:`~hifipose.analysis.reps.HysteresisCounter` (``direction="above"``): a
repetition starts when the flexion rises above ``enter`` and is counted when it falls
back below ``exit`` — at the end of the movement, as MediaPipe's counter does. World
angles are used because they do not depend on where the camera stands. The thresholds
were set on ``pose_squats.mp4`` (standing ≈ 12–15° knee flexion, bottom ≈ 90–97°) and on
the usual ranges of the movements; pass your own to :class:`ExercisePreset` for others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hifipose.analysis.angles import (
    DEFAULT_MIN_VISIBILITY,
    angle_series,
    check_min_visibility,
    normalize_angle_name,
)
from hifipose.analysis.reps import RepCount, TrackCounters, hysteresis_counter
from hifipose.analysis.tracks import Track
from hifipose.errors import ConfigError
from hifipose.pose import Pose

__all__ = ["PRESETS", "ExerciseCounter", "ExercisePreset", "TrackAnswer", "get_preset"]


@dataclass(frozen=True)
class ExercisePreset:
    """A repetition counter on the mean of some world-space angles.

    Attributes:
        name: The preset's name, e.g. ``"squat"``.
        angles: The angles averaged into the signal (snake-case names of :data:`ANGLES`).
        enter: Flexion (degrees) above which a repetition starts.
        exit: Flexion (degrees) below which, once started, it is counted.
        label: A short name of the signal for overlays, e.g. ``"knee"``.
        min_visibility: Points less visible than this leave their angle out.
    """

    name: str
    angles: tuple[str, ...]
    enter: float
    exit: float
    label: str
    min_visibility: float = DEFAULT_MIN_VISIBILITY

    def __post_init__(self) -> None:
        object.__setattr__(self, "angles", tuple(normalize_angle_name(a) for a in self.angles))
        check_min_visibility(self.min_visibility)
        TrackCounters(self.enter, self.exit)  # validates the thresholds

    def signal(self, world: ArrayLike, visibility: ArrayLike) -> NDArray[np.float64]:
        """The (T,) signal in degrees from (T, 33, 3) world points and (T, 33) visibility."""
        series = angle_series(
            world, visibility, self.angles, space="world", min_visibility=self.min_visibility
        )
        stacked = np.stack([np.abs(series[a]) for a in self.angles])
        seen = np.isfinite(stacked).any(axis=0)
        out = np.full(stacked.shape[1], np.nan)
        out[seen] = np.nanmean(stacked[:, seen], axis=0)
        return out

    def count(self, track: Track) -> tuple[NDArray[np.float64], RepCount]:
        """The signal of a whole track and its repetitions."""
        values = self.signal(track.world, track.image[:, :, 3])
        return values, hysteresis_counter(values, self.enter, self.exit, "above")


#: The built-in presets, by name.
PRESETS: Final[Mapping[str, ExercisePreset]] = MappingProxyType(
    {
        p.name: p
        for p in (
            ExercisePreset("squat", ("left_knee", "right_knee"), enter=75, exit=30, label="knee"),
            ExercisePreset(
                "push-up", ("left_elbow", "right_elbow"), enter=75, exit=30, label="elbow"
            ),
            ExercisePreset(
                "curl", ("left_elbow", "right_elbow"), enter=100, exit=40, label="elbow"
            ),
            ExercisePreset(
                "jumping-jack",
                ("left_shoulder", "right_shoulder"),
                enter=110,
                exit=40,
                label="shoulder",
            ),
        )
    }
)


def get_preset(name: str) -> ExercisePreset:
    """A preset by name (``"push_up"``, ``"Push-up"`` and ``"jumping jack"`` work too)."""
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    if key not in PRESETS:
        msg = f"unknown exercise {name!r}; presets: {', '.join(PRESETS)}"
        raise ConfigError(msg)
    return PRESETS[key]


@dataclass(frozen=True, slots=True)
class TrackAnswer:
    """One person's count so far and the current signal value (degrees; NaN if unseen)."""

    track_id: int | None
    count: int
    value: float
    completed: bool


@dataclass
class ExerciseCounter:
    """Counts a preset live, frame by frame, with a counter per ``track_id``.

    Example:
        ``counter = ExerciseCounter(get_preset("squat"))`` then, for each frame,
        ``answers = counter.update(poses)``: one :class:`TrackAnswer` per pose.
    """

    preset: ExercisePreset
    _counters: TrackCounters = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._counters = TrackCounters(self.preset.enter, self.preset.exit)

    def update(self, poses: Sequence[Pose]) -> list[TrackAnswer]:
        """Feed one frame's poses; return each pose's answer, in the same order."""
        answers = []
        for pose in poses:
            value = float(
                self.preset.signal(pose.world_array_m[None], pose.image_array[None, :, 3])[0]
            )
            done = self._counters.update(pose.track_id, value)
            answers.append(
                TrackAnswer(pose.track_id, self._counters.count(pose.track_id), value, done)
            )
        return answers

    def counts(self) -> dict[int | None, int]:
        """Repetitions per track id so far."""
        return {cast("int | None", key): n for key, n in self._counters.counts().items()}
