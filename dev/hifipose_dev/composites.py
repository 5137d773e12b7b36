"""Multi-person clips made from the specs in ``tests/data/multi`` with the shared tool
``../shared/tools/make_composite.py``, cached in the temporary folder by the hash of the spec
and the tool (so a test session or a benchmark makes each clip once)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hifipose_dev.data import ROOT

SPECS = ROOT / "tests" / "data" / "multi"
COMPOSITE_TOOL = ROOT.parent / "shared" / "tools" / "make_composite.py"
#: The README's recipe before issue 27 made the several-people defaults (kept to compare
#: with): the shared clips run at 10 fps, a person walking behind another is hidden for
#: about 2 s, the person at the back of crossing_squats is too small for the whole-frame
#: detector, and 5 frames are 0.5 s.
CLIP_OPTIONS: dict[str, Any] = {"max_lost_ms": 3000.0, "detector_tiles": 2, "detect_every": 5}


def composite(name: str) -> tuple[Path, list[dict[str, Any]]]:
    """The clip of ``tests/data/multi/NAME.spec.json`` and its ground-truth frames."""
    spec = SPECS / f"{name}.spec.json"
    digest = hashlib.sha256(spec.read_bytes() + COMPOSITE_TOOL.read_bytes()).hexdigest()[:16]
    cache = Path(tempfile.gettempdir()) / "hifipose-test-composites"
    cache.mkdir(exist_ok=True)
    clip = cache / f"{name}-{digest}.mp4"
    return clip, make_clip(spec, clip)


def make_clip(spec: Path, clip: Path) -> list[dict[str, Any]]:
    """Make ``clip`` from ``spec`` with the shared tool, unless made already (its JSON beside
    it); return its ground-truth frames."""
    if not clip.with_suffix(".json").exists():
        subprocess.run(
            [sys.executable, str(COMPOSITE_TOOL), str(spec), str(clip)],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
    frames: list[dict[str, Any]] = json.loads(clip.with_suffix(".json").read_text())["frames"]
    return frames
