"""`hifipose track --count/--smoothing` and `hifipose analyze` on the real squat clip."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pyarrow.parquet as pq
import pytest

from hifipose.cli import main
from tests.conftest import decode_frames

SQUATS = "tfjs_golden/pose_squats.mp4"
LABEL_RGB = (200, 30, 90)  # hifipose.io.annotate's default label box


@pytest.fixture(scope="module")
def tracked(tmp_path_factory: pytest.TempPathFactory, shared_data: Path, model_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("analysis_cli")
    common = ["--model-dir", str(model_dir), "--quiet"]
    clip = str(shared_data / SQUATS)
    assert (
        main(
            [
                "track",
                clip,
                "-o",
                str(out / "online.jsonl"),
                "--count",
                "squat",
                "--render",
                str(out / "count.mp4"),
                *common,
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "track",
                clip,
                "-o",
                str(out / "offline.jsonl"),
                "--smoothing",
                "offline",
                "--render",
                str(out / "offline.mp4"),
                *common,
            ]
        )
        == 0
    )
    return out


def label_pixels(image: np.ndarray, without: np.ndarray) -> int:
    """Pixels of the label colour in ``image`` that are not that colour in ``without``."""

    def near(x: np.ndarray) -> np.ndarray:
        return np.abs(x.astype(int) - LABEL_RGB).max(axis=2) < 40

    return int((near(image) & ~near(without)).sum())


def test_track_count_draws_the_count_and_prints_it(
    tracked: Path, shared_data: Path, model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frames = decode_frames(tracked / "count.mp4")
    plain = decode_frames(tracked / "offline.mp4")  # the same clip without --count
    assert len(frames) == len(plain) == 65
    # A label box on every frame (the shirt is of a similar pink: compared with the plain one).
    assert min(label_pixels(f, p) for f, p in zip(frames, plain, strict=True)) > 2000
    capsys.readouterr()
    args = [
        "track",
        str(shared_data / SQUATS),
        "--count",
        "push_up",
        "-o",
        str(tracked / "p.jsonl"),
    ]
    assert main([*args, "--model-dir", str(model_dir), "--quiet", "--max-frames", "3"]) == 0
    assert "push-up: person #1: 0 repetitions" in capsys.readouterr().out  # video: track ids


def test_offline_smoothing_writes_smoothed_keypoints(tracked: Path) -> None:
    online = [json.loads(x) for x in (tracked / "online.jsonl").read_text().splitlines()]
    offline = [json.loads(x) for x in (tracked / "offline.jsonl").read_text().splitlines()]
    assert len(online) == len(offline) == 65
    assert [r["frame"] for r in offline] == list(range(65))
    first_on = np.array([[k["x"], k["y"]] for k in online[30]["poses"][0]["keypoints"]])
    first_off = np.array([[k["x"], k["y"]] for k in offline[30]["poses"][0]["keypoints"]])
    assert 0 < np.abs(first_on - first_off).max() < 40  # different filters, the same person


def test_analyze_writes_angles_counts_and_a_plot(
    tracked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tracked / "angles.parquet"
    plot = tracked / "angles.png"
    args = [
        "analyze",
        str(tracked / "online.jsonl"),
        "--count",
        "squat",
        "-o",
        str(out),
        "--plot",
        str(plot),
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "squat: #1: 2 repetitions (ended inside a repetition)" in printed
    assert "left_knee" in printed
    table = pq.read_table(out)
    assert table.column_names == [
        "video_id", "track_id", "frame", "timestamp_ms", "left_knee", "right_knee",
        "squat_signal", "squat_count", "squat_rep",
    ]  # fmt: skip
    assert table.num_rows == 65
    assert table.column("squat_count").to_pylist()[-1] == 2
    assert sum(table.column("squat_rep").to_pylist()) == 2
    image = cv2.imread(str(plot))
    assert image is not None and image.shape[0] > 200
    csv_out = tracked / "angles.csv"
    args = [
        "analyze",
        str(tracked / "offline.jsonl"),
        "--angles",
        "Right knee,trunk",
        "--space",
        "world",
        "-o",
        str(csv_out),
    ]
    assert main(args) == 0
    assert csv_out.read_text().splitlines()[0].split(",")[4:] == ['"right_knee"', '"trunk"']


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--angles", "tail"], "unknown angle 'tail'"),
        (["--count", "yoga"], "unknown exercise 'yoga'"),
        (["-o", "angles.txt"], "-o must end in .parquet or .csv"),
    ],
)
def test_analyze_bad_arguments_are_clear_errors(
    tracked: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", str(tracked / "online.jsonl"), *args]) == 1
    assert message in capsys.readouterr().err


def test_offline_smoothing_needs_a_video(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = str(shared_data / "tfjs_golden" / "pose.jpg")
    assert main(["track", image, "-o", "never.jsonl", "--smoothing", "offline"]) == 1
    assert "needs a recorded video" in capsys.readouterr().err
    assert not Path("never.jsonl").exists()
