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
    duplicate_of,
    is_same_person,
    similarity,
    torso_distance,
)
from hifipose.blazepose.roi import Roi
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


def test_similarity_is_cocos_oks_with_the_pairs_larger_box_as_area() -> None:
    pose = _person()
    pose[1:, 2] = 0.0  # only the nose is seen: its COCO sigma 0.026 alone decides
    moved = pose.copy()
    moved[:, 0] += 20.0
    x0, y0 = pose[:, :2].min(axis=0)
    x1, y1 = pose[:, :2].max(axis=0)
    area = (x1 - x0) * (y1 - y0)
    expected = np.exp(-(20.0**2) / (2.0 * area * (2.0 * 0.026) ** 2))
    assert similarity(pose, moved, allow_flip=False) == pytest.approx(expected)


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


def test_duplicate_of_names_the_kept_pose_each_duplicate_repeats() -> None:
    pose = _person()
    beside = _person(x0=300.0 + 0.45 * 400.0)
    assert duplicate_of([pose, beside, pose.copy(), beside.copy()]) == [0, 1, 0, 1]


def test_torso_distance_is_in_torso_lengths_of_the_second_pose() -> None:
    pose = _person()  # torso: shoulders at 0.2, hips at 0.5 of 400 px: 120 px
    moved = pose.copy()
    moved[:, 0] += 60.0
    assert torso_distance(moved, pose) == pytest.approx(0.5)
    assert torso_distance(pose, pose) == 0.0


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


def _arms_up(x0: float) -> np.ndarray:
    """The :func:`_person` figure with both arms raised: another person's shape."""
    pose = _person(x0)
    pose[13:23, 1] -= 150.0
    return pose


def _roi(points: np.ndarray) -> Roi:
    """A square ROI around the figure's hips."""
    hips = points[[23, 24], :2].mean(axis=0)
    return Roi((float(hips[0]), float(hips[1])), (400.0, 400.0), 0.0)


def _step(
    tracker: MultiTracker, t_us: int, tracked: list[np.ndarray | None], probes: list[np.ndarray]
) -> list[tuple[int, int, bool]]:
    """One frame with the given crops' poses; returns (id, observation index, contested)."""
    tracker.begin_frame(t_us)
    observed = [None if p is None else _landmarks(p) for p in tracked]
    probed = [_landmarks(p) for p in probes]
    assert len(probed) == len(tracker.probe_rois(t_us))
    result = tracker.associate(t_us, observed, probed, [])
    for association in result:
        points = [*observed, *probed][association.index]
        assert points is not None
        association.track.observe(points, t_us, learn=not association.contested)
        association.track.roi = _roi(points)
    return [(a.track.track_id, a.index, a.contested) for a in result]


def _crossing() -> MultiTracker:
    """Person 1 (arms down) walking right, person 2 (arms up) walking left, 500 px/s each."""
    tracker = MultiTracker(max_tracks=3, detect_every=100, confirm_hits=1)
    tracker.begin_frame(0)
    result = tracker.associate(0, [], [], [_landmarks(_person(300.0)), _landmarks(_arms_up(500.0))])
    for association in result:
        association.track.observe(
            _landmarks(_person(300.0) if association.index == 0 else _arms_up(500.0)), 0
        )
        association.track.roi = _roi(association.track.last_pose)  # type: ignore[arg-type]
        tracker.confirm(association.track)
    assert [a.track.track_id for a in result] == [1, 2]
    assert _step(tracker, 100_000, [_person(350.0), _arms_up(450.0)], []) == [
        (1, 0, False),
        (2, 1, False),
    ]
    return tracker


def test_two_crops_on_one_body_where_both_were_expected_keep_the_older_id_and_learn_nothing() -> (
    None
):
    tracker = _crossing()
    one, two = tracker.tracks
    before = one.last_pose.copy(), one.velocity_px_s.copy()  # type: ignore[union-attr]
    # Both are expected at x = 400 now; both crops find person 2's body (a blend, say).
    body = _arms_up(400.0)
    assert _step(tracker, 200_000, [body, body.copy()], []) == [(1, 0, True)]
    assert two.status is TrackStatus.LOST
    np.testing.assert_array_equal(one.last_pose, before[0])  # nothing learnt from the blend
    np.testing.assert_array_equal(one.velocity_px_s, before[1])
    # Next frame the body, walking on left, fits person 2's path and shape: it is theirs.
    body = _arms_up(350.0)
    assert _step(tracker, 300_000, [body], [body.copy()]) == [(2, 0, False)]
    assert one.status is TrackStatus.LOST


def test_a_body_far_from_the_other_persons_path_goes_by_keypoints() -> None:
    tracker = _crossing()
    # Person 2's body where only person 2 was expected (person 1 stopped short): not a
    # crossing, so the keypoints decide and person 2 keeps it.
    tracker.tracks[0].velocity_px_s[:] = (-500.0, 0.0)
    body = _arms_up(400.0)
    assert _step(tracker, 200_000, [body, body.copy()], []) == [(2, 1, False)]
