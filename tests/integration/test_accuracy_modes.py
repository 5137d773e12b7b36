"""The accuracy modes (``refine_passes=2``, ``flip_tta``) in static and video mode, real models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import hifipose
from hifipose.topology import Kp
from tests import tolerances as tol
from tests.conftest import REPORT, clip_frames, read_rgb
from tests.integration.helpers import golden_errors, load_golden

SQUATS = "tfjs_golden/pose_squats.mp4"
MODES = {"refine_passes=2": {"refine_passes": 2}, "flip_tta": {"flip_tta": True}}


@pytest.mark.parametrize("mode", MODES)
def test_golden_image_within_tfjs_tolerances(mode: str, shared_data: Path, model_dir: Path) -> None:
    golden = load_golden(shared_data)
    with hifipose.create_detector(
        static_image_mode=True, enable_segmentation=True, model_dir=model_dir, **MODES[mode]
    ) as detector:
        (pose,) = detector.estimate_poses(golden.image)
    errors = golden_errors(pose, golden)
    REPORT.append(
        f"golden pose.jpg, full {mode}: max {errors.max_px:.1f} px, world "
        f"{errors.max_world_m:.3f} m, mask IoU {errors.mask_iou:.3f}"
    )
    assert errors.max_px <= tol.GOLDEN_FULL_MAX_PX
    assert errors.max_world_m <= tol.GOLDEN_FULL_MAX_WORLD_M
    assert errors.mask_iou >= tol.GOLDEN_FULL_MIN_MASK_IOU


def test_flip_tta_keeps_left_and_right(shared_data: Path, model_dir: Path) -> None:
    image = read_rgb(shared_data / "tfjs_golden" / "pose.jpg")  # arms spread: wrists far apart
    poses = {}
    for flip in (False, True):
        with hifipose.create_detector(
            static_image_mode=True, flip_tta=flip, model_dir=model_dir
        ) as detector:
            (poses[flip],) = detector.estimate_poses(image)
    plain, averaged = poses[False].image_array, poses[True].image_array
    for left, right in ((Kp.LEFT_WRIST, Kp.RIGHT_WRIST), (Kp.LEFT_ANKLE, Kp.RIGHT_ANKLE)):
        same = np.linalg.norm(averaged[left, :2] - plain[left, :2])
        other = np.linalg.norm(averaged[left, :2] - plain[right, :2])
        assert same < 0.1 * other, (left.name, same, other)


def test_flip_tta_really_averages_in_the_mirrored_crop(shared_data: Path, model_dir: Path) -> None:
    """The mirrored pass changes the pose, a little: averaging a view with itself would not."""
    image = read_rgb(shared_data / "tfjs_golden" / "pose.jpg")
    poses = {}
    for flip in (False, True):
        with hifipose.create_detector(
            static_image_mode=True, flip_tta=flip, model_dir=model_dir
        ) as detector:
            (poses[flip],) = detector.estimate_poses(image)
    plain, averaged = poses[False].image_array[:, :2], poses[True].image_array[:, :2]
    box = poses[False].box
    diagonal = float(np.hypot(box.xmax - box.xmin, box.ymax - box.ymin))
    moved = np.linalg.norm(averaged - plain, axis=1)
    assert moved.mean() > 1e-4 * diagonal  # not the plain pose to the last bits
    assert moved.mean() < 0.05 * diagonal  # the same person's pose
    assert poses[True].score != poses[False].score


def test_second_pass_runs_on_a_tracks_first_frame_only(shared_data: Path, model_dir: Path) -> None:
    frames = clip_frames(shared_data / SQUATS)[:4]
    first: dict[str, np.ndarray] = {}
    for name, options in (("static", {"static_image_mode": True}), ("video", {})):
        with hifipose.create_detector(model_dir=model_dir, refine_passes=2, **options) as detector:
            first[name] = detector.estimate_poses(frames[0])[0].image_array
    with hifipose.create_detector(static_image_mode=True, model_dir=model_dir) as detector:
        one_pass = detector.estimate_poses(frames[0])[0].image_array
    # a track's first frame is the static two-pass pose (the filters pass a first value through)
    np.testing.assert_array_equal(first["video"], first["static"])
    assert np.abs(first["static"][:, :2] - one_pass[:, :2]).max() > 0.5  # the pass did run
    tracks = {}
    for passes in (1, 2):
        with hifipose.create_detector(model_dir=model_dir, refine_passes=passes) as detector:
            tracks[passes] = [detector.estimate_poses(f)[0].image_array for f in frames]
            assert detector.detector_runs == 1
    # later frames run one pass from the tracked ROI: they stay close to the one-pass track
    later = np.abs(np.stack(tracks[2][1:]) - np.stack(tracks[1][1:]))[..., :2].mean()
    assert later < 2.0


def test_modes_track_a_clip_and_several_people(shared_data: Path, model_dir: Path) -> None:
    frames = clip_frames(shared_data / SQUATS)
    both = {"refine_passes": 2, "flip_tta": True}
    with hifipose.create_detector(model_type="lite", model_dir=model_dir, **both) as detector:
        assert all(len(detector.estimate_poses(frame)) == 1 for frame in frames)
        assert detector.detector_runs == 1
    people = read_rgb(shared_data / "multi" / "three_people.jpg")
    counts = {}
    for name, options in (("default", {}), ("modes", both)):
        with hifipose.create_detector(
            static_image_mode=True, num_poses=3, model_dir=model_dir, **options
        ) as detector:
            counts[name] = len(detector.estimate_poses(people))
    assert counts["modes"] == counts["default"] == 3


def test_track_flags_reach_the_detector(tmp_path: Path, shared_data: Path, model_dir: Path) -> None:
    from hifipose.cli import main

    image = shared_data / "tfjs_golden" / "pose.jpg"
    xs = {}
    for compat in ("graph", "mediapipe-python"):
        out = tmp_path / f"{compat}.jsonl"
        args = ["track", str(image), "-o", str(out), "--compat", compat, "--quiet"]
        assert main([*args, "--model-dir", str(model_dir)]) == 0
        (pose,) = json.loads(out.read_text())["poses"]
        xs[compat] = np.array([k["x"] for k in pose["keypoints"]])
        with hifipose.create_detector(
            static_image_mode=True, compat=compat, model_dir=model_dir
        ) as detector:
            (expected,) = detector.estimate_poses(read_rgb(image))
        np.testing.assert_allclose(xs[compat], expected.image_array[:, 0], atol=1e-3)
    assert np.abs(xs["graph"] - xs["mediapipe-python"]).max() > 0.1  # the flag reached it
    out = tmp_path / "modes.jsonl"
    args = ["track", str(image), "-o", str(out), "--refine-passes", "2", "--flip-tta", "--quiet"]
    assert main([*args, "--model-dir", str(model_dir)]) == 0
    (pose,) = json.loads(out.read_text())["poses"]
    with hifipose.create_detector(
        static_image_mode=True, refine_passes=2, flip_tta=True, model_dir=model_dir
    ) as detector:
        (expected,) = detector.estimate_poses(read_rgb(image))
    got = np.array([k["x"] for k in pose["keypoints"]])
    np.testing.assert_allclose(got, expected.image_array[:, 0], atol=1e-3)
