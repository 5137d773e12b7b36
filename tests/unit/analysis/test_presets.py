"""Exercise presets and per-track live counting on synthetic world poses."""

from __future__ import annotations

import numpy as np
import pytest

from hifipose.analysis import PRESETS, ExerciseCounter, get_preset, tracks_from_results
from hifipose.analysis.report import analysis_table, analyze_tracks
from hifipose.errors import ConfigError
from hifipose.pose import FrameResult, Pose
from hifipose.topology import Kp


def squatting(flexion: float, track_id: int | None, visibility: float = 1.0) -> Pose:
    """A side-view person (metres, y down) whose knees bend by ``flexion`` degrees."""
    world = np.zeros((33, 3))
    phi = np.radians(flexion)
    for side in ("LEFT", "RIGHT"):
        world[Kp[f"{side}_HIP"]] = (0.0, 0.0, 0.0)
        world[Kp[f"{side}_KNEE"]] = (0.0, 0.45, 0.0)
        world[Kp[f"{side}_ANKLE"]] = (-0.45 * np.sin(phi), 0.45 + 0.45 * np.cos(phi), 0.0)
        world[Kp[f"{side}_SHOULDER"]] = (0.0, -0.5, 0.0)
    image = np.zeros((33, 5))
    image[:, :2] = world[:, :2] * 400 + 300
    image[:, 3:] = visibility
    return Pose(image, world, 0.9, track_id=track_id)


def test_presets_and_names() -> None:
    assert set(PRESETS) == {"squat", "push-up", "curl", "jumping-jack"}
    assert get_preset("Push_up") is PRESETS["push-up"]
    assert get_preset("jumping jack").angles == ("left_shoulder", "right_shoulder")
    with pytest.raises(ConfigError, match="unknown exercise"):
        get_preset("yoga")


def test_live_counts_follow_track_ids_not_list_order() -> None:
    counter = ExerciseCounter(get_preset("squat"))
    # Person 1 squats twice, person 2 once; their order in the list swaps every frame.
    one = [0, 40, 90, 100, 20, 5, 95, 10, 10, 10]
    two = [5, 5, 10, 80, 90, 85, 15, 10, 10, 10]
    results = []
    for i, (a, b) in enumerate(zip(one, two, strict=True)):
        poses = [squatting(a, 1), squatting(b, 2)]
        poses = poses if i % 2 else poses[::-1]
        answers = counter.update(poses)
        assert [x.track_id for x in answers] == [p.track_id for p in poses]
        results.append(FrameResult(i, i * 100.0, (640, 480), tuple(poses)))
    assert counter.counts() == {1: 2, 2: 1}
    # The same from the whole tracks (what `hifipose analyze` does).
    analyses = analyze_tracks(tracks_from_results(results), preset=get_preset("squat"))
    assert [(a.track.track_id, a.reps.count if a.reps else None) for a in analyses] == [
        (1, 2),
        (2, 1),
    ]
    table = analysis_table(analyses, get_preset("squat"))
    assert table.column("squat_count").to_pylist()[:10] == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert table.num_rows == 20


def test_invisible_knees_count_nothing() -> None:
    counter = ExerciseCounter(get_preset("squat"))
    for flexion in (0, 100, 0, 100, 0):
        (answer,) = counter.update([squatting(flexion, None, visibility=0.2)])
        assert np.isnan(answer.value)
    assert counter.counts() == {None: 0}
