"""Fetching on small fake files: sources in order, atomic writes, clear errors. No network.

The npm client is replaced by a tiny script that copies a prepared tarball into
``--pack-destination`` and logs its arguments; the mirror is a ``file://`` folder.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import logging
import os
import stat
import sys
import tarfile
import threading
from pathlib import Path

import pytest

from hifipose.errors import ConfigError, ModelIntegrityError, ModelNotFoundError
from hifipose.models import (
    MODEL_SPECS,
    NPM_PACKAGE,
    ModelSpec,
    ensure_model,
    fetch_models,
    model_status,
    verify_file,
    verify_models,
)
from hifipose.models import cache as cache_module
from hifipose.models import fetch as fetch_module

DATA_A = b"detector bytes " * 200
DATA_B = b"landmark bytes " * 300


def make_spec(data: bytes, filename: str, member: str | None = None) -> ModelSpec:
    return ModelSpec(
        name=filename.removesuffix(".tflite"),
        filename=filename,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        npm_member=member or f"package/{filename}",
        input_name="input_1",
        input_size_wh=(8, 8),
        output_names=("out",),
    )


SPEC_A = make_spec(DATA_A, "a.tflite", member="package/a_packed_assets.data")
SPEC_B = make_spec(DATA_B, "b.tflite")


def build_tgz(path: Path, files: dict[str, bytes], symlinks: dict[str, str] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return path


class FakeNpm:
    """An executable standing in for npm; records every call."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "fake-npm"
        self.log = folder / "npm-calls.jsonl"
        self.tarball: Path | None = None
        self.exit_code = 0
        self.stderr = ""
        self.sleep_s = 0.0

    def install(self) -> str:
        script = f"""#!{sys.executable}
import json, shutil, sys, time
from pathlib import Path
args = sys.argv[1:]
with open({str(self.log)!r}, "a") as log:
    log.write(json.dumps(args) + "\\n")
time.sleep({self.sleep_s!r})
if {self.exit_code!r}:
    sys.stderr.write({self.stderr!r})
    sys.exit({self.exit_code!r})
tarball = {str(self.tarball) if self.tarball else None!r}
if tarball:
    destination = Path(args[args.index("--pack-destination") + 1])
    shutil.copy(tarball, destination / "mediapipe-pose-0.0.0.tgz")
"""
        self.path.write_text(script)
        self.path.chmod(self.path.stat().st_mode | stat.S_IXUSR)
        return str(self.path)

    @property
    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HIFIPOSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HIFIPOSE_NPM", str(tmp_path / "no-npm-here"))
    monkeypatch.delenv("HIFIPOSE_MODEL_MIRROR", raising=False)
    monkeypatch.delenv("HIFIPOSE_OFFLINE", raising=False)
    monkeypatch.setattr(cache_module, "_VERIFIED", set())


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "models"


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    folder = tmp_path / "mirror"
    folder.mkdir()
    (folder / SPEC_A.filename).write_bytes(DATA_A)
    (folder / SPEC_B.filename).write_bytes(DATA_B)
    return folder


@pytest.fixture
def npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeNpm:
    fake = FakeNpm(tmp_path)
    fake.tarball = build_tgz(
        tmp_path / "package.tgz",
        {
            "package/README.md": b"readme",
            SPEC_A.npm_member: DATA_A,
            SPEC_B.npm_member: DATA_B,
        },
    )
    monkeypatch.setenv("HIFIPOSE_NPM", fake.install())
    return fake


def no_partials(folder: Path) -> bool:
    return not list(folder.glob("*.partial"))


# --- the mirror --------------------------------------------------------------------------------


def test_install_from_a_file_url_mirror(mirror: Path, cache: Path) -> None:
    progress: list[tuple[int, int, str]] = []
    paths = fetch_models(
        [SPEC_A, SPEC_B], mirror=mirror.as_uri(), progress=lambda *a: progress.append(a)
    )
    assert paths == [cache / SPEC_A.filename, cache / SPEC_B.filename]
    assert paths[0].read_bytes() == DATA_A
    assert paths[1].read_bytes() == DATA_B
    assert no_partials(cache)
    assert progress[-1] == (len(DATA_B), len(DATA_B), SPEC_B.filename)
    assert (len(DATA_A), len(DATA_A), SPEC_A.filename) in progress


