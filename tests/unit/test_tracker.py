import numpy as np
import pytest

from hifipose.errors import TimestampError
from hifipose.filters import OneEuroFilter
from hifipose.tracker import (
    MAX_DETECT_BACKOFF,
    TILES_EVERY,
    MultiTracker,
    PoseFilters,
    StreamClock,
    Track,
    object_scale,
    roi_from_aux,
)
from hifipose.tracking.pose_filters import AUX_FILTER, DERIVATE_CUTOFF, LANDMARK_FILTER


def test_object_scale_is_twice_the_aux_distance_in_pixels() -> None:
    aux = np.array([[100.0, 200.0, 0, 0, 1], [103.0, 196.0, 0, 0, 1]], np.float32)
    assert object_scale(aux) == pytest.approx(10.0)  # 2 · hypot(3, 4), no 1.25 expansion
    roi = roi_from_aux(aux)
    assert roi.size_px == pytest.approx((12.5, 12.5))  # the next ROI is expanded 1.25×
    assert roi.center_px == pytest.approx((100.0, 200.0))


def test_clock_default_is_mediapipes_33333_us_step() -> None:
    clock = StreamClock()
    assert [clock.tick(None) for _ in range(3)] == [0, 33_333, 66_666]


@pytest.mark.parametrize(
    ("stamps_ms", "expected_us"),
    [
        ([0, 40, 40, 80], [0, 40_000, 80_000, 120_000]),  # duplicate: +last interval, then on
        ([0, 50, 20, 200], [0, 50_000, 100_000, 200_000]),  # backwards jitter repaired
        ([-66.6, -33.3, 0], [-66_600, -33_300, 0]),  # negative but increasing is fine
    ],
)
def test_clock_repairs_non_increasing_timestamps(
    stamps_ms: list[float], expected_us: list[int]
) -> None:
    clock = StreamClock()
    assert [clock.tick(t) for t in stamps_ms] == expected_us


def test_clock_strict_raises_and_keeps_state() -> None:
    clock = StreamClock(strict=True)
    clock.tick(10.0)
    with pytest.raises(TimestampError, match="increase"):
        clock.tick(10.0)
    assert clock.tick(20.0) == 20_000


@pytest.mark.parametrize("bad", [1e306, -1e306, float("nan"), float("inf")])
def test_clock_refuses_timestamps_beyond_64_bit_microseconds(bad: float) -> None:
    clock = StreamClock()
    clock.tick(10.0)
    with pytest.raises(TimestampError):  # not OverflowError / ValueError from round()
        clock.tick(bad)
    assert clock.tick(20.0) == 20_000  # the clock is unharmed


def test_clock_refuses_a_repaired_time_past_the_64_bit_range() -> None:
    clock = StreamClock()
    clock.tick(-9e15)
    clock.tick(9e15)  # a genuine, if absurd, interval of 1.8e19 µs
    with pytest.raises(TimestampError, match="64-bit"):
        clock.tick(None)


def test_filters_reset_rules_on_a_lost_frame() -> None:
    filters = PoseFilters()
    image = np.zeros((35, 5), np.float32)
    image[33:] = [[0, 0, 0, 0, 1], [0, -50, 0, 0, 1]]  # the auxiliary points
    filters.smooth_image(image, 0)
    filters.smooth_world(np.zeros((33, 3), np.float32), 0)
    filters.previous_mask = np.zeros((2, 2), np.float32)
    filters.on_lost()
    moved = image.copy()
    moved[:33, :2] = 100.0
    # the 2D filter was reset: the next sample passes through unsmoothed
    np.testing.assert_allclose(filters.smooth_image(moved, 33_333)[:33, :2], 100.0)
    assert filters.previous_mask is None
    # the world filter kept its state: the next sample is smoothed toward the old value
    assert filters.smooth_world(np.ones((33, 3), np.float32), 33_333).max() < 1.0


