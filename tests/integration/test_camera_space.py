"""Camera space, BVH and Rerun on the real squat clip, through `hifipose track`.

Figures (depth range and jitter, reprojection, BVH FK error) go to the fidelity report.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import bvh
import numpy as np
import pytest

from hifipose.analysis import get_preset, read_tracks
from hifipose.camera import Intrinsics
from hifipose.cli import main
from tests.conftest import REPORT, clip_frames
from tests.integration.serve.helpers import stop_process_group
from tests.tolerances import BVH_FK_MAX_MEAN_CM, BVH_FK_OVER_FLOOR_CM
from tests.unit.io.test_bvh import fk_errors_cm, floor_cm, joint_targets, means
from tests.unit.io.test_rerun import read_rows, scalar_series

SQUATS = "tfjs_golden/pose_squats.mp4"
FOV = 50.0  # a phone's main camera held in portrait: about 50° across the short side
ANGLE_NAMES = ("left_knee", "right_knee", "trunk")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory, shared_data: Path, model_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("camera")
    common = ["--model", "full", "--model-dir", str(model_dir), "--quiet", "--fov", str(FOV)]
    for name in ("take.jsonl", "take.bvh", "run.rrd"):
        extra = ["--angles", ",".join(ANGLE_NAMES), "--count", "squat"] if name == "run.rrd" else []
        args = ["track", str(shared_data / SQUATS), "-o", str(out / name), *common, *extra]
        assert main(args) == 0
    return out


@pytest.fixture(scope="module")
def lines(outputs: Path) -> list[dict]:
    return [json.loads(x) for x in (outputs / "take.jsonl").read_text().splitlines()]


def test_camera_space_reprojects_onto_the_2d_keypoints(lines):
    width, height = lines[0]["width"], lines[0]["height"]
    k = Intrinsics.from_fov(width, height, hfov_deg=FOV)
    errors, depths = [], []
    for line in lines:
        pose = line["poses"][0]
        camera = np.array(pose["camera_m"])
        xy = np.array([[p["x"], p["y"]] for p in pose["keypoints"]])
        errors.append(np.linalg.norm(k.project(camera) - xy, axis=1).mean())
        depths.append(camera[[23, 24], 2].mean())
    depth = np.array(depths)
    step = np.abs(np.diff(depth))
    # jitter: the second difference's RMS / √6, which is the noise's σ for white noise
    jitter = np.sqrt(np.mean(np.diff(depth, 2) ** 2) / 6)
    REPORT.append(
        f"camera space, squat clip ({width}x{height}, hfov {FOV:g}°): reprojection "
        f"{np.mean(errors):.4f} px mean; hip depth {depth.min():.2f}–{depth.max():.2f} m, "
        f"frame-to-frame change {step.mean() * 100:.1f} cm mean, {step.max() * 100:.1f} cm max "
        f"(5 fps), jitter {jitter * 100:.2f} cm"
    )
    assert np.mean(errors) <= 0.5
    # the person squats in place: depth stays in a band and moves smoothly
    assert depth.min() > 1.0 and depth.max() < 6.0
    assert depth.max() - depth.min() < 0.25 * depth.mean()
    assert jitter < 0.01 * depth.mean()


def test_bvh_from_the_clip_parses_and_fk_matches(outputs, lines):
    text = (outputs / "take.bvh").read_text()
    mocap = bvh.Bvh(text)
    assert mocap.nframes == len(lines) == 65
    assert mocap.frame_time == pytest.approx(0.2, abs=1e-3)  # 5 fps container time
    world = np.array(
        [[[p["x"], p["y"], p["z"]] for p in ln["poses"][0]["keypoints3d"]] for ln in lines]
    )
    camera = np.array([ln["poses"][0]["camera_m"] for ln in lines])
    hips = [23, 24]
    # FK target: the world skeleton placed at the camera-space mid-hip (the root)
    placed = world + (camera[:, hips].mean(axis=1) - world[:, hips].mean(axis=1))[:, None]
    per_frame = fk_errors_cm(text, placed)
    errors, floor = means(per_frame), means(floor_cm(placed))
    # the hip joints sit beside the spine, not along a bone: their error is the pelvis's
    # change of shape, taken as measured; every other bone adds only its length change
    bounds = length_variation_bounds_cm(
        mocap, placed, measured={k: errors[k] for k in ("LeftUpLeg", "RightUpLeg")}
    )
    channels = np.array(mocap.frames, dtype=np.float64)[:, 3:]
    jump = np.abs(np.diff(channels, axis=0)).max()
    mean, floor_mean = np.mean(list(errors.values())), np.mean(list(floor.values()))
    p95 = np.percentile(np.concatenate(list(per_frame.values())), 95)
    REPORT.append(
        f"BVH, squat clip (hifipose, 5 fps): FK vs keypoints {mean:.2f} cm mean, {p95:.2f} cm "
        f"p95 over {len(errors)} joints (worst {max(errors, key=errors.get)} "
        f"{max(errors.values()):.2f} cm); floor (best symmetric fixed-length skeleton, "
        "rigid pelvis) "
        f"{floor_mean:.2f} cm mean; largest Euler step {jump:.1f}° per frame"
    )
    REPORT.append(
        "BVH per joint, FK / floor / length-change bound cm: "
        + ", ".join(
            f"{name} {errors[name]:.2f}/{floor[name]:.2f}/{bounds[name]:.2f}" for name in errors
        )
    )
    # bones point from where FK puts each joint to the next keypoint, so the only error left
    # is that fixed offsets cannot follow the per-frame bone lengths: per joint, at most the
    # summed mean length deviations along its chain, and in all near the floor
    for name, error in errors.items():
        assert error <= bounds[name] + 0.1, name
    assert mean <= BVH_FK_MAX_MEAN_CM
    assert mean <= floor_mean + BVH_FK_OVER_FLOOR_CM
    assert jump < 180.0


def length_variation_bounds_cm(
    mocap, placed: np.ndarray, measured: dict[str, float]
) -> dict[str, float]:
    """Per joint: Σ over the bones from the root of mean |length in frame − offset length|."""
    targets = joint_targets(placed)
    bounds: dict[str, float] = {}
    for name in mocap.get_joints_names():
        parent = mocap.joint_parent(name)
        if parent is None or name in measured:
            bounds[name] = measured.get(name, 0.0)
            continue
        lengths = np.linalg.norm(targets[name] - targets[parent.name], axis=-1)
        offset = np.linalg.norm(mocap.joint_offset(name))
        bounds[name] = bounds[parent.name] + float(np.abs(lengths - offset).mean())
    return bounds


def test_rrd_from_the_clip_has_every_frame(outputs, shared_data):
    rows = read_rows(outputs / "run.rrd")
    frames = len(clip_frames(shared_data / SQUATS))
    assert rows["/video", "EncodedImage"] == set(range(frames))
    assert rows["/poses/count", "Scalars"] == set(range(frames))
    (track,) = {entity for entity, _ in rows if entity.startswith("/video/pose/")}
    assert rows[track, "Points2D"] == set(range(frames))
    assert rows[track.replace("video", "camera"), "Points3D"] == set(range(frames))
    assert rows["/video", "Pinhole"] == {0}


def test_rrd_logs_the_angles_analyze_gives(outputs, shared_data):
    """`track -o run.rrd --angles … --count squat`: per frame, what `analyze` gives per track."""
    (track,) = read_tracks(outputs / "take.jsonl")
    expected = track.angles(ANGLE_NAMES)  # image space, as `analyze` and `track` default to
    expected["squat_signal"] = get_preset("squat").count(track)[0]
    frames = len(clip_frames(shared_data / SQUATS))
    assert len(track) == frames
    rows = read_rows(outputs / "run.rrd")
    assert {e for e, c in rows if e.startswith("/angles/") and c == "Scalars"} == {
        f"/angles/{track.track_id}/{name}" for name in expected
    }
    for name, values in expected.items():
        got = scalar_series(outputs / "run.rrd", f"/angles/{track.track_id}/{name}")
        assert sorted(got) == list(range(frames)), name
        # the .jsonl file rounds the keypoints: a few thousandths of a degree
        np.testing.assert_allclose([got[i] for i in range(frames)], values, atol=0.02)


def test_angles_need_a_rerun_output(tmp_path, shared_data, model_dir, capsys):
    common = [str(shared_data / SQUATS), "--model-dir", str(model_dir), "--quiet"]
    assert main(["track", *common, "-o", str(tmp_path / "k.jsonl"), "--angles", "trunk"]) == 1
    assert "--angles are logged to a Rerun recording" in capsys.readouterr().err
    assert main(["track", *common, "-o", str(tmp_path / "r.rrd"), "--angles", "tail"]) == 1
    assert "unknown angle 'tail'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # refused before any work: nothing written


def test_bvh_of_several_people_prints_the_files_written_and_replaces_older_ones(
    tmp_path, shared_data, model_dir, capsys
):
    """It used to print take.bvh, write take.N.bvh and keep take.N.bvh of earlier runs."""
    (tmp_path / "take.bvh").write_text("an earlier single-person run")
    (tmp_path / "take.7.bvh").write_text("an earlier run's person 7")
    (tmp_path / "take.notes.bvh").write_text("not hifipose's")
    clip = shared_data / "multi" / "crossing_squats.mp4"
    args = ["track", str(clip), "-o", str(tmp_path / "take.bvh"), "--num-poses", "3"]
    args += ["--max-frames", "4", "--model", "lite", "--model-dir", str(model_dir), "--quiet"]
    assert main(args) == 0
    out = capsys.readouterr().out
    written = sorted(p.name for p in tmp_path.glob("take.[0-9]*.bvh"))
    assert len(written) >= 2 and "take.7.bvh" not in written
    printed = [
        line.removeprefix("keypoints: ") for line in out.splitlines() if "keypoints:" in line
    ]
    assert printed == [str((tmp_path / name).resolve()) for name in written]
    assert "deleted an earlier run's files that these replace: take.7.bvh, take.bvh" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*written, "take.notes.bvh"])
    for name in written:
        assert bvh.Bvh((tmp_path / name).read_text()).nframes >= 2


def _rerun_binary() -> Path:
    """The native Rerun viewer/server: started directly, not through the `rerun` wrapper
    script (a Python process that runs it as a child and does not pass signals on)."""
    import rerun_cli

    binary = Path(rerun_cli.__file__).with_name("rerun")
    assert binary.is_file(), f"rerun-sdk ships no native binary at {binary}"
    return binary


@contextlib.contextmanager
def rerun_save_server(saved: Path) -> Iterator[int]:
    """A `rerun --save` server (no window) on a free loopback port; yields the port.

    It runs in a session of its own, and its whole process group is stopped at the end
    (SIGTERM: SIGINT is ignored by every process of a background job of a shell script, which
    the suite may be), then SIGKILL if anything lingers, and waited for, also when the test
    fails: nothing is left running.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(_rerun_binary()), "--port", str(port), "--save", str(saved)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:  # wait until it listens
            assert server.poll() is None, f"rerun exited early with code {server.returncode}"
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert time.monotonic() < deadline, "rerun --save did not listen within 60 s"
            time.sleep(0.1)
        yield port
    finally:
        stop_process_group(server, signal.SIGTERM)


