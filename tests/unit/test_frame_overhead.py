"""The lite frame's shortcuts outside the model (issue 26, item 3) are the same numbers.

Each shortcut is compared with the code it replaces, bit for bit: the one-person
association against the general steps, the column medians against ``np.median``, the
sigmoid against its formula, the one-euro weight against its numpy form, and crops written
into a caller's buffer (after warming the frame rows) against fresh ones.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from hifipose.blazepose.crop import crop_image, warm_rows
from hifipose.blazepose.landmarks import _sigmoid
from hifipose.blazepose.roi import Roi
from hifipose.filters.one_euro import OneEuroFilter
from hifipose.tracker import MultiTracker, TrackStatus
from hifipose.tracking.identity import IdentityAssignment
from hifipose.tracking.track import _column_medians


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


def _run(stream: list[np.ndarray | None], *, general: bool) -> list[tuple[object, ...]]:
    """Drive a one-person tracker as the detector does; a record of every frame."""
    tracker = MultiTracker(max_tracks=1, detect_every=15, max_lost_us=300_000)
    log: list[tuple[object, ...]] = []
    for frame, pose in enumerate(stream):
        t_us = frame * 33_333
        tracker.begin_frame(t_us)
        tracked: list[np.ndarray | None] = [pose for _ in tracker.tracked()]
        detected: list[np.ndarray | None] = []
        if tracker.wants_detection():
            tracker.note_detection()
            detected = [] if pose is None else [pose]
        if general:
            assignment = IdentityAssignment(1, tracker)
            assignment._kept_alone = lambda *_: None  # type: ignore[method-assign]
            result = assignment.associate(t_us, tracked, [], detected)
        else:
            result = tracker.associate(t_us, tracked, [], detected)
        for association in result:
            assert pose is not None
            association.track.observe(pose[:33], t_us, learn=not association.contested)
            tracker.confirm(association.track)
        log.append(
            (
                [(a.track.track_id, a.index, a.contested) for a in result],
                [
                    (t.track_id, t.status, t.hits, t.velocity_px_s.tobytes(), t.last_seen_us)
                    for t in tracker.tracks
                ],
            )
        )
    return log


@pytest.mark.parametrize("seed", range(6))
def test_one_person_association_shortcut_equals_the_general_steps(seed: int) -> None:
    stream = _stream(seed, 150)
    shortcut, general = _run(stream, general=False), _run(stream, general=True)
    assert shortcut == general
    ids = {i for frame, _ in shortcut for i, _, _ in frame}
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