@pytest.mark.parametrize("body", [True, False])
def test_image_bank_gives_each_row_what_its_own_bank_gives(body: bool) -> None:
    # The 33 landmarks and the 2 auxiliary points run through one bank with per-row
    # settings: each row's numbers must be those of MediaPipe's separate banks, bit for bit,
    # through moves, a repeated timestamp and a loss (smoothing on; off: the aux rows only).
    rng = np.random.default_rng(7)
    filters = PoseFilters()
    banks = [
        OneEuroFilter(min_cutoff=c, beta=b, derivate_cutoff=DERIVATE_CUTOFF)
        for c, b in (LANDMARK_FILTER, AUX_FILTER)
    ]
    image = (rng.random((35, 5)) * 400).astype(np.float32)
    t_us = 0
    for step in range(30):
        image[:, :3] += rng.normal(0, 8, (35, 3)).astype(np.float32)
        t_us += 0 if step == 9 else int(rng.integers(20_000, 50_000))
        if step == 20:
            filters.on_lost()
            for bank in banks:
                bank.reset()
        out = filters.smooth_image(image, t_us, body=body)
        scale = 1.0 / object_scale(image[33:35])
        aux = banks[1].apply(image[33:, :3], t_us, scale).astype(np.float32)
        np.testing.assert_array_equal(out[33:, :3], aux)
        if body:
            landmarks = banks[0].apply(image[:33, :3], t_us, scale).astype(np.float32)
            np.testing.assert_array_equal(out[:33, :3], landmarks)
        else:
            np.testing.assert_array_equal(out[:33], image[:33])


def test_mask_smoothing_runs_in_the_crop_and_resets_on_a_loss() -> None:
    from hifipose.blazepose.segmentation import CropMask
    from hifipose.filters import smooth_segmentation

    size_wh = (400, 300)
    crop_from_image = np.array([[1.0, 0.0, -50.0], [0.0, 1.0, -20.0], [0.0, 0.0, 1.0]])
    unsure = CropMask(np.full((256, 256), 0.5, np.float32), crop_from_image, size_wh)
    person = CropMask(np.full((256, 256), 0.9, np.float32), crop_from_image, size_wh)
    filters = PoseFilters()
    assert filters.smooth_mask(person) is person  # nothing to blend yet
    blended = filters.smooth_mask(unsure)
    assert blended.probabilities.shape == (512, 512)  # on the finer grid
    # inside the crop: MediaPipe's blend of 0.5 with the previous 0.9
    expected = smooth_segmentation(np.full((1, 1), 0.5, np.float32), np.full((1, 1), 0.9))
    np.testing.assert_allclose(blended.probabilities[100:400, 100:400], expected[0, 0], atol=1e-6)
    np.testing.assert_allclose(blended.to_image()[100:200, 100:250], expected[0, 0], atol=1e-5)
    assert filters.previous_mask is blended
    other_size = CropMask(unsure.probabilities, crop_from_image, (640, 480))
    assert filters.smooth_mask(other_size) is other_size  # another frame size: not blended
    filters.on_lost()
    assert filters.previous_mask is None


def _tracker_with(tracked: int, *, max_tracks: int, detect_every: int) -> MultiTracker:
    tracker = MultiTracker(max_tracks=max_tracks, detect_every=detect_every)
    tracker.tracks = [Track(track_id=i + 1, filters=PoseFilters()) for i in range(tracked)]
    return tracker


def _detection_frames(tracker: MultiTracker, frames: int) -> list[int]:
    """The frames the detector runs on, when every run is counted as the pipeline does."""
    runs = []
    for frame in range(frames):
        tracker.begin_frame(frame * 100_000)
        if tracker.wants_detection():
            tracker.note_detection()
            runs.append(frame)
    return runs


@pytest.mark.parametrize("detect_every", [1, 2, 5, 15])
def test_with_some_people_tracked_the_detector_runs_exactly_every_detect_every_frames(
    detect_every: int,
) -> None:
    tracker = _tracker_with(1, max_tracks=3, detect_every=detect_every)
    tracker.note_detection()  # it ran on the frame before frame 0
    runs = _detection_frames(tracker, 31)
    # detect_every - 1 frames without it, then it runs on the detect_every-th: at the edge.
    assert runs == list(range(detect_every - 1, 31, detect_every))
    assert tracker.detector_runs == 1 + len(runs)


def test_with_everyone_tracked_never_and_with_no_one_on_every_frame() -> None:
    full = _tracker_with(3, max_tracks=3, detect_every=1)
    assert _detection_frames(full, 10) == []
    empty = _tracker_with(0, max_tracks=3, detect_every=15)
    assert _detection_frames(empty, 10) == list(range(10))
    one_short = _tracker_with(2, max_tracks=3, detect_every=1)
    assert _detection_frames(one_short, 3) == [0, 1, 2]


