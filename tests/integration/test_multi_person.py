"""Several people: identities through crossings, re-entry, dedup; against MediaPipe Tasks.

The labelled photos with several people are in ``test_evaluate.py`` (``hifipose evaluate``).

Clips: ``../shared/data/multi/crossing_squats.mp4`` (shared, with ground truth) and clips made
here from the specs in ``tests/data/multi`` with ``../shared/tools/make_composite.py``
(``hifipose_dev.composites``, cached in the temp folder by spec hash, so a session makes each
once). Scores are in ``hifipose_dev.mot_metrics``. Every figure is printed in the session's report.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

import hifipose
from hifipose.association import dedup
from hifipose.blazepose.roi import Roi
from hifipose.tracker import MultiTracker, pose_points
from hifipose_dev.composites import CLIP_OPTIONS, SPECS, composite
from hifipose_dev.mot_metrics import TrackingScores, score
from tests.conftest import ROOT, clip_frames

REPORT: list[str] = []
#: crossing_squats' (MOTA, IDF1) floors with the defaults and num_poses=3, from the spread
#: over 5 seeds each of ±1 grey level of input noise and of 1e-6 relative noise on the
#: landmark model's outputs (another CPU's float rounding; ``benchmarks/multi_noise.py``),
#: less 0.03 of margin, and never below the issue's bar (0.90, 0.95). Measured: MOTA
#: 0.950-0.961, IDF1 0.974-0.980, 0 id switches on all 10; since a crowded track keeps its
#: velocity (3 seeds each): MOTA 0.939-0.950, IDF1 0.969-0.974, 0 id switches on all 6;
#: since a pose off the course of someone behind a bigger person is refused: MOTA
#: 0.927-0.939, IDF1 0.962-0.968, 0 id switches on all 6 (the MOTA floor is now the issue's
#: bar: the spread less 0.03 would fall below it).
DEFAULT_BOUNDS = (0.90, 0.95)
NOISE_SEEDS = (0, 1, 2)


@pytest.fixture(scope="module", autouse=True)
def _report() -> object:
    yield
    print("\n" + "\n".join(REPORT))


def track(
    frames: tuple[np.ndarray, ...] | list[np.ndarray],
    model_dir: Path,
    *,
    runtime: str = "litert",
    fps: float = 10.0,
    **options: object,
) -> tuple[list[list[tuple[int, np.ndarray]]], int | None]:
    """Per frame (track_id, keypoints); Tasks' poses are numbered by their place in the list."""
    out = []
    with hifipose.create_detector(
        model_type="full", runtime=runtime, num_poses=3, model_dir=model_dir, **options
    ) as detector:
        for i, frame in enumerate(frames):
            poses = detector.estimate_poses(frame, timestamp_ms=i * 1000.0 / fps)
            out.append(
                [
                    (k + 1 if p.track_id is None else p.track_id, np.asarray(p.image_array))
                    for k, p in enumerate(poses)
                ]
            )
            if runtime != "mediapipe":
                ids = [p.track_id for p in poses]
                assert ids == sorted(ids)
                assert len(set(ids)) == len(ids)
                points = [pose_points(p.image_array) for p in poses]
                assert dedup(points) == list(range(len(points)))  # no person twice
        return out, detector.detector_runs


def _record(label: str, scores: TrackingScores, runs: int | None = None) -> None:
    REPORT.append(f"{label}: {scores.summary()}, detector runs {runs}")


def _grey_noise(frames: tuple[np.ndarray, ...], seed: int) -> list[np.ndarray]:
    """The frames plus a uniform -1, 0 or +1 grey level per value (clipped to 0..255)."""
    rng = np.random.default_rng(seed)
    return [
        np.clip(f.astype(np.int16) + rng.integers(-1, 2, f.shape), 0, 255).astype(np.uint8)
        for f in frames
    ]


