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


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ((1000.0, 1000.0, math.nan, 540.0, 1920, 1080), "cx=nan"),
        ((1000.0, 1000.0, 960.0, math.inf, 1920, 1080), "cy=inf"),
        ((math.nan, 1000.0, 960.0, 540.0, 1920, 1080), "fx=nan"),
        ((1000.0, -1.0, 960.0, 540.0, 1920, 1080), "positive"),
        ((1000.0, 1000.0, 960.0, 540.0, 1920.5, 1080), "whole number"),
        ((1000.0, 1000.0, 960.0, 540.0, 1920, math.nan), "whole number"),
        ((1000.0, 1000.0, "960", 540.0, 1920, 1080), "finite numbers"),
    ],
)
def test_intrinsics_refuse_values_that_are_not_finite_numbers(values, match):
    """A NaN principal point used to pass, then fail deep in the SVD (LinAlgError)."""
    with pytest.raises(ConfigError, match=match):
        Intrinsics(*values)


@pytest.mark.parametrize(
    "matrix",
    [
        [[1000, 0, math.nan], [0, 1000, 540], [0, 0, 1]],
        [[1000, 0, 960], [0, math.inf, 540], [0, 0, 1]],
        [[1000, 0, "x"], [0, 1000, 540], [0, 0, 1]],
        [[10**400, 0, 960], [0, 1000, 540], [0, 0, 1]],
        [[1000, 0], [0, 1000, 540], [0, 0, 1]],
    ],
)
def test_bad_camera_matrices_are_config_errors(matrix):
    with pytest.raises(ConfigError, match=r"finite|3x3"):
        Intrinsics.from_matrix(matrix, 1920, 1080)


@pytest.mark.parametrize(
    ("document", "match"),
    [
        ('{"width": 1920, "height": 1080, "fx": 1000, "fy": 1000, "cx": NaN, "cy": 540}', "cx"),
        (
            '{"width": 1920, "height": 1080, "camera_matrix": [[1e400, 0, 960], [0, 1, 540], '
            "[0, 0, 1]]}",
            "fx",
        ),
        (
            '{"width": 1e400, "height": 1080, "camera_matrix": [[1, 0, 1], [0, 1, 1], [0, 0, 1]]}',
            "whole number",
        ),
        (
            '{"width": 19200000000000000000000000000000000000000000000000000000000000000000000000'
            "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
            '000000000, "height": 1, "fx": 1, "fy": 1, "cx": 1, "cy": 1}',
            "out of range",
        ),
        ('{"width": "1920", "height": 1080, "fx": 1, "fy": 1, "cx": 1, "cy": 1}', "number"),
        ('{"width": true, "height": 1080, "fx": 1, "fy": 1, "cx": 1, "cy": 1}', "number"),
        ('{"hfov_deg": NaN}', "between 0 and 180"),
        ('{"hfov_deg": 200}', "between 0 and 180"),
        ('{"focal_35mm": Infinity}', "positive and finite"),
        ('{"hfov_deg": 5e-324}', "too narrow"),  # found by fuzzing: ZeroDivisionError
        ('{"hfov_deg": [60]}', "number"),
        ("[1, 2]", "JSON object"),
    ],
)
def test_bad_intrinsics_files_are_config_errors_naming_the_value(tmp_path, document, match):
    path = tmp_path / "k.json"
    path.write_text(document)
    with pytest.raises(ConfigError, match=match) as caught:
        CameraSpec.from_file(path).for_size(1920, 1080)
    assert str(path) in str(caught.value)


def test_camera_spec_refuses_bad_values_when_made():
    with pytest.raises(ConfigError, match="between 0 and 180"):
        CameraSpec(hfov_deg=math.nan)
    with pytest.raises(ConfigError, match="at most one"):
        CameraSpec(hfov_deg=60.0, focal_35mm=26.0)


def test_non_square_pixels_place_the_skeleton_on_its_rays(skeletons):
    """fx != fy (anamorphic or resampled video): x uses fx and y uses fy, everywhere."""
    camera = Intrinsics(1500.0, 900.0, 1000.0, 500.0, 1920, 1080)
    world, t = skeletons[10], np.array([0.3, -0.2, 4.0])
    image = np.ones((33, 5))
    image[:, :2] = camera.project(world + t)
    # project() itself: u = fx X / Z + cx, v = fy Y / Z + cy, checked by hand for one point
    x, y, z = world[0] + t
    np.testing.assert_allclose(image[0, :2], (1500.0 * x / z + 1000.0, 900.0 * y / z + 500.0))
    fit = solve_translation(world, image[:, :2], camera)
    assert fit is not None
    np.testing.assert_allclose(fit[0], t, atol=1e-6)
    result = FrameResult(0, 0.0, (1920, 1080), (Pose(image, world, 1.0),))
    placed = to_camera_space(result, camera).poses[0].camera_array_m
    np.testing.assert_allclose(placed, world + t, atol=1e-4)


def test_a_placement_beyond_float32_is_no_placement(skeletons):
    """A focal length of 1e-40 px puts keypoints 1e41 m aside: None, not ±inf keypoints."""
    camera = Intrinsics(1e-40, 1e-40, 960.0, 540.0, 1920, 1080)
    image = np.ones((33, 5))
    image[:, :2] = CAMERA.project(skeletons[0] + (0.0, 0.0, 3.0))
    result = FrameResult(0, 0.0, (1920, 1080), (Pose(image, skeletons[0], 1.0),))
    with np.errstate(all="raise"):
        assert to_camera_space(result, camera).poses[0].camera_array_m is None


@pytest.mark.parametrize("method", ["linear", "pnp"])
@pytest.mark.parametrize(
    "values",
    [(1.0, 1.0, 0.0, 5.76e153), (500.0, 500.0, 320.0, 2.88e156), (1e300, 1e300, 1.0, 1.0)],
)
def test_intrinsics_near_floats_limits_give_no_placement_not_a_linalg_error(
    skeletons, values, method
):
    """Found by fuzzing: a principal point of 1e156 px overflowed into an SVD LinAlgError."""
    image = np.ones((33, 5))
    image[:, :2] = CAMERA.project(skeletons[0] + (0.0, 0.0, 3.0))
    result = FrameResult(0, 0.0, (1920, 1080), (Pose(image, skeletons[0], 1.0),))
    camera = Intrinsics(*values, 1920, 1080)
    assert to_camera_space(result, camera, method=method).poses[0].camera_array_m is None
