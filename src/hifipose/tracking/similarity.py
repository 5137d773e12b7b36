"""How well a pose fits a track: the tests identities rest on.

The keypoint measures themselves (similarity, torso distance, limb proportions) are
:mod:`hifipose.association`'s; these apply them to a :class:`~hifipose.tracking.track.Track`
and its prediction.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from hifipose.association import (
    bone_lengths,
    bones_agree,
    is_same_person,
    shares_torso,
    similarity,
)
from hifipose.tracking.track import Candidate, Track, TrackStatus

__all__ = [
    "CLEAR_MARGIN",
    "MIN_REID_SIMILARITY",
    "fit",
    "is_them",
    "lost_rival_fits_better",
    "one_body",
]

#: A new person must be at least this similar to a lost track's prediction to take its id.
MIN_REID_SIMILARITY: Final = 0.3
#: An identity changes hands only on a clear lead: a body goes to another track than the
#: standing one (its own crop's, the older id in a contest) only when that track's
#: similarity beats the standing one's by at least this much. Float rounding differences
#: between CPUs move similarities by far less, so they cannot flip an id.
CLEAR_MARGIN: Final = 0.1


def fit(pose: NDArray[np.float64] | None, track: Track, t_us: int, *, widen: bool = True) -> float:
    """Similarity of ``pose`` to ``track``'s prediction, -1 when either is missing.

    With ``widen`` the gate widens while the track is lost (it may have moved further
    than predicted); without, the similarity is comparable with a tracked track's.
    """
    predicted = track.predict(t_us)
    if pose is None or predicted is None:
        return -1.0
    scale = 1.0
    if widen and track.status is TrackStatus.LOST:
        scale = (1.0 + (t_us - track.last_seen_us) * 1e-6) ** 2
    return similarity(pose, predicted, area_scale=scale)


def is_them(pose: NDArray[np.float64], track: Track, t_us: int) -> bool:
    """The re-identification test: a strong likeness, limb proportions included."""
    return fit(pose, track, t_us) >= MIN_REID_SIMILARITY and (
        track.bones is None or bones_agree(bone_lengths(pose), track.bones)
    )


def lost_rival_fits_better(
    pose: NDArray[np.float64] | None, own: Track, rivals: list[Track], t_us: int
) -> bool:
    """Whether a lost person whose probe found the same body fits ``pose`` better than ``own``.

    Then the tracked crop does not keep the body: a person who walked in front of a
    hidden one does not take over the hidden one's id, nor the other way round.
    """
    own_fit = fit(pose, own, t_us)
    return any(
        r.status is TrackStatus.LOST and fit(pose, r, t_us, widen=False) >= own_fit + CLEAR_MARGIN
        for r in rivals
    )


def one_body(
    kept: Candidate,
    other: Candidate,
    t_us: int,
    *,
    max_tracks: int,
) -> bool:
    """Whether candidates ``kept`` and ``other`` are one body seen by two crops.

    They are when :func:`~hifipose.association.is_same_person` says so, and (several
    people, ``max_tracks`` > 1) when their torsos coincide
    (:func:`~hifipose.association.shares_torso`) unless both come from tracks' crops and
    each pose fits its own track better than the other track by :data:`CLEAR_MARGIN`:
    one person partly hidden behind another still gives their own pose, while a crop that
    slid onto someone else's body gives a pose of that body, or a blend that fits neither
    track clearly.
    """
    a, b = kept.pose, other.pose
    if a is None or b is None:
        return False
    if is_same_person(a, b):
        return True
    if max_tracks == 1 or not shares_torso(a, b):
        return False
    own_a, own_b = kept.owner, other.owner
    if own_a is None or own_b is None:
        return True  # a detection on a tracked body is that body

    def lead(pose: NDArray[np.float64], own: Track, other: Track) -> float:
        return fit(pose, own, t_us, widen=False) - fit(pose, other, t_us, widen=False)

    return not (lead(a, own_a, own_b) >= CLEAR_MARGIN and lead(b, own_b, own_a) >= CLEAR_MARGIN)
