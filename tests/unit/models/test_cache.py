"""Cache folder resolution and the size + SHA-256 check, on small fake files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from hifipose.errors import ModelIntegrityError, ModelNotFoundError
from hifipose.models import ModelSpec, cache_dir, models_dir, verify_file
from hifipose.models import cache as cache_module

DATA = b"fake model bytes " * 64
DAY_NS = 86_400 * 10**9


def make_spec(data: bytes = DATA, filename: str = "fake.tflite") -> ModelSpec:
    return ModelSpec(
        name=filename.removesuffix(".tflite"),
        filename=filename,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        npm_member=f"package/{filename}",
        input_name="input_1",
        input_size_wh=(8, 8),
        output_names=("out",),
    )


@pytest.fixture(autouse=True)
def fresh_verified_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_module, "_VERIFIED", set())


@pytest.fixture
def hash_calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []
    real = cache_module._sha256_file

    def counting(path: Path) -> str:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(cache_module, "_sha256_file", counting)
    return calls


# --- cache_dir --------------------------------------------------------------------------------


def test_cache_dir_prefers_hifipose_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("HIFIPOSE_CACHE_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "mine"
    assert models_dir() == tmp_path / "mine" / "models"


def test_cache_dir_expands_a_tilde(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("HIFIPOSE_CACHE_DIR", "~/models-here")
    assert cache_dir() == tmp_path / "models-here"


def test_cache_dir_uses_xdg_cache_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HIFIPOSE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "hifipose"
    assert models_dir() == tmp_path / "xdg" / "hifipose" / "models"


@pytest.mark.parametrize("xdg", [None, "", "relative/cache"])
def test_cache_dir_defaults_to_home_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, xdg: str | None
) -> None:
    # An empty HIFIPOSE_CACHE_DIR counts as unset; a relative XDG_CACHE_HOME is ignored (XDG spec).
    monkeypatch.setenv("HIFIPOSE_CACHE_DIR", "")
    monkeypatch.setenv("HOME", str(tmp_path))
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    assert cache_dir() == tmp_path / ".cache" / "hifipose"


# --- verify_file -------------------------------------------------------------------------------


def test_verify_accepts_the_pinned_bytes(tmp_path: Path) -> None:
    path = tmp_path / "fake.tflite"
    path.write_bytes(DATA)
    assert verify_file(path, make_spec()) == path


def test_truncated_file_is_caught_by_size_without_hashing(
    tmp_path: Path, hash_calls: list[Path]
) -> None:
    path = tmp_path / "fake.tflite"
    path.write_bytes(DATA[:-7])
    with pytest.raises(ModelIntegrityError) as info:
        verify_file(path, make_spec())
    message = str(info.value)
    assert str(path) in message
    assert str(len(DATA)) in message  # expected
    assert str(len(DATA) - 7) in message  # got
    assert hash_calls == []


def test_tampered_file_of_the_right_size_is_caught_by_sha256(tmp_path: Path) -> None:
    path = tmp_path / "fake.tflite"
    tampered = b"X" + DATA[1:]
    path.write_bytes(tampered)
    spec = make_spec()
    with pytest.raises(ModelIntegrityError) as info:
        verify_file(path, spec)
    message = str(info.value)
    assert str(path) in message
    assert spec.sha256 in message
    assert hashlib.sha256(tampered).hexdigest() in message


def test_integrity_error_is_not_a_file_not_found(tmp_path: Path) -> None:
    path = tmp_path / "fake.tflite"
    path.write_bytes(b"")
    with pytest.raises(ModelIntegrityError) as info:
        verify_file(path, make_spec())
    assert not isinstance(info.value, FileNotFoundError)


def test_missing_file_is_model_not_found(tmp_path: Path) -> None:
    path = tmp_path / "absent.tflite"
    with pytest.raises(ModelNotFoundError, match=str(path)) as info:
        verify_file(path, make_spec())
    assert isinstance(info.value, FileNotFoundError)


def test_a_folder_is_not_a_model_file(tmp_path: Path) -> None:
    folder = tmp_path / "fake.tflite"
    folder.mkdir()
    with pytest.raises(ModelNotFoundError, match="not a regular file"):
        verify_file(folder, make_spec())


# --- in-process verification cache --------------------------------------------------------------


@pytest.fixture
def long_ago(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every file look last changed long before it is hashed (no racy window)."""
    monkeypatch.setattr(cache_module, "_RACY_NS", -DAY_NS)


