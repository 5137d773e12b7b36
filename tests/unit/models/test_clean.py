"""``hifipose models clean``: stale partial files and outdated conversions go, nothing else."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hifipose.cli import main
from hifipose.convert import CONVERTER_VERSION
from hifipose.models import MODEL_SPECS, clean_cache

LITE = MODEL_SPECS["pose_landmark_lite"]
FULL = MODEL_SPECS["pose_landmark_full"]


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout)


def _age(path: Path, seconds: float) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


@pytest.fixture
def cache(tmp_path: Path) -> tuple[Path, set[str], set[str]]:
    """A models folder: (folder, names that must go, names that must stay)."""
    files = {
        # must go
        f"{LITE.filename}.{_dead_pid()}-0a1b2c3d.partial": ("go", 0),
        f".{FULL.filename}.k2j4h5.partial": ("go", 2 * 3600),  # a conversion's, 2 h old
        f"{LITE.filename}.{os.getppid()}-0a1b2c3d.partial": ("go", 2 * 86400),  # 2 days old
        f"pose_landmark_lite.{LITE.sha256[:16]}.hifipose-c{CONVERTER_VERSION - 1}.onnx": (
            "go",
            0,
        ),
        f"pose_landmark_full.{'0' * 16}.hifipose-c{CONVERTER_VERSION}.onnx": ("go", 0),
        # must stay
        LITE.filename: ("stay", 0),
        FULL.filename: ("stay", 0),
        f"pose_landmark_full.{FULL.sha256[:16]}.hifipose-c{CONVERTER_VERSION}.onnx": ("stay", 0),
        f"{FULL.filename}.{os.getppid()}-0a1b2c3d.partial": ("stay", 60),  # a live fetch
        f"{FULL.filename}.{os.getpid()}-0a1b2c3d.partial": ("stay", 0),  # this process's
        f".{LITE.filename}.x8y9z0.partial": ("stay", 60),  # a conversion under way
        "notes.txt": ("stay", 10 * 86400),
    }
    for name, (_, age) in files.items():
        (tmp_path / name).write_bytes(b"x")
        _age(tmp_path / name, age)
    gone = {n for n, (what, _) in files.items() if what == "go"}
    kept = {n for n, (what, _) in files.items() if what == "stay"}
    return tmp_path, gone, kept


def test_clean_cache_removes_only_stale_partials_and_outdated_conversions(
    cache: tuple[Path, set[str], set[str]],
) -> None:
    folder, gone, kept = cache
    dry = clean_cache(folder, dry_run=True)
    assert {p.name for p, _ in dry} == gone
    assert {p.name for p in folder.iterdir()} == gone | kept  # a dry run deletes nothing
    removed = clean_cache(folder)
    assert {p.name for p, _ in removed} == gone
    assert all(reason for _, reason in removed)
    assert {p.name for p in folder.iterdir()} == kept
    assert clean_cache(folder) == []


def test_models_clean_command(
    cache: tuple[Path, set[str], set[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, gone, kept = cache
    assert main(["models", "clean", "--json", "--model-dir", str(folder)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {Path(row["path"]).name for row in rows} == gone
    assert {p.name for p in folder.iterdir()} == kept
    assert main(["models", "clean", "--model-dir", str(folder)]) == 0
    assert capsys.readouterr().out == "nothing to clean\n"


def test_clean_cache_of_a_missing_folder_is_a_no_op(tmp_path: Path) -> None:
    assert clean_cache(tmp_path / "nope") == []
