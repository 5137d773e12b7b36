"""The tracking scores of hifipose_dev.mot_metrics: CLEAR-MOT's matching keeps valid pairs."""

from __future__ import annotations

import numpy as np

from hifipose_dev.mot_metrics import score


def _person(pid: int, x: float, visible: float = 1.0) -> dict:
    points = np.stack([np.full(33, x), np.linspace(100.0, 500.0, 33)], axis=1)
    return {
        "id": pid,
        "keypoints": points.tolist(),
        "visible": (np.arange(33) < round(33 * visible)).tolist(),
        "box": [x - 100.0, 100.0, x + 100.0, 500.0],
    }


def _pose(x: float) -> np.ndarray:
    return np.stack([np.full(33, x), np.linspace(100.0, 500.0, 33)], axis=1)


def test_a_pose_as_close_to_two_people_stays_with_the_person_it_was_matched_to() -> None:
    # Person 1 walks behind person 2; on frame 1 the one pose (track 2) is a hair closer to
    # person 1, but it is still a valid match for person 2, whom track 2 followed.
    frames = [
        {"persons": [_person(1, 300.0), _person(2, 340.0)]},
        {"persons": [_person(1, 318.0, 0.6), _person(2, 340.0)]},
        {"persons": [_person(1, 300.0), _person(2, 340.0)]},
    ]
    predictions = [[(1, _pose(300.0)), (2, _pose(340.0))], [(2, _pose(328.0))]]
    predictions.append([(1, _pose(300.0)), (2, _pose(340.0))])
    scores = score(frames, predictions)
    assert scores.id_switches == 0, scores.switches
    assert scores.misses == 1  # person 1 on frame 1
    # Poses that are no longer valid matches of their person's last track go by error: a
    # real swap counts twice.
    apart = [{"persons": [_person(1, 300.0), _person(2, 600.0)]}] * 2
    swapped = score(
        apart, [[(1, _pose(300.0)), (2, _pose(600.0))], [(2, _pose(300.0)), (1, _pose(600.0))]]
    )
    assert swapped.id_switches == 2
    assert swapped.switches == ["frame 1: person 1 track 1 -> 2", "frame 1: person 2 track 2 -> 1"]