@pytest.mark.usefixtures("long_ago")
def test_an_unchanged_file_is_hashed_once_per_process(
    tmp_path: Path, hash_calls: list[Path]
) -> None:
    path = tmp_path / "fake.tflite"
    path.write_bytes(DATA)
    spec = make_spec()
    for _ in range(5):
        assert verify_file(path, spec) == path
    assert hash_calls == [path]


def test_a_file_changed_moments_before_hashing_is_not_remembered(
    tmp_path: Path, hash_calls: list[Path]
) -> None:
    # Timestamps are coarser than the clock: a just-written file could change again without
    # its mtime moving, so its pass is not cached (git's "racy clean" rule).
    path = tmp_path / "fake.tflite"
    path.write_bytes(DATA)
    spec = make_spec()
    verify_file(path, spec)
    verify_file(path, spec)
    assert hash_calls == [path, path]


@pytest.mark.usefixtures("long_ago")
def test_a_changed_file_is_hashed_again(tmp_path: Path, hash_calls: list[Path]) -> None:
    path = tmp_path / "fake.tflite"
    path.write_bytes(DATA)
    spec = make_spec()
    verify_file(path, spec)
    verify_file(path, spec)
    assert len(hash_calls) == 1
    path.write_bytes(b"Y" + DATA[1:])  # same size, different bytes, new mtime
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))  # even if the clock is coarse
    with pytest.raises(ModelIntegrityError, match="sha256"):
        verify_file(path, spec)
    assert len(hash_calls) == 2


@pytest.mark.usefixtures("long_ago")
def test_a_replaced_file_is_hashed_again(tmp_path: Path, hash_calls: list[Path]) -> None:
    path = tmp_path / "fake.tflite"
    path.write_bytes(DATA)
    spec = make_spec()
    verify_file(path, spec)
    stat = path.stat()
    other = tmp_path / "other"
    other.write_bytes(b"Z" + DATA[1:])
    os.utime(other, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size and mtime, new inode
    os.replace(other, path)
    with pytest.raises(ModelIntegrityError, match="sha256"):
        verify_file(path, spec)
    assert len(hash_calls) == 2


@pytest.mark.usefixtures("long_ago")
def test_a_cached_pass_does_not_vouch_for_another_spec(tmp_path: Path) -> None:
    path = tmp_path / "fake.tflite"
    path.write_bytes(DATA)
    verify_file(path, make_spec())
    other = make_spec(b"Q" + DATA[1:])
    with pytest.raises(ModelIntegrityError, match="sha256"):
        verify_file(path, other)


def test_a_file_tampered_right_after_verification_is_caught(tmp_path: Path) -> None:
    # Same size, possibly the same coarse mtime: the racy-clean rule must still catch it.
    path = tmp_path / "fake.tflite"
    path.write_bytes(DATA)
    spec = make_spec()
    verify_file(path, spec)
    with path.open("r+b") as file:
        file.write(b"W")
    with pytest.raises(ModelIntegrityError):
        verify_file(path, spec)


def test_failures_are_never_cached(tmp_path: Path) -> None:
    path = tmp_path / "fake.tflite"
    path.write_bytes(b"V" + DATA[1:])
    spec = make_spec()
    for _ in range(2):
        with pytest.raises(ModelIntegrityError):
            verify_file(path, spec)
    assert not cache_module._VERIFIED
