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

This module holds the tracker's lifecycle (frames, detector cadence, claims, probes, ids);
each step lives in :mod:`hifipose.tracking` (clock, filter bank, track record, similarity
tests, crossing rules, identity assignment) and is re-exported here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from numpy.typing import NDArray

from hifipose.blazepose.roi import Roi
from hifipose.tracking.clock import DEFAULT_FRAME_INTERVAL_US, StreamClock
from hifipose.tracking.identity import (
    CONTESTED_DISTANCE,
    CROWDED_DISTANCE,
    MAX_NEWBORN_IOU,
    MIN_TRACK_SIMILARITY,
    YOUNG_HITS,
    IdentityAssignment,
)
from hifipose.tracking.pose_filters import (
    AUX_END,
    AUX_START,
    MASK_BLEND_SUPERSAMPLING,
    MIN_OBJECT_SCALE,
    VISIBILITY_ALPHA,
    PoseFilters,
    object_scale,
    roi_from_aux,
)
from hifipose.tracking.similarity import CLEAR_MARGIN, MIN_REID_SIMILARITY
from hifipose.tracking.track import (
    MAX_PREDICT_S,
    VELOCITY_ALPHA,
    Association,
    Track,
    TrackStatus,
    pose_points,
)

__all__ = [
    "AUX_END",
    "AUX_START",
    "CLAIM_DISTANCE",
    "CLAIM_SIZE_RATIO",
    "CLEAR_MARGIN",
    "CONTESTED_DISTANCE",
    "CROWDED_DISTANCE",
    "DEFAULT_FRAME_INTERVAL_US",
    "MASK_BLEND_SUPERSAMPLING",
    "MAX_DETECT_BACKOFF",
    "MAX_NEWBORN_IOU",
    "MAX_PREDICT_S",
    "MIN_OBJECT_SCALE",
    "MIN_REID_SIMILARITY",
    "MIN_TRACK_SIMILARITY",
    "TILES_EVERY",
    "VELOCITY_ALPHA",
    "VISIBILITY_ALPHA",
    "YOUNG_HITS",
    "Association",
    "MultiTracker",
    "PoseFilters",
    "StreamClock",
    "Track",
    "TrackStatus",
    "object_scale",
    "pose_points",
    "roi_from_aux",
]

#: A detection is a tracked person's when its centre is this close (× the tracked ROI side)...
CLAIM_DISTANCE: Final = 0.15
#: ... and its ROI side is within this factor of the tracked one.
CLAIM_SIZE_RATIO: Final = 1.4
#: With ``detect_every`` left to its default: while the detector finds no one new and nobody
#: is lost, its runs (some but not all people tracked) get twice as far apart each time, up
#: to this many times ``detect_every``, so that one person in view with ``num_poses=3`` costs
#: about what ``num_poses=1`` does, automatic tiles included.
MAX_DETECT_BACKOFF: Final = 8
#: With someone tracked, the detector's automatic tiles (``detector_tiles=None``) run at
#: most once per this many times ``detect_every`` frames (with no one tracked: on every
#: detector run).
TILES_EVERY: Final = 8


