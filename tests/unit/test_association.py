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
from hifipose.tracker import CLEAR_MARGIN, MIN_TRACK_SIMILARITY, MultiTracker, TrackStatus
from hifipose.tracking.similarity import fit


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


def _arms_half_up(x0: float) -> np.ndarray:
    """Halfway between :func:`_person` and :func:`_arms_up`: a blend that fits both alike."""
    pose = _person(x0)
    pose[13:23, 1] -= 75.0
    return pose


def test_two_crops_on_one_body_where_both_were_expected_keep_the_older_id_and_learn_nothing() -> (
    None
):
    tracker = _crossing()
    one, two = tracker.tracks
    before = one.last_pose.copy(), one.velocity_px_s.copy()  # type: ignore[union-attr]
    # Both are expected at x = 400 now; both crops find a blend that fits both alike.
    body = _arms_half_up(400.0)
    fits = [fit(body, t, 200_000) for t in (one, two)]
    assert abs(fits[0] - fits[1]) < 0.01  # within noise: the standing rule decides
    assert _step(tracker, 200_000, [body, body.copy()], []) == [(1, 0, True)]
    assert two.status is TrackStatus.LOST
    np.testing.assert_array_equal(one.last_pose, before[0])  # nothing learnt from the blend
    np.testing.assert_array_equal(one.velocity_px_s, before[1])
    # Next frame the body, walking on left, fits person 2's path and shape: it is theirs.
    body = _arms_up(350.0)
    assert _step(tracker, 300_000, [body], [body.copy()]) == [(2, 0, False)]
    assert one.status is TrackStatus.LOST


def test_a_contested_body_that_clearly_fits_the_younger_track_is_theirs() -> None:
    tracker = _crossing()
    # Both crops find person 2's own body (arms up) where both were expected: person 2's
    # similarity leads by far more than CLEAR_MARGIN, so person 2 keeps it, from their crop.
    body = _arms_up(400.0)
    fits = [fit(body, t, 200_000) for t in tracker.tracks]
    assert fits[1] - fits[0] > 2 * CLEAR_MARGIN
    assert _step(tracker, 200_000, [body, body.copy()], []) == [(2, 1, True)]
    assert tracker.tracks[0].status is TrackStatus.LOST


def test_a_contest_goes_to_the_better_fit_only_past_the_margin() -> None:
    # Blends from the arms-down figure (t = 0) to the arms-up one (t = 1): person 2's lead
    # grows with t; the body changes hands from the older id exactly past CLEAR_MARGIN.
    winners = []
    leads = []
    for t in np.linspace(0.3, 1.0, 15):
        tracker = _crossing()
        body = (1.0 - t) * _person(400.0) + t * _arms_up(400.0)
        fits = [fit(body, track, 200_000) for track in tracker.tracks]
        leads.append(fits[1] - fits[0])
        winners.append(_step(tracker, 200_000, [body, body.copy()], [])[0][0])
    assert winners == [2 if lead >= CLEAR_MARGIN else 1 for lead in leads]
    assert 1 in winners and 2 in winners  # both sides of the margin were tried


def test_a_body_far_from_the_other_persons_path_goes_by_keypoints() -> None:
    tracker = _crossing()
    # Person 2's body where only person 2 was expected (person 1 stopped short): not a
    # crossing, so the keypoints decide and person 2 keeps it.
    tracker.tracks[0].velocity_px_s[:] = (-500.0, 0.0)
    body = _arms_up(400.0)
    assert _step(tracker, 200_000, [body, body.copy()], []) == [(2, 1, False)]


def test_assign_keeps_standing_pairs_unless_another_leads_by_the_margin() -> None:
    close = np.array([[0.60, 0.65], [0.65, 0.60]])
    assert assign(close) == [(0, 1), (1, 0)]
    assert assign(close, standing=[0, 1], margin=0.1) == [(0, 0), (1, 1)]  # within noise
    assert assign(close, standing=[0, 1], margin=0.04) == [(0, 1), (1, 0)]  # a clear lead
    far = np.array([[0.3, 0.6], [0.6, 0.3]])
    assert assign(far, standing=[0, None], margin=0.1) == [(0, 1), (1, 0)]
    # the gate applies to the similarities, not to the standing pairs' lead
    assert assign(close, min_similarity=0.62, standing=[0, 1], margin=0.1) == []


def _two_tracks(a: np.ndarray, b: np.ndarray) -> MultiTracker:
    """Tracks 1 and 2 on poses ``a`` and ``b`` (found by the detector at t = 0, standing)."""
    tracker = MultiTracker(max_tracks=3, detect_every=100, confirm_hits=1)
    tracker.begin_frame(0)
    for association in tracker.associate(0, [], [], [_landmarks(a), _landmarks(b)]):
        points = a if association.index == 0 else b
        association.track.observe(_landmarks(points), 0)
        association.track.roi = _roi(points)
        tracker.confirm(association.track)
    return tracker


