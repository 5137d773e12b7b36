"""``hifipose track A B ... --jobs N`` on real clips: same keypoints as one input at a time,
a bad input among good ones loses nothing, and names that inputs would share are refused."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import cv2
import pytest

from hifipose.cli import main

CLIPS = ("tfjs_golden/pose_squats.mp4", "multi/crossing_squats.mp4")
FRAMES = 30
COMMON = ("--model", "lite", "--max-frames", str(FRAMES), "--quiet")


@pytest.fixture(scope="module")
def track(model_dir: Path) -> Callable[..., int]:
    """``hifipose track ARGS`` with the short common options; its exit status."""
    return lambda *args: main(["track", *args, *COMMON, "--model-dir", str(model_dir)])


@pytest.fixture(scope="module")
def alone(
    tmp_path_factory: pytest.TempPathFactory, shared_data: Path, track: Callable[..., int]
) -> dict[str, bytes]:
    """Each clip's keypoint file from a plain one-input ``track`` (default threads)."""
    out = tmp_path_factory.mktemp("alone")
    files = {}
    for clip in CLIPS:
        path = out / f"{Path(clip).stem}.jsonl"
        assert track(str(shared_data / clip), "-o", str(path)) == 0
        files[path.name] = path.read_bytes()
    return files


def _frame_count(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    try:
        return int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        capture.release()


def test_two_jobs_write_what_each_input_alone_writes(
    tmp_path: Path,
    shared_data: Path,
    track: Callable[..., int],
    alone: dict[str, bytes],
    capsys: pytest.CaptureFixture[str],
) -> None:
    inputs = [str(shared_data / clip) for clip in CLIPS]
    args = [*inputs, "-o", str(tmp_path / "{stem}.jsonl"), "--jobs", "2"]
    assert track(*args, "--render", f"{tmp_path / 'overlays'}/") == 0
    for name, expected in alone.items():
        assert (tmp_path / name).read_bytes() == expected  # the same keypoints, bit for bit
    for clip in CLIPS:
        assert _frame_count(tmp_path / "overlays" / f"{Path(clip).stem}.mp4") == FRAMES
    out = capsys.readouterr().out
    assert f"2 inputs, {2 * FRAMES} frames" in out
    assert "(2 at a time)" in out


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_each_input_reports_its_repetitions(
    tmp_path: Path,
    *,
    shared_data: Path,
    track: Callable[..., int],
    capsys: pytest.CaptureFixture[str],
    jobs: str,
) -> None:
    """``--count`` over several inputs: each input's lines, as a one-input run prints them."""
    clip = str(shared_data / CLIPS[0])
    assert track(clip, "-o", str(tmp_path / "alone.jsonl"), "--count", "squat") == 0
    expected = [line for line in capsys.readouterr().out.splitlines() if line.startswith("squat:")]
    assert expected  # one line per person, e.g. "squat: person #1: 1 repetitions"
    inputs = [clip, str(shared_data / CLIPS[1])]
    args = [*inputs, "-o", f"{tmp_path / 'out'}/", "--count", "squat", "--jobs", jobs]
    assert track(*args) == 0
    lines = capsys.readouterr().out.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(f"{clip}: "))
    assert lines[first + 1 : first + 1 + len(expected)] == [f"  {line}" for line in expected]
    second = next(i for i, line in enumerate(lines) if line.startswith(f"{inputs[1]}: "))
    assert lines[second + 1].startswith("  squat: person #")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_unreadable_input_among_good_ones_loses_nothing(
    tmp_path: Path,
    *,
    shared_data: Path,
    track: Callable[..., int],
    alone: dict[str, bytes],
    capsys: pytest.CaptureFixture[str],
    jobs: str,
) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video" * 50)
    inputs = [str(shared_data / CLIPS[0]), str(broken), str(shared_data / CLIPS[1])]
    out = tmp_path / "out"
    assert track(*inputs, "-o", f"{out}/", "--jobs", jobs) == 3
    assert sorted(p.name for p in out.iterdir()) == sorted(alone)  # no broken.jsonl, no partials
    for name, expected in alone.items():
        assert (out / name).read_bytes() == expected
    err = capsys.readouterr().err
    assert f"{broken}: failed: VideoReadError" in err
    assert "done with failures: 1 of 3 inputs" in err


def test_names_that_inputs_would_share_are_refused_before_any_work(
    tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clips = [tmp_path / "a.mp4", tmp_path / "b.mp4"]
    for clip in clips:
        shutil.copy(shared_data / CLIPS[0], clip)
    before = sorted(tmp_path.iterdir())
    inputs = [str(clip) for clip in clips]
    refused = {
        "one file for two inputs": (["-o", str(tmp_path / "k.jsonl")], "use {stem}"),
        "one stem twice": ([inputs[0], "-o", f"{tmp_path}/"], "would both write"),
        "an overlay onto an input": (["--render", str(tmp_path / "{stem}.mp4")], "is the input"),
        "keypoints and overlay in one file": (
            ["-o", str(tmp_path / "{stem}.x"), "--render", str(tmp_path / "{stem}.x")],
            "name the same path",
        ),
        "a window for parallel jobs": (["-o", f"{tmp_path}/", "--show", "--jobs", "2"], "--jobs 1"),
    }
    for case, (extra, message) in refused.items():
        assert main(["track", *inputs, *extra, "--quiet"]) == 1, case
        assert message in capsys.readouterr().err, case
    assert sorted(tmp_path.iterdir()) == before
    assert all(clip.read_bytes() == (shared_data / CLIPS[0]).read_bytes() for clip in clips)
