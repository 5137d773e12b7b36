"""Named angles: Sports2D's conventions, right angles, rotation invariance, visibility, unwrap."""

from __future__ import annotations

import numpy as np
import pytest

from hifipose.analysis.angles import (
    ANGLES,
    LiveAngles,
    angle_series,
    joint_angle,
    normalize_angle_name,
)
from hifipose.errors import ConfigError
from hifipose.pose import Pose
from hifipose.topology import Kp


def side_view(knee_flexion: float = 0.0, elbow_flexion: float = 0.0) -> np.ndarray:
    """A stick figure facing the image's right (+x), y down, in pixels: (33, 2).

    Both legs bend the knee by ``knee_flexion`` degrees (shank back), both elbows by
    ``elbow_flexion`` (forearm forward and up), the feet at right angles to the shanks.
    """
    p = np.zeros((33, 2))
    hip = np.array([0.0, 0.0])
    knee = hip + np.array([0.0, 100.0])
    phi = np.radians(knee_flexion)
    shank = np.array([-np.sin(phi), np.cos(phi)])  # rotates backwards (−x) as the knee bends
    ankle = knee + 100 * shank
    toe_dir = np.array([shank[1], -shank[0]])  # perpendicular, pointing forward
    shoulder = hip + np.array([0.0, -120.0])
    elbow = shoulder + np.array([0.0, 60.0])
    theta = np.radians(elbow_flexion)
    wrist = elbow + 60 * np.array([np.sin(theta), np.cos(theta)])
    for s in ("LEFT", "RIGHT"):
        p[Kp[f"{s}_HIP"]] = hip
        p[Kp[f"{s}_KNEE"]] = knee
        p[Kp[f"{s}_ANKLE"]] = ankle
        p[Kp[f"{s}_HEEL"]] = ankle - 10 * toe_dir
        p[Kp[f"{s}_FOOT_INDEX"]] = ankle + 30 * toe_dir
        p[Kp[f"{s}_SHOULDER"]] = shoulder
        p[Kp[f"{s}_ELBOW"]] = elbow
        p[Kp[f"{s}_WRIST"]] = wrist
        p[Kp[f"{s}_INDEX"]] = wrist + 10 * (wrist - elbow) / 60
    return p


def as_world(points_px: np.ndarray) -> np.ndarray:
    world = np.zeros((*points_px.shape[:-1], 3))
    world[..., :2] = points_px / 100.0
    return world


def angles_both(points_px: np.ndarray, names: list[str]) -> tuple[dict, dict]:
    vis = np.ones((1, 33))
    image = angle_series(points_px[None], vis, names, space="image")
    world = angle_series(as_world(points_px)[None], vis, names, space="world")
    return image, world


def test_names_follow_sports2d() -> None:
    assert normalize_angle_name("Right knee") == "right_knee"
    assert ANGLES["right_knee"].points == ("right_ankle", "right_knee", "right_hip")
    assert (ANGLES["right_knee"].offset, ANGLES["right_knee"].scale) == (-180, 1)
    assert ANGLES["left_hip"].points == ("left_knee", "left_hip", "hip", "neck")
    assert (ANGLES["right_elbow"].offset, ANGLES["right_elbow"].scale) == (180, -1)
    assert ANGLES["trunk"].kind == "horizontal"
    assert "head" not in ANGLES  # Sports2D's head needs a head-top point BlazePose lacks
    with pytest.raises(ConfigError, match="unknown angle"):
        normalize_angle_name("tail")


@pytest.mark.parametrize("flexion", [0.0, 30.0, 90.0, 120.0])
def test_knee_and_elbow_flexion_in_both_spaces(flexion: float) -> None:
    pts = side_view(knee_flexion=flexion, elbow_flexion=flexion)
    names = ["right_knee", "left_knee", "right_elbow", "right_ankle", "right_hip"]
    image, world = angles_both(pts, names)
    for name in ("right_knee", "left_knee", "right_elbow"):
        assert image[name][0] == pytest.approx(flexion, abs=1e-6)
        assert world[name][0] == pytest.approx(flexion, abs=1e-6)
    for space in (image, world):  # a foot at right angles to the shank: neutral ankle
        assert space["right_ankle"][0] == pytest.approx(0.0, abs=1e-6)
        assert space["right_hip"][0] == pytest.approx(0.0, abs=1e-6)


def test_synthetic_right_angles_are_90_degrees_in_both_spaces() -> None:
    pts = side_view(knee_flexion=90.0, elbow_flexion=90.0)
    pts[Kp.RIGHT_KNEE] = pts[Kp.RIGHT_HIP] + [100.0, 0.0]  # thigh forward: hip flexed 90°
    image, world = angles_both(
        pts, ["right_hip", "right_elbow", "trunk", "right_forearm", "right_arm"]
    )
    for space in (image, world):
        assert space["right_hip"][0] == pytest.approx(90.0, abs=1e-6)
        assert space["right_elbow"][0] == pytest.approx(90.0, abs=1e-6)
        assert space["trunk"][0] == pytest.approx(90.0, abs=1e-6)  # upright trunk
        assert space["right_forearm"][0] == pytest.approx(0.0, abs=1e-6)  # pointing forward
        assert space["right_arm"][0] == pytest.approx(-90.0, abs=1e-6)  # hanging down


