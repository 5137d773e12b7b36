"""Pose tables read back by name: every column checked, every bad file a VideoReadError.

The files here are made by other means than hifipose's own writer where it matters (pyarrow
directly, text written by hand), so a column that is misnamed, mistyped or misplaced cannot
hide behind a writer and a reader that agree with each other.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from hifipose.errors import VideoReadError
from hifipose.io import open_writer, read_poses
from hifipose.io.table import COLUMNS
from hifipose.pose import FrameResult, Pose
from hifipose.topology import KEYPOINT_NAMES


def _distinct_pose(track_id: int) -> Pose:
    """A pose whose every value is different: keypoint k, field f → k + f / 10 (+ id)."""
    k = np.arange(33, dtype=np.float32)[:, None]
    image = k + np.arange(5, dtype=np.float32) / 10 + 100 * track_id
    image[:, 3:] = (k + 1) / 40 + np.array([0.0, 0.001], np.float32)  # visibility, presence
    world = k / 100 + np.array([0.5, 0.6, 0.7], np.float32) / 1000 + track_id
    return Pose(image.astype(np.float32), world.astype(np.float32), 0.75, track_id=track_id)


RESULTS = [
    FrameResult(0, 0.0, (640, 480), (_distinct_pose(1), _distinct_pose(2)), source="v.mp4"),
    FrameResult(1, 40.0, (640, 480), (), source="v.mp4"),
    FrameResult(3, 120.0, (640, 480), (_distinct_pose(2),), source="v.mp4"),
]


def _expected(pose: Pose) -> dict[str, float]:
    image, world = pose.image_array, pose.world_array_m
    out = {}
    for k, name in enumerate(KEYPOINT_NAMES):
        for f, field in enumerate(("x", "y", "z", "visibility", "presence")):
            out[f"{name}_{field}"] = float(image[k, f])
        for f, field in enumerate(("world_x", "world_y", "world_z")):
            out[f"{name}_{field}"] = float(world[k, f])
    return out


@pytest.fixture
def written(tmp_path: Path) -> Path:
    for suffix in (".csv", ".parquet"):
        with open_writer(tmp_path / f"k{suffix}", video_id="clip") as writer:
            for result in RESULTS:
                writer.write(result)
    return tmp_path


def test_every_keypoint_column_holds_its_named_value(written: Path) -> None:
    """Read with the csv module and pyarrow itself, by column name, never by position."""
    with (written / "k.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    parquet = pq.read_table(written / "k.parquet").to_pylist()
    poses = [RESULTS[0].poses[0], RESULTS[0].poses[1], None, RESULTS[2].poses[0]]
    assert len(rows) == len(parquet) == len(poses)
    for row, prow, pose in zip(rows, parquet, poses, strict=True):
        if pose is None:
            assert row["nose_x"] == "" and prow["nose_x"] is None
            continue
        assert int(row["track_id"]) == prow["track_id"] == pose.track_id
        for name, value in _expected(pose).items():
            assert float(row[name]) == pytest.approx(value, abs=1e-4), name
            assert prow[name] == pytest.approx(value, rel=1e-6), name
    assert [r["frame"] for r in rows] == ["0", "0", "1", "3"]
    assert [r["timestamp_ms"] for r in rows] == ["0.0", "0.0", "40.0", "120.0"]
    assert {r["width"] + "x" + r["height"] for r in rows} == {"640x480"}


def test_csv_reads_as_the_parquet_table(written: Path) -> None:
    """``read_poses("k.csv")`` used to raise pyarrow's ArrowInvalid."""
    from_csv = read_poses(written / "k.csv")
    from_parquet = read_poses(written / "k.parquet")
    assert from_csv.schema.remove_metadata() == from_parquet.schema.remove_metadata()
    assert from_csv.column_names == list(COLUMNS)
    assert from_csv.column("frame").to_pylist() == [0, 0, 1, 3]
    assert from_csv.column("track_id").to_pylist() == [1, 2, None, 2]
    for name in ("left_knee_x", "right_hip_world_z", "nose_visibility", "score"):
        np.testing.assert_allclose(
            np.array(from_csv.column(name).to_pylist(), dtype=float),
            np.array(from_parquet.column(name).to_pylist(), dtype=float),
            atol=1e-4,
        )


