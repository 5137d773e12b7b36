"""The `hifipose` command on real clips and images, every output format read back."""

from __future__ import annotations

import csv
import itertools
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pyarrow.parquet as pq
import pytest

from hifipose import FrameResult, create_detector
from hifipose.camera import CAMERA_COLUMNS, Intrinsics, TranslationSmoother, to_camera_space
from hifipose.cli import main
from hifipose.io import open_source, read_poses
from hifipose.io.writers import COLUMNS
from hifipose.models import HOLISTIC_SPECS, MODEL_SPECS
from hifipose.topology import KEYPOINT_NAMES
from tests.conftest import clip_frames

SQUATS = "tfjs_golden/pose_squats.mp4"
FORMATS = (".jsonl", ".csv", ".parquet", ".json")


@pytest.fixture(scope="module")
def squat_outputs(
    tmp_path_factory: pytest.TempPathFactory, shared_data: Path, model_dir: Path
) -> Path:
    out = tmp_path_factory.mktemp("cli")
    for suffix in FORMATS:
        args = [
            "track",
            str(shared_data / SQUATS),
            "-o",
            str(out / f"k{suffix}"),
            "--model",
            "lite",
        ]
        args += ["--model-dir", str(model_dir), "--quiet"]
        if suffix == ".jsonl":
            args += ["--render", str(out / "overlay.mp4")]
        assert main(args) == 0
    return out


def test_jsonl(squat_outputs: Path, shared_data: Path) -> None:
    lines = [json.loads(x) for x in (squat_outputs / "k.jsonl").read_text().splitlines()]
    assert len(lines) == len(clip_frames(shared_data / SQUATS)) == 65
    assert all(len(line["poses"]) == 1 for line in lines)
    stamps = [line["timestamp_ms"] for line in lines]
    assert stamps[0] == 0.0
    assert all(b > a for a, b in itertools.pairwise(stamps))
    assert stamps[1] == pytest.approx(200.0, abs=1.0)  # 5 fps container time, not a counter
    pose = lines[0]["poses"][0]
    assert [k["name"] for k in pose["keypoints"]] == list(KEYPOINT_NAMES)
    assert all(0 <= k["x"] <= 720 and 0 <= k["y"] <= 1280 for k in pose["keypoints"][:25])
    assert all(abs(k["x"]) < 1.5 for k in pose["keypoints3d"])
    assert 0.5 < pose["score"] <= 1.0


def test_csv_and_parquet(squat_outputs: Path) -> None:
    with (squat_outputs / "k.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 65
    assert tuple(rows[0]) == COLUMNS
    assert all(0.0 <= float(r["nose_visibility"]) <= 1.0 for r in rows)
    assert {r["video_id"] for r in rows} == {"pose_squats"}
    assert rows[0]["source"].endswith("pose_squats.mp4")
    table = pq.read_table(squat_outputs / "k.parquet")
    assert table.num_rows == 65
    assert tuple(table.column_names) == COLUMNS
    assert table.column("frame").to_pylist() == list(range(65))
    assert table.column("left_hip_x").to_pylist()[0] == pytest.approx(
        float(rows[0]["left_hip_x"]), abs=1e-3
    )
    document = read_poses(squat_outputs / "k.parquet").schema.metadata[b"hifipose"]
    meta = json.loads(document)
    assert meta["complete"] is True
    assert meta["frames_read"] == meta["frames_declared"] == 65
    assert meta["options"]["model"] == "lite"
    assert len(meta["models"]["pose_landmark_lite"]) == 64


def test_coco(squat_outputs: Path) -> None:
    document = json.loads((squat_outputs / "k.json").read_text())
    entries = document["annotations"]
    assert len(entries) == 65
    assert [image["id"] for image in document["images"]] == list(range(65))
    assert document["images"][0]["file_name"].endswith("pose_squats.mp4")
    for entry in entries:
        assert {"image_id", "category_id", "keypoints", "score", "track_id"} <= set(entry)
        assert entry["category_id"] == 1
        assert len(entry["keypoints"]) == 17 * 3


def test_rendered_video_matches_the_input(squat_outputs: Path, shared_data: Path) -> None:
    source = cv2.VideoCapture(str(shared_data / SQUATS))
    rendered = cv2.VideoCapture(str(squat_outputs / "overlay.mp4"))
    for prop in (cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT, cv2.CAP_PROP_FRAME_COUNT):
        assert rendered.get(prop) == source.get(prop)
    assert rendered.get(cv2.CAP_PROP_FPS) == pytest.approx(source.get(cv2.CAP_PROP_FPS), abs=0.01)
    # Every frame, in order: each overlay frame (drawn and encoded on the writer's thread)
    # is closest to the input frame of its own index.
    inputs = np.stack([f[::4, ::4] for f in clip_frames(shared_data / SQUATS)]).astype(np.int16)
    overlay = [cv2.cvtColor(f, cv2.COLOR_BGR2RGB)[::4, ::4] for f in _frames(rendered)]
    assert len(overlay) == len(inputs)
    nearest = [int(np.abs(inputs - frame).mean(axis=(1, 2, 3)).argmin()) for frame in overlay]
    assert nearest == list(range(len(inputs)))


def _frames(capture: cv2.VideoCapture) -> list[np.ndarray]:
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            return frames
        frames.append(frame)


def test_image_and_folder_inputs(tmp_path: Path, shared_data: Path, model_dir: Path) -> None:
    image = shared_data / "tfjs_golden" / "pose.jpg"
    out = tmp_path / "one.jsonl"
    assert (
        main(["track", str(image), "-o", str(out), "--model-dir", str(model_dir), "--quiet"]) == 0
    )
    (line,) = out.read_text().splitlines()
    assert len(json.loads(line)["poses"]) == 1
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"{i}.jpg"), cv2.imread(str(image)))
    pngs = tmp_path / "pngs"
    args = ["track", str(folder), "-o", str(tmp_path / "f.csv"), "--render", str(pngs)]
    assert main([*args, "--model-dir", str(model_dir), "--quiet"]) == 0
    assert len(list(pngs.glob("*.png"))) == 3
    with (tmp_path / "f.csv").open() as file:
        assert [row["source"] for row in csv.DictReader(file)] == ["0.jpg", "1.jpg", "2.jpg"]


