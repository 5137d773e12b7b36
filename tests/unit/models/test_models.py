import hashlib
from pathlib import Path

import pytest

from hifipose.errors import ModelIntegrityError, ModelNotFoundError
from hifipose.models import (
    MODEL_SPECS,
    ModelSpec,
    cache_dir,
    ensure_model,
    fetch_models,
    verify_file,
)
from hifipose.models import fetch as fetch_module


def test_registry_pins_the_four_files() -> None:
    assert set(MODEL_SPECS) == {
        "pose_detection",
        "pose_landmark_lite",
        "pose_landmark_full",
        "pose_landmark_heavy",
    }
    assert MODEL_SPECS["pose_detection"].npm_member == "package/pose_solution_packed_assets.data"
    assert all(len(s.sha256) == 64 for s in MODEL_SPECS.values())
    with pytest.raises(TypeError):
        MODEL_SPECS["x"] = MODEL_SPECS["pose_detection"]  # type: ignore[index]


def test_cache_dir_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HIFIPOSE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "hifipose"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / ".cache" / "hifipose"
    monkeypatch.setenv("HIFIPOSE_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"


def _fake(tmp_path: Path, data: bytes = b"model bytes " * 100) -> tuple[ModelSpec, Path]:
    spec = ModelSpec(
        name="pose_detection",
        filename="fake.tflite",
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        npm_member="package/fake.tflite",
        input_name="input_1",
        input_size_wh=(8, 8),
        output_names=("out",),
    )
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / spec.filename).write_bytes(data)
    return spec, mirror


def test_verify_file(tmp_path: Path) -> None:
    spec, mirror = _fake(tmp_path)
    path = mirror / spec.filename
    assert verify_file(path, spec) == path
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ModelIntegrityError, match="bytes"):
        verify_file(path, spec)
    path.write_bytes(b"X" * spec.size_bytes)
    with pytest.raises(ModelIntegrityError, match="sha256"):
        verify_file(path, spec)
    with pytest.raises(ModelNotFoundError):
        verify_file(tmp_path / "absent.tflite", spec)


@pytest.fixture
def fake_registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[ModelSpec, Path]:
    spec, mirror = _fake(tmp_path)
    monkeypatch.setattr(fetch_module, "MODEL_SPECS", {"pose_detection": spec})
    monkeypatch.setenv("HIFIPOSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HIFIPOSE_NPM", "no-such-npm-client")
    monkeypatch.setenv("HIFIPOSE_MODEL_MIRROR", mirror.as_uri())
    monkeypatch.delenv("HIFIPOSE_OFFLINE", raising=False)
    return spec, mirror


def test_fetch_from_a_file_mirror_is_atomic_and_verified(fake_registry, tmp_path: Path) -> None:
    spec, _mirror = fake_registry
    (path,) = fetch_models()
    assert path == tmp_path / "cache" / "models" / spec.filename
    assert verify_file(path, spec) == path
    assert not list(path.parent.glob("*.partial"))


def test_tampered_mirror_installs_nothing(fake_registry, tmp_path: Path) -> None:
    spec, mirror = fake_registry
    (mirror / spec.filename).write_bytes(b"Y" * spec.size_bytes)
    with pytest.raises(ModelNotFoundError, match="hifipose models fetch") as info:
        fetch_models()
    assert "no-such-npm-client" in str(info.value)  # says what was tried and why it failed
    folder = tmp_path / "cache" / "models"
    assert not (folder / spec.filename).exists()
    assert not list(folder.glob("*.partial"))


def test_corrupt_cached_file_is_refetched(fake_registry, tmp_path: Path) -> None:
    spec, _ = fake_registry
    (path,) = fetch_models()
    path.write_bytes(b"Z" * 10)
    assert ensure_model("pose_detection") == path
    assert verify_file(path, spec) == path


def test_offline_with_empty_cache_says_what_to_run(
    fake_registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HIFIPOSE_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError, match="hifipose models fetch"):
        ensure_model("pose_detection")


def test_model_dir_is_never_fetched_into(fake_registry, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelNotFoundError, match=str(empty)):
        ensure_model("pose_detection", model_dir=empty)
    assert not list(empty.iterdir())
