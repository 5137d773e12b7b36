"""Scripts written against ``mp.solutions.pose`` run on hifipose after a one-line change.

Each script in examples/migration/ is run as written (mediapipe 0.10.14) and with its import
line changed to ``import hifipose as mp``; both must print the same text, and the same
numbers as the script rounds them: the rep counter's counts and frames exactly; the CSV
exporter's 3-decimal coordinates within one unit of the last digit (static mode: the two
differ by ~0.004 px, which flips a rounding now and then); the video overlay's integer elbow
angles within 3° (video mode: tracking carries float32 differences from frame to frame,
0.65 px mean, 5 px at worst on pose_squats.mp4: measured up to 2° on a forearm).
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPORT, ROOT, SHARED_DATA

pytest.importorskip("mediapipe.python.solutions.pose")  # the oracle (an optional extra)

EXAMPLES = ROOT / "examples" / "migration"
BEFORE = "import mediapipe as mp\n"
AFTER = "import hifipose as mp\n"
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _migrated(script: Path, folder: Path) -> Path:
    text = script.read_text()
    assert text.count(BEFORE) == 1, f"{script.name} must import mediapipe as mp once"
    target = folder / script.name
    target.write_text(text.replace(BEFORE, AFTER))
    changed = [
        (a, b)
        for a, b in zip(text.splitlines(), target.read_text().splitlines(), strict=True)
        if a != b
    ]
    assert len(changed) == 1  # only the import line
    return target


def _run(script: Path, args: list[str], *, hifipose: bool) -> str:
    env = dict(os.environ)
    if hifipose:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p
        )
    run = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout


def _same_output(before: str, after: str, tolerance: float) -> int:
    """Assert the same text and numbers within ``tolerance``; return how many numbers differ."""
    assert NUMBER.sub("#", before) == NUMBER.sub("#", after), (before, after)
    pairs = list(zip(NUMBER.findall(before), NUMBER.findall(after), strict=True))
    far = [(a, b) for a, b in pairs if abs(float(a) - float(b)) > tolerance + 1e-9]
    assert not far, far
    return sum(a != b for a, b in pairs)


def _compare(name: str, args_for, tolerance: float, tmp_path: Path) -> tuple[str, str]:
    script = EXAMPLES / name
    migrated = _migrated(script, tmp_path)
    (tmp_path / "mp").mkdir()
    (tmp_path / "hp").mkdir()
    before = _run(script, args_for(tmp_path / "mp"), hifipose=False)
    after = _run(migrated, args_for(tmp_path / "hp"), hifipose=True)
    before = before.replace(str(tmp_path / "mp"), "OUT")
    after = after.replace(str(tmp_path / "hp"), "OUT")
    differing = _same_output(before, after, tolerance)
    REPORT.append(
        f"migration {name}: {len(before.splitlines())} lines, same text; "
        f"{differing} printed numbers differ (by at most {tolerance:g})"
    )
    return before, after


def test_rep_counter_prints_the_same_reps(tmp_path: Path) -> None:
    clip = str(SHARED_DATA / "tfjs_golden" / "pose_squats.mp4")
    before, _ = _compare("rep_counter.py", lambda _out: [clip], 0, tmp_path)
    assert "Total reps: 3 in 65 frames" in before  # the clip's three squats were counted


def test_overlay_loop_prints_the_same_angles(tmp_path: Path) -> None:
    clip = str(SHARED_DATA / "tfjs_golden" / "pose_squats.mp4")
    _compare("overlay_loop.py", lambda out: [clip, str(out / "annotated.mp4")], 3, tmp_path)
    for side in ("mp", "hp"):
        assert (tmp_path / side / "annotated.mp4").stat().st_size > 0


def test_landmarks_to_csv_exports_the_same_rows(tmp_path: Path) -> None:
    folder = str(SHARED_DATA / "labelled" / "coco")
    _compare("landmarks_to_csv.py", lambda out: [folder, str(out / "poses.csv")], 0.001, tmp_path)
    rows = {side: list(csv.reader((tmp_path / side / "poses.csv").open())) for side in ("mp", "hp")}
    assert rows["mp"][0] == rows["hp"][0] and len(rows["mp"]) == len(rows["hp"]) > 1
    values = [
        (float(a), float(b))
        for ra, rb in zip(rows["mp"][1:], rows["hp"][1:], strict=True)
        for a, b in zip(ra[1:], rb[1:], strict=True)
    ]
    assert all(abs(a - b) <= 0.001 + 1e-9 for a, b in values)
    REPORT.append(
        f"migration landmarks_to_csv.py: {sum(a != b for a, b in values)} of {len(values)} "
        "CSV values differ by one unit of the 3rd decimal"
    )