def test_interrupted_write_leaves_no_final_file(
    tmp_path: Path, shared_data: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hifipose.detector

    calls = {"n": 0}
    original = hifipose.detector.PoseDetector.estimate_poses

    def interrupt_on_tenth(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 10:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(hifipose.detector.PoseDetector, "estimate_poses", interrupt_on_tenth)
    out = tmp_path / "k.jsonl"
    args = ["track", str(shared_data / SQUATS), "-o", str(out), "--render", str(tmp_path / "o.mp4")]
    assert main([*args, "--model-dir", str(model_dir), "--quiet"]) == 130
    assert not out.exists()
    assert not (tmp_path / "o.mp4").exists()
    assert not list(tmp_path.glob("*partial*"))  # this run's partial files are removed too


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["track", "/no/such/video.mp4", "-o", "{tmp}/k.jsonl"], "input not found"),
        (["track", "{data}", "-o", "{tmp}/k.xlsx"], "unknown output extension"),
        (["track", "{data}", "-o", "/proc/hifipose/k.jsonl"], "cannot write"),
        (["track", "{tmp}/fake.mp4", "-o", "{tmp}/k.jsonl"], "cannot"),
        (["track", "{data}"], "nothing to do"),
    ],
)
def test_errors_are_one_line_without_traceback(
    args: list[str], message: str, tmp_path: Path, shared_data: Path
) -> None:
    (tmp_path / "fake.mp4").write_text("not a video")
    filled = [a.format(tmp=tmp_path, data=shared_data / "tfjs_golden" / "pose.jpg") for a in args]
    done = subprocess.run(
        [sys.executable, "-m", "hifipose", *filled],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_demo_writes_overlay_and_keypoints(tmp_path: Path, model_dir: Path) -> None:
    assert main(["demo", "--output", str(tmp_path), "--model-dir", str(model_dir), "--quiet"]) == 0
    lines = (tmp_path / "keypoints.jsonl").read_text().splitlines()
    assert len(lines) == 45
    assert sum(bool(json.loads(x)["poses"]) for x in lines) >= 40
    assert cv2.VideoCapture(str(tmp_path / "overlay.mp4")).get(cv2.CAP_PROP_FRAME_COUNT) == 45


def test_models_commands(model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "verify", "--json", "--model-dir", str(model_dir)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["state"] for r in rows] == ["ok"] * 4
    assert main(["models", "verify", "--model-dir", "/nonexistent"]) == 1
    capsys.readouterr()
    assert main(["models", "verify", "--json", "--holistic", "--model-dir", str(model_dir)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows[4:]] == list(HOLISTIC_SPECS)
    assert [r["state"] for r in rows] == ["ok"] * 9


def test_models_verify_and_clean_cover_derived_files(
    model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hifipose.convert import int8_model_bytes

    for spec in MODEL_SPECS.values():
        (tmp_path / spec.filename).symlink_to(model_dir / spec.filename)
    int8_model_bytes(tmp_path / "pose_landmark_lite.tflite")
    (made,) = tmp_path.glob("*.int8.tflite")
    assert main(["models", "verify", "--model-dir", str(tmp_path)]) == 0
    assert f"derived {made.name}  ok" in capsys.readouterr().out
    data = bytearray(made.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one bit pattern flipped: same size, other bytes
    made.write_bytes(bytes(data))
    assert main(["models", "verify", "--model-dir", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert f"derived {made.name}  corrupt" in out
    assert f"derived file {made} is corrupt: its SHA-256 differs from its record" in err
    assert "run `hifipose models clean`" in err
    assert main(["models", "clean", "--model-dir", str(tmp_path)]) == 0
    assert f"removed {made}" in capsys.readouterr().out
    assert not made.exists()
    assert main(["models", "verify", "--model-dir", str(tmp_path)]) == 0


def test_truncated_video_warns_and_is_recorded_incomplete(
    tmp_path: Path, shared_data: Path, model_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    frames = clip_frames(shared_data / SQUATS)[:30]
    whole = tmp_path / "whole.avi"
    writer = cv2.VideoWriter(str(whole), cv2.VideoWriter.fourcc(*"MJPG"), 5.0, (180, 320))
    for frame in frames:
        writer.write(cv2.resize(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), (180, 320)))
    writer.release()
    data = whole.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "k.parquet"
    args = ["track", str(cut), "-o", str(out), "--model", "lite", "--model-dir", str(model_dir)]
    with caplog.at_level("WARNING"):
        assert main([*args, "--quiet"]) == 0
    (warning,) = [r.message for r in caplog.records if "truncated" in r.message]
    meta = json.loads(read_poses(out).schema.metadata[b"hifipose"])
    assert meta["complete"] is False
    assert meta["frames_declared"] == 30
    assert 0 < meta["frames_read"] < 30
    assert f"{meta['frames_read']} of the 30 frames" in warning
    assert read_poses(out).num_rows == meta["frames_read"]


def test_track_precision_int8(tmp_path: Path, shared_data: Path, model_dir: Path) -> None:
    image = str(shared_data / "tfjs_golden" / "pose.jpg")
    out = tmp_path / "int8.jsonl"
    common = ["--model-dir", str(model_dir), "--quiet", "--model", "lite"]
    assert main(["track", image, "-o", str(out), "--precision", "int8", *common]) == 0
    (line,) = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(line["poses"]) == 1
    refused = ["track", image, "-o", str(tmp_path / "x.jsonl"), "--precision", "int8"]
    assert main([*refused, "--runtime", "onnxruntime", *common]) != 0
    assert not (tmp_path / "x.jsonl").exists()


def test_track_num_poses_finds_several_people_and_renders_their_ids(
    shared_data: Path, model_dir: Path, tmp_path: Path
) -> None:
    out, overlay = tmp_path / "poses.jsonl", tmp_path / "overlay.mp4"
    args = [
        "track",
        str(shared_data / "multi" / "crossing_squats.mp4"),
        "-o",
        str(out),
        "--render",
        str(overlay),
        "--num-poses",
        "3",
        "--max-frames",
        "8",
        "--model",
        "lite",
    ]
    assert main([*args, "--model-dir", str(model_dir), "--quiet"]) == 0
    counts = [len(json.loads(line)["poses"]) for line in out.read_text().splitlines()]
    assert len(counts) == 8
    assert max(counts) >= 2
    assert max(counts) <= 3
    assert overlay.stat().st_size > 0


def test_fov_adds_camera_columns_equal_to_the_python_api(
    squat_outputs: Path, shared_data: Path, model_dir: Path, tmp_path: Path
) -> None:
    """``track -o x.parquet/.csv --fov 60``: the camera columns are ``Pose.camera_array_m``."""
    assert not any("_cam_" in c for c in read_poses(squat_outputs / "k.parquet").column_names)
    frames = 8
    for suffix in (".parquet", ".csv"):
        args = ["track", str(shared_data / SQUATS), "-o", str(tmp_path / f"c{suffix}")]
        args += ["--model", "lite", "--fov", "60", "--max-frames", str(frames), "--quiet"]
        assert main([*args, "--model-dir", str(model_dir)]) == 0
    expected = []
    smoother = TranslationSmoother()
    with (
        create_detector(model_type="lite", model_dir=model_dir) as detector,
        open_source(shared_data / SQUATS, max_frames=frames) as source,
    ):
        for frame in source:
            poses = detector.estimate_poses(frame.image_rgb, timestamp_ms=frame.timestamp_ms)
            height, width = frame.image_rgb.shape[:2]
            result = FrameResult(frame.index, frame.timestamp_ms, (width, height), tuple(poses))
            k = Intrinsics.from_fov(width, height, hfov_deg=60.0)
            placed = to_camera_space(result, k, smoother)
            assert len(placed.poses) == 1 and placed.poses[0].camera_array_m is not None
            expected.append(placed.poses[0].camera_array_m.ravel())
    table = read_poses(tmp_path / "c.parquet")
    assert table.column_names == [*COLUMNS, *CAMERA_COLUMNS]
    got = np.array([table.column(c).to_numpy() for c in CAMERA_COLUMNS]).T
    np.testing.assert_array_equal(got, np.array(expected))
    meta = json.loads(table.schema.metadata[b"hifipose"])
    assert meta["camera"]["intrinsics"] == {
        "fx": k.fx,
        "fy": k.fy,
        "cx": k.cx,
        "cy": k.cy,
        "width": 720,
        "height": 1280,
    }
    with (tmp_path / "c.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == [*COLUMNS, *CAMERA_COLUMNS]
    from_csv = np.array([[float(row[c]) for c in CAMERA_COLUMNS] for row in rows])
    np.testing.assert_allclose(from_csv, np.array(expected), atol=1e-4)
