"""The lite frame's shortcuts outside the model (issue 26, item 3) are the same numbers.

Each shortcut is compared with the code it replaces, bit for bit: the one-person
association against the general steps, the column medians against ``np.median``, the
sigmoid against its formula, the one-euro weight against its numpy form, and crops written
into a caller's buffer (after warming the frame rows) against fresh ones; the heatmap
refinement's fast paths against the general steps they skip, the filters' in-place steps
against their formulas, and a crop written into the runtime's own input tensor against
the same crop passed to ``run``; the similarity gate's shortcut only where the similarity is
not NaN, and the landmark decoding (a product by 2⁻⁸) against its formula.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace

import numpy as np
import pytest

from hifipose.association import similarity, torso_length
from hifipose.blazepose.crop import crop_image, warm_rows
from hifipose.blazepose.landmarks import (
    _sigmoid,
    _window_offsets,
    decode_landmarks,
    refine_with_heatmap,
)
from hifipose.blazepose.roi import Roi
from hifipose.filters.low_pass import LowPassFilter
from hifipose.filters.one_euro import OneEuroFilter
from hifipose.tracker import MultiTracker, TrackStatus
from hifipose.tracking.identity import IdentityAssignment, _similarity_defined
from hifipose.tracking.pose_filters import PoseFilters
from hifipose.tracking.track import COURSE_S, TORSO, Track, _column_medians


def _landmarks(rng: np.random.Generator, x0: float, y0: float, height: float) -> np.ndarray:
    """(35, 5) image landmarks of a figure at (x0, y0), ``height`` px, some points unseen."""
    out = np.zeros((35, 5), np.float32)
    out[:, 0] = x0 + rng.uniform(-0.25, 0.25, 35) * height
    out[:, 1] = y0 + np.linspace(0.0, 1.0, 35) * height
    out[:, 3] = rng.uniform(0.2, 1.0, 35)
    out[:, 4] = 1.0
    return out


def _stream(seed: int, frames: int) -> list[np.ndarray | None]:
    """One person walking, lost now and then; after some losses someone else comes."""
    rng = np.random.default_rng(seed)
    out: list[np.ndarray | None] = []
    x0, y0, height = 300.0, 100.0, 300.0
    for _ in range(frames):
        if rng.random() < 0.12:
            out.append(None)
            if rng.random() < 0.4:  # another person next time
                x0, height = rng.uniform(50, 550), rng.uniform(150, 400)
            continue
        x0 += rng.normal(0, 6)
        out.append(_landmarks(rng, x0, y0, height))
    return out


def _run(
    stream: list[np.ndarray | None], *, general: bool, max_tracks: int = 1
) -> list[tuple[object, ...]]:
    """Drive a tracker of one person as the detector does; a record of every frame.

    With ``max_tracks`` > 1 the detector (on its cadence) and each lost track's probe see
    the same person again.
    """
    tracker = MultiTracker(max_tracks=max_tracks, detect_every=15, max_lost_us=300_000)
    log: list[tuple[object, ...]] = []
    for frame, pose in enumerate(stream):
        t_us = frame * 33_333
        tracker.begin_frame(t_us)
        tracked: list[np.ndarray | None] = [pose for _ in tracker.tracked()]
        probes: list[np.ndarray | None] = [pose for _ in tracker.probe_rois(t_us)]
        detected: list[np.ndarray | None] = []
        if tracker.wants_detection():
            tracker.note_detection()
            detected = [] if pose is None else [pose]
        if general:
            assignment = IdentityAssignment(max_tracks, tracker)
            assignment._kept_alone = lambda *_: None  # type: ignore[method-assign]
            result = assignment.associate(t_us, tracked, probes, detected)
        else:
            result = tracker.associate(t_us, tracked, probes, detected)
        for association in result:
            assert pose is not None
            association.track.observe(
                pose[:33], t_us, learn=not association.contested, crowded=association.crowded
            )
            tracker.confirm(association.track)
        tracker.end_frame()
        log.append(
            (
                [(a.track.track_id, a.index, a.contested, a.crowded) for a in result],
                [
                    (t.track_id, t.status, t.hits, t.velocity_px_s.tobytes(), t.last_seen_us)
                    for t in tracker.tracks
                ],
            )
        )
    return log


@pytest.mark.parametrize("max_tracks", [1, 3])
@pytest.mark.parametrize("seed", range(6))
def test_one_person_association_shortcut_equals_the_general_steps(
    seed: int, max_tracks: int
) -> None:
    stream = _stream(seed, 150)
    shortcut = _run(stream, general=False, max_tracks=max_tracks)
    general = _run(stream, general=True, max_tracks=max_tracks)
    assert shortcut == general
    ids = {i for frame, _ in shortcut for i, _, _, _ in frame}
    assert len(ids) > 1  # the streams do lose people and start (or re-identify) tracks


def test_one_person_shortcut_leaves_a_nan_pose_to_the_general_steps() -> None:
    tracker = MultiTracker(max_tracks=1)
    rng = np.random.default_rng(1)
    pose = _landmarks(rng, 300, 100, 300)
    tracker.begin_frame(0)
    (association,) = tracker.associate(0, [], [], [pose])
    association.track.observe(pose[:33], 0)
    tracker.confirm(association.track)
    bad = pose.copy()
    bad[5, 0] = np.nan
    tracker.begin_frame(33_333)
    tracks = tracker.tracked()
    assignment = IdentityAssignment(1, tracker)
    assert assignment._kept_alone(33_333, tracks, [bad], [], []) is None
    assert assignment._kept_alone(33_333, tracks, [pose], [], []) is not None
    assert tracks[0].status is TrackStatus.TRACKED


def test_several_people_shortcut_leaves_a_stranger_or_a_lost_person_to_the_general_steps() -> None:
    tracker = MultiTracker(max_tracks=3)
    rng = np.random.default_rng(2)
    pose = _landmarks(rng, 300, 100, 300)
    tracker.begin_frame(0)
    (association,) = tracker.associate(0, [], [], [pose])
    association.track.observe(pose[:33], 0)
    tracker.confirm(association.track)
    tracker.begin_frame(33_333)
    tracks = tracker.tracked()
    assignment = IdentityAssignment(3, tracker)
    stranger = _landmarks(rng, 900, 400, 200)  # fails MIN_TRACK_SIMILARITY
    assert assignment._kept_alone(33_333, tracks, [stranger], [], []) is None
    assert tracks[0].status is TrackStatus.TRACKED
    (kept,) = assignment._kept_alone(33_333, tracks, [pose], [], []) or []
    assert (kept.track, kept.index, kept.contested, kept.crowded) == (tracks[0], 0, False, False)
    tracker.tracks.append(replace(tracks[0], track_id=7, status=TrackStatus.LOST))
    assert assignment._kept_alone(33_333, tracks, [pose], [], []) is None


def test_column_medians_equal_numpy_bit_for_bit() -> None:
    rng = np.random.default_rng(0)
    for count in range(1, 36):
        for trial in range(40):
            values = rng.standard_normal((count, 2)) * rng.choice([1e-3, 1.0, 1e3])
            if trial % 5 == 0:
                values[rng.random((count, 2)) < 0.3] = rng.choice([0.0, -0.0])
            if trial % 7 == 0:
                values[rng.integers(count), rng.integers(2)] = np.nan
            assert _column_medians(values).tobytes() == np.median(values, axis=0).tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_equals_its_formula_and_warns_of_nothing(dtype: type) -> None:
    logits = np.concatenate([np.linspace(-200, 200, 4001), [np.nan, np.inf, -np.inf, -0.0]])
    x = logits.astype(dtype)
    with np.errstate(all="ignore"):
        expected = np.float32(1.0) / (np.float32(1.0) + np.exp(-x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy's default error handling, warnings as errors
        got = _sigmoid(x)
        safe = x[np.abs(x) < 50]  # the path without np.errstate (no overflow possible)
        got_safe = _sigmoid(safe)
    assert got.dtype == expected.dtype
    assert got.tobytes() == expected.tobytes()
    assert got_safe.tobytes() == expected[np.abs(x) < 50].tobytes()


def test_one_euro_weight_in_python_equals_the_numpy_form() -> None:
    rng = np.random.default_rng(0)
    one_euro = OneEuroFilter(min_cutoff=0.05, beta=80.0, derivate_cutoff=1.0)
    for _ in range(5000):
        one_euro.frequency = float(rng.uniform(0.5, 1000.0))
        cutoff = float(rng.choice([1.0, 0.01, 0.05, 0.1, rng.uniform(1e-6, 1e3)]))
        tau = 1.0 / (2 * math.pi * np.asarray(cutoff, dtype=np.float64))
        assert one_euro.alpha(cutoff) == float(1.0 / (1.0 + tau * one_euro.frequency))
    with np.errstate(divide="ignore"):
        assert one_euro.alpha(0.0) == 0.0  # as the numpy form: tau = inf


@pytest.mark.parametrize("fixed_point", [False, True])
@pytest.mark.parametrize(
    "roi",
    [
        Roi((320.3, 240.7), (300.2, 300.2), 0.36),
        Roi((40.0, 460.0), (500.0, 500.0), -2.5),  # mostly outside the frame
        Roi((900.0, -300.0), (100.0, 100.0), 0.0),  # wholly outside
    ],
)
def test_crop_into_a_reused_buffer_is_the_fresh_crop(roi: Roi, fixed_point: bool) -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    kept = image.copy()
    buffer = np.full((2, 256, 256, 3), np.nan, np.float32)
    for value_range in [(0.0, 1.0), (-1.0, 1.0)]:
        options = {
            "tensor_size": 256,
            "value_range": value_range,
            "border": "replicate",
            "fixed_point": fixed_point,
        }
        fresh = crop_image(image, roi, **options)  # type: ignore[arg-type]
        reused = crop_image(image, roi, out=buffer[1], **options)  # type: ignore[arg-type]
        assert np.shares_memory(reused.tensor, buffer[1])
        assert reused.tensor.tobytes() == fresh.tensor.tobytes()
        np.testing.assert_array_equal(reused.crop_from_image, fresh.crop_from_image)
    assert np.isnan(buffer[0]).all()  # nothing written beside ``out``
    np.testing.assert_array_equal(image, kept)  # warming the rows only reads them


def test_warm_rows_accepts_any_frame_and_changes_nothing() -> None:
    corners = np.array([[10.0, 500.0], [10.0, -40.0], [90.0, -40.0], [90.0, 500.0]], np.float32)
    image = np.arange(480 * 64 * 3, dtype=np.uint32).astype(np.uint8).reshape(480, 64, 3)
    for frame in [image, image[:, ::2], image[:0], image[::-1]]:
        kept = frame.copy()
        warm_rows(frame, corners)
        np.testing.assert_array_equal(frame, kept)
    warm_rows(image, corners + 10_000)  # beyond the frame: nothing to read


def _refine_general(landmarks: np.ndarray, heatmap: np.ndarray, kernel: int) -> np.ndarray:
    """The heatmap refinement's general steps: every window clipped and masked (no shortcut)."""
    heatmap = heatmap.reshape(heatmap.shape[-3:])
    grid_h, grid_w, count = heatmap.shape
    out = landmarks.copy()
    grid = np.array((grid_w, grid_h), dtype=np.int64)
    cells = np.trunc(landmarks[:count, :2] * grid.astype(landmarks.dtype)).astype(np.int64)
    index = np.flatnonzero(((cells >= 0) & (cells < grid)).all(axis=1))
    if not index.size:
        return out
    windows = cells[index].T[:, :, None] + _window_offsets(kernel)
    ok = (windows >= 0) & (windows < grid[:, None, None])
    clipped = np.clip(windows, 0, grid[:, None, None] - 1)
    flat = (clipped[1][:, :, None] * grid_w + clipped[0][:, None, :]) * count
    flat += index[:, None, None]
    confidence = _sigmoid(np.ravel(heatmap).take(flat))
    confidence *= ok[1][:, :, None] & ok[0][:, None, :]
    total = confidence.sum(axis=(1, 2))
    refine = (confidence.max(axis=(1, 2)) >= 0.5) & (total > 0)
    weighted_col = (confidence * windows[0][:, None, :]).sum(axis=(1, 2))
    weighted_row = (confidence * windows[1][:, :, None]).sum(axis=(1, 2))
    out[index[refine], 0] = weighted_col[refine] / grid_w / total[refine]
    out[index[refine], 1] = weighted_row[refine] / grid_h / total[refine]
    return out


