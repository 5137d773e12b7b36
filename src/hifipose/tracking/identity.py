"""Which pose is whose on a frame: identity assignment as named steps.

:meth:`IdentityAssignment.associate` runs them in order over one
:class:`~hifipose.tracking.track.Candidate` record per observation of the frame (one per
tracked ROI, lost-track probe and detection, in that order):

1. :func:`~hifipose.tracking.crossing.drop_duplicates`: one body seen by two crops is kept
   once.
2. :func:`~hifipose.tracking.crossing.settle_contests`: two tracked people's crops on one
   body where both were expected: the older id keeps it.
3. :meth:`~IdentityAssignment._match_tracks`: poses of the tracks' own crops go to the
   tracked tracks, then to the probed lost ones
   (:func:`~hifipose.tracking.crossing.keep_contests_apart` bars what a crossing forbids).
4. :meth:`~IdentityAssignment._lose_unreported`: tracked tracks left without a pose are lost.
5. :meth:`~IdentityAssignment._reidentify`: a young track that is clearly a lost person
   becomes that person.
6. :meth:`~IdentityAssignment._admit`: the poses no track took re-identify a lost person
   or start a new track.
7. :func:`~hifipose.tracking.crossing.in_crowd`: a reported track with another person
   predicted close by keeps its velocity (several people; see
   :class:`~hifipose.tracking.track.Association`), and loses a pose that is
   :func:`~hifipose.tracking.crossing.off_course` (:meth:`~IdentityAssignment._keep_on_course`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final, Protocol

import numpy as np
from numpy.typing import NDArray

from hifipose.association import (
    assign,
    box_iou,
    similarity,
    similarity_matrix,
)
from hifipose.blazepose.roi import Roi
from hifipose.tracking.crossing import (
    CONTESTED_DISTANCE,
    CROWDED_DISTANCE,
    drop_duplicates,
    in_crowd,
    keep_contests_apart,
    off_course,
    settle_contests,
)
from hifipose.tracking.similarity import (
    CLEAR_MARGIN,
    MIN_REID_SIMILARITY,
    fit,
    is_them,
)
from hifipose.tracking.track import Association, Candidate, Track, TrackStatus, pose_points

__all__ = [
    "CONTESTED_DISTANCE",
    "CROWDED_DISTANCE",
    "MAX_NEWBORN_IOU",
    "MIN_TRACK_SIMILARITY",
    "YOUNG_HITS",
    "IdentityAssignment",
    "Roster",
]

#: A pose from a tracked ROI must be at least this similar to a track's prediction to keep it.
MIN_TRACK_SIMILARITY: Final = 0.1
#: A track seen on fewer frames than this may still turn out to be a lost person.
YOUNG_HITS: Final = 10
#: A new track may not start on a pose overlapping a reported one by more than this box IoU.
MAX_NEWBORN_IOU: Final = 0.5


#: Poses whose coordinates all lie within this many pixels of the origin...
_MAX_ABS_PX: Final = 1e100
#: ... the first of which spans a box of at least this area (px²) have a similarity ≥ 0.
_MIN_BOX_AREA: Final = 1e-100


def _similarity_defined(pose: NDArray[np.float64], predicted: NDArray[np.float64]) -> bool:
    """Whether :func:`~hifipose.association.similarity` of the two is surely not NaN (≥ 0).

    It is NaN only through a NaN or infinite coordinate, an overflow, or a box area so small
    that its scale underflows to 0 (then 0 / 0): coordinates within :data:`_MAX_ABS_PX`
    (NaN fails the test) and ``pose``'s box at least :data:`_MIN_BOX_AREA` rule all of
    them out, at a fraction of the similarity's cost. False: work it out.
    """
    xy = pose[:, :2]
    low, high = xy.min(axis=0), xy.max(axis=0)  # NaN where a coordinate is
    if not (
        low.min() >= -_MAX_ABS_PX
        and high.max() <= _MAX_ABS_PX
        and np.abs(predicted[:, :2]).max() <= _MAX_ABS_PX
    ):
        return False
    width, height = (high - low).tolist()
    return bool(width * height >= _MIN_BOX_AREA)


class Roster(Protocol):
    """What identity assignment reads and changes of a tracker.

    :class:`~hifipose.tracker.MultiTracker` is one.
    """

    max_tracks: int
    tracks: list[Track]

    def tracked(self) -> list[Track]:
        """The tracks whose person was found on the last frame, by id."""
        ...

    def free_slots(self) -> int:
        """How many more people may start tracks on this frame."""
        ...

    def probe_rois(self, t_us: int) -> list[tuple[Track, Roi]]:
        """Where to look for lost people on this frame."""
        ...

    def new_track(self) -> Track:
        """Start a tentative track (id 0) and add it to ``tracks``."""
        ...


@dataclass
class IdentityAssignment:
    """One frame's identity decisions for a tracker's :class:`Roster`.

    Attributes:
        max_tracks: Most people tracked at once (``num_poses``).
        roster: The tracker whose tracks are assigned (lost, re-identified, started).
    """

    max_tracks: int
    roster: Roster

    def associate(
        self,
        t_us: int,
        tracked_poses: Sequence[NDArray[np.floating] | None],
        probe_poses: Sequence[NDArray[np.floating] | None],
        detected_poses: Sequence[NDArray[np.floating] | None],
    ) -> list[Association]:
        """Decide which pose is whose (see :meth:`hifipose.tracker.MultiTracker.associate`)."""
        tracks = self.roster.tracked()
        alone = self._kept_alone(t_us, tracks, tracked_poses, probe_poses, detected_poses)
        if alone is not None:
            return alone
        probed = [track for track, _ in self.roster.probe_rois(t_us)]
        owners: list[Track | None] = [*tracks, *probed]
        observed = [*tracked_poses, *probe_poses, *detected_poses]
        owners += [None] * len(detected_poses)
        candidates = [
            Candidate(None if p is None else pose_points(p), owner)
            for p, owner in zip(observed, owners, strict=True)
        ]
        kept, rivals = drop_duplicates(t_us, tracks, candidates, max_tracks=self.max_tracks)
        contested = settle_contests(
            t_us, kept, rivals, candidates, tracked=tracks, max_tracks=self.max_tracks
        )
        kept = [contested.get(i, i) for i in kept]
        from_rois = [i for i in kept if candidates[i].owner is not None]
        from_detector = [i for i in kept if candidates[i].owner is None]
        result, seen_twice = self._match_tracks(
            t_us,
            from_rois,
            (tracks, probed),
            candidates=candidates,
            contested=contested,
            rivals=rivals,
        )
        taken = {a.index for a in result}
        self._lose_unreported(tracks, result)
        result = [self._reidentify(a, candidates, t_us) for a in result]
        # A pose no track claims is a newcomer, as are the detector's.
        newcomers = [i for i in from_rois if i not in taken | seen_twice] + from_detector
        result += self._admit(
            t_us, newcomers, candidates, [candidates[a.index].pose for a in result]
        )
        if self.max_tracks > 1:  # one person: MediaPipe's graph, whoever else was lost
            crowded = {id(a) for a in result if in_crowd(a.track, self.roster.tracks, t_us)}
            result = self._keep_on_course(t_us, result, crowded, tracks, candidates)
            result = [replace(a, crowded=True) if id(a) in crowded else a for a in result]
        return sorted(result, key=lambda a: a.track.track_id)

    def _keep_on_course(
        self,
        t_us: int,
        result: list[Association],
        crowded: set[int],
        tracked: list[Track],
        candidates: list[Candidate],
    ) -> list[Association]:
        """The associations less the crowded ones whose pose is off the track's course.

        See :func:`~hifipose.tracking.crossing.off_course`. Such a track is lost: a tracked
        one as any unreported one, a lost one found by its probe stays lost.
        """
        kept = []
        for a in result:
            pose = candidates[a.index].pose
            if (
                id(a) in crowded
                and a.track.track_id
                and pose is not None
                and off_course(a.track, pose, self.roster.tracks, t_us)
            ):
                if any(a.track is t for t in tracked):
                    a.track.lose()
                else:
                    a.track.status = TrackStatus.LOST
                continue
            kept.append(a)
        return kept

    def _kept_alone(
        self,
        t_us: int,
        tracks: list[Track],
        tracked_poses: Sequence[NDArray[np.floating] | None],
        probe_poses: Sequence[NDArray[np.floating] | None],
        detected_poses: Sequence[NDArray[np.floating] | None],
    ) -> list[Association] | None:
        """The one-person frame's result without the general steps, or None to run them.

        With ``max_tracks=1``, one tracked track whose own crop found a pose, no probe and
        no detection (every tracking frame of MediaPipe's graph), the steps reduce to: the
        pose is kept (nothing to repeat), nothing is contested, and the track takes it when
        its fit passes the one-person gate (0, which only a NaN fails), as ``assign`` of a
        1×1 matrix would decide; then the track may still re-identify as a lost person.

        With several people the same frame, when that track is the only one the tracker
        has (no lost person to probe or re-identify, nobody to crowd it: one person in
        view), reduces further: the track takes its pose when its fit passes the
        several-people gate :data:`MIN_TRACK_SIMILARITY`, and that is all.
        """
        if (
            len(tracks) != 1
            or len(tracked_poses) != 1
            or probe_poses
            or detected_poses
            or tracked_poses[0] is None
        ):
            return None
        track = tracks[0]
        if self.max_tracks != 1:
            return self._kept_only(t_us, track, tracked_poses[0])
        pose = pose_points(tracked_poses[0])
        predicted = track.predict(t_us)
        # fit() is the larger of this and the mirrored pose's penalised similarity: it
        # passes the gate exactly when this does (the general steps decide what NaN does)
        if predicted is None or not (
            _similarity_defined(pose, predicted)
            or similarity(pose, predicted, allow_flip=False) >= 0.0
        ):
            return None
        result = [Association(track, 0)]
        self._lose_unreported(tracks, result)
        return [self._reidentify(result[0], [Candidate(pose, track)], t_us)]

    def _kept_only(
        self, t_us: int, track: Track, landmarks: NDArray[np.floating]
    ) -> list[Association] | None:
        """:meth:`_kept_alone` with several people: ``track`` alone keeps its pose, or None.

        With no other track, the general steps find nothing to repeat, contest, bar or
        re-identify, no newcomer and no crowd: the track takes the pose when its fit passes
        :data:`MIN_TRACK_SIMILARITY` (a NaN fails, and the general steps decide).
        """
        if len(self.roster.tracks) != 1:
            return None
        if not fit(pose_points(landmarks), track, t_us) >= MIN_TRACK_SIMILARITY:
            return None
        result = [Association(track, 0)]
        self._lose_unreported([track], result)
        return result

    def _match_tracks(
        self,
        t_us: int,
        left: list[int],
        groups: tuple[list[Track], list[Track]],
        *,
        candidates: list[Candidate],
        contested: dict[int, int],
        rivals: dict[int, list[Track]],
    ) -> tuple[list[Association], set[int]]:
        """Identities, on keypoints, for the poses ``left`` of the tracks' own ROIs.

        First to the tracked tracks (a tracked person keeps their pose), then what is left
        to the probed lost ones (the two ``groups``); a pose from a tracked ROI must be at
        least :data:`MIN_TRACK_SIMILARITY` similar to keep a track (several people), and a
        lost track takes a pose only while a slot is free.

        Returns:
            The associations, and the poses that are a second view of someone's body (see
            :func:`~hifipose.tracking.crossing.keep_contests_apart`): not newcomers.
        """
        result: list[Association] = []
        # One person: MediaPipe's graph keeps the track whatever its ROI shows.
        gate = MIN_TRACK_SIMILARITY if self.max_tracks > 1 else 0.0
        free = self.roster.free_slots()
        seen_twice: set[int] = set()
        for group in groups:
            if not left or not group:
                continue
            sims = np.array(
                [[fit(candidates[i].pose, track, t_us) for track in group] for i in left]
            )
            seen_twice |= keep_contests_apart(
                sims,
                left=left,
                group=group,
                candidates=candidates,
                contested=contested,
                rivals=rivals,
                t_us=t_us,
            )
            column = {id(track): col for col, track in enumerate(group)}
            standing = [column.get(id(candidates[i].owner)) for i in left]
            pairs = assign(sims, min_similarity=gate, standing=standing, margin=CLEAR_MARGIN)
            for row, col in sorted(pairs, key=lambda rc: -sims[rc[0], rc[1]]):
                track = group[col]
                if track.status is TrackStatus.LOST:
                    if free == 0:
                        continue
                    free -= 1
                result.append(Association(track, left[row], left[row] in contested.values()))
            done = {a.index for a in result}
            left = [i for i in left if i not in done]
        return result, seen_twice

    def _lose_unreported(self, tracks: list[Track], result: list[Association]) -> None:
        """Lose the tracked ``tracks`` no association took; forget tentative ones that fail."""
        reported = {id(a.track) for a in result}
        for track in tracks:
            if id(track) not in reported:
                track.lose()
        # A tentative track that fails is forgotten (it never had an id).
        self.roster.tracks = [
            t for t in self.roster.tracks if t.track_id or t.status is TrackStatus.TRACKED
        ]
        for association in result:
            association.track.status = TrackStatus.TRACKED

    def _reidentify(
        self, association: Association, candidates: list[Candidate], t_us: int
    ) -> Association:
        """A young track whose pose now clearly is a lost person's becomes that person.

        Young: tentative, or seen on fewer than :data:`YOUNG_HITS` frames and started after
        that person was lost. Its own id is retired (ids are never reused).
        """
        pose, young = candidates[association.index].pose, association.track
        if pose is None or (young.track_id and young.hits >= YOUNG_HITS):
            return association
        for track in self.roster.tracks:
            if (
                track.status is TrackStatus.LOST
                and (not young.track_id or track.last_seen_us <= young.first_seen_us)
                and is_them(pose, track, t_us)
            ):
                self.roster.tracks.remove(young)
                track.status = TrackStatus.TRACKED
                return Association(track, association.index)
        return association

    def _admit(
        self,
        t_us: int,
        newcomers: list[int],
        candidates: list[Candidate],
        reported: list[NDArray[np.float64] | None],
    ) -> list[Association]:
        """Give newcomers a lost track's id when they match it, else a new id (up to capacity).

        A newcomer whose landmark box overlaps a pose already reported on this frame by
        more than :data:`MAX_NEWBORN_IOU` starts no track: overlapping people are told
        apart by the tracks they already have (a hidden person comes back through their
        lost track), and a pose half on two people is not a person.
        """
        result: list[Association] = []
        lost = [
            t
            for t in self.roster.tracks
            if t.status is TrackStatus.LOST and t.last_pose is not None
        ]
        free = self.roster.free_slots()
        if newcomers and lost:
            scales = [(1.0 + (t_us - t.last_seen_us) * 1e-6) ** 2 for t in lost]
            sims = similarity_matrix(
                [candidates[i].pose for i in newcomers],  # type: ignore[misc]
                [t.predict(t_us) for t in lost],  # type: ignore[misc]
                area_scales=scales,
            )
            matched: set[int] = set()
            for row, col in assign(sims, min_similarity=MIN_REID_SIMILARITY):
                track, pose = lost[col], candidates[newcomers[row]].pose
                if free == 0 or pose is None or not is_them(pose, track, t_us):
                    continue
                track.status = TrackStatus.TRACKED
                result.append(Association(track, newcomers[row]))
                matched.add(newcomers[row])
                free -= 1
            newcomers = [i for i in newcomers if i not in matched]
        for index in newcomers:
            if free == 0:
                break
            pose = candidates[index].pose
            if pose is None or any(
                other is not None and box_iou(pose, other) > MAX_NEWBORN_IOU
                for other in [*reported, *(candidates[a.index].pose for a in result)]
            ):
                continue
            track = self.roster.new_track()
            result.append(Association(track, index))
            free -= 1
        return result