def test_mirror_from_the_environment_and_as_a_plain_folder(
    mirror: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HIFIPOSE_MODEL_MIRROR", mirror.as_uri() + "/")
    assert ensure_model(SPEC_A) == cache / SPEC_A.filename
    monkeypatch.setenv("HIFIPOSE_MODEL_MIRROR", str(mirror))
    assert ensure_model(SPEC_B).read_bytes() == DATA_B


def test_a_mirror_url_with_another_scheme_is_refused(cache: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="not an https://"):
        fetch_models([SPEC_A], mirror="ftp://example.invalid/models")


def test_hash_mismatch_installs_nothing_and_leaves_no_partial(mirror: Path, cache: Path) -> None:
    (mirror / SPEC_A.filename).write_bytes(b"X" + DATA_A[1:])  # right size, wrong bytes
    with pytest.raises(ModelNotFoundError) as info:
        fetch_models([SPEC_A], mirror=mirror.as_uri())
    assert "sha256" in str(info.value)
    assert not (cache / SPEC_A.filename).exists()
    assert no_partials(cache)


def test_install_raises_integrity_error_and_keeps_the_old_file(cache: Path) -> None:
    cache.mkdir(parents=True)
    final = cache / SPEC_A.filename
    final.write_bytes(b"the previous file")
    with pytest.raises(ModelIntegrityError, match=SPEC_A.sha256):
        fetch_module._install(io.BytesIO(b"Y" + DATA_A[1:]), SPEC_A, cache, None, source="test")
    assert final.read_bytes() == b"the previous file"  # never replaced by bad bytes
    assert no_partials(cache)


def test_install_stops_reading_an_oversized_stream(cache: Path) -> None:
    cache.mkdir(parents=True)

    class Endless(io.RawIOBase):
        reads = 0

        def read(self, size: int = -1) -> bytes:
            self.reads += 1
            return b"z" * (size if size > 0 else 1024)

    stream = Endless()
    with pytest.raises(ModelIntegrityError, match="larger than"):
        fetch_module._install(stream, SPEC_A, cache, None, source="test")
    assert stream.reads < 5
    assert not (cache / SPEC_A.filename).exists()
    assert no_partials(cache)


def test_concurrent_fetches_of_one_file_do_not_collide(mirror: Path, cache: Path) -> None:
    errors: list[BaseException] = []

    def fetch() -> None:
        try:
            fetch_models([SPEC_B], mirror=mirror.as_uri(), force=True)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=fetch) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert verify_file(cache / SPEC_B.filename, SPEC_B)
    assert no_partials(cache)


# --- the npm package ---------------------------------------------------------------------------


def test_npm_package_provides_every_file_with_one_pack_call(npm: FakeNpm, cache: Path) -> None:
    paths = fetch_models([SPEC_A, SPEC_B])
    assert [p.read_bytes() for p in paths] == [DATA_A, DATA_B]
    (call,) = npm.calls
    assert call[:2] == ["pack", NPM_PACKAGE]
    assert "--pack-destination" in call
    assert no_partials(cache)


def test_files_cached_and_valid_are_not_fetched_again(npm: FakeNpm, cache: Path) -> None:
    fetch_models([SPEC_A, SPEC_B])
    progress: list[tuple[int, int, str]] = []
    fetch_models([SPEC_A, SPEC_B], progress=lambda *a: progress.append(a))
    assert len(npm.calls) == 1
    assert progress == [
        (len(DATA_A), len(DATA_A), SPEC_A.filename),
        (len(DATA_B), len(DATA_B), SPEC_B.filename),
    ]
    fetch_models([SPEC_A], force=True)
    assert len(npm.calls) == 2


