"""One body seen by several crops on a frame: duplicates, contests and slid crops.

Each step works on the frame's :class:`~hifipose.tracking.track.Candidate` records, indexed
as in :meth:`~hifipose.tracking.identity.IdentityAssignment.associate`: the tracked
tracks' crops first, then the lost tracks' probes, then the detections.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numpy.typing import NDArray

from hifipose.association import duplicate_of, torso_distance
from hifipose.tracking.similarity import CLEAR_MARGIN, fit, lost_rival_fits_better, one_body
from hifipose.tracking.track import TORSO, Candidate, Track, TrackStatus

__all__ = [
    "CONTESTED_DISTANCE",
    "COURSE_GATE",
    "CROWDED_DISTANCE",
    "HIDDEN_DISTANCE",
    "drop_duplicates",
    "in_crowd",
    "keep_contests_apart",
    "off_course",
    "settle_contests",
]

#: Two tracked crops on one body contest it when its torso centre lies within this many
#: torso lengths of the rival's prediction.
CONTESTED_DISTANCE: Final = 0.35
#: In a crowd, a pose whose torso centre lies further than this many torso lengths from
#: where its track's dead reckoning puts it is someone else's body (see :func:`off_course`).
COURSE_GATE: Final = 0.5
#: In a crowd, a person whose expected torso centre lies within this many torso lengths
#: (the bigger person's) of a bigger person's is hidden behind them.
HIDDEN_DISTANCE: Final = 0.5
#: A person is in a crowd while another track's predicted torso centre lies within this
#: many torso lengths of theirs: each one's crop then holds much of the other's body.
CROWDED_DISTANCE: Final = 1.0


def drop_duplicates(
    t_us: int,
    tracks: list[Track],
    candidates: list[Candidate],
    *,
    max_tracks: int,
) -> tuple[list[int], dict[int, list[Track]]]:
    """The poses kept after the duplicate test, and per kept pose the tracks it beat.

    Order: tracked ROIs first (the pose that fits its own track best first), then the
    probes of lost tracks, then detections by score; the first of two is kept.
    """
    own_fit = [fit(candidates[i].pose, tracks[i], t_us) for i in range(len(tracks))]
    order = sorted(range(len(tracks)), key=lambda i: (-own_fit[i], tracks[i].track_id))
    order += range(len(tracks), len(candidates))
    order = [i for i in order if candidates[i].pose is not None]

    def same_body(k: int, j: int) -> bool:
        return one_body(candidates[order[k]], candidates[order[j]], t_us, max_tracks=max_tracks)

    same = duplicate_of([candidates[i].pose for i in order], same_body)  # type: ignore[misc]
    kept = [order[k] for k, first in enumerate(same) if first == k]
    rivals: dict[int, list[Track]] = {}  # a kept pose -> the tracks whose crop repeated it
    for k, first in enumerate(same):
        owner = candidates[order[k]].owner
        if first != k and owner is not None:
            rivals.setdefault(order[first], []).append(owner)
    return kept, rivals


def settle_contests(
    t_us: int,
    kept: list[int],
    rivals: dict[int, list[Track]],
    candidates: list[Candidate],
    *,
    tracked: list[Track],
    max_tracks: int,
) -> dict[int, int]:
    """Two tracked people's crops on one body where both were expected: keep the older id.

    A kept pose from a tracked track's crop is contested when a tracked rival's crop
    repeated it and the body's torso lies within :data:`CONTESTED_DISTANCE` torso
    lengths of that rival's prediction too (two people crossing; a body far from the
    rival's prediction is the kept track's, as keypoint similarity says). Then the
    older id keeps its own crop's pose (the younger track is lost for the frame and
    keeps its prediction), and neither velocity learns from the blend.

    Returns:
        Kept pose index → the index of the pose reported instead (itself or the older
        track's crop), for each contested pose.
    """
    out: dict[int, int] = {}
    if max_tracks == 1:
        return out
    for i in kept:
        owner, pose = candidates[i].owner, candidates[i].pose
        if owner is None or owner.status is not TrackStatus.TRACKED or pose is None:
            continue
        close = [
            r
            for r in rivals.get(i, [])
            if r.status is TrackStatus.TRACKED
            and (predicted := r.predict(t_us)) is not None
            and torso_distance(pose, predicted) <= CONTESTED_DISTANCE
        ]
        if not close:
            continue
        contenders = [owner, *close]
        oldest = min(contenders, key=lambda t: t.track_id or math.inf)
        fits = [fit(pose, t, t_us) for t in contenders]
        best = contenders[int(np.argmax(fits))]
        if max(fits) < fit(pose, oldest, t_us) + CLEAR_MARGIN:
            best = oldest
        out[i] = tracked.index(best)
    return out


def keep_contests_apart(
    sims: NDArray[np.float64],
    *,
    left: list[int],
    group: list[Track],
    candidates: list[Candidate],
    contested: dict[int, int],
    rivals: dict[int, list[Track]],
    t_us: int,
) -> set[int]:
    """Bar pairs in ``sims`` (rows: poses ``left``, columns: ``group``) a crossing forbids.

    A contested pose stays with the track whose crop it came from; a pose that a lost
    person's probe also found, and that fits that person better, leaves its own track;
    so does a pose that fits another track of ``group`` better by :data:`CLEAR_MARGIN`
    when that track's own crop found a pose that fits it at least as well (the crop slid
    onto that person's body, as when one walks in front of another).

    Returns:
        The poses of the last kind: a second view of someone's body, not a newcomer.
    """
    elsewhere: set[int] = set()
    fits = sims.copy()
    own_fit = {
        id(candidates[i].owner): fits[row, group.index(o)]
        for row, i in enumerate(left)
        if (o := candidates[i].owner) in group
    }
    for row, i in enumerate(left):
        own = candidates[i].owner
        if own is None or own not in group:
            continue
        if i in contested.values():
            sims[row] = np.where(np.arange(len(group)) == group.index(own), sims[row], -1.0)
        elif lost_rival_fits_better(candidates[i].pose, own, rivals.get(i, []), t_us):
            sims[row] = -1.0
        else:
            col = group.index(own)
            for other, track in enumerate(group):
                if (
                    other != col
                    and fits[row, other] >= fits[row, col] + CLEAR_MARGIN
                    and own_fit.get(id(track), -1.0) >= fits[row, other]
                ):  # the crop slid onto a body that person's own crop found
                    sims[row] = -1.0
                    elsewhere.add(i)
    return elsewhere


def in_crowd(track: Track, others: list[Track], t_us: int) -> bool:
    """Whether another of ``others`` is predicted within :data:`CROWDED_DISTANCE` of ``track``.

    Torso centres of the predictions, in torso lengths of ``track``'s. In a crowd a crop
    holds much of someone else's body and the landmark model drifts onto the more visible
    one a little each frame: the pose is still the track's best view, but its motion is
    not the person's (see :class:`~hifipose.tracking.track.Association`).
    """
    predicted = track.predict(t_us)
    if predicted is None:
        return False
    return any(
        other is not track
        and (near := other.predict(t_us)) is not None
        and torso_distance(near, predicted) <= CROWDED_DISTANCE
        for other in others
    )


def off_course(track: Track, pose: NDArray[np.float64], others: list[Track], t_us: int) -> bool:
    """Whether ``pose``, from ``track``'s crop in a crowd, is not the track's person.

    A person with someone bigger (nearer the camera: the copies of one person in the
    clips, people on one floor) predicted within :data:`CROWDED_DISTANCE` of them is
    tested on :meth:`~hifipose.tracking.track.Track.expected_centre` (dead reckoning from
    before the crowd) and sizes in torso lengths of ``track``'s person: the most visible
    body in a crowd is the front one, onto which the others' crops drift. The pose is not
    theirs when its torso centre lies further than :data:`COURSE_GATE` from where they are
    expected, or nearer where someone close by is expected, or while they are hidden:
    expected within :data:`HIDDEN_DISTANCE` of someone bigger.

    The front person (no one bigger close by) is tested on keypoints instead: where their
    torso passes over a hidden person's, their crop, a frame behind them, can take the
    hidden body (three copies meeting at one point), and torso distances tie there (a
    person walking in front of a crouching one keeps their own body at the same
    distances). The pose is not theirs when a lost person close by fits it better than
    the front person's own prediction by :data:`~hifipose.tracking.similarity.CLEAR_MARGIN`.

    Then the track is better lost (looked for along its course, found again after the
    crowd) than handed someone else's body.
    """
    expected = track.expected_centre(t_us)
    size = track.size()
    if expected is None or size <= 0:
        return False
    near = [
        (other, there)
        for other in others
        if other is not track
        and other.track_id
        and (there := other.expected_centre(t_us)) is not None
        and math.hypot(*(there - expected)) <= CROWDED_DISTANCE * size
    ]
    front = [(other, there) for other, there in near if other.size() > size]
    if not front:
        own_fit = fit(pose, track, t_us, widen=False)
        return any(
            other.status is TrackStatus.LOST
            and fit(pose, other, t_us, widen=False) >= own_fit + CLEAR_MARGIN
            for other, _ in near
        )
    centre = pose[TORSO, :2].mean(axis=0)
    own = math.hypot(*(centre - expected)) / size
    return (
        own > COURSE_GATE
        or any(math.hypot(*(expected - e)) < HIDDEN_DISTANCE * o.size() for o, e in front)
        or any(math.hypot(*(centre - e)) / size < own for _, e in near)
    )
