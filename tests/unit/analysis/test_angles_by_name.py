"""Each angle from the landmarks its name says, at random positions, by hand; edges exactly.

The expected values are written out here from the conventions of
:mod:`hifipose.analysis.angles` with the landmarks named explicitly (never read from
``ANGLES``), on points scattered at random so that no two landmarks coincide: an angle that
used a wrong landmark (a shoulder for the neck, a heel for the ankle) cannot agree by chance.
"""

from __future__ import annotations

import numpy as np
import pytest

from hifipose.analysis.angles import angle_series
from hifipose.analysis.reps import hysteresis_counter
from hifipose.topology import KEYPOINT_NAMES


def _wrap(degrees: np.ndarray) -> np.ndarray:
    return np.mod(degrees + 180.0, 360.0) - 180.0


def _raw(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Sports2D's raw joint angle, image space: −atan2(u × v, u · v), degrees."""
    cross = u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]
    return -np.degrees(np.arctan2(cross, (u * v).sum(axis=1)))


@pytest.fixture(scope="module")
def points() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(24)
    xy = rng.uniform(0, 1000, (50, 33, 2))
    named = {name: xy[:, i] for i, name in enumerate(KEYPOINT_NAMES)}
    named["neck"] = (named["left_shoulder"] + named["right_shoulder"]) / 2
    named["hip"] = (named["left_hip"] + named["right_hip"]) / 2
    named["_all"] = xy
    return named


@pytest.mark.parametrize("side", ["left", "right"])
def test_each_angle_uses_the_landmarks_of_its_name(points, side: str) -> None:
    p = points
    got = angle_series(p["_all"], np.ones((50, 33)), None, unwrap=False)
    knee, ankle, hip = p[f"{side}_knee"], p[f"{side}_ankle"], p[f"{side}_hip"]
    elbow, wrist, shoulder = p[f"{side}_elbow"], p[f"{side}_wrist"], p[f"{side}_shoulder"]
    heel, toe, index = p[f"{side}_heel"], p[f"{side}_foot_index"], p[f"{side}_index"]
    trunk = p["neck"] - p["hip"]  # hip midpoint → neck midpoint

    def segment(first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """(first − second) against the image x axis, counter-clockwise on screen."""
        u = first - second
        return _wrap(-np.degrees(np.arctan2(u[:, 1], u[:, 0])))

    expected = {
        f"{side}_knee": _wrap(_raw(ankle - knee, hip - knee) - 180),  # 0 = straight
        f"{side}_elbow": _wrap(-(_raw(wrist - elbow, shoulder - elbow) + 180)),
        f"{side}_hip": _wrap(-_raw(hip - knee, trunk)),  # thigh against the trunk
        f"{side}_shoulder": _wrap(-_raw(shoulder - elbow, trunk)),  # upper arm, trunk
        f"{side}_ankle": _wrap(_raw(ankle - knee, heel - toe) + 90),  # shank against foot
        f"{side}_wrist": _wrap(_raw(elbow - wrist, index - wrist) - 180),
        f"{side}_thigh": segment(knee, hip),
        f"{side}_forearm": segment(wrist, elbow),
        "trunk": segment(p["neck"], p["hip"]),
    }
    for name, values in expected.items():
        np.testing.assert_allclose(got[name], values, atol=1e-9, err_msg=name)


def test_a_point_exactly_at_min_visibility_is_seen_and_just_below_is_not(points) -> None:
    visibility = np.ones((50, 33))
    knee = KEYPOINT_NAMES.index("left_knee")
    visibility[:, knee] = 0.5
    seen = angle_series(points["_all"], visibility, ["left_knee"], min_visibility=0.5)
    assert np.isfinite(seen["left_knee"]).all()
    visibility[:, knee] = np.nextafter(0.5, 0.0)
    unseen = angle_series(points["_all"], visibility, ["left_knee"], min_visibility=0.5)
    assert np.isnan(unseen["left_knee"]).all()


def test_repetition_thresholds_are_strict_at_both_edges() -> None:
    """Entering needs more than ``enter``; completing needs less than ``exit``."""
    assert hysteresis_counter([0, 75, 0], enter=75, exit=30).count == 0
    at_exit = hysteresis_counter([0, 76, 30, 30, 29.999, 50], enter=75, exit=30)
    assert [(e.start, e.end) for e in at_exit.events] == [(1, 4)]
    below = hysteresis_counter([90, 40, 40.001, 39], enter=40, exit=80, direction="below")
    assert below.count == 0 and below.in_rep  # entered at 39 only
    assert (
        hysteresis_counter([90, 39, 80, 80.5], enter=40, exit=80, direction="below").events[0].end
        == 3
    )
