"""Partial files (one naming rule, removed on error, stale ones swept) and skipped images."""

from __future__ import annotations

import logging
import os
import shutil
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
from hifipose.io.sources import _jpeg_is_complete
from hifipose.io.writers.base import (
    STALE_PARTIAL_S,
    discard,
    partial_path,
    remove_stale_partials,
)
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


def test_a_partial_file_never_made_is_not_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A folder that refuses even to look (a read-only mount: EROFS; here ENOTDIR) is silent."""
    not_a_folder = tmp_path / "render"
    not_a_folder.write_bytes(b"")
    with caplog.at_level(logging.WARNING):
        discard(not_a_folder / "overlay.123.partial.mp4")
    assert not caplog.records
    assert not_a_folder.exists()


def _jpeg(params: list[int], size: tuple[int, int] = (96, 64)) -> bytes:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    ok, data = cv2.imencode(".jpg", image, params)
    assert ok
    return data.tobytes()


JPEG_KINDS = {
    "baseline": [],
    "progressive": [cv2.IMWRITE_JPEG_PROGRESSIVE, 1],
    "restart markers": [cv2.IMWRITE_JPEG_RST_INTERVAL, 2],
    "optimized": [cv2.IMWRITE_JPEG_OPTIMIZE, 1],
}


@pytest.mark.parametrize("kind", sorted(JPEG_KINDS))
def test_a_jpeg_is_complete_only_up_to_its_end_marker(kind: str) -> None:
    data = _jpeg(JPEG_KINDS[kind])
    assert _jpeg_is_complete(data)
    assert _jpeg_is_complete(data + b"\x00" * 16 + b"a motion photo's video")  # after EOI
    for cut in (len(data) // 3, len(data) - 200, len(data) - 2, len(data) - 1):
        assert not _jpeg_is_complete(data[:cut]), cut


def test_a_truncated_jpeg_in_a_folder_is_skipped_not_tracked_as_grey(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """OpenCV decodes a truncated JPEG with grey rows and no error; it was tracked so."""
    folder = tmp_path / "imgs"
    folder.mkdir()
    data = _jpeg([], size=(320, 240))
    for name in ("a1.jpg", "a3.jpg"):
        (folder / name).write_bytes(data)
    (folder / "a2.jpg").write_bytes(data[: len(data) * 2 // 3])
    assert cv2.imread(str(folder / "a2.jpg")) is not None  # what OpenCV alone accepts
    with caplog.at_level(logging.WARNING), open_source(folder) as source:
        frames = list(source)
    assert [f.source for f in frames] == ["a1.jpg", "a3.jpg"]
    assert [path.name for path, _ in source.skipped] == ["a2.jpg"]
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert (
        record.getMessage()
        == f"skipping {folder / 'a2.jpg'}: truncated JPEG (no end-of-image marker)"
    )
    with (
        pytest.raises(VideoReadError, match="truncated JPEG"),
        open_source(folder / "a2.jpg") as one,
    ):
        list(one)


_READ_ONLY_RENDER = """
import logging, sys
logging.basicConfig(level=logging.WARNING, stream=sys.stdout)
from hifipose.errors import OutputError
from hifipose.io.render import OverlayVideoWriter
try:
    OverlayVideoWriter(sys.argv[1], 10.0, (64, 48))
except OutputError as exc:
    print("OutputError:", exc)
"""


def test_a_read_only_render_folder_is_one_error_and_no_warning(tmp_path: Path) -> None:
    """On a read-only mount even unlinking a missing file fails (EROFS before ENOENT): the
    partial file that was never made was reported as "cannot delete"."""
    folder = tmp_path / "ro"
    folder.mkdir()
    # A private mount namespace: the read-only mount ends with the process, whatever happens.
    script = (
        f"mount -t tmpfs -o ro none {folder} || exit 77; "
        f'exec "{sys.executable}" -c "$0" {folder / "o.mp4"}'
    )
    unshare, shell = shutil.which("unshare"), shutil.which("sh")
    if unshare is None or shell is None:
        pytest.skip("needs util-linux's unshare")
    done = subprocess.run(
        [unshare, "--mount", shell, "-c", script, _READ_ONLY_RENDER],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode == 77 or "Operation not permitted" in done.stderr:
        pytest.skip("needs permission to mount a read-only file system (root)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OutputError: cannot write video"), done.stdout
    assert "cannot delete" not in done.stdout + done.stderr
    assert list(folder.iterdir()) == []