def test_npm_failure_falls_through_to_the_mirror(
    npm: FakeNpm, mirror: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    npm.exit_code = 1
    npm.stderr = "npm warn something\nnpm error 404 Not Found - GET the package\n"
    npm.install()
    with pytest.raises(ModelNotFoundError, match="404 Not Found") as info:
        fetch_models([SPEC_A])
    assert "hifipose models fetch" in str(info.value)
    assert fetch_models([SPEC_A], mirror=mirror.as_uri()) == [cache / SPEC_A.filename]
    assert len(npm.calls) == 2  # one attempt each time, no retries


def test_npm_timeout_is_reported(npm: FakeNpm, monkeypatch: pytest.MonkeyPatch) -> None:
    npm.sleep_s = 5.0
    npm.install()
    monkeypatch.setattr(fetch_module, "NPM_TIMEOUT_S", 0.3)
    with pytest.raises(ModelNotFoundError, match="timed out"):
        fetch_models([SPEC_A])


def test_npm_member_with_wrong_bytes_falls_through_to_the_mirror(
    npm: FakeNpm, mirror: Path, cache: Path, tmp_path: Path
) -> None:
    npm.tarball = build_tgz(
        tmp_path / "bad.tgz", {SPEC_A.npm_member: b"X" + DATA_A[1:], SPEC_B.npm_member: DATA_B}
    )
    npm.install()
    paths = fetch_models([SPEC_A, SPEC_B], mirror=mirror.as_uri())
    assert [p.read_bytes() for p in paths] == [DATA_A, DATA_B]
    assert len(npm.calls) == 1


def test_only_named_regular_members_are_read(npm: FakeNpm, cache: Path, tmp_path: Path) -> None:
    npm.tarball = build_tgz(
        tmp_path / "odd.tgz",
        {"package/../../escaped.tflite": DATA_A, "package/b.tflite": DATA_B},
        symlinks={SPEC_A.npm_member: "/etc/passwd"},
    )
    npm.install()
    with pytest.raises(ModelNotFoundError, match="not a regular file"):
        fetch_models([SPEC_A, SPEC_B])
    assert sorted(p.name for p in cache.iterdir()) == [SPEC_B.filename]
    assert not list(tmp_path.rglob("escaped.tflite"))


def test_missing_member_and_unreadable_tarball_are_reported(npm: FakeNpm, tmp_path: Path) -> None:
    npm.tarball = build_tgz(tmp_path / "empty.tgz", {"package/README.md": b"x"})
    npm.install()
    with pytest.raises(ModelNotFoundError, match=f"{SPEC_A.npm_member} is not in"):
        fetch_models([SPEC_A])
    npm.tarball = tmp_path / "garbage.tgz"
    npm.tarball.write_bytes(b"not a gzip file")
    npm.install()
    with pytest.raises(ModelNotFoundError, match="cannot read"):
        fetch_models([SPEC_A])


# --- ensure_model: model_dir, cache, offline ---------------------------------------------------


def test_model_dir_missing_file_names_the_path_and_fetches_nothing(
    npm: FakeNpm, mirror: Path, tmp_path: Path, cache: Path
) -> None:
    folder = tmp_path / "my-models"
    folder.mkdir()
    with pytest.raises(ModelNotFoundError) as info:
        ensure_model(SPEC_A, model_dir=folder, mirror=mirror.as_uri())
    assert str(folder / SPEC_A.filename) in str(info.value)
    assert list(folder.iterdir()) == []
    assert npm.calls == []
    assert not cache.exists()


def test_model_dir_corrupt_file_is_an_integrity_error_and_left_alone(
    npm: FakeNpm, tmp_path: Path
) -> None:
    folder = tmp_path / "my-models"
    folder.mkdir()
    (folder / SPEC_A.filename).write_bytes(DATA_A[:10])
    with pytest.raises(ModelIntegrityError, match=str(folder / SPEC_A.filename)):
        ensure_model(SPEC_A, model_dir=folder)
    assert (folder / SPEC_A.filename).read_bytes() == DATA_A[:10]
    assert npm.calls == []


def test_model_dir_good_file_is_used_as_it_is(tmp_path: Path) -> None:
    folder = tmp_path / "my-models"
    folder.mkdir()
    (folder / SPEC_A.filename).write_bytes(DATA_A)
    assert ensure_model(SPEC_A, model_dir=str(folder)) == folder / SPEC_A.filename


def test_offline_with_an_empty_cache_says_what_to_run(
    npm: FakeNpm, mirror: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HIFIPOSE_OFFLINE", "1")
    monkeypatch.setenv("HIFIPOSE_MODEL_MIRROR", mirror.as_uri())
    with pytest.raises(ModelNotFoundError) as info:
        ensure_model(SPEC_A)
    message = str(info.value)
    assert "hifipose models fetch" in message
    assert "HIFIPOSE_OFFLINE" in message
    assert "HIFIPOSE_MODEL_MIRROR" in message
    assert "model_dir" in message
    assert npm.calls == []
    assert not cache.exists()  # offline creates nothing either


def test_fetch_false_with_an_empty_cache_says_what_to_run(npm: FakeNpm) -> None:
    with pytest.raises(ModelNotFoundError, match="hifipose models fetch"):
        ensure_model(SPEC_A, fetch=False)
    assert npm.calls == []


def test_every_failed_source_is_listed(mirror: Path, tmp_path: Path) -> None:
    (mirror / SPEC_A.filename).unlink()
    with pytest.raises(ModelNotFoundError) as info:
        ensure_model(SPEC_A, mirror=mirror.as_uri())
    message = str(info.value)
    assert "no-npm-here" in message  # npm: the client named by HIFIPOSE_NPM is not there
    assert f"{mirror.as_uri()}/{SPEC_A.filename}" in message  # mirror: the URL tried
    assert "hifipose models fetch" in message


def test_corrupt_cached_file_is_deleted_and_fetched_again(
    mirror: Path, cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = ensure_model(SPEC_A, mirror=mirror.as_uri())
    path.write_bytes(DATA_A[:100])  # truncated
    with caplog.at_level(logging.WARNING, logger="hifipose.models"):
        assert ensure_model(SPEC_A, mirror=mirror.as_uri()) == path
    assert path.read_bytes() == DATA_A
    assert any("deleting" in r.getMessage() for r in caplog.records)


def test_corrupt_cached_file_is_never_loaded_even_offline(
    mirror: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = ensure_model(SPEC_A, mirror=mirror.as_uri())
    path.write_bytes(b"Q" + DATA_A[1:])  # same size, wrong bytes
    monkeypatch.setenv("HIFIPOSE_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError, match="hifipose models fetch"):
        ensure_model(SPEC_A)
    assert not path.exists()


def test_fetch_models_replaces_a_corrupt_cached_file(mirror: Path, cache: Path) -> None:
    (path,) = fetch_models([SPEC_B], mirror=mirror.as_uri())
    path.write_bytes(b"junk")
    assert fetch_models([SPEC_B], mirror=mirror.as_uri()) == [path]
    assert path.read_bytes() == DATA_B


def test_an_uncreatable_cache_is_reported(
    mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    monkeypatch.setenv("HIFIPOSE_CACHE_DIR", str(blocker / "cache"))
    with pytest.raises(ModelNotFoundError, match="HIFIPOSE_CACHE_DIR"):
        fetch_models([SPEC_A], mirror=mirror.as_uri())


def test_stale_partials_are_cleared_and_fresh_ones_kept(mirror: Path, cache: Path) -> None:
    cache.mkdir(parents=True)
    stale = cache / "a.tflite.123-dead.partial"
    fresh = cache / "a.tflite.456-beef.partial"  # perhaps another process, still writing
    stale.write_bytes(b"old")
    fresh.write_bytes(b"new")
    two_days_ago = stale.stat().st_mtime - 2 * 86_400
    os.utime(stale, (two_days_ago, two_days_ago))
    fetch_models([SPEC_A], mirror=mirror.as_uri())
    assert not stale.exists()
    assert fresh.exists()


@pytest.mark.parametrize("value", ["0", "", "false", "no"])
def test_offline_values_that_mean_online(
    value: str, mirror: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HIFIPOSE_OFFLINE", value)
    assert ensure_model(SPEC_A, mirror=mirror.as_uri()).read_bytes() == DATA_A


def test_unknown_model_name_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="pose_landmark_full"):
        ensure_model("pose_landmark_medium")
    with pytest.raises(ConfigError):
        fetch_models(["nope"])


def test_registry_names_resolve_to_the_cache(
    monkeypatch: pytest.MonkeyPatch, mirror: Path, cache: Path
) -> None:
    monkeypatch.setattr(fetch_module, "MODEL_SPECS", {"pose_detection": SPEC_A})
    assert ensure_model("pose_detection", mirror=mirror.as_uri()) == cache / SPEC_A.filename
    assert fetch_models(mirror=mirror.as_uri()) == [cache / SPEC_A.filename]


# --- status ------------------------------------------------------------------------------------


def test_model_status_and_verify_models_report_without_touching_files(
    mirror: Path, tmp_path: Path
) -> None:
    spec_c = make_spec(b"third", "c.tflite")
    folder = tmp_path / "check"
    folder.mkdir()
    (folder / SPEC_A.filename).write_bytes(DATA_A)
    (folder / SPEC_B.filename).write_bytes(b"broken")
    rows = model_status(folder, names=[SPEC_A, SPEC_B, spec_c])
    assert [(r["name"], r["state"]) for r in rows] == [
        ("a", "ok"),
        ("b", "corrupt"),
        ("c", "missing"),
    ]
    assert rows[0] == {
        "name": "a",
        "filename": SPEC_A.filename,
        "size_bytes": len(DATA_A),
        "sha256": SPEC_A.sha256,  # all 64 hex digits, not a prefix
        "path": str(folder / SPEC_A.filename),
        "state": "ok",
        "detail": "",
    }
    assert str(len(DATA_B)) in rows[1]["detail"]
    assert json.loads(json.dumps(rows)) == rows  # the CLI prints it as JSON
    assert (folder / SPEC_B.filename).read_bytes() == b"broken"  # reported, not deleted
    assert verify_models(folder, names=[SPEC_A, SPEC_B, spec_c]) == {
        "a": "ok",
        "b": "corrupt",
        "c": "missing",
    }


def test_verify_models_defaults_to_the_four_models_in_the_cache(cache: Path) -> None:
    assert verify_models() == dict.fromkeys(MODEL_SPECS, "missing")
    assert {r["path"] for r in model_status()} == {
        str(cache / s.filename) for s in MODEL_SPECS.values()
    }


# --- files packed in one member (the Holistic package) -----------------------------------------


def packed_spec(data: bytes, filename: str, offset: int, package: str) -> ModelSpec:
    return ModelSpec(
        name=filename.removesuffix(".tflite"),
        filename=filename,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        npm_member="package/packed_assets.data",
        input_name="input_1",
        input_size_wh=(8, 8),
        output_names=("out",),
        npm_package=package,
        npm_offset=offset,
    )


def test_packed_files_are_cut_at_their_offsets_one_pack_call_per_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: Path
) -> None:
    gap, first, second = b"x" * 3000, b"first model " * 500, b"second model " * 700
    packed = gap + first + b"y" * 17 + second + b"tail"
    other = "@example/other@1.0.0"
    spec_1 = packed_spec(first, "first.tflite", len(gap), other)
    spec_2 = packed_spec(second, "second.tflite", len(gap) + len(first) + 17, other)
    fake = FakeNpm(tmp_path)
    fake.tarball = build_tgz(
        tmp_path / "package.tgz",
        {"package/packed_assets.data": packed, SPEC_B.npm_member: DATA_B},
    )
    monkeypatch.setenv("HIFIPOSE_NPM", fake.install())
    # the later file first: the member is still read once, front to back
    paths = fetch_models([spec_2, SPEC_B, spec_1])
    assert [p.read_bytes() for p in paths] == [second, DATA_B, first]
    assert [call[1] for call in fake.calls] == [other, NPM_PACKAGE]
    assert no_partials(cache)


def test_a_packed_range_past_the_member_end_or_shifted_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: Path
) -> None:
    data = b"model bytes " * 100
    fake = FakeNpm(tmp_path)
    fake.tarball = build_tgz(tmp_path / "package.tgz", {"package/packed_assets.data": data})
    monkeypatch.setenv("HIFIPOSE_NPM", fake.install())
    too_far = packed_spec(data, "far.tflite", 1, "@example/p@1")
    with pytest.raises(ModelNotFoundError, match=r"too few for 1200 bytes at offset 1"):
        fetch_models([too_far])
    shifted = packed_spec(data[:-1], "shifted.tflite", 1, "@example/p@1")
    with pytest.raises(ModelNotFoundError, match=r"does not match its pin"):
        fetch_models([shifted])
    assert not (cache / "shifted.tflite").exists()
    assert no_partials(cache)


def test_holistic_specs_are_pinned_inside_their_packed_file() -> None:
    from hifipose.models import HOLISTIC_NPM_PACKAGE, HOLISTIC_SPECS

    ranges = sorted((s.npm_offset or 0, s.size_bytes) for s in HOLISTIC_SPECS.values())
    assert all(a + n <= b for (a, n), (b, _) in itertools.pairwise(ranges))
    assert {s.npm_package for s in HOLISTIC_SPECS.values()} == {HOLISTIC_NPM_PACKAGE}
    assert not set(HOLISTIC_SPECS) & set(MODEL_SPECS)
    assert set(fetch_module._resolve_all(None)) == set(MODEL_SPECS.values())
