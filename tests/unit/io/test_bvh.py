"""BVH export: parsed by an independent reader (the `bvh` package), checked by forward kinematics.

The skeletons are MediaPipe's own world landmarks for the shared squat clip (65 frames).
"""

from __future__ import annotations

import json

import bvh
import numpy as np
import pytest

from hifipose.errors import ConfigError, OutputError
from hifipose.io import open_writer
from hifipose.io.writers.bvh import JOINTS, POINTS, BvhWriter, bvh_text
from hifipose.pose import FrameResult, Pose
from hifipose.topology import Kp
from hifipose_dev.bvh_fk import forward_kinematics, rigid_floor_cm
from tests.tolerances import BVH_FK_MAX_MEAN_CM, BVH_FK_OVER_FLOOR_CM


@pytest.fixture(scope="module")
def squat_world(shared_data) -> np.ndarray:
    data = json.loads((shared_data / "tfjs_golden" / "pose_squats_3d.full.json").read_text())
    return np.asarray(data, dtype=np.float64)


def joint_targets(camera_m: np.ndarray) -> dict[str, np.ndarray]:
    """Where each joint should be, in BVH space (cm, Y-up), from (F, 33, 3) camera metres."""
    cm = camera_m * np.array([100.0, -100.0, -100.0])
    return {j.name: cm[:, list(POINTS[j.at])].mean(axis=1) for j in JOINTS}


def fk_errors_cm(text: str, camera_m: np.ndarray) -> dict[str, np.ndarray]:
    """Per joint, per frame: the distance (cm) from the file's FK to the keypoints."""
    positions = forward_kinematics(bvh.Bvh(text))
    targets = joint_targets(camera_m)
    return {name: np.linalg.norm(positions[name] - targets[name], axis=-1) for name in targets}


def floor_cm(camera_m: np.ndarray) -> dict[str, np.ndarray]:
    """Per joint, per frame: the error of the best symmetric constant-length skeleton."""
    parents = {j.name: j.parent for j in JOINTS}
    return rigid_floor_cm(joint_targets(camera_m), parents, symmetric=True)


def means(errors: dict[str, np.ndarray]) -> dict[str, float]:
    return {name: float(e.mean()) for name, e in errors.items()}


def test_reader_parses_the_rig_and_fk_reproduces_the_keypoints(squat_world):
    root = squat_world[:, [23, 24]].mean(axis=1) + np.array([0.3, -0.1, 3.0])
    text = bvh_text(squat_world, np.ones(squat_world.shape[:2]), 0.2, root)
    mocap = bvh.Bvh(text)
    assert mocap.nframes == len(squat_world)
    assert mocap.frame_time == pytest.approx(0.2)
    assert mocap.get_joints_names() == [j.name for j in JOINTS]
    assert mocap.joint_channels("Hips")[:3] == ["Xposition", "Yposition", "Zposition"]
    # offsets are symmetric: the left arm's bones mirror the right arm's
    left, right = (
        np.array(mocap.joint_offset("LeftForeArm")),
        np.array(mocap.joint_offset("RightForeArm")),
    )
    np.testing.assert_allclose(left, right * (-1, 1, 1))
    # FK from offsets + channels lands on the keypoints moved to the root
    camera = squat_world + (root - squat_world[:, [23, 24]].mean(axis=1))[:, None]
    errors = means(fk_errors_cm(text, camera))
    floor = means(floor_cm(camera))
    assert errors["Hips"] < 1e-3  # the root is placed exactly
    mean = np.mean(list(errors.values()))
    # fixed offsets cannot follow the keypoints' bone lengths, which change from frame to
    # frame: FK stays near the best any fixed-length skeleton can do
    assert mean <= BVH_FK_MAX_MEAN_CM
    assert mean <= np.mean(list(floor.values())) + BVH_FK_OVER_FLOOR_CM
    assert max(errors.values()) <= 5.0
    frames = np.array(mocap.frames, dtype=np.float64)
    assert np.abs(np.diff(frames[:, 3:], axis=0)).max() < 180.0


def test_fk_is_exact_when_bone_lengths_do_not_change():
    """A rigid, left-right symmetric body moved by known rotations: FK lands on every joint."""
    rng = np.random.default_rng(0)
    base = rng.normal(0, 0.3, (33, 3))
    base[[kp for kp in Kp if kp.name.startswith("LEFT_")]] = base[
        [Kp[kp.name.replace("LEFT_", "RIGHT_")] for kp in Kp if kp.name.startswith("LEFT_")]
    ] * (-1, 1, 1)  # symmetric, so averaging left and right changes no length
    frames = []
    for angle in np.linspace(0, 2 * np.pi, 40):  # a full turn about the vertical: Euler wraps
        c, s = np.cos(angle), np.sin(angle)
        frames.append(base @ np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]).T)
    world = np.stack(frames)
    text = bvh_text(world, np.ones(world.shape[:2]), 1 / 30)
    errors = means(fk_errors_cm(text, world))
    assert max(errors.values()) < 1e-3, errors
    channels = np.array(bvh.Bvh(text).frames, dtype=np.float64)[:, 3:]
    assert np.abs(np.diff(channels, axis=0)).max() < 30.0  # 9° per frame, unwrapped


def make_pose(world: np.ndarray, track_id: int | None, camera: np.ndarray | None = None) -> Pose:
    image = np.ones((33, 5))
    return Pose(image, world, 1.0, track_id=track_id, camera_array_m=camera)


