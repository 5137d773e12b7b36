"""The record of one person in a stream: ROI, filters, last pose, motion and status."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Final

import numpy as np
from numpy.typing import NDArray

from hifipose.association import MIN_VISIBILITY, bone_lengths, torso_length
from hifipose.blazepose.roi import Roi
from hifipose.tracking.pose_filters import PoseFilters

__all__ = [
    "COURSE_S",
    "MAX_CROWD_S",
    "MAX_PREDICT_S",
    "SIZE_POSES",
    "TORSO",
    "VELOCITY_ALPHA",
    "Association",
    "Candidate",
    "Track",
    "TrackStatus",
    "pose_points",
]

#: Weight of the newest motion in a track's velocity (exponential average).
VELOCITY_ALPHA: Final = 0.5
#: A lost track's predicted motion stops after this long (seconds).
MAX_PREDICT_S: Final = 1.0
#: Dead reckoning through a crowd stops after this long (seconds).
MAX_CROWD_S: Final = 3.0
#: A person's course before a crowd, for dead reckoning through it: this long (seconds).
COURSE_S: Final = 3.0
#: A person's size (depth order in a crowd): the median torso length of this many poses.
SIZE_POSES: Final = 16
#: The shoulders and hips: where a person is. Their motion is the person's (several people):
#: the limbs swing about them (a squat moves the head and arms against the walk).
TORSO: Final = np.array([11, 12, 23, 24])
_LIMBS: Final = np.setdiff1d(np.arange(33), TORSO)
#: The x, y and visibility columns of image landmarks (:func:`pose_points`).
_POINT_COLUMNS: Final = np.array([0, 1, 3])


class TrackStatus(Enum):
    """Whether a track's person was found on the last frame."""

    TRACKED = "tracked"
    LOST = "lost"


def pose_points(landmarks: NDArray[np.floating]) -> NDArray[np.float64]:
    """The (33, 3) x px, y px, visibility view of (≥33, 5) image landmarks that association uses."""
    return np.asarray(landmarks[:33, _POINT_COLUMNS], dtype=np.float64)


