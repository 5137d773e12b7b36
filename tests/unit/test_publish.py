"""The one partial-file rule (``hifipose._publish``) for every file hifipose writes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from hifipose._publish import partial_owner, partial_path, publish_text, publishing
from hifipose.analysis.report import write_table
from hifipose.convert.derived import is_derived, write_atomic
from hifipose.errors import OutputError
from hifipose.io.render import PngSequenceWriter


def test_partial_names_keep_the_suffix_and_name_their_owner(tmp_path: Path) -> None:
    target = tmp_path / "model.hifipose-c2.onnx"
    plain, unique = partial_path(target), partial_path(target, unique=True)
    assert plain.name == f"model.hifipose-c2.{os.getpid()}.partial.onnx"
    assert unique.suffix == ".onnx" and unique != partial_path(target, unique=True)
    assert partial_owner(plain.name) == partial_owner(unique.name) == os.getpid()
    assert partial_owner("pose_detection.tflite.42-0a1b2c3d.partial") == 42  # older fetches
    assert partial_owner(target.name) is None
    assert not is_derived(unique)  # a converter's partial file is no model


def test_a_failed_write_publishes_nothing_and_leaves_no_partial(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "report.txt"
    with pytest.raises(RuntimeError), publishing(target) as partial:
        partial.write_text("half", encoding="utf-8")
        raise RuntimeError("stopped")
    assert list(tmp_path.rglob("*.*")) == []
    assert publish_text(target, "whole") == target
    assert target.read_text(encoding="utf-8") == "whole"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.txt"]


def test_reports_pngs_and_model_files_go_through_their_partial_file(tmp_path: Path) -> None:
    """Each leaves only its final file; a stale partial file of a dead writer is swept."""
    stale = partial_path(tmp_path / "angles.csv", pid=2**22 + 12345)  # no such process
    stale.write_text("left by kill -9")
    write_table(pa.table({"a": [1, 2]}), tmp_path / "angles.csv")
    write_atomic(tmp_path / "m.hifipose-c2.onnx", b"bytes")
    with PngSequenceWriter(tmp_path / "frames") as frames:
        frames.write(np.zeros((8, 8, 3), np.uint8))
    names = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert names == ["angles.csv", "frames/frame_000000.png", "m.hifipose-c2.onnx"]


def test_a_png_that_cannot_be_published_is_an_output_error(tmp_path: Path) -> None:
    (tmp_path / "frame_000000.png").mkdir()  # a folder in the frame's place: no rename
    with PngSequenceWriter(tmp_path) as frames, pytest.raises(OutputError, match="frame_000000"):
        frames.write(np.zeros((8, 8, 3), np.uint8))
    assert [p.name for p in tmp_path.iterdir()] == ["frame_000000.png"]  # no partial left
