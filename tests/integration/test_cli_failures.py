"""The command line with careless input: refused before any work, one line, nothing lost."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import hifipose
from hifipose._native_logs import NATIVE_LOG_ENV
from hifipose.cli import build_parser, main
from hifipose.models import MODEL_SPECS

SQUATS = "tfjs_golden/pose_squats.mp4"
POSE_JPG = "tfjs_golden/pose.jpg"


def _clean_env() -> dict[str, str]:
    """This environment without the log switches an in-process ``main()`` call has set."""
    return {k: v for k, v in os.environ.items() if k not in NATIVE_LOG_ENV}


def _hifipose(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hifipose", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env=_clean_env() if env is None else env,
    )


def _unreadable_folder(folder: Path, count: int = 2) -> Path:
    folder.mkdir()
    for i in range(count):
        (folder / f"broken{i}.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    return folder


@pytest.mark.parametrize("spelling", ["same", "dotted", "symlink"])
def test_an_overlay_onto_the_input_is_refused_and_the_input_kept(
    tmp_path: Path, shared_data: Path, model_dir: Path, spelling: str
) -> None:
    clip = tmp_path / "clip.mp4"
    shutil.copy(shared_data / SQUATS, clip)
    before = clip.read_bytes()
    if spelling == "same":
        render = clip
    elif spelling == "dotted":
        (tmp_path / "sub").mkdir()
        render = tmp_path / "sub" / ".." / "." / "clip.mp4"
    else:
        render = tmp_path / "link.mp4"
        render.symlink_to(clip)
    args = ["track", str(clip), "--render", str(render), "--model-dir", str(model_dir), "--quiet"]
    assert main(args) == 1
    assert clip.read_bytes() == before  # before: replaced by the overlay, exit 0


def test_keypoints_onto_the_input_image_are_refused(
    tmp_path: Path, shared_data: Path, model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # -o and --render naming one path: the PNG folder and the keypoint file would collide.
    image = tmp_path / "pose.jpg"
    shutil.copy(shared_data / POSE_JPG, image)
    out = tmp_path / "k.jsonl"
    args = ["track", str(image), "-o", str(out), "--render", str(out), "--model-dir"]
    assert main([*args, str(model_dir), "--quiet"]) == 1
    assert "same path" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pose.jpg"]


def test_an_existing_folder_as_keypoints_fails_before_tracking(
    tmp_path: Path, shared_data: Path, model_dir: Path
) -> None:
    (tmp_path / "k.jsonl").mkdir()
    done = _hifipose(
        "track", str(shared_data / SQUATS), "-o", str(tmp_path / "k.jsonl"),
        "--model-dir", str(model_dir), "--quiet",
    )  # fmt: skip
    assert done.returncode == 1
    # Before: the whole clip was tracked, then "[Errno 21] Is a directory".
    assert done.stderr == (
        f"hifipose: error: -o {tmp_path / 'k.jsonl'} is an existing folder; give a file name, "
        f"e.g. {tmp_path / 'k.jsonl' / 'keypoints.jsonl'}\n"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["k.jsonl"]  # no partial file left


def test_show_without_a_display_fails_before_any_work(tmp_path: Path, model_dir: Path) -> None:
    # The input fails on its first frame; the display check must come first.
    folder = _unreadable_folder(tmp_path / "imgs")
    env = {k: v for k, v in _clean_env().items() if k not in {"DISPLAY", "WAYLAND_DISPLAY"}}
    done = _hifipose("track", str(folder), "--show", "--model-dir", str(model_dir), env=env)
    assert done.returncode == 1
    assert done.stderr.startswith("hifipose: error: --show needs a display")
    assert done.stderr.count("\n") == 1


def test_unreadable_images_are_skipped_listed_and_exit_3(
    tmp_path: Path, shared_data: Path, model_dir: Path
) -> None:
    folder = tmp_path / "imgs"
    folder.mkdir()
    for name in ("a1.jpg", "a3.jpg"):
        shutil.copy(shared_data / POSE_JPG, folder / name)
    (folder / "a2.jpg").write_bytes(b"\xff\xd8 truncated")
    out = tmp_path / "k.jsonl"
    done = _hifipose("track", str(folder), "-o", str(out), "--model-dir", str(model_dir))
    assert done.returncode == 3  # done with failures; before: 1, and nothing published
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["frame"] for line in lines] == [0, 2]  # positions in the sorted folder
    assert all(len(line["poses"]) == 1 for line in lines)
    warnings = [line for line in done.stderr.splitlines() if "a2.jpg" in line]
    assert len(warnings) == 1
    assert "skipping" in warnings[0]
    assert "skipped 1 unreadable file:" in done.stdout
    assert str(folder / "a2.jpg") in done.stdout
    assert done.stderr.rstrip().endswith("done with failures: 1 input file skipped")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["track", "x.mp4", "-o", "k.jsonl", "--max-frames", "0"], "--max-frames: expected"),
        (["track", "x.mp4", "-o", "k.jsonl", "--max-frames", "-3"], "--max-frames: expected"),
        (["bench", "--rounds", "0"], "--rounds: expected an integer >= 1"),
        (["bench", "--frames", "1"], "--frames: expected an integer >= 2"),
        (["bench", "--memory-frames", "-1"], "--memory-frames: expected"),
        (["bench", "--threads", "default,0"], "--threads: expected thread counts >= 1"),
        (["serve", "--port", "70000"], "--port: expected an integer from 0 to 65535"),
        (["serve", "--max-frame-kb", "0"], "--max-frame-kb: expected an integer >= 1"),
        (["serve", "--max-upload-mb", "-5"], "--max-upload-mb: expected an integer >= 1"),
    ],
)
def test_impossible_values_are_usage_errors(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 1  # the README: bad arguments exit 1 (argparse's is 2)
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert err.count("\n") == 1, err  # one line, no usage block
    assert err.startswith(f"hifipose {args[0]}: error: ")


@pytest.mark.parametrize(
    "args",
    [
        ["track"],  # a required argument missing
        ["track", "x.mp4", "--model", "huge"],  # not a choice
        ["track", "x.mp4", "--no-such-option"],
        ["no-such-command"],
    ],
)
def test_every_argument_error_is_one_line_and_exit_1(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert ": error: " in err
    assert "--help" in err


def test_the_summary_says_1_frame_and_1_time(
    tmp_path: Path, shared_data: Path, model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "k.jsonl"
    image = str(shared_data / POSE_JPG)
    assert main(["track", image, "-o", str(out), "--model-dir", str(model_dir), "--quiet"]) == 0
    summary = capsys.readouterr().out.splitlines()[0]
    assert summary.startswith("1 frame, 1 with a pose, detector ran 1 time, "), summary


def test_debug_and_verbose_are_accepted_after_the_subcommand(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["models", "path", "--debug"]) == 0
    assert main(["models", "path", "--verbose"]) == 0
    capsys.readouterr()
    # --debug after the subcommand really is debug: the error is raised, not printed.
    with pytest.raises(hifipose.VideoReadError):
        main(["track", "/no/such/clip.mp4", "-o", "/tmp/k.jsonl", "--debug"])


def _one_line_cases(tmp_path: Path, shared_data: Path) -> dict[str, list[str]]:
    truncated = tmp_path / "cut.mp4"
    truncated.write_bytes((shared_data / SQUATS).read_bytes()[:3000])  # no moov atom
    # Fails after the detector exists (the overlay folder cannot be created).
    image = str(shared_data / POSE_JPG)
    return {
        "ffmpeg": ["track", str(truncated), "-o", str(tmp_path / "k.jsonl")],
        "litert": ["track", image, "--render", "/proc/hifipose/overlay.mp4"],
    }


@pytest.mark.parametrize("case", ["ffmpeg", "litert"])
def test_an_error_is_exactly_one_line(
    tmp_path: Path, shared_data: Path, model_dir: Path, case: str
) -> None:
    args = [*_one_line_cases(tmp_path, shared_data)[case], "--model-dir", str(model_dir)]
    done = _hifipose(*args)
    assert done.returncode == 1
    # Before: "[mov,mp4,...] moov atom not found", "[ WARN:0@0.1] global cap.cpp ..." or
    # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." came first.
    assert done.stderr.startswith("hifipose: error: cannot ")
    assert done.stderr.count("\n") == 1, done.stderr
    loud = _hifipose(*args, "--verbose")
    assert loud.returncode == 1
    assert loud.stderr.count("\n") > 1  # --verbose lets the native lines through
    assert loud.stderr.endswith(done.stderr)


def test_models_list_json_gives_the_full_sha256(
    model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "list", "--json", "--model-dir", str(model_dir)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"]: r["sha256"] for r in rows} == {
        name: spec.sha256 for name, spec in MODEL_SPECS.items()
    }
    assert main(["models", "list", "--model-dir", str(model_dir)]) == 0
    assert "sha256 a63c614bef30…" in capsys.readouterr().out  # the table stays short


@pytest.mark.parametrize("command", ["demo", "models"])
def test_demo_and_models_have_help_texts(command: str) -> None:
    sub = next(action for action in build_parser()._actions if action.dest == "command")
    parser = sub.choices[command]  # type: ignore[index]
    assert parser.description, f"`hifipose {command} --help` has no description"
    for action in parser._actions:
        assert action.help, f"{command} {action.option_strings or action.dest} has no help"
    if command == "models":
        assert "clean" in parser.format_help()


@pytest.fixture
def read_only_cache() -> Iterator[Path]:
    """A cache folder holding corrupt model files, on which nothing can be written.

    As a user, its permissions make it read-only. Root ignores permissions, so as root the
    folder is bind-mounted read-only onto itself (as a read-only volume would be).
    """
    cache = Path(tempfile.mkdtemp(prefix="hifipose-ro-"))
    models = cache / "models"
    models.mkdir()
    for spec in MODEL_SPECS.values():
        (models / spec.filename).write_bytes(b"corrupt")
    mounted = False
    mount, umount = shutil.which("mount") or "mount", shutil.which("umount") or "umount"
    if os.geteuid() == 0:
        steps = (
            [mount, "--bind", str(cache), str(cache)],
            [mount, "-o", "remount,ro,bind", str(cache)],
        )
        for step in steps:
            if subprocess.run(step, check=False, capture_output=True).returncode != 0:
                subprocess.run([umount, str(cache)], check=False, capture_output=True)
                shutil.rmtree(cache)
                pytest.skip("running as root without the right to mount a read-only folder")
        mounted = True
    else:
        for folder in (models, cache):
            folder.chmod(0o555)
    yield cache
    if mounted:
        subprocess.run([umount, str(cache)], check=True)
    for folder in (cache, models):
        folder.chmod(0o755)
    shutil.rmtree(cache)


def test_a_corrupt_model_in_a_read_only_cache_says_so(
    read_only_cache: Path, shared_data: Path, tmp_path: Path
) -> None:
    env = {
        **_clean_env(),
        "HIFIPOSE_CACHE_DIR": str(read_only_cache),
        "HIFIPOSE_NPM": "/nonexistent/npm",  # were it tried, it would fail at once
    }
    env.pop("HIFIPOSE_OFFLINE", None)
    env.pop("HIFIPOSE_MODEL_MIRROR", None)
    done = _hifipose("track", str(shared_data / POSE_JPG), "-o", str(tmp_path / "k.jsonl"), env=env)
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith("hifipose: error: model file")
    assert "corrupt" in line
    assert "read-only" in line  # before: "could not get model files ... npm: ..."
    assert "npm:" not in line
    assert (read_only_cache / "models" / "pose_detection.tflite").read_bytes() == b"corrupt"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--tiles", "10000"],
            "detector_tiles must be at most 8 (its cost grows with it), got 10000",
        ),
        (["--tiles", "9"], "detector_tiles must be at most 8"),
        (["--num-poses", "101"], "num_poses must be at most 100"),
        (["--max-lost-ms", "1e9"], "max_lost_ms must be at most 60000"),
        (
            ["--precision", "int8", "--compat", "mediapipe-python"],
            "precision='int8' is another model: use one or the other",
        ),
    ],
)
def test_costly_or_contradictory_track_options_fail_in_one_line_before_any_work(
    options: list[str],
    message: str,
    *,
    tmp_path: Path,
    shared_data: Path,
    model_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--tiles 10000 grew to 23.5 GB and was OOM-killed; 200 took a minute per photo."""
    out = tmp_path / "k.jsonl"
    argv = ["track", str(shared_data / POSE_JPG), "-o", str(out), "--model-dir", str(model_dir)]
    assert main([*argv, *options]) == 1
    err = capsys.readouterr().err
    assert err.startswith("hifipose: error: ")
    assert message in err
    assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a partial file
