"""MediaPipe's pose classifier port, on hand-computed cases; the hysteresis counter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hifipose.analysis.classifier import (
    EMBEDDING_PAIRS,
    EMASmoothing,
    PoseClassifier,
    PoseEmbedder,
    PoseSample,
    RepetitionCounter,
)
from hifipose.analysis.reps import HysteresisCounter, TrackCounters, hysteresis_counter
from hifipose.errors import ConfigError
from hifipose.topology import Kp


def simple_pose() -> np.ndarray:
    """Hips at (±10, 0), shoulders at (±10, −40): torso 40, so pose size 2.5 × 40 = 100."""
    p = np.zeros((33, 3))
    p[Kp.LEFT_HIP] = (-10, 0, 0)
    p[Kp.RIGHT_HIP] = (10, 0, 0)
    p[Kp.LEFT_SHOULDER] = (-10, -40, 0)
    p[Kp.RIGHT_SHOULDER] = (10, -40, 0)
    p[Kp.LEFT_ANKLE] = (0, 80, 5)  # 80 from the hip centre: less than 100
    return p


def test_embedding_by_hand() -> None:
    embedder = PoseEmbedder()
    assert len(EMBEDDING_PAIRS) == 23
    # Moved and scaled in the image: the embedding does not change.
    e = embedder(simple_pose() * 3.0 + (300.0, 200.0, 0.0))
    assert e.shape == (23, 3)
    np.testing.assert_allclose(e[0], (0, -40, 0), atol=1e-12)  # hips → shoulders
    np.testing.assert_allclose(e[5], (10, 0, 0), atol=1e-12)  # left hip → left knee (at 0)
    np.testing.assert_allclose(e[7], (0, 80, 5), atol=1e-12)  # left knee → left ankle
    np.testing.assert_allclose(e[11], (10, 80, 5), atol=1e-12)  # left hip → left ankle
    np.testing.assert_allclose(e[13], e[17])  # hip → wrist is listed twice, as upstream
    # A landmark farther than 2.5 torsos sets the size instead: 150 → scale 100 / 150.
    far = simple_pose()
    far[Kp.RIGHT_WRIST] = (0, -150, 0)
    np.testing.assert_allclose(embedder(far)[0], (0, -40 * 100 / 150, 0), atol=1e-12)
    with pytest.raises(ConfigError, match="shape"):
        embedder(np.zeros((17, 3)))


def cluster(base: np.ndarray, name: str, n: int, rng: np.random.Generator) -> list[PoseSample]:
    return [
        PoseSample(f"{name}_{i}", name, base + rng.normal(0, 1.0, base.shape)) for i in range(n)
    ]


@pytest.fixture
def two_classes() -> PoseClassifier:
    rng = np.random.default_rng(7)
    down = simple_pose()
    up = simple_pose()
    up[Kp.LEFT_WRIST] = (-20, -90, 0)
    up[Kp.RIGHT_WRIST] = (30, -90, 0)
    up[Kp.LEFT_ELBOW] = (-15, -65, 0)
    return PoseClassifier(cluster(down, "down", 12, rng) + cluster(up, "up", 12, rng))


def test_a_training_sample_classifies_as_itself_with_confidence_10(
    two_classes: PoseClassifier,
) -> None:
    for sample in two_classes.samples:
        assert two_classes(sample.landmarks) == {sample.class_name: 10}
    assert two_classes.outliers() == []


def test_a_mirrored_pose_classifies_the_same(two_classes: PoseClassifier) -> None:
    rng = np.random.default_rng(1)
    for sample in two_classes.samples[::5]:
        query = sample.landmarks + rng.normal(0, 2.0, (33, 3))
        mirrored = query * (-1.0, 1.0, 1.0) + (640.0, 0.0, 0.0)
        assert two_classes(mirrored) == two_classes(query)


def test_the_two_stages_max_then_mean_and_the_axes_weights() -> None:
    query = simple_pose()
    # "bent": the same pose but one joint far off (large max, small mean).
    bent = query.copy()
    bent[Kp.LEFT_ELBOW] += (0, 30, 0)
    # "shifted": every embedding coordinate a little off (moderate max, larger mean).
    shifted = query.copy()
    shifted[[Kp.LEFT_KNEE, Kp.RIGHT_KNEE, Kp.LEFT_WRIST, Kp.RIGHT_WRIST]] += (4, 4, 0)
    shifted[[Kp.LEFT_ANKLE, Kp.RIGHT_ANKLE, Kp.LEFT_ELBOW, Kp.RIGHT_ELBOW]] += (4, 4, 0)
    samples = [PoseSample("bent", "bent", bent), PoseSample("shifted", "shifted", shifted)]
    embed = PoseEmbedder()
    d_bent = np.abs(embed(bent) - embed(query))
    d_shift = np.abs(embed(shifted) - embed(query))
    assert d_bent.max() > d_shift.max() and d_bent.mean() < d_shift.mean()
    # Stage 1 keeps one: the smaller maximum wins although its mean is larger.
    assert PoseClassifier(samples, top_n_by_max_distance=1, top_n_by_mean_distance=1)(query) == {
        "shifted": 1
    }
    # Stage 1 keeps both: stage 2 picks the smaller mean.
    assert PoseClassifier(samples, top_n_by_max_distance=2, top_n_by_mean_distance=1)(query) == {
        "bent": 1
    }
    # Axes weights: a z difference counts a fifth of an x difference.
    deep = query.copy()
    deep[Kp.LEFT_WRIST] += (0, 0, 40)  # weighted |Δ| 8
    wide = query.copy()
    wide[Kp.LEFT_WRIST] += (10, 0, 0)  # weighted |Δ| 10
    pair = [PoseSample("deep", "deep", deep), PoseSample("wide", "wide", wide)]
    assert PoseClassifier(pair, top_n_by_max_distance=1, top_n_by_mean_distance=1)(query) == {
        "deep": 1
    }
    assert PoseClassifier(
        pair, top_n_by_max_distance=1, top_n_by_mean_distance=1, axes_weights=(1, 1, 1)
    )(query) == {"wide": 1}


def test_ema_smoothing_by_hand() -> None:
    ema = EMASmoothing()
    assert ema({"a": 10}) == {"a": 10.0}
    second = ema({"b": 10})  # newest weighs 1, the previous 0.8
    assert second["a"] == pytest.approx(0.8 * 10 / 1.8)
    assert second["b"] == pytest.approx(10 / 1.8)
    for _ in range(20):  # the window holds 10 results: older ones drop out entirely
        last = ema({"b": 10})
    assert last == {"b": pytest.approx(10.0)}


def test_a_0_to_10_to_0_confidence_with_jitter_between_4_and_6_counts_one_rep() -> None:
    rising = [0, 2, 4.5, 5.9, 4.1, 5.5, 4.2]
    top = [7, 10, 10, 9.5, 10]
    falling = [5.9, 4.1, 5.8, 4.01, 5.99, 4.5]
    signal = [*rising, *top, *falling, 3.9, 0, 4.2, 5.9, 4.1, 0]
    counter = RepetitionCounter("squat_down")
    counts = [counter({"squat_down": v, "squat_up": 10 - v}) for v in signal]
    assert counts[-1] == 1
    assert counts.index(1) == len(rising) + len(top) + len(falling)  # counted at 3.9
    # Through the EMA too (as the recipe chains them): still exactly one.
    ema, counter = EMASmoothing(), RepetitionCounter("squat_down")
    for v in [0] * 10 + [10] * 15 + [5, 4.5, 5.5] * 5 + [0] * 15:
        n = counter(ema({"squat_down": v}))
    assert n == 1
    # A class missing from a result counts as 0 confidence.
    assert RepetitionCounter("x")({"y": 10}) == 0


def test_hysteresis_counter_both_directions_and_nan() -> None:
    knee = [170, 150, 95, 80, 92, np.nan, 120, 165, 170, 90, 100, 99]
    result = hysteresis_counter(knee, enter=100, exit=160, direction="below")
    assert result.count == 1
    assert result.in_rep  # ended at the bottom of a second squat
    assert [(e.start, e.end) for e in result.events] == [(2, 7)]
    flexion = 180 - np.asarray(knee, dtype=float)
    assert hysteresis_counter(flexion, enter=80, exit=20).count == 1
    with pytest.raises(ConfigError, match="enter"):
        HysteresisCounter(enter=4, exit=6, direction="above")
    with pytest.raises(ConfigError, match="direction"):
        HysteresisCounter(enter=6, exit=4, direction="sideways")  # type: ignore[arg-type]


def test_track_counters_keep_state_per_track_id() -> None:
    counters = TrackCounters(enter=6, exit=4)
    # Two people whose list order swaps each frame: counts follow the ids.
    frames = [{1: 0, 2: 0}, {2: 8, 1: 0}, {1: 9, 2: 2}, {2: 9, 1: 1}, {1: 0, 2: 1}]
    for frame in frames:
        for track_id, value in frame.items():
            counters.update(track_id, value)
    assert counters.counts() == {1: 1, 2: 2} or counters.counts() == {2: 2, 1: 1}
    assert counters.count(1) == 1 and counters.count(3) == 0


def test_csv_round_trip(two_classes: PoseClassifier, tmp_path: Path) -> None:
    files = two_classes.to_csv(tmp_path / "samples")
    assert sorted(f.name for f in files) == ["down.csv", "up.csv"]
    first = files[0].read_text().splitlines()[0].split(",")
    assert len(first) == 100 and first[0] == "down_0"
    loaded = PoseClassifier.from_csv(tmp_path / "samples")
    query = two_classes.samples[3].landmarks
    assert loaded(query) == two_classes(query) == {"down": 10}
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.csv").write_text("a,1,2\n")
    with pytest.raises(ConfigError, match="expected 100 values"):
        PoseClassifier.from_csv(tmp_path / "bad")


def test_track_classifier_keeps_ema_and_counts_per_track_id(two_classes: PoseClassifier) -> None:
    from hifipose.analysis import TrackClassifier
    from hifipose.pose import Pose

    up = next(s.landmarks for s in two_classes.samples if s.class_name == "up")
    down = next(s.landmarks for s in two_classes.samples if s.class_name == "down")

    def pose(landmarks: np.ndarray, track_id: int) -> Pose:
        image = np.zeros((33, 5))
        image[:, :3] = landmarks
        return Pose(image, np.zeros((33, 3)), 1.0, track_id=track_id)

    chain = TrackClassifier(two_classes, "up")
    # Track 1 goes up and down twice, track 2 stays down; the list order swaps each frame.
    script = [down] * 10 + [up] * 10 + [down] * 10 + [up] * 10 + [down] * 10
    for i, landmarks in enumerate(script):
        poses = [pose(landmarks, 1), pose(down, 2)]
        results = chain.update(poses if i % 2 else poses[::-1])
    final = {r.track_id: r.repetitions for r in results}
    assert final == {1: 2, 2: 0}
    assert all(r.counts == {"down": 10} for r in results if r.track_id == 2)