def test_one_file_per_track_each_spanning_its_frames(tmp_path, squat_world):
    path = tmp_path / "take.bvh"
    with open_writer(path) as writer:
        assert isinstance(writer, BvhWriter)
        for i, world in enumerate(squat_world[:20]):
            poses = [make_pose(world, 1, world + np.array([0, 0, 3.0]))]
            if 5 <= i < 12 and i != 8:  # track 2 appears at 5, misses frame 8, leaves at 12
                poses.append(make_pose(world, 2))
            writer.write(FrameResult(i, i * 200.0, (640, 480), tuple(poses)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["take.1.bvh", "take.2.bvh"]
    one = bvh.Bvh((tmp_path / "take.1.bvh").read_text())
    two = bvh.Bvh((tmp_path / "take.2.bvh").read_text())
    assert (one.nframes, two.nframes) == (20, 7)
    assert one.frame_time == pytest.approx(0.2)
    # track 1's root is its camera-space mid-hip: z = 3 m in front → BVH Z = −300 cm
    root_z = np.array(one.frames, dtype=np.float64)[:, 2]
    expected = -100 * (squat_world[:20, [23, 24], 2].mean(axis=1) + 3.0)
    np.testing.assert_allclose(root_z, expected, atol=1e-3)
    # the missing frame 8 repeats frame 7
    assert two.frames[3] == two.frames[2]


def test_single_track_writes_the_named_file(tmp_path, squat_world):
    path = tmp_path / "take.bvh"
    with BvhWriter(path) as writer:
        for i, world in enumerate(squat_world[:3]):
            writer.write(FrameResult(i, i * 33.3, (640, 480), (make_pose(world, None),)))
    assert [p.name for p in tmp_path.iterdir()] == ["take.bvh"]
    # images without timestamps (all 0 ms) still get a usable frame time
    with BvhWriter(path) as writer:
        for i, world in enumerate(squat_world[:3]):
            writer.write(FrameResult(i, 0.0, (640, 480), (make_pose(world, None),)))
    assert bvh.Bvh(path.read_text()).frame_time == pytest.approx(1 / 30, abs=1e-6)


def test_bad_input_gets_typed_errors_and_publishes_nothing(tmp_path, squat_world):
    writer = BvhWriter(tmp_path / "empty.bvh")
    writer.write(FrameResult(0, 0.0, (640, 480), ()))
    with pytest.raises(OutputError, match="no pose"):
        writer.close()
    two_untracked = (make_pose(squat_world[0], None), make_pose(squat_world[1], None))
    with pytest.raises(ConfigError, match="track ids"):
        BvhWriter(tmp_path / "x.bvh").write(FrameResult(0, 0.0, (640, 480), two_untracked))
    with pytest.raises(RuntimeError), BvhWriter(tmp_path / "aborted.bvh") as writer:
        writer.write(FrameResult(0, 0.0, (640, 480), (make_pose(squat_world[0], 1),)))
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []


def _write_take(path, squat_world, track_ids, frames=3):
    with BvhWriter(path) as writer:
        for i, world in enumerate(squat_world[:frames]):
            poses = tuple(make_pose(world, t) for t in track_ids)
            writer.write(FrameResult(i, i * 40.0, (640, 480), poses))
    return writer


def test_a_rerun_replaces_the_earlier_runs_files_and_says_which_it_wrote(tmp_path, squat_world):
    """`-o take.bvh` used to leave take.N.bvh of earlier runs beside this run's files."""
    path = tmp_path / "take.bvh"
    first = _write_take(path, squat_world, (1, 2, 3))
    assert first.written == tuple(tmp_path / f"take.{i}.bvh" for i in (1, 2, 3))
    assert first.removed == ()
    for name in ("take.notes.bvh", "take.1.bvh.bak", "other.bvh", "take.txt", "take.x.bvh"):
        (tmp_path / name).write_text("not ours")
    second = _write_take(path, squat_world, (2, 5))
    assert second.written == (tmp_path / "take.2.bvh", tmp_path / "take.5.bvh")
    assert second.removed == (tmp_path / "take.1.bvh", tmp_path / "take.3.bvh")
    single = _write_take(path, squat_world, (None,))
    assert single.written == (path,)
    assert set(single.removed) == {tmp_path / "take.2.bvh", tmp_path / "take.5.bvh"}
    again = _write_take(path, squat_world, (4, 9))
    assert path in again.removed
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "other.bvh",
        "take.1.bvh.bak",
        "take.4.bvh",
        "take.9.bvh",
        "take.notes.bvh",
        "take.txt",
        "take.x.bvh",
    ]
    # a run that fails replaces nothing
    with pytest.raises(OutputError, match="no pose"), BvhWriter(path) as writer:
        writer.write(FrameResult(0, 0.0, (640, 480), ()))
    assert sorted(p.name for p in tmp_path.iterdir()) == names


def test_a_track_seen_every_other_frame_keeps_the_videos_frame_time(tmp_path, squat_world):
    """Frame time is per frame of the video (gaps filled), not per sample of the track."""
    path = tmp_path / "take.bvh"
    with BvhWriter(path) as writer:
        for i, world in enumerate(squat_world[:21]):
            poses = [make_pose(world, 1)]
            if i % 2 == 0:  # track 2: frames 0, 2, 4, …, 20
                poses.append(make_pose(world, 2))
            writer.write(FrameResult(i, 1000.0 + i * 40.0, (640, 480), tuple(poses)))
    one = bvh.Bvh((tmp_path / "take.1.bvh").read_text())
    two = bvh.Bvh((tmp_path / "take.2.bvh").read_text())
    assert one.nframes == two.nframes == 21
    assert one.frame_time == pytest.approx(0.04) and two.frame_time == pytest.approx(0.04)