def _cadence(tracker: MultiTracker, frames: int, *, lose_at: int = -1) -> tuple[list, list]:
    """Detector and tile frames over a stream where nothing changes (one loss at lose_at)."""
    runs, tiles = [], []
    for frame in range(frames):
        tracker.begin_frame(frame * 100_000)
        if tracker.wants_detection():
            with_tiles = tracker.wants_tiles()
            tracker.note_detection(tiles=with_tiles)
            runs.append(frame)
            if with_tiles:
                tiles.append(frame)
        if frame == lose_at:
            tracker.tracks[0].lose()
        tracker.end_frame()
    return runs, tiles


def test_the_detector_backs_off_while_nothing_changes_and_starts_over_on_a_loss() -> None:
    tracker = _tracker_with(2, max_tracks=3, detect_every=5)
    assert _cadence(tracker, 20)[0] == [4, 9, 14, 19]  # detect_every given: no backoff
    tracker = _tracker_with(2, max_tracks=3, detect_every=5)
    tracker.max_backoff = MAX_DETECT_BACKOFF  # as the pipeline sets it for the default
    tracker.note_detection(tiles=True)  # the stream's first run, on the frame before frame 0
    runs, tiles = _cadence(tracker, 200, lose_at=120)
    # 5, 10, 20, 40 frames apart, then at most MAX_DETECT_BACKOFF x 5 = 40 ...
    assert runs[:6] == [4, 14, 34, 74, 114, 121]  # ... and on the frame after the loss
    assert MAX_DETECT_BACKOFF * 5 == 40
    assert runs[6:] == [131, 151, 191]  # the loss started the backoff over
    # the tiles: at most once per TILES_EVERY x 5 = 40 frames, on detector frames
    assert TILES_EVERY * 5 == 40
    assert tiles == [74, 114, 191]


def test_with_no_one_tracked_every_detector_run_covers_the_tiles() -> None:
    tracker = _tracker_with(0, max_tracks=3, detect_every=15)
    runs, tiles = _cadence(tracker, 10)
    assert runs == tiles == list(range(10))
    one = MultiTracker(max_tracks=1)  # MediaPipe's graph: detector and tiles while lost
    assert _cadence(one, 3) == ([0, 1, 2], [0, 1, 2])
    tracker.reset()
    assert tracker.detect_interval == 15
    assert tracker.wants_tiles()


def _standing(cx: float, *, arms_dx: float = 0.0) -> np.ndarray:
    """(33, 5) image landmarks of an upright person 400 px tall, hips at (cx, 400).

    Shoulders at y 250 (torso 150 px); every point not of the torso is an arm or leg point
    shifted by ``arms_dx`` (a squat or a swing: limbs moving against the body).
    """
    points = np.zeros((33, 5), np.float32)
    points[:, 0] = cx + arms_dx
    points[:, 1] = np.linspace(200.0, 600.0, 33)
    points[[11, 12], :2] = [[cx - 30, 250.0], [cx + 30, 250.0]]
    points[[23, 24], :2] = [[cx - 20, 400.0], [cx + 20, 400.0]]
    points[:, 3:] = 1.0
    return points


@pytest.mark.parametrize(("torso_motion", "expected"), [(True, 200.0), (False, 0.0)])
def test_several_peoples_velocity_is_the_torsos_not_the_swinging_limbs(
    torso_motion: bool, expected: float
) -> None:
    """A person walking right at 20 px a frame whose limbs swing back as much (a squat)."""
    track = Track(track_id=1, filters=PoseFilters(), torso_motion=torso_motion)
    for frame in range(6):
        cx = 300.0 + 20.0 * frame
        track.observe(_standing(cx, arms_dx=-20.0 * frame), frame * 100_000)
    assert track.velocity_px_s[0] == pytest.approx(expected, abs=10.0)