@dataclass
class MultiTracker:
    """Everything one stream remembers between frames: its tracks, clock and detector cadence.

    Per frame (video mode): :meth:`begin_frame`; the ROIs of :meth:`tracked` tracks and, when
    :meth:`wants_detection`, detector ROIs that :meth:`is_tracked_person` does not claim go
    through the landmark model; :meth:`associate` decides which pose is whose; the caller
    smooths each with its track's filters, calls :meth:`Track.observe`, then
    :meth:`end_frame`.

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
        max_backoff: The detector's runs back off up to this many times ``detect_every``
            (1: never; the pipeline passes :data:`MAX_DETECT_BACKOFF` when ``detect_every``
            is left to its default).
        detect_interval: The frames the detector now waits between runs (``detect_every``,
            doubled after each run that changed nothing, at most ``max_backoff`` ×
            ``detect_every``; back to ``detect_every`` when someone is found or lost).
        frames_since_tiles: Frames since the detector last ran on its tiles.
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
    max_backoff: int = 1
    detect_interval: int = 0
    frames_since_tiles: float = math.inf
    _shared_filters: PoseFilters = field(default_factory=PoseFilters)
    _tracked_at_start: tuple[int, ...] = ()
    _detected: bool = False

    def __post_init__(self) -> None:
        self.detect_interval = self.detect_every

    def tracked(self) -> list[Track]:
        """The tracks whose person was found on the last frame, by id."""
        return [t for t in self.tracks if t.status is TrackStatus.TRACKED]

    def begin_frame(self, t_us: int) -> None:
        """Start a frame at ``t_us``: forget tracks lost for longer than ``max_lost_us``."""
        self.frames_since_detection += 1
        self.frames_since_tiles += 1
        self._detected = False
        self.tracks = [
            t
            for t in self.tracks
            if t.status is TrackStatus.TRACKED or t_us - t.last_seen_us <= self.max_lost_us
        ]
        self._tracked_at_start = tuple(id(t) for t in self.tracked())

    def wants_detection(self) -> bool:
        """Whether the detector should run on this frame (see ``detect_every``)."""
        tracked = len(self.tracked())
        if tracked == 0:
            return True
        if tracked >= self.max_tracks:
            return False
        return self.frames_since_detection >= self.detect_interval

    def wants_tiles(self) -> bool:
        """Whether this frame's detector run also covers the tiles (see :data:`TILES_EVERY`)."""
        if not self.tracked():
            return True
        return self.frames_since_tiles >= TILES_EVERY * self.detect_every

    def note_detection(self, *, tiles: bool = False) -> None:
        """Count a detector run (``tiles``: it covered the tiles too)."""
        self.detector_runs += 1
        self.frames_since_detection = 0
        self._detected = True
        if tiles:
            self.frames_since_tiles = 0

    def end_frame(self) -> None:
        """End the frame (after :meth:`associate`): back off the detector cadence.

        While no one is found or lost, each detector run doubles the wait before the next;
        a frame where someone was found or lost starts it over at ``detect_every``.
        """
        if tuple(id(t) for t in self.tracked()) != self._tracked_at_start:
            self.detect_interval = self.detect_every
        elif self._detected:
            self.detect_interval = min(
                2 * self.detect_interval, self.max_backoff * self.detect_every
            )

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
        for near in self._near_each_tracked(rois):
            if len(near) == 1:
                out[near[0]] = True
        return out

    def near_tracked(self, rois: list[Roi]) -> list[bool]:
        """Per detection ROI, whether it lies where a tracked person is, claimed or not.

        "Where" as :meth:`claimed` measures it. The detector gives its free slots to the other
        detections first, so two near one tracked person never crowd out someone new.
        """
        out = [False] * len(rois)
        for near in self._near_each_tracked(rois):
            for i in near:
                out[i] = True
        return out

    def _near_each_tracked(self, rois: list[Roi]) -> list[list[int]]:
        groups = []
        for track in self.tracked():
            if track.roi is None:
                continue
            (cx, cy), side = track.roi.center_px, track.roi.size_px[0]
            groups.append(
                [
                    i
                    for i, roi in enumerate(rois)
                    if math.hypot(roi.center_px[0] - cx, roi.center_px[1] - cy)
                    < CLAIM_DISTANCE * side
                    and side > 0
                    and 1.0 / CLAIM_SIZE_RATIO < roi.size_px[0] / side < CLAIM_SIZE_RATIO
                ]
            )
        return groups

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
        return IdentityAssignment(self.max_tracks, self).associate(
            t_us, tracked_poses, probe_poses, detected_poses
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

    def new_track(self) -> Track:
        """Start a tentative track (id 0) and add it to ``tracks``."""
        # One person at a time is MediaPipe's graph: one filter set for the whole stream,
        # whose world and visibility filters outlive a loss whoever comes back.
        several = self.max_tracks > 1
        filters = PoseFilters() if several else self._shared_filters
        track = Track(track_id=0, filters=filters, torso_motion=several)
        self.tracks.append(track)
        return track

    def reset(self) -> None:
        """Forget every track, the filters and the clock; ids restart at 1.

        ``detector_runs`` is kept.
        """
        self.tracks = []
        self.next_id = 1
        self.frames_since_detection = 0
        self.frames_since_tiles = math.inf
        self.detect_interval = self.detect_every
        self._shared_filters.reset()
        self.clock.reset()