@dataclass
class Track:
    """One person in a stream.

    Attributes:
        track_id: The person's id: ≥ 1, never reused within a stream; 0 while the track is
            tentative (see :meth:`~hifipose.tracker.MultiTracker.confirm`).
        filters: This person's smoothing filters (and previous mask).
        roi: The ROI for the next frame (None while lost).
        last_roi: The last ROI the person was found in (kept while lost).
        status: Tracked (found on the last frame) or lost.
        last_pose: The last learnt smoothed (33, 3) pose: x px, y px, visibility.
        velocity_px_s: Median keypoint motion (x, y) in pixels per second: of the torso's
            points when ``torso_motion`` and all four are seen, else of every seen point.
        hits: On how many frames the person was found.
        first_seen_us: Stream time of the first frame the track was seen on.
        last_seen_us: Stream time of the last frame the person was found on.
        pose_us: Stream time of ``last_pose``.
        torso_motion: The velocity follows the torso (several people); False: every seen
            point (one person, as it always has).
        anchor_xy: In a crowd (several people), where the torso centre was on the line of
            its course at ``anchor_us``, the last pose before the crowd; None outside one.
        anchor_us: Stream time of ``anchor_xy``.
        course: (stream time, torso centre) of the poses of the last :data:`COURSE_S`
            seconds out of a crowd (several people).
        torso_lengths: The torso lengths of the last :data:`SIZE_POSES` poses out of a
            crowd (several people).
    """

    track_id: int
    filters: PoseFilters
    roi: Roi | None = None
    last_roi: Roi | None = None
    status: TrackStatus = TrackStatus.TRACKED
    last_pose: NDArray[np.float64] | None = None
    velocity_px_s: NDArray[np.float64] = field(default_factory=lambda: np.zeros(2))
    hits: int = 0
    first_seen_us: int = 0
    last_seen_us: int = 0
    pose_us: int = 0
    torso_motion: bool = False
    anchor_xy: NDArray[np.float64] | None = None
    anchor_us: int = 0
    course: list[tuple[int, NDArray[np.float64]]] = field(default_factory=list)
    torso_lengths: list[float] = field(default_factory=list)
    _bones: NDArray[np.float64] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def bones(self) -> NDArray[np.float64] | None:
        """:func:`~hifipose.association.bone_lengths` of the last pose (re-identification).

        Worked out when first read after the pose changes: only a lost person's are read.
        """
        if self._bones is None and self.last_pose is not None:
            self._bones = bone_lengths(self.last_pose)
        return self._bones

    def predict(self, t_us: int) -> NDArray[np.float64] | None:
        """The pose expected at ``t_us``: the last pose moved on by the velocity."""
        if self.last_pose is None:
            return None
        dt = min(max(t_us - self.pose_us, 0) * 1e-6, MAX_PREDICT_S)
        predicted = self.last_pose.copy()
        predicted[:, :2] += self.velocity_px_s * dt
        return predicted

    def expected_centre(self, t_us: int) -> NDArray[np.float64] | None:
        """Where the torso centre should be at ``t_us``.

        Outside a crowd, the prediction's; in one, dead reckoning from before it: the
        anchor moved on by the velocity of the course (the poses learnt in a crowd may have
        drifted onto someone else's body), for up to :data:`MAX_CROWD_S`.
        """
        if self.anchor_xy is None:
            predicted = self.predict(t_us)
            return None if predicted is None else predicted[TORSO, :2].mean(axis=0)
        dt = min(max(t_us - self.anchor_us, 0) * 1e-6, MAX_CROWD_S)
        return np.asarray(self.anchor_xy + self.velocity_px_s * dt, dtype=np.float64)

    def observe(
        self,
        landmarks_px: NDArray[np.floating],
        t_us: int,
        *,
        learn: bool = True,
        crowded: bool = False,
    ) -> None:
        """Remember this frame's smoothed (33, ≥4) image landmarks as the person's pose.

        With ``learn=False`` (a contested pose, see :class:`Association`: possibly a blend
        of two people) the person is found on this frame, but the pose, velocity and bones
        that identify them stay those of the last uncontested frame.

        With ``crowded`` (see :class:`Association`) the pose is learnt but the velocity is
        kept: the motion the person had before the crowd carries their prediction (and the
        probe that looks for them while hidden) through it.
        """
        pose = pose_points(landmarks_px)
        if not self.hits:
            self.first_seen_us = t_us
        self.hits += 1
        self.last_seen_us = t_us
        self.status = TrackStatus.TRACKED
        if not learn and self.last_pose is not None:
            return
        if not crowded:
            self.anchor_xy = None
            if self.torso_motion:  # several people: the course for a crowd to come
                # oldest first (stream times increase): what is too old is a prefix
                old = 0
                while old < len(self.course) and t_us - self.course[old][0] > COURSE_S * 1e6:
                    old += 1
                del self.course[:old]
                # the torso centre as np.mean(axis=0) computes it, without its wrappers
                self.course.append((t_us, np.add.reduce(pose[TORSO, :2], axis=0) / TORSO.size))
                self.torso_lengths = [*self.torso_lengths[1 - SIZE_POSES :], torso_length(pose)]
        elif self.anchor_xy is None and self.last_pose is not None:
            self._enter_crowd()
        if self.last_pose is not None and t_us > self.pose_us and not crowded:
            seen = (pose[:, 2] >= MIN_VISIBILITY) & (self.last_pose[:, 2] >= MIN_VISIBILITY)
            if self.torso_motion and seen[TORSO].all():
                seen[_LIMBS] = False
            if seen.any():
                motion = _column_medians((pose[:, :2] - self.last_pose[:, :2])[seen])
                speed = motion / ((t_us - self.pose_us) * 1e-6)
                self.velocity_px_s = (
                    VELOCITY_ALPHA * speed + (1.0 - VELOCITY_ALPHA) * self.velocity_px_s
                )
        self.last_pose = pose
        self.pose_us = t_us
        self._bones = None

    def size(self) -> float:
        """The person's torso length in pixels: the median of ``torso_lengths``.

        The last pose's while there is none; 0 before any pose.
        """
        if self.torso_lengths:
            return float(np.median(self.torso_lengths))
        return 0.0 if self.last_pose is None else torso_length(self.last_pose)

    def _enter_crowd(self) -> None:
        """Anchor dead reckoning on the straight line fitted through the torso's course.

        A squat or a stride moves the torso back and forth against the walk: the line over
        :data:`COURSE_S` carries a person through a crowd better than the last frames'
        velocity. The velocity becomes the line's (and stays, see :meth:`observe`).
        """
        assert self.last_pose is not None  # noqa: S101 - only after a first pose
        self.anchor_us = self.pose_us
        self.anchor_xy = self.last_pose[TORSO, :2].mean(axis=0)
        if len(self.course) >= 3:
            t = np.array([(u - self.anchor_us) * 1e-6 for u, _ in self.course])
            slope, intercept = np.polyfit(t, np.array([c for _, c in self.course]), 1)
            self.anchor_xy = np.asarray(intercept, dtype=np.float64)
            self.velocity_px_s = np.asarray(slope, dtype=np.float64)

    def lose(self) -> None:
        """The person was not found: no ROI, and the filters reset as MediaPipe's on a loss.

        The last pose, ROI and velocity stay for finding the person again.
        """
        self.last_roi = self.roi
        self.roi = None
        self.status = TrackStatus.LOST
        self.filters.on_lost()


