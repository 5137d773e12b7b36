"""Camera-space 3D: intrinsics, the translation solver, the smoother, to_camera_space.

Synthetic scenes use real world skeletons (MediaPipe's world landmarks for the shared squat
clip) placed at known translations and projected with a known camera.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from hifipose.camera import (
    CAMERA_COLUMNS,
    CameraSpec,
    Intrinsics,
    TranslationSmoother,
    camera_row_values,
    solve_translation,
    to_camera_space,
)
from hifipose.errors import ConfigError
from hifipose.pose import FrameResult, Pose
from tests.conftest import CountingMask

CAMERA = Intrinsics.from_fov(1920, 1080, hfov_deg=60.0)


@pytest.fixture(scope="module")
def skeletons(shared_data) -> np.ndarray:
    """(65, 33, 3) real world skeletons in metres."""
    data = json.loads((shared_data / "tfjs_golden" / "pose_squats_3d.full.json").read_text())
    return np.asarray(data, dtype=np.float64)


def scenes(skeletons: np.ndarray, count: int, seed: int = 0):
    """(world, t) pairs: depth uniform in 1.5–8 m, hips anywhere the whole body stays in view."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        world = skeletons[rng.integers(len(skeletons))]
        z = rng.uniform(1.5, 8.0)
        t = np.array([rng.uniform(-0.4, 0.4) * z, rng.uniform(-0.2, 0.2) * z, z])
        xy = CAMERA.project(world + t)
        if ((xy >= 0) & (xy < (1920, 1080))).all():
            out.append((world, t))
    return out


def test_intrinsics_constructors_agree():
    by_fov = Intrinsics.from_fov(1920, 1080, hfov_deg=90.0)
    assert by_fov.fx == pytest.approx(960.0)
    assert by_fov.cx, by_fov.cy == (960.0, 540.0)
    vfov = 2 * math.degrees(math.atan(540 / by_fov.fy))
    assert Intrinsics.from_fov(1920, 1080, vfov_deg=vfov).fx == pytest.approx(960.0)
    assert Intrinsics.from_matrix(by_fov.matrix, 1920, 1080) == by_fov
    # 35 mm equivalent: a 36 mm-wide frame with a 18 mm lens sees 90° across (3:2 image)
    assert Intrinsics.from_35mm(18.0, 1500, 1000).fx == pytest.approx(750.0)
    default = Intrinsics.default(640, 480)
    assert (default.fx, default.fy, default.cx, default.cy) == (640, 640, 320, 240)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: Intrinsics.from_fov(640, 480), "exactly one"),
        (lambda: Intrinsics.from_fov(640, 480, hfov_deg=180.0), "between 0 and 180"),
        (lambda: Intrinsics.from_matrix(np.eye(2), 640, 480), "3x3"),
        (lambda: Intrinsics(0.0, 1.0, 0.0, 0.0, 640, 480), "positive"),
        (lambda: Intrinsics.from_35mm(-1.0, 640, 480), "positive"),
    ],
)
def test_bad_intrinsics_are_config_errors(call, match):
    with pytest.raises(ConfigError, match=match):
        call()


def test_camera_spec_from_file(tmp_path):
    path = tmp_path / "k.json"
    path.write_text(
        json.dumps({"width": 1920, "height": 1080, "camera_matrix": CAMERA.matrix.tolist()})
    )
    spec = CameraSpec.from_file(path)
    assert spec.for_size(1920, 1080) == CAMERA
    with pytest.raises(ConfigError, match="1920x1080"):
        spec.for_size(1280, 720)
    path.write_text(json.dumps({"width": 1920, "height": 1080, "fx": 1, "fy": 2, "cx": 3, "cy": 4}))
    assert CameraSpec.from_file(path).for_size(1920, 1080).fy == 2
    path.write_text(json.dumps({"hfov_deg": 60}))
    assert CameraSpec.from_file(path).for_size(1920, 1080) == CAMERA
    path.write_text(json.dumps({"width": 10}))
    with pytest.raises(ConfigError, match="camera_matrix"):
        CameraSpec.from_file(path)
    with pytest.raises(ConfigError, match="cannot read"):
        CameraSpec.from_file(tmp_path / "missing.json")