def test_tracks_keep_their_own_crops_poses_when_a_swap_gains_less_than_the_margin() -> None:
    tracker = _two_tracks(_person(300.0), _person(420.0))
    one, two = tracker.tracks
    # Each crop's pose is a little nearer the other track's (but 0.5 torso from the other pose).
    mine, theirs = _person(362.0, 130.0), _person(358.0, 70.0)
    gain = fit(mine, two, 100_000) + fit(theirs, one, 100_000)
    gain -= fit(mine, one, 100_000) + fit(theirs, two, 100_000)
    assert 0.0 < gain < CLEAR_MARGIN
    assert _step(tracker, 100_000, [mine, theirs], []) == [(1, 0, False), (2, 1, False)]
    # Far past the margin the poses change hands.
    tracker = _two_tracks(_person(300.0), _person(420.0))
    assert _step(tracker, 100_000, [_person(420.0), _person(300.0)], []) == [
        (1, 1, False),
        (2, 0, False),
    ]


def test_two_crops_on_one_torso_are_two_people_only_when_each_fits_its_own_track() -> None:
    # Person 1 is expected at x = 375, person 2 at 425 (their velocities are still catching
    # up); the torsos found lie 30 px apart (one person half hidden behind the other).
    tracker = _crossing()
    own = [_person(385.0), _arms_up(415.0)]
    assert _step(tracker, 200_000, own, []) == [(1, 0, False), (2, 1, False)]
    # Person 2's crop slid onto person 1's body: one body, person 1's by a clear lead.
    tracker = _crossing()
    slid = [_person(370.0), _person(395.0)]
    assert _step(tracker, 200_000, slid, [])[0][:2] == (1, 0)
    assert tracker.tracks[1].status is TrackStatus.LOST


def test_a_lost_person_takes_a_body_back_only_on_a_clear_lead() -> None:
    # Person 2 is hidden for a frame; then person 1's crop and person 2's probe find one
    # body, a blend of the two shapes where both paths meet. Person 2 takes it exactly when
    # their (unwidened) similarity leads person 1's by CLEAR_MARGIN.
    outcomes, leads = [], []
    for t in np.linspace(0.2, 0.35, 31):  # person 2's lead from -0.06 to +0.24, in 0.01 steps
        tracker = _crossing()
        one, two = tracker.tracks
        assert _step(tracker, 200_000, [_person(400.0), None], []) == [(1, 0, False)]
        body = (1.0 - t) * _person(425.0) + t * _arms_up(375.0)
        lead = fit(body, two, 300_000, widen=False) - fit(body, one, 300_000)
        leads.append(lead)
        outcomes.append([i for i, _, _ in _step(tracker, 300_000, [body], [body.copy()])])
    assert outcomes == [[2] if lead >= CLEAR_MARGIN else [1] for lead in leads]
    assert [1] in outcomes and [2] in outcomes


def test_a_tracked_roi_claims_one_detection_and_none_of_two_near_it() -> None:
    tracker = _two_tracks(_person(300.0), _person(900.0))
    roi = tracker.tracks[0].roi
    assert roi is not None
    (cx, cy), side = roi.center_px, roi.size_px
    near = Roi((cx + 0.05 * side[0], cy), side, 0.0)
    other = Roi((cx - 0.1 * side[0], cy), side, 0.0)
    far = Roi((cx + 0.3 * side[0], cy), side, 0.0)
    small = Roi((cx, cy), (side[0] / 2, side[1] / 2), 0.0)
    assert tracker.claimed([near, far, small]) == [True, False, False]
    # Two people near one tracked person: someone is coming out from behind them.
    assert tracker.claimed([near, other]) == [False, False]


def test_a_newcomer_with_other_limb_proportions_does_not_take_a_lost_persons_id() -> None:
    tracker = MultiTracker(max_tracks=2, detect_every=1, confirm_hits=1)
    a, b = _person(200.0), _person(700.0)
    assert _frame(tracker, 0, [a, b]) == [1, 2]
    assert _frame(tracker, 100_000, [a]) == [1]  # b is hidden
    longer = b.copy()
    longer[25:, 1] += 120.0  # where b was, legs a third longer: someone else
    assert similarity(longer, b) >= 0.3  # alike enough on keypoints alone
    assert _frame(tracker, 300_000, [a, longer]) == [1, 3]
    tracker = MultiTracker(max_tracks=2, detect_every=1, confirm_hits=1)
    assert _frame(tracker, 0, [a, b]) == [1, 2]
    assert _frame(tracker, 100_000, [a]) == [1]
    assert _frame(tracker, 300_000, [a, b.copy()]) == [1, 2]  # b is back: their id


def test_a_crop_that_slid_onto_another_tracked_persons_body_loses_its_track() -> None:
    # Person 2's crop found a pose 45 px from person 1's (not the same torso), which fits
    # person 1 clearly better than person 2 while person 1's own crop found them: it is a
    # second view of person 1, neither person 2's nor a newcomer.
    tracker = _two_tracks(_person(300.0), _person(440.0))
    one, two = tracker.tracks
    slid = _person(345.0)
    assert fit(slid, one, 100_000) >= fit(slid, two, 100_000) + CLEAR_MARGIN
    assert fit(slid, two, 100_000) > MIN_TRACK_SIMILARITY  # above the gate: the pair held
    assert _step(tracker, 100_000, [_person(300.0), slid], []) == [(1, 0, False)]
    assert two.status is TrackStatus.LOST
    assert len(tracker.tracks) == 2  # no new track on it either