def test_world_angles_are_invariant_to_rotation() -> None:
    rng = np.random.default_rng(3)
    world = rng.normal(size=(5, 33, 3))
    vis = np.ones((5, 33))
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    rotation = q * np.sign(np.linalg.det(q))
    joints = [n for n, d in ANGLES.items() if len(d.points) > 2]
    before = angle_series(world, vis, joints, space="world", unwrap=False)
    after = angle_series(world @ rotation.T + [0.3, -1.0, 2.0], vis, joints, space="world")
    for name in joints:
        np.testing.assert_allclose(after[name], before[name], atol=1e-9)


def test_nan_below_the_visibility_threshold() -> None:
    pts = side_view(knee_flexion=45.0)
    image = np.zeros((33, 5))
    image[:, :2] = pts
    image[:, 3] = 0.9
    image[Kp.RIGHT_ANKLE, 3] = 0.3
    pose = Pose(image, as_world(pts), 1.0)
    assert np.isnan(joint_angle(pose, "right_knee"))
    assert np.isnan(joint_angle(pose, "right_knee", space="world"))
    assert joint_angle(pose, "left_knee") == pytest.approx(45.0, abs=1e-4)
    assert joint_angle(pose, "right_knee", min_visibility=0.2) == pytest.approx(45.0, abs=1e-4)
    image[Kp.LEFT_SHOULDER, 3] = 0.1  # one end of the neck midpoint
    assert np.isnan(joint_angle(Pose(image, as_world(pts), 1.0), "left_hip"))


def test_series_are_unwrapped() -> None:
    # A forearm turning steadily through the ±180° wrap: no jump in the series.
    turns = np.radians(np.arange(150.0, 211.0, 5.0))
    pts = np.zeros((turns.size, 33, 2))
    pts[:, Kp.RIGHT_ELBOW] = 0.0
    pts[:, Kp.RIGHT_WRIST, 0] = 50 * np.cos(turns)
    pts[:, Kp.RIGHT_WRIST, 1] = -50 * np.sin(turns)  # y down: counter-clockwise on screen
    vis = np.ones(pts.shape[:2])
    wrapped = angle_series(pts, vis, ["right_forearm"], unwrap=False)["right_forearm"]
    assert np.abs(np.diff(wrapped)).max() > 300  # the jump Sports2D#31 reports
    series = angle_series(pts, vis, ["right_forearm"])["right_forearm"]
    np.testing.assert_allclose(np.diff(series), 5.0, atol=1e-9)


def test_live_angles_match_the_series_of_each_track() -> None:
    """Frame by frame, per track_id: what angle_series gives over each whole track."""
    turns = np.radians(np.arange(150.0, 331.0, 5.0))  # through the wrap, twice over
    frames = []
    for i, turn in enumerate(turns):
        poses = []
        for track_id, sign in ((1, 1.0), (2, -1.0)):
            image = np.zeros((33, 5))
            image[:, 3] = 0.9
            image[Kp.RIGHT_WRIST, :2] = 50 * np.cos(turn), -50 * sign * np.sin(turn)
            image[Kp.RIGHT_KNEE, :2] = side_view(knee_flexion=i)[Kp.RIGHT_KNEE]
            if track_id == 2 and i % 7 == 3:
                image[Kp.RIGHT_WRIST, 3] = 0.1  # unseen: NaN, and the next frame unwraps on
            poses.append(Pose(image, as_world(image[:, :2]), 1.0, track_id=track_id))
        frames.append(poses)
    names = ["right_forearm", "Right knee"]
    live = LiveAngles(names)
    answers = [live.update(poses) for poses in frames]
    for k, track_id in enumerate((1, 2)):
        image = np.stack([poses[k].image_array for poses in frames])
        series = angle_series(image, image[:, :, 3], names)
        for name, values in series.items():
            got = [a[k][name] for a in answers]
            np.testing.assert_allclose(got, values, atol=1e-9, err_msg=f"{track_id} {name}")
    assert np.nanmax(np.abs(np.diff(series["right_forearm"]))) < 20  # unwrapped
    # without a track id (single images) nothing is unwrapped
    alone = LiveAngles(names)
    wrapped = [alone.update([Pose(f[0].image_array, f[0].world_array_m, 1.0)]) for f in frames]
    values = np.array([w[0]["right_forearm"] for w in wrapped])
    assert values.min() >= -180 and values.max() < 180
    assert np.abs(np.diff(values)).max() > 300
    with pytest.raises(ConfigError, match="unknown angle"):
        LiveAngles(["left_tail"])


def test_mirroring_for_a_person_seen_from_the_left() -> None:
    pts = side_view(knee_flexion=60.0)
    mirrored = pts * [-1.0, 1.0]
    vis = np.ones((1, 33))
    assert angle_series(mirrored[None], vis, ["right_knee"], side="left")["right_knee"][
        0
    ] == pytest.approx(60.0)
    assert angle_series(mirrored[None], vis, ["right_knee"], side="auto")["right_knee"][
        0
    ] == pytest.approx(60.0)
    assert angle_series(mirrored[None], vis, ["right_knee"])["right_knee"][0] == pytest.approx(
        -60.0
    )


def test_bad_input_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="shape"):
        angle_series(np.zeros((4, 17, 2)), np.ones((4, 17)))
    with pytest.raises(ConfigError, match="space"):
        angle_series(np.zeros((4, 33, 3)), np.ones((4, 33)), space="camera")  # type: ignore[arg-type]