@pytest.mark.parametrize("method", ["linear", "pnp"])
def test_noiseless_translation_is_exact(skeletons, method):
    for world, t in scenes(skeletons, 50):
        fit = solve_translation(world, CAMERA.project(world + t), CAMERA, method=method)
        assert fit is not None
        t_hat, camera = fit
        assert np.abs(t_hat - t).max() < 1e-6
        assert np.abs(camera - (world + t)).max() < 1e-6


def test_two_pixel_noise_costs_under_two_percent_of_depth(skeletons):
    rng = np.random.default_rng(1)
    rel_lin, rel_pnp, gap = [], [], []
    for world, t in scenes(skeletons, 300, seed=2):
        xy = CAMERA.project(world + t) + rng.normal(0.0, 2.0, (33, 2))
        t_lin = solve_translation(world, xy, CAMERA, method="linear")[0]
        t_pnp = solve_translation(world, xy, CAMERA, method="pnp")[0]
        rel_lin.append(np.linalg.norm(t_lin - t) / t[2])
        rel_pnp.append(np.linalg.norm(t_pnp - t) / t[2])
        gap.append(np.linalg.norm(t_lin - t_pnp) / t[2])
    assert np.median(rel_lin) <= 0.02
    assert np.median(rel_pnp) <= 0.02
    # the two methods agree within the noise: their gap is no larger than PnP's own error
    assert np.median(gap) <= np.median(rel_pnp)


def test_points_under_the_visibility_threshold_are_ignored(skeletons):
    world, t = scenes(skeletons, 1, seed=3)[0]
    xy = CAMERA.project(world + t)
    image = np.ones((33, 5))
    image[:, :2] = xy
    hidden = [13, 15, 17, 19, 21, 25, 27]
    image[hidden, :2] += 400.0  # wildly wrong 2D ...
    image[hidden, 3] = 0.3  # ... but flagged as not visible
    pose = Pose(image, world, score=1.0)
    out = to_camera_space(FrameResult(0, 0.0, (1920, 1080), (pose,)), CAMERA, rigid=True).poses[0]
    assert out.camera_array_m is not None
    np.testing.assert_allclose(out.camera_array_m, world + t, atol=1e-5)  # float32 storage
    # and counted, they would have pulled the answer far away
    image[hidden, 3] = 1.0
    bad = to_camera_space(
        FrameResult(0, 0.0, (1920, 1080), (Pose(image, world, 1.0),)), CAMERA, rigid=True
    )
    assert np.abs(bad.poses[0].camera_array_m - (world + t)).max() > 0.05


def test_too_few_points_or_a_wrong_size_give_none_or_an_error(skeletons):
    world, t = scenes(skeletons, 1, seed=4)[0]
    weights = np.zeros(33)
    weights[:3] = 1.0
    assert solve_translation(world, CAMERA.project(world + t), CAMERA, weights=weights) is None
    image = np.zeros((33, 5))  # visibility 0 everywhere: no camera space, the pose is kept
    result = FrameResult(0, 0.0, (1920, 1080), (Pose(image, world, 1.0),))
    assert to_camera_space(result, CAMERA).poses[0].camera_array_m is None
    with pytest.raises(ConfigError, match="1280x720"):
        to_camera_space(FrameResult(0, 0.0, (1280, 720), ()), CAMERA)
    with pytest.raises(ConfigError, match="unknown camera-space method"):
        solve_translation(world, CAMERA.project(world + t), CAMERA, method="dlt")  # type: ignore[arg-type]