def test_crossing_squats_with_the_defaults_under_noise_keeps_every_id_and_beats_tasks(
    shared_data: Path, model_dir: Path
) -> None:
    """num_poses=3 and nothing else: the person at the back found, no id lost (issue 27).

    Another CPU's float rounding, emulated: ±1 grey level on every pixel, three seeds.
    Before the identity rules took a clear margin, one such seed in two gave 5 id switches
    (person 1 lost at the crossing, back under a new id); an id must not hang on the last
    bit of a float. Before issue 27 the defaults never found the person at the back
    (MOTA 0.78-0.79, IDF1 0.88).
    """
    clip = shared_data / "multi" / "crossing_squats.mp4"
    gt = json.loads(clip.with_suffix(".json").read_text())["frames"]
    frames = clip_frames(clip)
    tasks = score(gt, track(_grey_noise(frames, NOISE_SEEDS[0]), model_dir, runtime="mediapipe")[0])
    _record(f"crossing_squats, MediaPipe Tasks num_poses=3, noise seed {NOISE_SEEDS[0]}", tasks)
    for seed in NOISE_SEEDS:
        mine, runs = track(_grey_noise(frames, seed), model_dir)
        scores = score(gt, mine)
        _record(f"crossing_squats, hifipose defaults, ±1 grey noise seed {seed}", scores, runs)
        assert scores.id_switches == 0, (seed, scores.switches)
        assert scores.mota >= DEFAULT_BOUNDS[0], seed
        assert scores.idf1 >= DEFAULT_BOUNDS[1], seed
        assert scores.mean_error <= 0.03  # measured: 1.6-1.8 %
        assert scores.mota > tasks.mota
        assert scores.idf1 > tasks.idf1
        assert scores.id_switches < tasks.id_switches


@pytest.mark.parametrize("name", ["fast_crossing", "three_crossing"])
def test_composite_crossings(name: str, model_dir: Path) -> None:
    """Copies of one squatting person crossing: identity on keypoints alone is hard here."""
    clip, gt = composite(name)
    frames = clip_frames(clip)
    ours, runs = track(frames, model_dir)  # also: no person twice per frame
    mine = score(gt, ours)
    _record(f"{name}, hifipose", mine, runs)
    tasks = score(gt, track(frames, model_dir, runtime="mediapipe")[0])
    _record(f"{name}, MediaPipe Tasks num_poses=3", tasks)
    assert mine.id_switches < tasks.id_switches or mine.id_switches == 0, mine.switches
    if name == "fast_crossing":
        assert mine.id_switches == 0, mine.switches  # measured: 0 on 10 noisy seeds
        assert mine.idf1 > tasks.idf1
    else:
        # Three identical copies meeting at one point: under noise (8 seeds each of grey
        # and model-output noise) 0 switches on all 16 runs, MOTA 0.818-0.828, IDF1
        # 0.900-0.906, against Tasks' 13-19 switches and IDF1 0.45-0.54. Before the front
        # person's crop was kept off a hidden person's body (a pose that fits a lost person
        # close by clearly better is refused): 2-4 switches, IDF1 0.883-0.898 on 6 runs;
        # before a pose off a hidden person's course was refused: 4-9, IDF1 0.58-0.92.
        assert mine.id_switches == 0, mine.switches
        assert mine.idf1 >= 0.87
    assert mine.mean_error <= 0.03


#: Issue 27's crowded scenes (specs in tests/data/multi) and their MOTA floors: the lowest of
#: 6 noisy runs (3 seeds each of ±1 grey level and of 1e-6 model-output noise), less 0.03.
#: Measured with the defaults: 0 id switches on every run; MOTA 0.923-0.949 (a crossing while
#: one crouches), 0.982 (two people of very different sizes), 0.931-0.957 (a person walking
#: in front of a crouching one); since a crowded track keeps its velocity: 0 switches, MOTA
#: 0.932-0.940, 0.982, 0.940; since a pose off the course of someone behind a bigger person
#: is refused: 0 switches, MOTA 0.915, 0.982, 0.940. MediaPipe Tasks, one clean run: 10
#: switches, 0 (MOTA 0.531), 20.
CROWDED = {"crouch_crossing": 0.89, "size_crossing": 0.95, "seated_front": 0.90}


@pytest.mark.parametrize("name", sorted(CROWDED))
def test_crowded_composites_keep_every_id_with_the_defaults(name: str, model_dir: Path) -> None:
    clip, gt = composite(name)
    ours, runs = track(clip_frames(clip), model_dir)  # also: no person twice per frame
    mine = score(gt, ours)
    _record(f"{name}, hifipose defaults", mine, runs)
    assert mine.id_switches == 0, mine.switches
    assert mine.mota >= CROWDED[name]
    assert mine.mean_error <= 0.03


def _hide(frames: tuple[np.ndarray, ...], start: int, count: int) -> list[np.ndarray]:
    """The frames with the person replaced by the bare background on ``count`` frames."""
    spec = json.loads((SPECS / "one_walker.spec.json").read_text())
    background = cv2.resize(
        cv2.imread(str(ROOT / spec["background"])),
        tuple(spec["size"]),
        interpolation=cv2.INTER_AREA,
    )
    empty = cv2.cvtColor(background, cv2.COLOR_BGR2RGB)
    return [empty if start <= i < start + count else f for i, f in enumerate(frames)]


