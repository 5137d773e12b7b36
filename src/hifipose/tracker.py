"""The per-stream state: tracks (ROI, smoothing filters, identity) and the stream's clock.

MediaPipe's Pose graph in video mode (blazepose-spec §4–5): the detector runs only when
there is no ROI from the previous frame; every pose found yields the next frame's ROI from
the *smoothed* auxiliary landmarks; a frame without a pose clears the ROI (the next frame
runs the detector) and resets the 2D and auxiliary filters, while the visibility and world
filters keep their state.

:class:`MultiTracker` keeps several people (``num_poses`` > 1) with the same per-person
loop, each person a :class:`Track` with its own ROI and filters, plus hifipose's rules for
who is who (:mod:`hifipose.association`): tracked ROIs beat detections, duplicates are
dropped, identities follow the keypoints, and a lost person keeps the id for a while.
With ``max_tracks=1`` it is exactly MediaPipe's one-person loop (the identity rules then
only number the tracks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Final

import numpy as np
from numpy.typing import NDArray

from hifipose._checks import check_timestamp_ms
from hifipose.association import (
    MIN_VISIBILITY,
    assign,
    bone_lengths,
    bones_agree,
    box_iou,
    duplicate_of,
    is_same_person,
    shares_torso,
    similarity,
    similarity_matrix,
    torso_distance,
)
from hifipose.blazepose.roi import Roi, roi_from_points
from hifipose.blazepose.segmentation import (
    CropMask,
    mask_in_crop,
    supersample_mask,
)
from hifipose.errors import TimestampError
from hifipose.filters import LowPassFilter, OneEuroFilter, smooth_segmentation

__all__ = [
    "DEFAULT_FRAME_INTERVAL_US",
    "Association",
    "MultiTracker",
    "PoseFilters",
    "StreamClock",
    "Track",
    "TrackStatus",
]

#: MediaPipe's Python solution feeds frames on a fixed 33,333 µs clock.
DEFAULT_FRAME_INTERVAL_US: Final = 33_333
#: Object scales below this (pixels) turn the coordinate filters off for the frame.
MIN_OBJECT_SCALE: Final = 1e-6
VISIBILITY_ALPHA: Final = 0.1
# The mask blend runs on a crop grid this many times finer than the model's 256×256 (see
# PoseFilters.smooth_mask): IoU 0.984 of the frame-sized blend's masks at 1, 0.996 at 2.
MASK_BLEND_SUPERSAMPLING: Final = 2
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
    previous_mask: CropMask | None = None

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

    def smooth_mask(self, mask: CropMask) -> CropMask:
        """Blend the mask with the previous smoothed one (ratio 0.7) and remember it.

        MediaPipe blends frame-sized masks; here the blend runs in the current crop, with
        the previous smoothed mask resampled into it
        (:func:`~hifipose.blazepose.segmentation.mask_in_crop`), which reads it at the same
        frame points. Two things differ, both small. Outside the crop the frame-sized blend
        keeps ≤ 3e-5 of the previous mask (see :func:`~hifipose.filters.smooth_segmentation`);
        here it is 0. And the blend, which is not linear, is computed on a grid and then
        interpolated onto the frame rather than the other way round; on a grid
        :data:`MASK_BLEND_SUPERSAMPLING` times finer than the model's
        (:func:`~hifipose.blazepose.segmentation.supersample_mask`) the masks > 0.5 are
        within IoU 0.995 of the frame-sized blend's, whatever the frame size (the mismatch is
        a fraction of a grid cell; the frame only scales it). A first mask (nothing to
        blend) is returned as is; a previous mask of another frame size is not blended.
        """
        previous = self.previous_mask
        smoothed = mask
        if previous is not None and previous.size_wh == mask.size_wh:
            fine = supersample_mask(mask, MASK_BLEND_SUPERSAMPLING)
            side = fine.probabilities.shape[0]
            blended = smooth_segmentation(
                fine.probabilities, mask_in_crop(previous, fine.crop_from_image, side)
            )
            smoothed = CropMask(blended, fine.crop_from_image, mask.size_wh)
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


class TrackStatus(Enum):
    """Whether a track's person was found on the last frame."""

    TRACKED = "tracked"
    LOST = "lost"