def test_smoother_is_per_track_and_forgets_absent_tracks():
    smoother = TranslationSmoother()
    still = np.array([0.0, 0.0, 3.0])
    rng = np.random.default_rng(5)
    raw, smooth = [], []
    for i in range(60):
        noisy = still + rng.normal(0, 0.05, 3)
        out = smoother.smooth({1: noisy, 2: still * 2}, timestamp_ms=i * 33.3)
        raw.append(noisy[2])
        smooth.append(out[1][2])
        np.testing.assert_allclose(out[2], still * 2)  # track 2 is not disturbed by track 1
    assert np.std(np.diff(smooth)) < 0.5 * np.std(np.diff(raw))
    # track 1 leaves for a frame, then comes back 2 m further: no glide from the old place
    smoother.smooth({2: still * 2}, timestamp_ms=61 * 33.3)
    back = smoother.smooth({1: still + np.array([0, 0, 2.0])}, timestamp_ms=62 * 33.3)
    np.testing.assert_allclose(back[1], still + np.array([0, 0, 2.0]))


def test_camera_row_values_follow_the_columns(skeletons):
    assert len(CAMERA_COLUMNS) == 99
    assert CAMERA_COLUMNS[:3] == ("nose_cam_x", "nose_cam_y", "nose_cam_z")
    world = skeletons[0]
    pose = Pose(np.ones((33, 5)), world, 1.0, camera_array_m=world + np.array([0, 0, 3]))
    row = camera_row_values(pose)
    assert row[2] == pytest.approx(world[0, 2] + 3, abs=1e-6)
    assert camera_row_values(None) == [None] * 99
    assert pose.to_dict()["camera_m"][0][2] == pytest.approx(row[2])


def test_keypoints_sit_on_their_2d_rays_at_the_world_depth(skeletons):
    rng = np.random.default_rng(6)
    world, t = scenes(skeletons, 1, seed=6)[0]
    image = np.ones((33, 5))
    image[:, :2] = CAMERA.project(world + t) + rng.normal(0, 5.0, (33, 2))  # model disagreement
    result = FrameResult(0, 0.0, (1920, 1080), (Pose(image, world, 1.0),))
    on_rays = to_camera_space(result, CAMERA).poses[0].camera_array_m
    rigid = to_camera_space(result, CAMERA, rigid=True).poses[0].camera_array_m
    np.testing.assert_allclose(CAMERA.project(on_rays), image[:, :2], atol=1e-3)
    np.testing.assert_allclose(on_rays[:, 2], rigid[:, 2])
    assert np.abs(CAMERA.project(rigid) - image[:, :2]).mean() > 1.0


def test_smoothing_steadies_depth_without_lagging_behind_the_video(skeletons):
    """A person walking sideways at 1.5 m/s, seen at 5 fps: the skeleton stays on them."""
    smoother = TranslationSmoother()
    for rigid in (False, True):
        smoother.reset()
        for i in range(20):
            world = skeletons[i]
            t = np.array([-1.5 + 0.3 * i, 0.2, 4.0])  # 0.3 m per 200 ms frame
            image = np.ones((33, 5))
            image[:, :2] = CAMERA.project(world + t)
            result = FrameResult(i, i * 200.0, (1920, 1080), (Pose(image, world, 1.0),))
            camera = to_camera_space(result, CAMERA, smoother, rigid=rigid).poses[0].camera_array_m
            assert np.abs(CAMERA.project(camera) - image[:, :2]).max() < 0.05, (rigid, i)


def test_camera_space_leaves_a_lazy_mask_unread(skeletons):
    world, t = scenes(skeletons, 1, seed=3)[0]
    image = np.ones((33, 5))
    image[:, :2] = CAMERA.project(world + t)
    mask = CountingMask((1920, 1080))
    result = FrameResult(0, 0.0, (1920, 1080), (Pose(image, world, 1.0, segmentation=mask),))
    (pose,) = to_camera_space(result, CAMERA).poses
    assert pose.camera_array_m is not None
    assert mask.reads == []  # no 1920×1080 array made for a pose nobody drew
    assert pose.segmentation_at((192, 108)) is not None and mask.reads == [(192, 108)]