def _rewrite_parquet(source: Path, target: Path, change) -> None:
    table = change(pq.read_table(source))
    pq.write_table(table, target)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda t: t.rename_columns(["frame_index" if n == "frame" else n for n in t.column_names]),
         "missing column.*frame"),
        (lambda t: t.drop_columns(["left_knee_x", "left_knee_y"]), "left_knee_x, left_knee_y"),
        (lambda t: pa.table({"a": [1, 2], "b": ["x", "y"]}), r"video_id.*\(\d+ in all\)"),
        (lambda t: t.set_column(2, "frame", pa.array(["a", "b", "c", "d"])), "column frame"),
        (lambda t: t.set_column(2, "frame", pa.array([0.0, 0.5, 1.0, 3.0])), "column frame"),
        (lambda t: t.set_column(6, "track_id", pa.array([1, 2, None, 2**40])), "track_id"),
        (lambda t: t.set_column(3, "timestamp_ms", pa.array([0.0, None, 40.0, 120.0])),
         "timestamp_ms has 1 empty"),
    ],
)  # fmt: skip
def test_parquet_that_is_not_a_pose_table_is_refused_by_name(
    written: Path, change, match: str
) -> None:
    """A renamed or missing column used to read as an all-null column, with no error."""
    bad = written / "bad.parquet"
    _rewrite_parquet(written / "k.parquet", bad, change)
    with pytest.raises(VideoReadError, match=match):
        read_poses(bad)
    # in a folder too, naming the file
    folder = written / "run"
    (folder / "poses").mkdir(parents=True)
    (written / "k.parquet").rename(folder / "poses" / "a.parquet")
    bad.rename(folder / "poses" / "b.parquet")
    with pytest.raises(VideoReadError, match=r"b\.parquet"):
        read_poses(folder)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda text: text.replace("\nclip,v.mp4,3,", "\nclip,v.mp4,three,"), "column frame"),
        (lambda text: text.replace("nose_x,", "nose_X,", 1), "missing column.*nose_x"),
        (lambda text: "a,b\n1,2\n", "missing column"),
        (lambda text: "", "missing column"),
        (lambda text: text.replace("\nclip,v.mp4,3,120.0,", "\nclip,v.mp4,3,soon,"),
         "timestamp_ms"),
        (lambda text: text.replace("\nclip,v.mp4,3,120.0,640", "\nclip,v.mp4,3,120.0,"),
         "width has 1 empty"),
    ],
)  # fmt: skip
def test_csv_that_is_not_a_pose_table_is_refused_by_name(written: Path, edit, match) -> None:
    bad = written / "bad.csv"
    bad.write_text(edit((written / "k.csv").read_text()))
    with pytest.raises(VideoReadError, match=match):
        read_poses(bad)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
@pytest.mark.parametrize("damage", ["truncated", "noise", "binary"])
def test_corrupt_files_are_video_read_errors(written: Path, suffix: str, damage: str) -> None:
    """They used to raise pyarrow's own errors (ArrowInvalid, OSError subclasses)."""
    path = written / f"k{suffix}"
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "noise":
        rng = np.random.default_rng(0)
        noisy = bytearray(data)
        noisy[100:4196] = rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
        path.write_bytes(bytes(noisy))
    else:
        path.write_bytes(b"\xff\xfe\x00garbage\x00" * 50)
    try:
        read_poses(path)
    except VideoReadError as exc:
        assert str(path) in str(exc)
    else:  # a half CSV is still a table: its complete rows
        assert suffix == ".csv" and damage == "truncated"


def test_other_tools_csv_with_extra_columns_reads_the_pose_columns(written: Path) -> None:
    table = pacsv.read_csv(written / "k.csv")
    table = table.append_column("note", pa.array(["a", "b", "c", "d"]))
    pacsv.write_csv(table, written / "extra.csv")
    assert read_poses(written / "extra.csv").column_names == list(COLUMNS)


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(VideoReadError, match="not found"):
        read_poses(tmp_path / "missing.parquet")
    with pytest.raises(VideoReadError, match=r"no \.parquet files"):
        read_poses(tmp_path)
