"""The `hifipose` command on real clips and images, every output format read back."""

from __future__ import annotations

import csv
import itertools
import json
import subprocess
import sys
from pathlib import Path

import cv2
import pyarrow.parquet as pq
import pytest

from hifipose.cli import main
from hifipose.io.writers import COLUMNS
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
    assert all(0.0 <= float(r["nose_score"]) <= 1.0 for r in rows)
    table = pq.read_table(squat_outputs / "k.parquet")
    assert table.num_rows == 65
    assert table.column("frame").to_pylist() == list(range(65))
    assert table.column("left_hip_x").to_pylist()[0] == pytest.approx(
        float(rows[0]["left_hip_x"]), abs=1e-3
    )


def test_coco(squat_outputs: Path) -> None:
    entries = json.loads((squat_outputs / "k.json").read_text())
    assert len(entries) == 65
    for entry in entries:
        assert set(entry) == {"image_id", "category_id", "keypoints", "score"}
        assert entry["category_id"] == 1
        assert len(entry["keypoints"]) == 17 * 3


def test_rendered_video_matches_the_input(squat_outputs: Path, shared_data: Path) -> None:
    source = cv2.VideoCapture(str(shared_data / SQUATS))
    rendered = cv2.VideoCapture(str(squat_outputs / "overlay.mp4"))
    for prop in (cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT, cv2.CAP_PROP_FRAME_COUNT):
        assert rendered.get(prop) == source.get(prop)
    assert rendered.get(cv2.CAP_PROP_FPS) == pytest.approx(source.get(cv2.CAP_PROP_FPS), abs=0.01)


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
    assert len((tmp_path / "k.jsonl.partial").read_text().splitlines()) == 9


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