def rows_once_saved(saved: Path, frames: int, timeout_s: float = 60) -> dict:
    """The rows of a file `rerun --save` is writing, once its video and pose count have
    ``frames`` frames each (or after ``timeout_s``)."""
    wanted = (("/video", "EncodedImage"), ("/poses/count", "Scalars"))
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            rows = read_rows(saved)
        except Exception:  # noqa: BLE001 - not written yet, or cut mid-message: read it again
            rows = {}
        done = all(len(rows.get(key, ())) >= frames for key in wanted)
        if done or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


@pytest.mark.filterwarnings("ignore:RRD file has no footer")  # `rerun --save` streams, no footer
def test_live_rerun_streams_every_frame_to_a_viewer(tmp_path, shared_data, model_dir):
    """`--rerun URL` logs to a running Rerun server (here `rerun --save`, no window)."""
    saved = tmp_path / "live.rrd"
    with rerun_save_server(saved) as port:
        url = f"rerun+http://127.0.0.1:{port}/proxy"
        args = ["track", str(shared_data / SQUATS), "--max-frames", "5", "--rerun", url]
        assert main([*args, "--model-dir", str(model_dir), "--quiet"]) == 0
        rows = rows_once_saved(saved, frames=5)
    assert rows["/video", "EncodedImage"] == set(range(5))
    assert rows["/poses/count", "Scalars"] == set(range(5))


@pytest.mark.parametrize(
    ("document", "needle"),
    [
        ('{"width": 360, "height": 640, "fx": 500, "fy": 500, "cx": NaN, "cy": 320}', "cx=nan"),
        ('{"width": 360, "height": 640, "camera_matrix": [[500, 0, 180], [0, 500, Infinity], '
         "[0, 0, 1]]}", "cy=inf"),
        ('{"hfov_deg": -5}', "between 0 and 180"),
    ],
)  # fmt: skip
def test_a_bad_intrinsics_file_is_a_one_line_error_before_any_work(
    tmp_path, shared_data, model_dir, capsys, *, document, needle
):
    """A NaN principal point used to end in an SVD LinAlgError traceback plus LAPACK lines."""
    intrinsics = tmp_path / "k.json"
    intrinsics.write_text(document)
    args = ["track", str(shared_data / SQUATS), "-o", str(tmp_path / "k.jsonl")]
    args += ["--intrinsics", str(intrinsics), "--model-dir", str(model_dir), "--quiet"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and str(intrinsics) in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.json"]