def test_a_person_hidden_within_max_lost_keeps_the_id_and_after_it_gets_a_new_one(
    model_dir: Path,
) -> None:
    clip, _ = composite("one_walker")
    frames = clip_frames(clip)
    for hidden in (5, 25):  # 0.5 s and 2.5 s at 10 fps, within the default 3 s (num_poses=3)
        short, _ = track(_hide(frames, 15, hidden), model_dir)
        ids = [sorted({tid for tid, _ in f}) for f in short]
        assert all(ids[i] == [] for i in range(15, 15 + hidden))
        assert {tid for f in short for tid, _ in f} == {1}, hidden
        assert ids[16 + hidden] == [1], hidden
    long, _ = track(_hide(frames, 15, 15), model_dir, max_lost_ms=1000.0)  # 1.5 s > 1 s
    after = {tid for f in long[31:] for tid, _ in f}
    before = {tid for f in long[:15] for tid, _ in f}
    REPORT.append(f"re-entry: ids before {before}, after a 1.5 s gap {after}")
    assert before == {1}
    assert after == {2}


def test_two_rois_over_one_body_report_one_pose(shared_data: Path, model_dir: Path) -> None:
    frame = clip_frames(shared_data / "tfjs_golden" / "pose_squats.mp4")[0]
    with hifipose.create_detector(model_type="full", num_poses=2, model_dir=model_dir) as det:
        assert det.estimate_poses(frame, 0.0) == []  # a newcomer is confirmed on frame 2
        [pose] = det.estimate_poses(frame, 100.0)
        assert pose.track_id == 1
        [roi] = [t.roi for t in det._tracker.tracked()]  # type: ignore[attr-defined]
        assert roi is not None
        shifted = Roi(
            (roi.center_px[0] + 0.05 * roi.size_px[0], roi.center_px[1]), roi.size_px, 0.0
        )
        raws = det._landmark_passes(frame, [roi, shifted])  # type: ignore[attr-defined]
        assert all(r is not None for r in raws)  # both crops see the person
        tracker: MultiTracker = det._tracker  # type: ignore[attr-defined]
        tracker.begin_frame(200_000)
        result = tracker.associate(200_000, [raws[0].landmarks_px], [], [raws[1].landmarks_px])
        assert [a.track.track_id for a in result] == [1]
        assert result[0].index == 0  # the tracked ROI wins over the newcomer


@pytest.mark.parametrize("runtime", ["onnxruntime", "torch"])
def test_several_people_on_every_model_runtime_agree_with_litert(
    runtime: str, shared_data: Path, model_dir: Path
) -> None:
    frames = clip_frames(shared_data / "multi" / "crossing_squats.mp4")[:12]
    # the former README options, with which the bounds below were measured (with the
    # defaults' tiles the person at the back starts from another crop, and on frame 2 a heel
    # of that small person lands 38 px apart between onnxruntime and litert)
    reference, _ = track(frames, model_dir, **CLIP_OPTIONS)
    other, _ = track(frames, model_dir, runtime=runtime, **CLIP_OPTIONS)
    assert [[tid for tid, _ in f] for f in other] == [[tid for tid, _ in f] for f in reference]
    assert max(len(f) for f in other) == 3
    # A float-rounding difference can flip the heatmap refinement's peak by a cell (1/64 of a
    # crop about 1.3-1.5x the body, so 2-3 % of the box diagonal) for a few keypoints of a
    # pose, and the smoothing carries it for some frames: measured over these 12 frames
    # (benchmarks/multi_noise.py's seam), onnxruntime and torch against litert give a
    # per-pose mean error up to 0.86-0.87 px (median over poses 0.05-0.06 px), and litert
    # against itself with its landmark outputs times 1 + N(0, 1e-6 or 1e-5) up to 0.23-1.04 px
    # (median 0.02-0.06 px), the largest keypoint error 2.2 % of the diagonal: the same on an
    # AMD EPYC (0.86 / 0.85 px). Bounds: twice the largest per-pose mean, four times the
    # median, and the one-cell flip.
    means = []
    for mine, theirs in zip(other, reference, strict=True):
        for (_, a), (_, b) in zip(mine, theirs, strict=True):
            error = np.abs(a[:, :2] - b[:, :2])  # pixels, in frames of 1280×720
            seen = (a[:, 3] >= 0.5) & (b[:, 3] >= 0.5)
            diagonal = np.hypot(*(b[:, :2].max(0) - b[:, :2].min(0)))
            means.append(error.mean())
            assert error.mean() < 2.0
            assert error[seen].max() < 0.03 * diagonal
    assert np.median(means) < 0.25
