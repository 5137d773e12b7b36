"""The pure who-is-who rules: similarity, duplicates, assignment, bones; and MultiTracker ids."""

from __future__ import annotations

import numpy as np
import pytest

from hifipose.association import (
    FLIP_PERMUTATION,
    assign,
    bone_lengths,
    bones_agree,
    dedup,
    is_same_person,
    similarity,
)
from hifipose.tracker import MultiTracker, TrackStatus


def _person(x0: float = 300.0, y0: float = 100.0, height: float = 400.0) -> np.ndarray:
    """A standing figure (33 × x, y, visibility) with left and right apart, all seen."""
    rng = np.random.default_rng(0)
    pose = np.zeros((33, 3))
    pose[:, 0] = x0 + rng.uniform(-0.25, 0.25, 33) * height
    pose[:, 1] = y0 + np.linspace(0.0, 1.0, 33) * height
    pose[[11, 12, 23, 24], 0] = x0 + np.array([-0.1, 0.1, -0.07, 0.07]) * height
    pose[[11, 12, 23, 24], 1] = y0 + np.array([0.2, 0.2, 0.5, 0.5]) * height
    pose[:, 2] = 1.0
    return pose


def _landmarks(points: np.ndarray) -> np.ndarray:
    """(33, 5) image landmarks (x, y, z, visibility, presence) from (33, 3) points."""
    out = np.zeros((35, 5), np.float32)
    out[:33, [0, 1, 3]] = points
    out[:, 4] = 1.0
    return out


def test_similarity_is_one_for_the_same_pose_and_falls_with_distance() -> None:
    pose = _person()
    assert similarity(pose, pose) == pytest.approx(1.0)
    moved = pose.copy()
    moved[:, 0] += 20.0
    far = pose.copy()
    far[:, 0] += 400.0
    assert 0.0 < similarity(pose, far) < similarity(pose, moved) < 1.0


def test_similarity_allows_a_left_right_flip_at_a_penalty() -> None:
    pose = _person()
    flipped = pose[FLIP_PERMUTATION]
    assert similarity(flipped, pose, allow_flip=False) < 0.5
    assert similarity(flipped, pose) == pytest.approx(0.9)


def test_unseen_points_do_not_count() -> None:
    pose = _person()
    other = pose.copy()
    other[:20, :2] += 500.0
    other[:20, 2] = 0.0  # the moved points are not seen
    assert similarity(pose, other) == pytest.approx(1.0)


def test_two_copies_of_one_body_are_one_person_two_people_side_by_side_are_not() -> None:
    pose = _person()
    jitter = pose.copy()
    jitter[:, :2] += np.random.default_rng(1).normal(0.0, 2.0, (33, 2))
    beside = _person(x0=300.0 + 0.45 * 400.0)
    assert is_same_person(pose, jitter)
    assert not is_same_person(pose, beside)
    assert dedup([pose, beside, jitter]) == [0, 1]  # the later duplicate goes


def test_assign_maximises_total_similarity_and_respects_the_gate() -> None:
    sims = np.array([[0.9, 0.8], [0.85, 0.1]])
    assert assign(sims) == [(0, 1), (1, 0)]  # 0.8 + 0.85 beats 0.9 + 0.1
    assert assign(sims, min_similarity=0.82) == [(1, 0)]
    assert assign(np.zeros((0, 2))) == []


def test_bones_agree_on_scale_but_not_on_other_proportions() -> None:
    pose = _person()
    bigger = pose.copy()
    bigger[:, :2] *= 1.5
    long_legs = pose.copy()
    long_legs[25:, 1] += 300.0
    assert bones_agree(bone_lengths(pose), bone_lengths(bigger))
    assert not bones_agree(bone_lengths(pose), bone_lengths(long_legs))


def _frame(tracker: MultiTracker, t_us: int, people: list[np.ndarray]) -> list[int]:
    """One frame where the detector finds ``people`` (tracked ROIs see the tracked ones)."""
    tracker.begin_frame(t_us)
    tracked = tracker.tracked()
    probes = tracker.probe_rois(t_us)

    def seen(points: np.ndarray | None) -> np.ndarray | None:
        return None if points is None else _landmarks(points)

    def nearest(track_pose: np.ndarray | None) -> np.ndarray | None:
        if track_pose is None:
            return None
        for person in people:
            if similarity(person, track_pose) > 0.5:
                return person
        return None

    tracked_obs = [seen(nearest(t.last_pose)) for t in tracked]
    probe_obs = [seen(nearest(t.last_pose)) for t, _ in probes]
    detected = [_landmarks(p) for p in people] if tracker.wants_detection() else []
    if detected:
        tracker.note_detection()
    out = []
    for association in tracker.associate(t_us, tracked_obs, probe_obs, detected):
        points = [*tracked_obs, *probe_obs, *detected][association.index]
        assert points is not None
        association.track.observe(points, t_us)
        association.track.roi = association.track.last_roi
        tracker.confirm(association.track)
        if association.track.track_id:
            out.append(association.track.track_id)
    return sorted(out)


def test_ids_are_kept_given_back_within_max_lost_and_new_after_it() -> None:
    tracker = MultiTracker(max_tracks=2, detect_every=1, max_lost_us=1_000_000, confirm_hits=1)
    a, b = _person(200.0), _person(700.0)
    frame_us = 100_000
    assert _frame(tracker, 0, [a, b]) == [1, 2]
    assert _frame(tracker, frame_us, [a, b]) == [1, 2]
    assert _frame(tracker, 2 * frame_us, [a]) == [1]  # b is hidden
    assert [t.status for t in tracker.tracks] == [TrackStatus.TRACKED, TrackStatus.LOST]
    assert _frame(tracker, 7 * frame_us, [a, b]) == [1, 2]  # back after 0.5 s: same id
    assert _frame(tracker, 8 * frame_us, [a]) == [1]
    assert _frame(tracker, 30 * frame_us, [a, b]) == [1, 3]  # back after 2.2 s: a new id
    tracker.reset()
    assert _frame(tracker, 0, [b]) == [1]  # ids restart after reset()


def test_a_tentative_person_is_reported_from_the_second_frame() -> None:
    tracker = MultiTracker(max_tracks=3, detect_every=1, confirm_hits=2)
    a = _person()
    assert _frame(tracker, 0, [a]) == []
    assert _frame(tracker, 100_000, [a]) == [1]


def test_one_track_means_the_detector_runs_only_when_no_one_is_tracked() -> None:
    tracker = MultiTracker(max_tracks=1, detect_every=1)
    assert tracker.wants_detection()
    _frame(tracker, 0, [_person()])
    assert not tracker.wants_detection()
    assert tracker.probe_rois(100_000) == []  # MediaPipe's graph never probes


def test_several_tracks_detect_every_n_frames_and_never_when_full() -> None:
    tracker = MultiTracker(max_tracks=2, detect_every=3, confirm_hits=1)
    _frame(tracker, 0, [_person(200.0)])
    runs = []
    for k in range(1, 7):
        tracker.begin_frame(k * 100_000)
        runs.append(tracker.wants_detection())
        if runs[-1]:
            tracker.note_detection()
    assert runs == [False, False, True, False, False, True]
    for k in range(7, 12):  # the next detector run (within 3 frames) finds the second person
        _frame(tracker, k * 100_000, [_person(200.0), _person(700.0)])
    assert len(tracker.tracked()) == 2
    assert not any(tracker.wants_detection() for _ in range(5))
