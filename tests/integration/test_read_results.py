"""hifipose.io.read_results: keypoint files written by track come back as FrameResults."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import hifipose
from hifipose import ConfigError, FrameResult, VideoReadError
from hifipose.io import open_writer, read_results

CROSSING = "multi/crossing_squats.mp4"
#: JSONL and CSV keep 4 decimals; float32 then holds them to its own precision.
TEXT_ATOL = 0.5e-4


@pytest.fixture(scope="module")
def tracked(shared_data: Path, model_dir: Path) -> list[FrameResult]:
    """Three people on 10 frames, with camera space (a pose may lack it)."""
    options = {"model_type": "lite", "model_dir": model_dir, "num_poses": 3, "max_frames": 10}
    return list(hifipose.track(str(shared_data / CROSSING), fov=60.0, **options))


def _write(results: list[FrameResult], path: Path) -> Path:
    with open_writer(path, video_id="clip", camera=True) as writer:
        for result in results:
            writer.write(result)
    return path


def _assert_same(ours: list[FrameResult], theirs: list[FrameResult], atol: float) -> None:
    assert len(ours) == len(theirs) > 0
    for a, b in zip(ours, theirs, strict=True):
        assert (a.index, a.size_wh, a.source) == (b.index, b.size_wh, b.source)
        assert a.timestamp_ms == pytest.approx(b.timestamp_ms, abs=atol)
        assert [p.track_id for p in a.poses] == [p.track_id for p in b.poses]
        for p, q in zip(a.poses, b.poses, strict=True):
            assert p.score == pytest.approx(q.score, abs=atol)
            np.testing.assert_allclose(p.image_array, q.image_array, atol=atol, rtol=1e-6)
            np.testing.assert_allclose(p.world_array_m, q.world_array_m, atol=atol, rtol=1e-6)
            assert (p.camera_array_m is None) == (q.camera_array_m is None)
            if p.camera_array_m is not None:
                np.testing.assert_allclose(p.camera_array_m, q.camera_array_m, atol=atol)


def test_parquet_round_trip_is_exact(tmp_path: Path, tracked: list[FrameResult]) -> None:
    first = _write(tracked, tmp_path / "a.parquet")
    back = list(read_results(first))
    _assert_same(back, tracked, atol=0.0)
    again = _write(back, tmp_path / "b.parquet")
    assert again.read_bytes() == first.read_bytes()


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_text_round_trip_to_their_decimals(
    tmp_path: Path, tracked: list[FrameResult], suffix: str
) -> None:
    back = list(read_results(_write(tracked, tmp_path / f"a{suffix}")))
    _assert_same(back, tracked, atol=TEXT_ATOL)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_frames_without_a_pose_and_static_ids_survive(
    tmp_path: Path, shared_data: Path, model_dir: Path, suffix: str
) -> None:
    results = list(
        hifipose.track(str(shared_data / "multi"), model_type="lite", model_dir=model_dir)
    )
    assert any(not r.poses for r in results) and any(r.poses for r in results)
    with open_writer(tmp_path / f"p{suffix}") as writer:
        for result in results:
            writer.write(result)
    back = list(read_results(tmp_path / f"p{suffix}"))
    _assert_same(back, results, atol=TEXT_ATOL)
    assert all(p.track_id is None for r in back for p in r.poses)


def test_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="use one of"):
        read_results(tmp_path / "x.json")
    with pytest.raises(VideoReadError, match="not found"):
        read_results(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"frame": 0}\n', encoding="utf-8")
    with pytest.raises(VideoReadError, match=r"bad\.jsonl:1: .*missing 'poses'"):
        list(read_results(bad))
    table = tmp_path / "other.csv"
    table.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(VideoReadError, match="not a hifipose pose table"):
        list(read_results(table))


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ('"frame": 1e400', "whole number"),  # was an OverflowError traceback
        ('"frame": 2.5', "whole number"),  # was read as frame 2
        ('"frame": 2147483648', "32 bits"),  # beyond the pose table's int32
        ('"frame": 0, "timestamp_ms": "7"', "a number"),  # was read as 7.0
        ('"frame": 0, "width": true', "whole number"),  # was read as 1 px
    ],
)
def test_a_json_line_of_the_wrong_kind_is_refused_not_coerced(
    tmp_path: Path, fields: str, match: str
) -> None:
    """JSON values follow the table's types, as ``analyze`` reads them (one set of rules)."""
    line = {"frame": 0, "timestamp_ms": 0.0, "width": 640, "height": 480, "poses": []}
    text = "{" + ", ".join(f'"{k}": {v}' for k, v in line.items() if f'"{k}"' not in fields)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(f"{text}, {fields}}}\n", encoding="utf-8")
    with pytest.raises(VideoReadError, match=rf"bad\.jsonl:1: .*{match}"):
        list(read_results(bad))
