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
from hifipose.convert import CONVERTER_VERSION, derived
from hifipose.convert.openvino_int8 import OPENVINO_INT8_VERSION
from hifipose.convert.quantize import QUANTIZER_VERSION
from hifipose.models import MODEL_SPECS, clean_cache, derived_status

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
        f"pose_landmark_lite.{LITE.sha256[:16]}.hifipose-c{CONVERTER_VERSION}.onnx": ("go", 0),
        f"{FULL.filename}.{os.getppid()}-0a1b2c3d.partial": ("stay", 60),  # a live fetch
        f"{FULL.filename}.{os.getpid()}-0a1b2c3d.partial": ("stay", 0),  # this process's
        f".{LITE.filename}.x8y9z0.partial": ("stay", 60),  # a conversion under way
        "notes.txt": ("stay", 10 * 86400),
    }
    for name, (_, age) in files.items():
        (tmp_path / name).write_bytes(b"x")
        _age(tmp_path / name, age)
    # Derived files with digest records: a good one stays (with its record); one damaged
    # after it was made, one without a record and a record whose file is gone all go.
    good = f"pose_landmark_full.{FULL.sha256[:16]}.hifipose-c{CONVERTER_VERSION}.onnx"
    int8 = f"pose_landmark_lite.{LITE.sha256[:16]}.hifipose-q{QUANTIZER_VERSION}.int8.tflite"
    old_int8 = int8.replace(f"-q{QUANTIZER_VERSION}.", f"-q{QUANTIZER_VERSION - 1}.")
    ovir = f"pose_landmark_full.{FULL.sha256[:16]}.hifipose-qov{OPENVINO_INT8_VERSION}.int8.ovir"
    old_ovir = ovir.replace(f"-qov{OPENVINO_INT8_VERSION}.", f"-qov{OPENVINO_INT8_VERSION + 1}.")
    made = {
        good: ("stay", b"onnx bytes"),
        ovir: ("stay", b"openvino int8 bytes"),
        old_ovir: ("go", b"openvino int8 of another recipe"),
        int8: ("go", b"int8 model bytes"),
        old_int8: ("go", b"older int8 model bytes"),
        f"pose_landmark_heavy.{'1' * 16}.hifipose-c{CONVERTER_VERSION}.onnx": ("go", b"gone"),
    }
    for name, (_, data) in made.items():
        derived.write(tmp_path / name, data, source_sha256="0" * 64, tool="test")
    files |= {name: (what, 0) for name, (what, _) in made.items()}
    files[derived.record_path(tmp_path / good).name] = ("stay", 0)
    files[derived.record_path(tmp_path / ovir).name] = ("stay", 0)
    files[derived.record_path(tmp_path / old_ovir).name] = ("go", 0)
    files[derived.record_path(tmp_path / old_int8).name] = ("go", 0)  # its file is removed
    (tmp_path / int8).write_bytes(b"int8 model bytez")  # damaged after it was made
    gone_file = tmp_path / f"pose_landmark_heavy.{'1' * 16}.hifipose-c{CONVERTER_VERSION}.onnx"
    gone_file.unlink()  # its record stays behind
    del files[gone_file.name]
    files[derived.record_path(gone_file).name] = ("go", 0)
    files[derived.record_path(tmp_path / int8).name] = ("go", 0)  # record of a file that goes
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


def test_derived_status_names_each_derived_file_and_what_is_wrong(tmp_path: Path) -> None:
    good = tmp_path / f"pose_landmark_full.{FULL.sha256[:16]}.hifipose-c{CONVERTER_VERSION}.onnx"
    name = f"pose_landmark_lite.{LITE.sha256[:16]}.hifipose-q{QUANTIZER_VERSION}.int8.tflite"
    bad = tmp_path / name
    short = tmp_path / f"pose_landmark_heavy.{'2' * 16}.hifipose-c{CONVERTER_VERSION}.onnx"
    for path in (good, bad, short):
        derived.write(path, b"0123456789" * 100, source_sha256="0" * 64, tool="test")
    with bad.open("r+b") as file:  # one byte flipped, same size
        file.seek(500)
        file.write(b"X")
    short.write_bytes(short.read_bytes()[:999])  # truncated by one byte
    (tmp_path / LITE.filename).write_bytes(b"x")  # a model file: not derived
    status = dict(derived_status(tmp_path))
    assert set(status) == {good, bad, short}
    assert status[good] is None
    assert status[bad] == "is corrupt: its SHA-256 differs from its record"
    assert status[short] == "is corrupt or truncated: 999 bytes, its record says 1000"
    assert derived_status(tmp_path / "nope") == []