#: Two tracked crops on one body contest it when its torso centre lies within this many
#: torso lengths of the rival's prediction.
CONTESTED_DISTANCE: Final = 0.35
#: A pose from a tracked ROI must be at least this similar to a track's prediction to keep it.
MIN_TRACK_SIMILARITY: Final = 0.1
#: A new person must be at least this similar to a lost track's prediction to take its id.
MIN_REID_SIMILARITY: Final = 0.3
#: An identity changes hands only on a clear lead: a body goes to another track than the
#: standing one (its own crop's, the older id in a contest) only when that track's
#: similarity beats the standing one's by at least this much. Float rounding differences
#: between CPUs move similarities by far less, so they cannot flip an id.
CLEAR_MARGIN: Final = 0.1
#: Weight of the newest motion in a track's velocity (exponential average).
VELOCITY_ALPHA: Final = 0.5
#: A track seen on fewer frames than this may still turn out to be a lost person.
YOUNG_HITS: Final = 10
#: A new track may not start on a pose overlapping a reported one by more than this box IoU.
MAX_NEWBORN_IOU: Final = 0.5
#: A lost track's predicted motion stops after this long (seconds).
MAX_PREDICT_S: Final = 1.0
#: A detection is a tracked person's when its centre is this close (× the tracked ROI side)...
CLAIM_DISTANCE: Final = 0.15
#: ... and its ROI side is within this factor of the tracked one.
CLAIM_SIZE_RATIO: Final = 1.4


def pose_points(landmarks: NDArray[np.floating]) -> NDArray[np.float64]:
    """The (33, 3) x px, y px, visibility view of (≥33, 5) image landmarks that association uses."""
    return np.asarray(landmarks[:33][:, [0, 1, 3]], dtype=np.float64)


@dataclass
class Track:
    """One person in a stream.

    Attributes:
        track_id: The person's id: ≥ 1, never reused within a stream; 0 while the track is
            tentative (see :meth:`MultiTracker.confirm`).
        filters: This person's smoothing filters (and previous mask).
        roi: The ROI for the next frame (None while lost).
        last_roi: The last ROI the person was found in (kept while lost).
        status: Tracked (found on the last frame) or lost.
        last_pose: The last learnt smoothed (33, 3) pose: x px, y px, visibility.
        velocity_px_s: Median keypoint motion (x, y) in pixels per second.
        bones: :func:`~hifipose.association.bone_lengths` of the last pose (re-identification).
        hits: On how many frames the person was found.
        first_seen_us: Stream time of the first frame the track was seen on.
        last_seen_us: Stream time of the last frame the person was found on.
        pose_us: Stream time of ``last_pose``.
    """

    track_id: int
    filters: PoseFilters
    roi: Roi | None = None
    last_roi: Roi | None = None
    status: TrackStatus = TrackStatus.TRACKED
    last_pose: NDArray[np.float64] | None = None
    velocity_px_s: NDArray[np.float64] = field(default_factory=lambda: np.zeros(2))
    bones: NDArray[np.float64] | None = None
    hits: int = 0
    first_seen_us: int = 0
    last_seen_us: int = 0
    pose_us: int = 0

    def predict(self, t_us: int) -> NDArray[np.float64] | None:
        """The pose expected at ``t_us``: the last pose moved on by the velocity."""
        if self.last_pose is None:
            return None
        dt = min(max(t_us - self.pose_us, 0) * 1e-6, MAX_PREDICT_S)
        predicted = self.last_pose.copy()
        predicted[:, :2] += self.velocity_px_s * dt
        return predicted

    def observe(self, landmarks_px: NDArray[np.floating], t_us: int, *, learn: bool = True) -> None:
        """Remember this frame's smoothed (33, ≥4) image landmarks as the person's pose.

        With ``learn=False`` (a contested pose, see :class:`Association`: possibly a blend
        of two people) the person is found on this frame, but the pose, velocity and bones
        that identify them stay those of the last uncontested frame.
        """
        pose = pose_points(landmarks_px)
        if not self.hits:
            self.first_seen_us = t_us
        self.hits += 1
        self.last_seen_us = t_us
        self.status = TrackStatus.TRACKED
        if not learn and self.last_pose is not None:
            return
        if self.last_pose is not None and t_us > self.pose_us:
            seen = (pose[:, 2] >= MIN_VISIBILITY) & (self.last_pose[:, 2] >= MIN_VISIBILITY)
            if seen.any():
                motion = np.median(pose[seen, :2] - self.last_pose[seen, :2], axis=0)
                speed = motion / ((t_us - self.pose_us) * 1e-6)
                self.velocity_px_s = (
                    VELOCITY_ALPHA * speed + (1.0 - VELOCITY_ALPHA) * self.velocity_px_s
                )
        self.last_pose = pose
        self.pose_us = t_us
        self.bones = bone_lengths(pose)

    def lose(self) -> None:
        """The person was not found: no ROI, and the filters reset as MediaPipe's on a loss.

        The last pose, ROI and velocity stay for finding the person again.
        """
        self.last_roi = self.roi
        self.roi = None
        self.status = TrackStatus.LOST
        self.filters.on_lost()


