"""Holistic hands and face in every keypoint file: written, read back, the same parts.

One tracking run of the crossing clip (three people, each with both hands and a face from
the second frame; the first frame has no pose) feeds every format; a 478-point face (the
iris points of ``refine_face_landmarks``) is made from the real one to check that the files
take either size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import hifipose
from hifipose.io import read_poses, read_results
from hifipose.io.table import HOLISTIC_COLUMNS, face_csv_path
from hifipose.io.writers import open_writer
from hifipose.pose import Face, FrameResult, HolisticParts
from hifipose_dev.data import SHARED_DATA

CLIP = SHARED_DATA / "multi" / "crossing_squats.mp4"
PARTS = ("left_hand", "right_hand", "face")


@pytest.fixture(scope="module")
def results(model_dir: Path) -> list[FrameResult]:
    return list(hifipose.track(CLIP, holistic=True, num_poses=3, max_frames=3, model_dir=model_dir))


def _with_iris(results: list[FrameResult]) -> list[FrameResult]:
    """The results with each face given 10 more points (478, as with refined landmarks)."""
    out = []
    for result in results:
        poses = []
        for pose in result.poses:
            face = pose.face
            assert face is not None
            points = np.concatenate([face.image_array, face.image_array[:10] + 1.5])
            parts = HolisticParts(pose.left_hand, pose.right_hand, Face(points, face.score))
            poses.append(pose.replace(parts=parts))
        out.append(FrameResult(result.index, result.timestamp_ms, result.size_wh, tuple(poses)))
    return out


def _write(path: Path, results: list[FrameResult]) -> None:
    with open_writer(path, holistic=True) as writer:
        for result in results:
            writer.write(result)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
@pytest.mark.parametrize("iris", [False, True], ids=["468", "478"])
def test_hands_and_face_round_trip(
    results: list[FrameResult], tmp_path: Path, suffix: str, iris: bool
) -> None:
    written = _with_iris(results) if iris else results
    assert [len(r.poses) for r in written] == [0, 3, 3]
    path = tmp_path / f"k{suffix}"
    _write(path, written)
    back = list(read_results(path))
    assert len(back) == len(written)
    assert written[1].poses[0].face.image_array.shape == ((478 if iris else 468), 3)
    for ours, theirs in zip(written, back, strict=True):
        for pose, read in zip(ours.poses, theirs.poses, strict=True):
            assert pose.track_id == read.track_id
            for part in PARTS:
                a, b = getattr(pose, part), getattr(read, part)
                assert a is not None and b is not None, part
                assert b.image_array.shape == a.image_array.shape
                # JSONL and CSV keep 4 decimals, Parquet float32
                np.testing.assert_allclose(b.image_array, a.image_array, atol=1e-4)
                assert b.score == pytest.approx(a.score, abs=1e-4)
            for part in PARTS[:2]:
                a, b = getattr(pose, part), getattr(read, part)
                assert b.handedness == a.handedness
                np.testing.assert_allclose(b.world_array_m, a.world_array_m, atol=1e-4)


def test_csv_and_parquet_read_as_the_same_table(results: list[FrameResult], tmp_path: Path) -> None:
    _write(tmp_path / "k.csv", results)
    _write(tmp_path / "k.parquet", results)
    assert face_csv_path(tmp_path / "k.csv").is_file()
    from_csv = read_poses(tmp_path / "k.csv", as_pandas=True)
    from_parquet = read_poses(tmp_path / "k.parquet", as_pandas=True)
    assert list(from_csv.columns) == list(from_parquet.columns)
    assert set(HOLISTIC_COLUMNS) < set(from_parquet.columns)
    assert (
        from_parquet["left_hand_handedness"].tolist()[1:]
        == from_csv["left_hand_handedness"].tolist()[1:]
    )
    assert from_parquet["left_hand_wrist_x"].isna().tolist() == [
        True,
        False,
        False,
        False,
        False,
        False,
        False,
    ]
    # the face as a tidy table: one row per point
    long = from_parquet.explode(["face_x", "face_y", "face_z"]).dropna(subset=["face_x"])
    assert len(long) == 6 * 468
    np.testing.assert_allclose(
        np.stack(from_csv["face_x"].dropna()), np.stack(from_parquet["face_x"].dropna()), atol=1e-4
    )


def test_track_holistic_csv_publishes_its_face_file(model_dir: Path, tmp_path: Path) -> None:
    from hifipose.cli import main

    out = tmp_path / "k.csv"
    argv = [
        "track", str(CLIP), "--holistic", "-o", str(out), "--max-frames", "2",
        "--model-dir", str(model_dir), "--quiet",
    ]  # fmt: skip
    assert main(argv) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.csv", "k.face.csv"]
    frames = list(read_results(out))
    assert frames[1].poses and frames[1].poses[0].face is not None


def test_batch_holistic_tables_carry_the_parts(model_dir: Path, tmp_path: Path) -> None:
    import cv2

    from hifipose.batch import BatchOptions
    from hifipose.cli import main
    from hifipose.io.table import read_metadata

    capture = cv2.VideoCapture(str(CLIP))
    frames = [capture.read()[1] for _ in range(3)]
    capture.release()
    clip = tmp_path / "in" / "three.mp4"
    clip.parent.mkdir()
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"mp4v"), 10.0, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()
    out = tmp_path / "out"
    argv = ["batch", str(clip), "-o", str(out), "--workers", "1", "--holistic", "--num-poses", "3"]
    assert main([*argv, "--model-dir", str(model_dir), "--quiet"]) == 0
    table = read_poses(out / "poses" / "three.parquet")
    assert set(HOLISTIC_COLUMNS) < set(table.column_names)
    assert table.column("right_hand_score").null_count < table.num_rows
    assert table.column("face_x").null_count < table.num_rows
    producer = read_metadata(table.schema.metadata)
    assert producer is not None
    assert producer["schema_version"] == 4
    assert producer["options"]["holistic"] is True
    assert "hand_landmark_full" in producer["models"]
    # the body-only fingerprint is the one batch always wrote: no holistic key, no hand model
    body = BatchOptions().fingerprint()
    assert "holistic" not in body["options"]
    assert set(body["models"]) == {"pose_detection", "pose_landmark_full"}
    # the refined face is an option of its own, and its model replaces the plain face's
    refined = BatchOptions(holistic=True, refine_face_landmarks=True).fingerprint()
    assert refined["options"]["refine_face_landmarks"] is True
    assert "face_landmark_with_attention" in refined["models"]
    assert "face_landmark" not in refined["models"]


def test_rerun_logs_hands_and_face_per_person(results: list[FrameResult], tmp_path: Path) -> None:
    rr = pytest.importorskip("rerun")
    path = tmp_path / "k.rrd"
    with open_writer(path, holistic=True) as writer:
        for result in results:
            writer.write(result)
    positions: dict[tuple[str, str], dict[int, object]] = {}  # (entity, archetype): {frame: xy}
    for chunk in rr.chunk.RrdReader(path).stream().to_chunks():
        if chunk.is_static or "frame" not in chunk.timeline_names:
            continue
        batch = chunk.to_record_batch()
        for name in ("Points2D:positions", "Points3D:positions"):
            if name in batch.schema.names:
                found = positions.setdefault((chunk.entity_path, name[:8]), {})
                frames = batch.column("frame").to_pylist()
                for frame, xy in zip(frames, batch.column(name).to_pylist(), strict=True):
                    if xy is not None:
                        found[int(frame)] = xy
    pose = results[1].poses[0]
    for part in ("left_hand", "right_hand", "face"):
        logged = positions[f"/video/pose/{pose.track_id}/{part}", "Points2D"]
        assert sorted(logged) == [1, 2], part
        found = np.asarray(logged[1], dtype=np.float32)
        np.testing.assert_allclose(found, getattr(pose, part).image_array[:, :2])
    hand = positions[f"/world/pose/{pose.track_id}/left_hand", "Points3D"][1]
    wrist = pose.world_array_m[15]  # the body's left wrist: the hand is placed there
    np.testing.assert_allclose(np.asarray(hand, dtype=np.float32)[0], wrist, atol=1e-6)