def test_a_crowded_track_keeps_its_courses_velocity_and_learns_its_pose() -> None:
    """In a crowd the crop drifts onto the neighbour: the pose is learnt, the motion is not.

    The velocity through the crowd is the line fitted through the torso's course before it,
    and the expected torso centre is dead reckoning on that line.
    """
    track = Track(track_id=1, filters=PoseFilters(), torso_motion=True)
    for frame in range(7):  # walking right at 100 px/s (10 px per frame)
        track.observe(_standing(300.0 + 10.0 * frame), frame * 100_000)
    assert track.velocity_px_s[0] == pytest.approx(100.0, abs=2.0)
    track.observe(_standing(320.0), 700_000, crowded=True)  # the crop slid 50 px left
    assert track.velocity_px_s == pytest.approx([100.0, 0.0], abs=1e-6)  # the course's
    assert track.last_pose is not None
    assert track.last_pose[[23, 24], 0].mean() == pytest.approx(320.0)
    predicted = track.predict(800_000)
    assert predicted is not None
    assert predicted[[23, 24], 0].mean() == pytest.approx(330.0)
    expected = track.expected_centre(1_000_000)  # from before the crowd, 4 frames on
    assert expected == pytest.approx([400.0, 325.0])
    track.observe(_standing(400.0), 800_000, crowded=True)
    assert track.expected_centre(1_000_000) == pytest.approx(expected)  # the anchor stays
    track.observe(_standing(310.0), 900_000)  # out of the crowd: the motion is learnt again
    assert track.velocity_px_s[0] < 100.0
    assert track.expected_centre(1_000_000) == pytest.approx(
        [track.velocity_px_s[0] * 0.1 + 310.0, 325.0]
    )


def test_in_a_crowd_a_pose_off_the_course_of_someone_behind_a_bigger_person_is_not_theirs() -> None:
    """Three copies of one person meeting (three_crossing): crops drift onto the front one,
    and the front one's crop onto the body of someone hidden behind them."""
    from hifipose.tracking.crossing import off_course

    def person(cx: float, size: float) -> np.ndarray:
        points = _standing(cx)
        points[:, 1] = 400.0 + (points[:, 1] - 400.0) * size  # torso 150 × size px
        return points

    back, front = (Track(track_id=k, filters=PoseFilters(), torso_motion=True) for k in (1, 2))
    for frame in range(5):  # back one standing at x 300, front one walking left 20 px/frame
        back.observe(person(300.0, 1.0), frame * 100_000)
        front.observe(person(500.0 - 20.0 * frame, 1.2), frame * 100_000)
    tracks, t_us = [back, front], 500_000  # the front one expected at x 400: 0.67 torsos on
    on_course, drifted = np.asarray(person(310.0, 1.0)[:33][:, [0, 1, 3]], np.float64), None
    assert not off_course(back, on_course, tracks, t_us)
    drifted = np.asarray(person(370.0, 1.0)[:33][:, [0, 1, 3]], np.float64)  # 0.4 off, nearer
    assert off_course(back, drifted, tracks, t_us)  # the front one's expected torso centre
    far = np.asarray(person(220.0, 1.0)[:33][:, [0, 1, 3]], np.float64)
    assert off_course(back, far, tracks, t_us)  # more than COURSE_GATE torsos off
    assert not off_course(front, drifted, tracks, t_us)  # the front person: not on distances
    assert off_course(back, on_course, tracks, 700_000)  # hidden: the front one at x 360
    assert not off_course(back, on_course, [back], t_us)  # alone: never off course
    back.lose()  # hidden behind the front one: the front one's crop may lag onto their body
    own = np.asarray(person(400.0, 1.2)[:33][:, [0, 1, 3]], np.float64)
    assert not off_course(front, own, tracks, t_us)
    assert off_course(front, on_course, tracks, t_us)  # fits the lost one's prediction better
    assert not off_course(front, drifted, tracks, t_us)  # fits neither clearly better


def test_a_person_is_in_a_crowd_while_another_is_predicted_within_crowded_distance() -> None:
    from hifipose.tracker import CROWDED_DISTANCE
    from hifipose.tracking.crossing import in_crowd

    tracks = [Track(track_id=k, filters=PoseFilters(), torso_motion=True) for k in (1, 2, 3)]
    centres = (300.0, 300.0 + 0.9 * CROWDED_DISTANCE * 150.0, 900.0)
    for track, cx in zip(tracks, centres, strict=True):
        track.observe(_standing(cx), 0)
    assert in_crowd(tracks[0], tracks, 100_000)
    assert in_crowd(tracks[1], tracks, 100_000)
    assert not in_crowd(tracks[2], tracks, 100_000)  # far from both
    assert not in_crowd(tracks[0], tracks[:1], 100_000)  # alone: never its own crowd