def test_heatmap_refinement_shortcuts_equal_the_general_steps() -> None:
    rng = np.random.default_rng(0)
    spreads = [(0.1, 0.9), (-0.1, 1.1), (-0.05, 0.08), (0.9, 1.02), (-2.0, 3.0)]
    for trial in range(400):
        low, high = spreads[trial % len(spreads)]  # inside, across the edges, outside
        landmarks = rng.uniform(low, high, (39, 5)).astype(np.float32)
        if trial % 7 == 0:
            landmarks[rng.integers(39), rng.integers(2)] = np.nan
        heatmap = rng.normal(-2.0, (3.0, 8.0, 30.0)[trial % 3], (1, 64, 64, 39))
        if trial % 4 == 0:
            heatmap[..., rng.integers(39)] = -200.0  # a landmark with nothing to refine
        heatmap = heatmap.astype(np.float32)
        kernel = (7, 9)[trial % 2]
        with np.errstate(invalid="ignore"):  # NaN cells, in both
            got = refine_with_heatmap(landmarks, heatmap, kernel)
            expected = _refine_general(landmarks, heatmap, kernel)
        assert got.tobytes() == expected.tobytes(), trial


def test_filters_in_place_steps_equal_their_formulas() -> None:
    rng = np.random.default_rng(1)
    for shape in [(33, 3), (2, 3), ()]:
        one_euro = OneEuroFilter(min_cutoff=0.05, beta=80.0, derivate_cutoff=1.0)
        low_pass = LowPassFilter(0.1)
        smoothed = raw = dx = low = None
        t_us, previous_us, frequency = 0, 0, 30.0
        for step in range(40):
            t_us += 33_333 + int(rng.integers(-2, 3))
            value = rng.normal(200.0, 50.0, shape)
            scale = float(rng.uniform(0.001, 1.0))
            got, got_low = one_euro.apply(value, t_us, scale), low_pass.apply(value)
            # the class docstrings' formulas, written out
            if step:
                frequency = 1e6 / (t_us - previous_us)
            d = np.zeros(shape) if raw is None else (value - raw) * scale * frequency
            alpha_d = 1.0 / (1.0 + 1.0 / (2 * math.pi * 1.0) * frequency)
            dx = d if dx is None else alpha_d * d + (1.0 - alpha_d) * dx
            alpha = 1.0 / (1.0 + 1.0 / (2 * math.pi * (0.05 + 80.0 * np.abs(dx))) * frequency)
            first = smoothed is None
            smoothed = value.copy() if first else alpha * value + (1.0 - alpha) * smoothed
            low = value.copy() if first else 0.1 * value + (1.0 - 0.1) * low
            raw, previous_us = value.copy(), t_us
            assert np.asarray(got).tobytes() == np.asarray(smoothed).tobytes()
            assert np.asarray(got_low).tobytes() == np.asarray(low).tobytes()
            if shape:  # the caller owns what it got: writing to it changes no state
                got[...] = 0.0
                got_low[...] = 0.0
                value[...] = 0.0