def _column_medians(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """``np.median(values, axis=0)`` for an (n ≥ 1, m) array, bit for bit, without its wrappers.

    The same partition (with NumPy's extra ``-1`` to find NaNs), the mean of the one or two
    middle rows, and NaN for a column holding one (0.03 ms less per tracked person and frame).
    """
    count = values.shape[0]
    half = count // 2
    even = count % 2 == 0
    part = np.partition(values, [half - 1, half, -1] if even else [half, -1], axis=0)
    middle = part[half - 1 : half + 1] if even else part[half : half + 1]
    medians = np.add.reduce(middle, axis=0) / middle.shape[0]
    last = part[-1]
    nan = np.isnan(last)
    if nan.any():
        medians[nan] = last[nan]
    return np.asarray(medians, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Association:
    """Which observation of this frame each reported track takes.

    Attributes:
        track: The track (tracked now; new or re-identified ones included).
        index: Index into the frame's observations: first the tracked tracks' (in the
            order of :meth:`~hifipose.tracker.MultiTracker.tracked`), then the candidates'.
        contested: Another tracked person's crop found the same body where both were
            expected (see :meth:`~hifipose.tracker.MultiTracker.associate`): the pose may
            be a blend of two people, so the track does not learn from it (see
            :meth:`Track.observe`).
        crowded: Another person is predicted close by (several people; see
            :func:`~hifipose.tracking.crossing.in_crowd`): each crop holds much of the
            other's body and the landmark model drifts onto the more visible one, so the
            track keeps the velocity it had (see :meth:`Track.observe`).
    """

    track: Track
    index: int
    contested: bool = False
    crowded: bool = False


@dataclass(frozen=True, slots=True)
class Candidate:
    """One observation of a frame: a pose a crop gave, and whose crop it was.

    Attributes:
        pose: The (33, 3) x px, y px, visibility pose (:func:`pose_points`), None when the
            presence gate failed.
        owner: The track whose ROI (a tracked crop or a lost track's probe) gave the pose;
            None for a detection.
    """

    pose: NDArray[np.float64] | None
    owner: Track | None
