"""The pose table's Holistic columns, on made-up parts whose every value is different.

Values are checked by column name against the ``Hand``/``Face`` arrays (read with pyarrow
and the csv module, not with hifipose's reader), so a writer and a reader that agree on a
wrong column order cannot pass; then the round trip through ``read_results`` with parts
missing, two people without track ids (static mode) and a 478-point face.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from hifipose.errors import VideoReadError
from hifipose.io import open_writer, read_poses, read_results
from hifipose.io.table import COLUMNS, FACE_CSV_COLUMNS, HOLISTIC_COLUMNS
from hifipose.pose import Face, FrameResult, Hand, HolisticParts, Pose
from hifipose.topology import HAND_KEYPOINT_NAMES


def _hand(offset: float, label: str) -> Hand:
    """Point p, axis a → offset + p + a / 10 (pixels); world: the same / 1000."""
    image = offset + np.arange(21)[:, None] + np.arange(3) / 10
    return Hand(image, image / 1000, 0.9, label, 0.75)


def _face(offset: float, points: int) -> Face:
    return Face(offset + np.arange(points)[:, None] + np.arange(3) / 10, 0.8)


def _pose(track_id: int | None, parts: HolisticParts) -> Pose:
    image = np.full((33, 5), 50.0, np.float32)
    image[:, 3:] = 0.9
    return Pose(image, np.zeros((33, 3)), 0.95, track_id=track_id, parts=parts)


#: Frame 0: two people without ids (static), the first with everything, the second with
#: only a right hand and a 478-point face; frame 1: no pose; frame 2: nothing found.
RESULTS = [
    FrameResult(
        0,
        0.0,
        (640, 480),
        (
            _pose(None, HolisticParts(_hand(100, "Right"), _hand(200, "Left"), _face(300, 468))),
            _pose(None, HolisticParts(None, _hand(400, "Left"), _face(500, 478))),
        ),
    ),
    FrameResult(1, 40.0, (640, 480)),
    FrameResult(2, 80.0, (640, 480), (_pose(None, HolisticParts()),)),
]


def _write(path: Path) -> None:
    with open_writer(path, holistic=True) as writer:
        for result in RESULTS:
            writer.write(result)


def _cell(column: str, text: str) -> str | float | None:
    """A CSV cell as Parquet would type it: empty is null, text columns stay text."""
    if not text:
        return None
    textual = column in {"video_id", "source"} or column.endswith("_handedness")
    return text if textual else float(text)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_each_value_is_in_its_named_column(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"k{suffix}"
    _write(path)
    if suffix == ".parquet":
        rows = pq.read_table(path).to_pylist()
    else:
        with path.open(newline="") as handle:
            rows = [{k: _cell(k, v) for k, v in row.items()} for row in csv.DictReader(handle)]
    assert list(rows[0])[: len(COLUMNS)] == list(COLUMNS)
    assert list(rows[0])[len(COLUMNS) : len(COLUMNS) + len(HOLISTIC_COLUMNS)] == list(
        HOLISTIC_COLUMNS
    )
    first, second, empty, nothing = rows
    for name, (point, axis) in {
        "wrist": (0, 0),
        "index_finger_tip": (8, 1),
        "pinky_tip": (20, 2),
    }.items():
        assert HAND_KEYPOINT_NAMES[point] == name
        xyz = "xyz"[axis]
        assert first[f"left_hand_{name}_{xyz}"] == pytest.approx(100 + point + axis / 10)
        assert first[f"right_hand_{name}_world_{xyz}"] == pytest.approx(
            (200 + point + axis / 10) / 1000
        )
        assert second[f"left_hand_{name}_{xyz}"] is None
    assert (first["left_hand_handedness"], first["right_hand_handedness"]) == ("Right", "Left")
    assert first["left_hand_handedness_score"] == pytest.approx(0.75)
    assert second["face_score"] == pytest.approx(0.8)
    assert empty["face_score"] is None and empty["left_hand_score"] is None
    assert nothing["right_hand_handedness"] is None and nothing["face_score"] is None
    if suffix == ".parquet":
        assert len(second["face_x"]) == 478
        assert second["face_y"][477] == pytest.approx(500 + 477 + 0.1)
        assert empty["face_x"] is None and nothing["face_z"] is None
    else:
        with (tmp_path / "k.face.csv").open(newline="") as handle:
            face_rows = list(csv.reader(handle))
        assert tuple(face_rows[0]) == FACE_CSV_COLUMNS
        assert len(face_rows) == 1 + 468 + 478
        # video_id, frame, track_id (empty: static), pose, point, x, y, z
        assert face_rows[1 + 468 + 477] == ["k", "0", "", "1", "477", "977.0", "977.1", "977.2"]


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_parts_come_back_where_they_were_found(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"k{suffix}"
    _write(path)
    back = list(read_results(path))
    assert [len(r.poses) for r in back] == [2, 0, 1]
    first, second = back[0].poses
    assert first.left_hand is not None and first.left_hand.handedness == "Right"
    np.testing.assert_allclose(
        first.left_hand.image_array, RESULTS[0].poses[0].left_hand.image_array
    )
    assert second.left_hand is None
    assert second.face is not None and second.face.image_array.shape == (478, 3)
    np.testing.assert_allclose(
        second.face.image_array, RESULTS[0].poses[1].face.image_array, atol=1e-4
    )
    assert first.face is not None and first.face.image_array[0, 0] == pytest.approx(300)
    (nothing,) = back[2].poses
    assert (nothing.left_hand, nothing.right_hand, nothing.face) == (None, None, None)


def test_a_csv_table_without_its_face_file_is_refused(tmp_path: Path) -> None:
    _write(tmp_path / "k.csv")
    (tmp_path / "k.face.csv").unlink()
    with pytest.raises(VideoReadError, match=r"k\.face\.csv"):
        read_poses(tmp_path / "k.csv")


def test_a_folder_mixing_body_only_and_holistic_tables_reads_as_one(tmp_path: Path) -> None:
    _write(tmp_path / "a.parquet")
    with open_writer(tmp_path / "b.parquet") as writer:
        writer.write(RESULTS[2])
    table = read_poses(tmp_path)
    assert set(HOLISTIC_COLUMNS) < set(table.column_names)
    assert table.column("face_score").to_pylist()[-1] is None  # b's row: null
    assert len(table.column("face_x").to_pylist()[1]) == 478
    assert tuple(read_poses(tmp_path / "b.parquet").column_names) == COLUMNS


#: runtime="mediapipe" gives hand points without world points, scores or a label score,
#: and a face without a score.
BARE = [
    FrameResult(
        0,
        0.0,
        (640, 480),
        (
            _pose(
                7,
                HolisticParts(
                    Hand(np.full((21, 3), 10.0), None, None, "Right", None),
                    _hand(200, "Left"),
                    Face(np.full((468, 3), 20.0), None),
                ),
            ),
        ),
    ),
]


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_values_a_runtime_does_not_give_are_null_and_read_back_as_none(
    tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"k{suffix}"
    with open_writer(path, holistic=True) as writer:
        writer.write(BARE[0])
    if suffix != ".jsonl":
        (row,) = (
            pq.read_table(path).to_pylist()
            if suffix == ".parquet"
            else [
                {k: _cell(k, v) for k, v in r.items()}
                for r in csv.DictReader(path.open(newline=""))
            ]
        )
        assert row["left_hand_score"] is None and row["left_hand_handedness_score"] is None
        assert row["left_hand_handedness"] == "Right"
        assert row["left_hand_wrist_x"] == pytest.approx(10.0)
        assert row["left_hand_pinky_tip_world_z"] is None
        assert row["right_hand_pinky_tip_world_z"] == pytest.approx((200 + 20 + 0.2) / 1000)
        assert row["right_hand_score"] == pytest.approx(0.9)
        assert row["face_score"] is None
    (result,) = read_results(path)
    (pose,) = result.poses
    left, right, face = pose.left_hand, pose.right_hand, pose.face
    assert left is not None and right is not None and face is not None
    assert (left.world_array_m, left.score, left.handedness_score) == (None, None, None)
    assert left.handedness == "Right"
    np.testing.assert_allclose(left.image_array, 10.0)
    assert right.world_array_m is not None and right.score == pytest.approx(0.9)
    assert face.score is None
    np.testing.assert_allclose(face.image_array, 20.0)