@dataclass(frozen=True, slots=True)
class Association:
    """Which observation of this frame each reported track takes.

    Attributes:
        track: The track (tracked now; new or re-identified ones included).
        index: Index into the frame's observations: first the tracked tracks' (in the
            order of :meth:`MultiTracker.tracked`), then the candidates'.
        contested: Another tracked person's crop found the same body where both were
            expected (see :meth:`MultiTracker.associate`): the pose may be a blend of
            two people, so the track does not learn from it (see :meth:`Track.observe`).
    """

    track: Track
    index: int
    contested: bool = False


@dataclass
class MultiTracker:
    """Everything one stream remembers between frames: its tracks, clock and detector cadence.

    Per frame (video mode): :meth:`begin_frame`; the ROIs of :meth:`tracked` tracks and, when
    :meth:`wants_detection`, detector ROIs that :meth:`is_tracked_person` does not claim go
    through the landmark model; :meth:`associate` decides which pose is whose; the caller
    smooths each with its track's filters and calls :meth:`Track.observe`.

    Attributes:
        max_tracks: Most people tracked at once (``num_poses``).
        detect_every: With some but fewer than ``max_tracks`` people tracked, the detector
            runs at most once per this many frames (with none tracked: on every frame; with
            ``max_tracks`` tracked: never).
        max_lost_us: How long a lost track keeps its id for a person who comes back.
        clock: The stream's clock.
        tracks: Tracked and lost tracks, by id.
        next_id: The id the next new track gets.
        detector_runs: How many times the person detector has run on this stream.
        frames_since_detection: Frames since the detector last ran.
        confirm_hits: A new person is reported (and numbered) from this many frames on;
            until then their track is tentative (see :meth:`confirm`).
    """

    max_tracks: int = 1
    detect_every: int = 15
    max_lost_us: int = 1_000_000
    clock: StreamClock = field(default_factory=StreamClock)
    tracks: list[Track] = field(default_factory=list)
    next_id: int = 1
    detector_runs: int = 0
    frames_since_detection: int = 0
    confirm_hits: int = 1
    _shared_filters: PoseFilters = field(default_factory=PoseFilters)

    def tracked(self) -> list[Track]:
        """The tracks whose person was found on the last frame, by id."""
        return [t for t in self.tracks if t.status is TrackStatus.TRACKED]

    def begin_frame(self, t_us: int) -> None:
        """Start a frame at ``t_us``: forget tracks lost for longer than ``max_lost_us``."""
        self.frames_since_detection += 1
        self.tracks = [
            t
            for t in self.tracks
            if t.status is TrackStatus.TRACKED or t_us - t.last_seen_us <= self.max_lost_us
        ]

    def wants_detection(self) -> bool:
        """Whether the detector should run on this frame (see ``detect_every``)."""
        tracked = len(self.tracked())
        if tracked == 0:
            return True
        if tracked >= self.max_tracks:
            return False
        return self.frames_since_detection >= self.detect_every

    def note_detection(self) -> None:
        """Count a detector run."""
        self.detector_runs += 1
        self.frames_since_detection = 0

    def free_slots(self) -> int:
        """How many more people may start tracks on this frame."""
        return max(self.max_tracks - len(self.tracked()), 0)

    def claimed(self, rois: list[Roi]) -> list[bool]:
        """Per detection ROI, whether it shows a person already tracked (the tracked ROI wins).

        A tracked ROI claims a detection whose centre (the detected hip centre) lies within
        :data:`CLAIM_DISTANCE` × its side from its centre (the tracked person's smoothed
        hip centre) and whose side is within :data:`CLAIM_SIZE_RATIO` of its own, but only
        when that detection is the only one it could claim: one person is one detection,
        and two near one tracked person are two people crossing (one coming out from
        behind the other), for the landmark model and the pose-level duplicate test to
        tell apart. A person beside or behind a tracked one at another size is not claimed.
        """
        out = [False] * len(rois)
        for track in self.tracked():
            if track.roi is None:
                continue
            (cx, cy), side = track.roi.center_px, track.roi.size_px[0]
            near = [
                i
                for i, roi in enumerate(rois)
                if math.hypot(roi.center_px[0] - cx, roi.center_px[1] - cy) < CLAIM_DISTANCE * side
                and side > 0
                and 1.0 / CLAIM_SIZE_RATIO < roi.size_px[0] / side < CLAIM_SIZE_RATIO
            ]
            if len(near) == 1:
                out[near[0]] = True
        return out

    def probe_rois(self, t_us: int) -> list[tuple[Track, Roi]]:
        """Where to look for lost people on this frame (several-people mode only).

        Each lost track's last ROI moved on by its velocity: a person who was hidden or
        missed by the landmark model is found again there without the detector. With
        ``max_tracks=1`` there is none (MediaPipe's graph runs the detector instead).
        """
        if self.max_tracks == 1:
            return []
        probes = []
        for track in self.tracks:
            if track.status is TrackStatus.LOST and track.last_roi is not None:
                dt = min(max(t_us - track.last_seen_us, 0), self.max_lost_us) * 1e-6
                (cx, cy), roi = track.last_roi.center_px, track.last_roi
                dx, dy = (track.velocity_px_s * dt).tolist()
                probes.append((track, Roi((cx + dx, cy + dy), roi.size_px, roi.angle_rad)))
        return probes

    def associate(
        self,
        t_us: int,
        tracked_poses: list[NDArray[np.floating] | None],
        probe_poses: list[NDArray[np.floating] | None],
        detected_poses: list[NDArray[np.floating] | None],
    ) -> list[Association]:
        """Decide which pose is whose on this frame.

        Args:
            t_us: The frame's stream time.
            tracked_poses: Per :meth:`tracked` track (same order), the (≥33, 5) raw image
                landmarks its ROI produced, or None when the presence gate failed.
            probe_poses: The same per :meth:`probe_rois` ROI (same order).
            detected_poses: The same for the detector's new ROIs, best detection first.

        Returns:
            The tracks reported on this frame, sorted by id, each with the index of its
            observation in ``[*tracked_poses, *probe_poses, *detected_poses]``. Tracked
            tracks not among them are now lost (:meth:`Track.lose` was called).
        """
        tracks = self.tracked()
        probed = [track for track, _ in self.probe_rois(t_us)]
        owners: list[Track | None] = [*tracks, *probed]
        observed = [*tracked_poses, *probe_poses, *detected_poses]
        owners += [None] * len(detected_poses)
        points = [None if p is None else pose_points(p) for p in observed]
        kept, rivals = self._drop_duplicates(t_us, tracks, owners, points)
        contested = self._settle_contests(t_us, kept, rivals, owners, points)
        kept = [contested.get(i, i) for i in kept]
        from_rois = [i for i in kept if owners[i] is not None]
        from_detector = [i for i in kept if owners[i] is None]
        # Identities, on keypoints: first the poses of the tracks' own ROIs to the tracked
        # tracks (a tracked person keeps their pose), then what is left to the probed lost ones.
        result: list[Association] = []
        # One person: MediaPipe's graph keeps the track whatever its ROI shows.
        gate = MIN_TRACK_SIMILARITY if self.max_tracks > 1 else 0.0
        left = from_rois
        free = self.free_slots()
        seen_twice: set[int] = set()
        for group in (tracks, probed):
            if not left or not group:
                continue
            sims = np.array([[self._fit(points[i], track, t_us) for track in group] for i in left])
            seen_twice |= self._keep_contests_apart(
                sims,
                left=left,
                group=group,
                owners=owners,
                contested=contested,
                rivals=rivals,
                points=points,
                t_us=t_us,
            )
            column = {id(track): col for col, track in enumerate(group)}
            standing = [column.get(id(owners[i])) for i in left]
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
        taken = {a.index for a in result}
        reported = {id(a.track) for a in result}
        for track in tracks:
            if id(track) not in reported:
                track.lose()
        # A tentative track that fails is forgotten (it never had an id).
        self.tracks = [t for t in self.tracks if t.track_id or t.status is TrackStatus.TRACKED]
        for association in result:
            association.track.status = TrackStatus.TRACKED
        result = [self._reidentify(a, points, t_us) for a in result]
        # A pose no track claims is a newcomer, as are the detector's.
        newcomers = [i for i in from_rois if i not in taken | seen_twice] + from_detector
        result += self._admit(t_us, newcomers, points, [points[a.index] for a in result])
        return sorted(result, key=lambda a: a.track.track_id)

    def _drop_duplicates(
        self,
        t_us: int,
        tracks: list[Track],
        owners: list[Track | None],
        points: list[NDArray[np.float64] | None],
    ) -> tuple[list[int], dict[int, list[Track]]]:
        """The poses kept after the duplicate test, and per kept pose the tracks it beat.

        Order: tracked ROIs first (the pose that fits its own track best first), then the
        probes of lost tracks, then detections by score; the first of two is kept.
        """
        fit = [self._fit(points[i], tracks[i], t_us) for i in range(len(tracks))]
        order = sorted(range(len(tracks)), key=lambda i: (-fit[i], tracks[i].track_id))
        order += range(len(tracks), len(points))
        order = [i for i in order if points[i] is not None]

        def one_body(k: int, j: int) -> bool:
            return self._one_body(order[k], order[j], owners, points, t_us)

        same = duplicate_of([points[i] for i in order], one_body)  # type: ignore[misc]
        kept = [order[k] for k, first in enumerate(same) if first == k]
        rivals: dict[int, list[Track]] = {}  # a kept pose -> the tracks whose crop repeated it
        for k, first in enumerate(same):
            owner = owners[order[k]]
            if first != k and owner is not None:
                rivals.setdefault(order[first], []).append(owner)
        return kept, rivals

    def _one_body(
        self,
        k: int,
        i: int,
        owners: list[Track | None],
        points: list[NDArray[np.float64] | None],
        t_us: int,
    ) -> bool:
        """Whether observations ``k`` (kept) and ``i`` are one body seen by two crops.

        They are when :func:`~hifipose.association.is_same_person` says so, and (several
        people) when their torsos coincide (:func:`~hifipose.association.shares_torso`)
        unless both come from tracks' crops and each pose fits its own track better than
        the other track by :data:`CLEAR_MARGIN`: one person partly hidden behind another
        still gives their own pose, while a crop that slid onto someone else's body gives
        a pose of that body, or a blend that fits neither track clearly.
        """
        a, b = points[k], points[i]
        if a is None or b is None:
            return False
        if is_same_person(a, b):
            return True
        if self.max_tracks == 1 or not shares_torso(a, b):
            return False
        own_a, own_b = owners[k], owners[i]
        if own_a is None or own_b is None:
            return True  # a detection on a tracked body is that body

        def lead(pose: NDArray[np.float64], own: Track, other: Track) -> float:
            return self._fit(pose, own, t_us, widen=False) - self._fit(
                pose, other, t_us, widen=False
            )

        return not (lead(a, own_a, own_b) >= CLEAR_MARGIN and lead(b, own_b, own_a) >= CLEAR_MARGIN)

    def _keep_contests_apart(
        self,
        sims: NDArray[np.float64],
        *,
        left: list[int],
        group: list[Track],
        owners: list[Track | None],
        contested: dict[int, int],
        rivals: dict[int, list[Track]],
        points: list[NDArray[np.float64] | None],
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
            id(owners[i]): fits[row, group.index(o)]
            for row, i in enumerate(left)
            if (o := owners[i]) in group
        }
        for row, i in enumerate(left):
            own = owners[i]
            if own is None or own not in group:
                continue
            if i in contested.values():
                sims[row] = np.where(np.arange(len(group)) == group.index(own), sims[row], -1.0)
            elif self._lost_rival_fits_better(points[i], own, rivals.get(i, []), t_us):
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

    def _settle_contests(
        self,
        t_us: int,
        kept: list[int],
        rivals: dict[int, list[Track]],
        owners: list[Track | None],
        points: list[NDArray[np.float64] | None],
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
        if self.max_tracks == 1:
            return out
        tracked = self.tracked()
        for i in kept:
            owner, pose = owners[i], points[i]
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
            fits = [self._fit(pose, t, t_us) for t in contenders]
            best = contenders[int(np.argmax(fits))]
            if max(fits) < self._fit(pose, oldest, t_us) + CLEAR_MARGIN:
                best = oldest
            out[i] = tracked.index(best)
        return out

    def _lost_rival_fits_better(
        self, pose: NDArray[np.float64] | None, own: Track, rivals: list[Track], t_us: int
    ) -> bool:
        """Whether a lost person whose probe found the same body fits ``pose`` better than ``own``.

        Then the tracked crop does not keep the body: a person who walked in front of a
        hidden one does not take over the hidden one's id, nor the other way round.
        """
        own_fit = self._fit(pose, own, t_us)
        return any(
            r.status is TrackStatus.LOST
            and self._fit(pose, r, t_us, widen=False) >= own_fit + CLEAR_MARGIN
            for r in rivals
        )

    def _reidentify(
        self, association: Association, points: list[NDArray[np.float64] | None], t_us: int
    ) -> Association:
        """A young track whose pose now clearly is a lost person's becomes that person.

        Young: tentative, or seen on fewer than :data:`YOUNG_HITS` frames and started after
        that person was lost. Its own id is retired (ids are never reused).
        """
        pose, young = points[association.index], association.track
        if pose is None or (young.track_id and young.hits >= YOUNG_HITS):
            return association
        for track in self.tracks:
            if (
                track.status is TrackStatus.LOST
                and (not young.track_id or track.last_seen_us <= young.first_seen_us)
                and self._is_them(pose, track, t_us)
            ):
                self.tracks.remove(young)
                track.status = TrackStatus.TRACKED
                return Association(track, association.index)
        return association

    def _is_them(self, pose: NDArray[np.float64], track: Track, t_us: int) -> bool:
        """The re-identification test: a strong likeness, limb proportions included."""
        return self._fit(pose, track, t_us) >= MIN_REID_SIMILARITY and (
            track.bones is None or bones_agree(bone_lengths(pose), track.bones)
        )

    def confirm(self, track: Track) -> None:
        """Give ``track`` its id once it has been seen on ``confirm_hits`` frames.

        Call it after :meth:`Track.observe`. Until then the track is tentative
        (``track_id`` 0): it is followed but not reported, and it becomes a lost person
        again if its pose turns out to be theirs.
        """
        if not track.track_id and track.hits >= self.confirm_hits:
            track.track_id = self.next_id
            self.next_id += 1

    def _fit(
        self, pose: NDArray[np.float64] | None, track: Track, t_us: int, *, widen: bool = True
    ) -> float:
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

    def _admit(
        self,
        t_us: int,
        newcomers: list[int],
        points: list[NDArray[np.float64] | None],
        reported: list[NDArray[np.float64] | None],
    ) -> list[Association]:
        """Give newcomers a lost track's id when they match it, else a new id (up to capacity).

        A newcomer whose landmark box overlaps a pose already reported on this frame by
        more than :data:`MAX_NEWBORN_IOU` starts no track: overlapping people are told
        apart by the tracks they already have (a hidden person comes back through their
        lost track), and a pose half on two people is not a person.
        """
        result: list[Association] = []
        lost = [t for t in self.tracks if t.status is TrackStatus.LOST and t.last_pose is not None]
        free = self.free_slots()
        if newcomers and lost:
            scales = [(1.0 + (t_us - t.last_seen_us) * 1e-6) ** 2 for t in lost]
            sims = similarity_matrix(
                [points[i] for i in newcomers],  # type: ignore[misc]
                [t.predict(t_us) for t in lost],  # type: ignore[misc]
                area_scales=scales,
            )
            matched: set[int] = set()
            for row, col in assign(sims, min_similarity=MIN_REID_SIMILARITY):
                track, pose = lost[col], points[newcomers[row]]
                if free == 0 or pose is None or not self._is_them(pose, track, t_us):
                    continue
                track.status = TrackStatus.TRACKED
                result.append(Association(track, newcomers[row]))
                matched.add(newcomers[row])
                free -= 1
            newcomers = [i for i in newcomers if i not in matched]
        for index in newcomers:
            if free == 0:
                break
            pose = points[index]
            if pose is None or any(
                other is not None and box_iou(pose, other) > MAX_NEWBORN_IOU
                for other in [*reported, *(points[a.index] for a in result)]
            ):
                continue
            track = self._new_track()
            result.append(Association(track, index))
            free -= 1
        return result

    def _new_track(self) -> Track:
        # One person at a time is MediaPipe's graph: one filter set for the whole stream,
        # whose world and visibility filters outlive a loss whoever comes back.
        filters = self._shared_filters if self.max_tracks == 1 else PoseFilters()
        track = Track(track_id=0, filters=filters)
        self.tracks.append(track)
        return track

    def reset(self) -> None:
        """Forget every track, the filters and the clock; ids restart at 1.

        ``detector_runs`` is kept.
        """
        self.tracks = []
        self.next_id = 1
        self.frames_since_detection = 0
        self._shared_filters.reset()
        self.clock.reset()
