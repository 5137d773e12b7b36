"""Partial files (one naming rule, removed on error, stale ones swept) and skipped images."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from hifipose.errors import OutputError, VideoReadError
from hifipose.io import open_renderer, open_source, open_writer
from hifipose.io.render import OverlayVideoWriter
from hifipose.io.writers.base import STALE_PARTIAL_S, partial_path, remove_stale_partials
from hifipose.pose import FrameResult

RESULT = FrameResult(0, 0.0, (64, 48), ())


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout)


@pytest.mark.parametrize("name", ["k.jsonl", "k.csv", "k.parquet", "k.json", "overlay.mp4"])
def test_one_partial_naming_rule_for_keypoints_and_overlays(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    output = (
        OverlayVideoWriter(path, 10.0, (64, 48)) if name.endswith(".mp4") else open_writer(path)
    )
    stem, suffix = name.rsplit(".", 1)
    assert output.partial == tmp_path / f"{stem}.{os.getpid()}.partial.{suffix}"
    assert output.partial == partial_path(path)
    assert output.partial.exists()
    output.close()
    assert path.exists()
    assert not output.partial.exists()


@pytest.mark.parametrize("name", ["k.jsonl", "k.csv", "overlay.mp4"])
def test_an_error_removes_this_runs_partial_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with pytest.raises(RuntimeError, match="boom"):
        if name.endswith(".mp4"):
            with open_renderer(path, 10.0, (64, 48)) as renderer:
                renderer.write(np.zeros((48, 64, 3), np.uint8))
                raise RuntimeError("boom")
        else:
            with open_writer(path) as writer:
                writer.write(RESULT)
                raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []  # nothing published, nothing left behind


def test_stale_partials_of_the_same_output_are_swept_on_open(tmp_path: Path) -> None:
    path = tmp_path / "k.jsonl"
    dead = partial_path(path, _dead_pid())  # a run killed with -9
    dead.write_text("half")
    alive_old = partial_path(path, os.getppid())  # owner alive, but untouched for 2 days
    alive_old.write_text("old")
    two_days_ago = time.time() - 2 * STALE_PARTIAL_S
    os.utime(alive_old, (two_days_ago, two_days_ago))
    other_output = partial_path(tmp_path / "other.jsonl", _dead_pid())  # another output's
    other_output.write_text("x")
    unrelated = tmp_path / "k.notes.partial.jsonl"  # not our pattern
    unrelated.write_text("x")
    with open_writer(path) as writer:
        writer.write(RESULT)
    assert not dead.exists()
    assert not alive_old.exists()
    assert other_output.exists()
    assert unrelated.exists()
    assert path.exists()


def test_a_live_owners_fresh_partial_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "overlay.mp4"
    live = partial_path(path, os.getppid())
    live.write_bytes(b"in progress")
    assert remove_stale_partials(path) == []
    assert live.exists()
    dead = partial_path(path, _dead_pid())
    dead.write_bytes(b"x")
    assert remove_stale_partials(path) == [dead]


def test_kill_9_leaves_a_partial_that_the_next_run_removes(tmp_path: Path) -> None:
    path = tmp_path / "k.jsonl"
    code = (
        "import os, signal, sys\n"
        "from hifipose.io import open_writer\n"
        "from hifipose.pose import FrameResult\n"
        f"writer = open_writer({str(path)!r})\n"
        "writer.write(FrameResult(0, 0.0, (4, 4), ()))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=False, env=os.environ)
    assert done.returncode == -9
    (left,) = tmp_path.iterdir()
    assert left.name.endswith(".partial.jsonl")
    with open_writer(path) as writer:
        writer.write(RESULT)
    assert [p.name for p in tmp_path.iterdir()] == ["k.jsonl"]


def test_an_existing_folder_is_refused_as_an_output_file(tmp_path: Path) -> None:
    (tmp_path / "k.jsonl").mkdir()
    with pytest.raises(OutputError, match="folder"):
        open_writer(tmp_path / "k.jsonl")
    (tmp_path / "o.mp4").mkdir()
    with pytest.raises(OutputError, match="folder"):
        OverlayVideoWriter(tmp_path / "o.mp4", 10.0, (64, 48))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.jsonl", "o.mp4"]


def _images(folder: Path, bad: set[int], count: int = 4) -> None:
    folder.mkdir(exist_ok=True)
    for i in range(count):
        path = folder / f"img{i}.png"
        if i in bad:
            path.write_bytes(b"\x89PNG broken")
        else:
            cv2.imwrite(str(path), np.full((8, 8, 3), 10 * i, np.uint8))


@pytest.mark.parametrize("as_glob", [False, True])
def test_an_unreadable_image_in_a_folder_is_skipped_with_a_warning(
    tmp_path: Path, as_glob: bool, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "imgs"
    _images(folder, bad={1})
    spec = str(folder / "img*.png") if as_glob else folder
    with caplog.at_level(logging.WARNING), open_source(spec) as source:
        frames = list(source)
    assert [f.index for f in frames] == [0, 2, 3]  # positions in the sorted list
    assert [f.source for f in frames] == ["img0.png", "img2.png", "img3.png"]
    assert [int(f.image_rgb[0, 0, 0]) for f in frames] == [0, 20, 30]
    assert [path.name for path, _ in source.skipped] == ["img1.png"]
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "img1.png" in record.getMessage()
    assert "\n" not in record.getMessage()


def test_max_frames_counts_frames_read_not_files_tried(tmp_path: Path) -> None:
    _images(tmp_path, bad={0})
    with open_source(tmp_path, max_frames=2) as source:
        assert [f.source for f in source] == ["img1.png", "img2.png"]


def test_a_folder_of_only_unreadable_images_is_an_error(tmp_path: Path) -> None:
    _images(tmp_path, bad={0, 1, 2, 3})
    with pytest.raises(VideoReadError, match="none of the 4"), open_source(tmp_path) as source:
        list(source)


def test_a_single_unreadable_image_is_still_an_error(tmp_path: Path) -> None:
    _images(tmp_path, bad={0}, count=1)
    with pytest.raises(VideoReadError), open_source(tmp_path / "img0.png") as source:
        list(source)
    with pytest.raises(VideoReadError, match="none of the 1"), open_source(tmp_path) as source:
        list(source)
