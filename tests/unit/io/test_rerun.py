"""Rerun recordings: written with the SDK, read back with its own .rrd reader."""

from __future__ import annotations

import sys
from collections import defaultdict

import numpy as np
import pytest

from hifipose.camera import Intrinsics, to_camera_space
from hifipose.errors import OutputError, RuntimeUnavailableError
from hifipose.io import open_writer
from hifipose.io.writers.rerun import RerunWriter
from hifipose.pose import FrameResult, Pose

# The `rerun` extra: installed in the main environment (CI), where these run; rerun-sdk 0.41
# has no Python 3.10 wheel, so scripts/check_pythons' 3.10 venv goes without it.
rr = pytest.importorskip("rerun")

SIZE = (64, 48)
K = Intrinsics.default(*SIZE)


def pose(track_id: int | None, shift: float = 0.0, *, mask: bool = False) -> Pose:
    rng = np.random.default_rng(track_id or 0)
    world = rng.normal(0, 0.3, (33, 3))
    image = np.ones((33, 5))
    image[:, :2] = K.project(world + np.array([0, 0, 3.0])) + shift
    segmentation = np.full(SIZE[::-1], 0.9, np.float32) if mask else None
    return Pose(image, world, 0.9, segmentation=segmentation, track_id=track_id)


def read_values(path) -> dict[tuple[str, str], dict[int, object]]:
    """{(entity, component): {frame: logged value}} for every temporal chunk."""
    values: dict[tuple[str, str], dict[int, object]] = defaultdict(dict)
    for chunk in rr.chunk.RrdReader(path).stream().to_chunks():
        if chunk.is_static or "frame" not in chunk.timeline_names:
            continue
        batch = chunk.to_record_batch()
        frames = batch.column("frame").to_pylist()
        for name in batch.schema.names:
            if ":" in name:
                for frame, value in zip(frames, batch.column(name).to_pylist(), strict=True):
                    if value is not None:
                        values[chunk.entity_path, name.split(":")[0]][int(frame)] = value
    return values


def read_rows(path) -> dict[tuple[str, str], set[int]]:
    """{(entity, component): frames it was logged on} for every temporal chunk."""
    return defaultdict(set, {key: set(v) for key, v in read_values(path).items()})


def scalar_series(path, entity: str) -> dict[int, float]:
    """{frame: value} of one entity's Scalars (one scalar per row)."""
    found = read_values(path)[entity, "Scalars"]
    return {frame: float(np.asarray(value).ravel()[0]) for frame, value in found.items()}


def test_rrd_frames_and_track_lifetimes(tmp_path):
    path = tmp_path / "run.rrd"
    image = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    with open_writer(path) as writer:
        assert isinstance(writer, RerunWriter)
        writer.set_intrinsics(K)
        for i in range(10):
            poses = [pose(1, i)] if i != 8 else []  # nobody on frame 8
            if 3 <= i < 7:
                poses.append(pose(2, mask=True))
            result = to_camera_space(FrameResult(i, i * 100.0, SIZE, tuple(poses)), K)
            writer.write(result, image)
    assert [p.name for p in tmp_path.iterdir()] == ["run.rrd"]  # no partial file left
    rows = read_rows(path)
    every = set().union(*rows.values())
    assert every == set(range(10))  # one entry per input frame on the `frame` timeline
    assert rows["/video", "EncodedImage"] == set(range(10))
    assert rows["/poses/count", "Scalars"] == set(range(10))
    assert rows["/video", "Pinhole"] == {0}
    track2 = {3, 4, 5, 6}
    for entity, archetype in (
        ("/video/pose/2", "Points2D"),
        ("/world/pose/2", "Points3D"),
        ("/camera/pose/2", "Points3D"),
        ("/video/mask/2", "SegmentationImage"),
    ):
        assert rows[entity, archetype] == track2, entity
        assert rows[entity, "Clear"] == {7}, entity  # gone from the frame the track leaves
    assert rows["/video/pose/1", "Points2D"] == set(range(10)) - {8}
    assert rows["/video/pose/1", "Clear"] == {8}


def test_angles_are_scalars_per_track_on_its_frames(tmp_path):
    path = tmp_path / "run.rrd"
    knee = {1: 10.0, 2: -20.0}
    with RerunWriter(path) as writer:
        writer.write(FrameResult(0, 0.0, SIZE, ()), angles=[])  # nobody yet: no angles
        for i in range(1, 10):
            poses = [pose(1)] + ([pose(2)] if 3 <= i < 7 else [])
            angles = [{"left_knee": knee[p.track_id] + i, "trunk": np.nan} for p in poses]
            writer.write(FrameResult(i, i * 100.0, SIZE, tuple(poses)), angles=angles)
        with pytest.raises(OutputError, match="sets of angles"):
            writer.write(FrameResult(10, 1000.0, SIZE, (pose(1),)), angles=[])
    rows = read_rows(path)
    assert scalar_series(path, "/angles/1/left_knee") == {i: 10.0 + i for i in range(1, 10)}
    assert scalar_series(path, "/angles/2/left_knee") == {i: -20.0 + i for i in range(3, 7)}
    assert rows["/angles/2/trunk", "Scalars"] == {3, 4, 5, 6}  # NaN (unseen) is logged
    assert np.isnan(scalar_series(path, "/angles/2/trunk")[3])
    assert rows["/angles/2", "Clear"] == {7}  # cleared with the track's other entities
    assert {e for e, _ in rows if e.startswith("/angles/")} == {
        f"/angles/{t}{n}" for t in (1, 2) for n in ("/left_knee", "/trunk", "")
    } - {"/angles/1"}


def test_rerun_writer_needs_somewhere_to_write():
    with pytest.raises(OutputError, match="needs"):
        RerunWriter()


def test_an_aborted_recording_is_not_published(tmp_path):
    with pytest.raises(RuntimeError), RerunWriter(tmp_path / "run.rrd") as writer:
        writer.write(FrameResult(0, 0.0, SIZE, (pose(1),)))
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []  # nothing published, the partial file deleted


def test_without_rerun_sdk_the_error_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "rerun", None)  # as if not installed
    with pytest.raises(RuntimeUnavailableError, match=r"hifipose\[rerun\]"):
        open_writer(tmp_path / "run.rrd")
    assert list(tmp_path.iterdir()) == []