def test_similarity_shortcut_says_defined_only_where_the_similarity_is() -> None:
    rng = np.random.default_rng(2)
    defined = 0
    for trial in range(600):
        pose = np.zeros((33, 3))
        size = rng.choice([1.0, 1.0, 1.0, 1e-60, 1e-200, 1e120])  # px, and degenerate
        pose[:, :2] = rng.uniform(0, 640, (33, 2)) * size
        pose[:, 2] = rng.uniform(0.0, 1.0, 33)
        step = rng.choice([1.0, 1.0, 1e150, 1e300])
        predicted = pose + rng.normal(0.0, 5.0, pose.shape) * step
        if trial % 5 == 0:
            (pose if trial % 2 else predicted)[rng.integers(33), rng.integers(2)] = rng.choice(
                [np.nan, np.inf, -np.inf]
            )
        if trial % 11 == 0:
            pose[:, :2] = pose[0, :2]  # a box of no area
        with np.errstate(all="ignore"):
            if _similarity_defined(pose, predicted):
                defined += 1
                assert similarity(pose, predicted, allow_flip=False) >= 0.0, trial
    assert defined > 60  # ordinary poses take the shortcut


def test_decoding_equals_its_formula() -> None:
    rng = np.random.default_rng(3)
    for trial in range(300):
        raw = (rng.standard_normal((1, 195)) * rng.choice([1e-40, 1.0, 200.0, 1e30])).astype(
            np.float32
        )
        if trial % 5 == 0:
            raw[0, rng.integers(195)] = rng.choice([np.nan, np.inf, -np.inf, -0.0])
        decoded = raw.reshape(39, 5).copy()
        with np.errstate(all="ignore"):
            decoded[:, :3] /= np.float32(256)
            decoded[:, 3:5] = _sigmoid(decoded[:, 3:5])
            got = decode_landmarks(raw)
        assert got.tobytes() == decoded.tobytes(), trial


def test_torso_centres_and_lengths_equal_the_numpy_means_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    for dtype in (np.float64, np.float32):
        for _ in range(400):
            pose = (rng.standard_normal((33, 5)) * rng.choice([1e-3, 1.0, 1e3])).astype(dtype)
            shoulders, hips = pose[[11, 12], :2].mean(axis=0), pose[[23, 24], :2].mean(axis=0)
            assert torso_length(pose) == math.hypot(*(shoulders - hips))
            track = Track(track_id=1, filters=PoseFilters(), torso_motion=True)
            track.observe(pose, 0)  # the course holds pose_points' float64 copy
            centre = pose[TORSO, :2].astype(np.float64).mean(axis=0)
            assert track.course[0][1].tobytes() == centre.tobytes()


def test_a_course_keeps_the_last_course_seconds() -> None:
    track = Track(track_id=1, filters=PoseFilters(), torso_motion=True)
    pose = np.ones((33, 5))
    step = 250_000
    for frame in range(40):
        track.observe(pose, frame * step)
        t_us = frame * step
        assert [t for t, _ in track.course] == [
            u for u in range(0, t_us + 1, step) if t_us - u <= COURSE_S * 1e6
        ]
