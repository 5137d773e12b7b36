"""hifipose batch and its output folder: paths that leave it, its lock, its disk, its workers.

Local pool only (no Ray); small inputs cut from the session's corpus.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest

import hifipose.batch
from hifipose.batch import engine, run
from hifipose.cli import main
from hifipose.io import read_poses
from tests.conftest import ROOT
from tests.integration.batch.conftest import OPTIONS
from tests.integration.batch.faults import FAULTY_CLI_ENV, Fault, TestHooks, faulty_cli
from tests.integration.batch.helpers import read_events

ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def _clips(corpus: tuple[Path, dict[str, int]], kind: str, count: int) -> list[Path]:
    folder, clips = corpus
    return [folder / f"{v}.mp4" for v in sorted(clips) if v.startswith(f"{kind}/")][:count]


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file() or p.is_symlink()}


@contextlib.contextmanager
def _batch_process(
    args: list[str], hooks: TestHooks, **kwargs: object
) -> Iterator[subprocess.Popen[bytes]]:
    """``hifipose batch ARGS`` in its own session, its workers running ``hooks`` (which log
    their events); whatever is left of it is killed after."""
    assert hooks.events is not None
    hooks.events.mkdir(exist_ok=True)
    process = subprocess.Popen(
        faulty_cli(hooks, ["batch", *args, "--model", "lite", "--quiet"]),
        env=FAULTY_CLI_ENV,
        start_new_session=True,
        **kwargs,  # type: ignore[call-overload]
    )
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # its session: the driver and its workers
        process.wait(timeout=60)
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


def _wait_for(predicate: object, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 120
    while not predicate():  # type: ignore[operator]
        assert process.poll() is None, f"the batch ended before {what}"
        assert time.monotonic() < deadline, f"no {what} after 120 s"
        time.sleep(0.1)


def test_inputs_with_dot_dot_stay_inside_outdir_and_resume(
    tmp_path: Path, corpus: tuple[Path, dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``batch clips/a.mp4 ../other/b.mp4 -o out`` wrote out/other/b.parquet, and
    ``../../d/v.mp4`` outside OUTDIR; read_poses(OUTDIR) missed it, a rerun called it done."""
    one, nobody, several = (_clips(corpus, kind, 1)[0] for kind in ("one", "nobody", "several"))
    work = tmp_path / "top" / "w"
    for source, target in [
        (one, work / "clips" / "a.mp4"),
        (nobody, tmp_path / "top" / "other" / "b.mp4"),
        (several, tmp_path / "d" / "v.mp4"),
    ]:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    before = _files(tmp_path)
    monkeypatch.chdir(work)
    args = ["batch", "clips/a.mp4", "../other/b.mp4", "clips/../../../d/v.mp4", "-o", "out"]
    args += ["--model", "lite", "--quiet", "--workers", "1"]
    assert main(args) == 0
    written = _files(tmp_path) - before
    out = work / "out"
    assert written and all(p.is_relative_to(out) for p in written), sorted(written)
    poses = sorted(p.relative_to(out / "poses").as_posix() for p in (out / "poses").rglob("*"))
    assert [p for p in poses if p.endswith(".parquet")] == [
        "d/v.parquet",
        "top/other/b.parquet",
        "top/w/clips/a.parquet",
    ]
    table = read_poses(out)
    assert sorted(set(table.column("video_id").to_pylist())) == [
        "d/v",
        "top/other/b",
        "top/w/clips/a",
    ]
    again = run(args[1:4], out, options=OPTIONS, workers=1)
    assert (again.done, again.skipped, again.exit_code) == (0, 3, 0)


def test_every_video_suffix_track_reads_is_tracked_from_a_folder(
    tmp_path: Path, corpus: tuple[Path, dict[str, int]]
) -> None:
    """``.flv .wmv .3gp .ts .mts`` were skipped in folders ("3 of 3") though track reads them."""
    capture = cv2.VideoCapture(str(_clips(corpus, "one", 1)[0]))
    frames = []
    while (read := capture.read())[0]:
        frames.append(read[1])
    capture.release()
    folder = tmp_path / "in"
    folder.mkdir()
    containers = {"flv": "FLV1", "wmv": "WMV2", "3gp": "mp4v", "ts": "mp4v", "mts": "mp4v"}
    for suffix, fourcc in containers.items():
        height, width = frames[0].shape[:2]
        writer = cv2.VideoWriter(
            str(folder / f"clip.{suffix}"), cv2.VideoWriter.fourcc(*fourcc), 5.0, (width, height)
        )
        for frame in frames:
            writer.write(frame)
        writer.release()
    names = [f"clip.{suffix}" for suffix in containers]
    renamed = {name: name.replace(".", "_") for name in names}  # distinct ids
    for name, stem in renamed.items():
        (folder / name).rename(folder / f"{stem}.{name.split('.')[1]}")
    summary = run([str(folder)], tmp_path / "out", options=OPTIONS, workers=1)
    assert (summary.total, summary.done, summary.exit_code) == (5, 5, 0), summary.table()
    table = read_poses(tmp_path / "out")
    assert sorted(set(table.column("video_id").to_pylist())) == sorted(renamed.values())
    assert table.num_rows == 5 * len(frames)


def test_a_second_run_on_the_same_outdir_is_refused_and_kill_9_frees_it(
    tmp_path: Path,
    corpus: tuple[Path, dict[str, int]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two runs together both tracked every video (lite and heavy results mixed, exit 0)."""
    out, events, second_events = tmp_path / "out", tmp_path / "events", tmp_path / "second"
    second_events.mkdir()
    few = [str(p) for p in _clips(corpus, "one", 3)]
    first_run = [str(corpus[0]), "-o", str(out), "--workers", "1"]
    with _batch_process(first_run, TestHooks(events)) as first:
        _wait_for(lambda: read_events(events), first, "a first video")
        job = (out / "_hifipose" / "job.json").read_text()
        # The in-process command line's batch workers log to second_events.
        hooks = TestHooks(second_events)
        monkeypatch.setattr(hifipose.batch, "run", functools.partial(engine.run, hooks=hooks))
        assert main(["batch", *few, "-o", str(out), "--model", "lite", "--quiet"]) == 1
        error = capsys.readouterr().err
        assert error.startswith(
            f"hifipose: error: another hifipose batch run (process {first.pid})"
        )
        assert error.count("\n") == 1
        assert not list(second_events.iterdir())  # no worker started
        assert (out / "_hifipose" / "job.json").read_text() == job  # nothing was touched
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    # The kill -9 left no lock behind: the same OUTDIR is usable at once.
    assert main(["batch", *few, "-o", str(out), "--model", "lite", "--quiet"]) == 0
    assert sorted(v for e, v in read_events(second_events) if e == "published") == [
        Path(p).stem for p in few
    ]


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (16 << 10, 16 << 10))  # Python ignores SIGXFSZ


def test_an_output_that_cannot_be_written_stops_the_run(
    tmp_path: Path, corpus: tuple[Path, dict[str, int]]
) -> None:
    """A full disk became a failure per video, each skipped by later runs (exit 3)."""
    out, events = tmp_path / "out", tmp_path / "events"
    videos = [str(p) for p in _clips(corpus, "one", 4)]
    args = [*videos, "-o", str(out), "--workers", "1"]
    # Files over 16 KiB cannot be written: a published pose table (about 60 KiB) fails with
    # EFBIG, as it would with ENOSPC or EDQUOT: the output is at fault, not the video.
    with _batch_process(
        args, TestHooks(events), stderr=subprocess.PIPE, preexec_fn=_limit_file_size
    ) as process:
        _, stderr = process.communicate(timeout=300)
    message = stderr.decode().strip()
    assert process.returncode == 1, message
    assert message.startswith("hifipose: error: cannot write ")
    assert "File too large" in message and "the run stops" in message
    assert "\n" not in message
    assert [e for e, _ in read_events(events) if e == "start"] == ["start"]  # no second video
    assert not (out / "_hifipose" / "failed").exists() or not any(
        (out / "_hifipose" / "failed").iterdir()
    )
    assert not list(out.rglob("*.parquet")) and not list(out.rglob("*.partial"))
    again = run(videos, out, options=OPTIONS, workers=1)
    assert (again.done, again.failed_earlier, again.exit_code) == (4, 0, 0)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        return "\tZ" not in Path(f"/proc/{pid}/status").read_text().split("State:")[1][:4]
    except (FileNotFoundError, IndexError):
        return False


def test_orphaned_workers_exit_quietly_when_the_driver_is_killed(
    tmp_path: Path, corpus: tuple[Path, dict[str, int]]
) -> None:
    """kill -9 of the driver left each worker to print a BrokenPipeError traceback (or hang)."""
    out, events, markers = tmp_path / "out", tmp_path / "events", tmp_path / "markers"
    markers.mkdir()
    videos = _clips(corpus, "one", 6)
    # One worker busy until it is stopped.
    hooks = TestHooks(events, (Fault("hang", videos[0].stem),), markers)
    args = [*map(str, videos), "-o", str(out), "--workers", "2", "--timeout-per-video", "600"]
    with _batch_process(args, hooks, stderr=subprocess.PIPE) as process:
        _wait_for(lambda: any(markers.iterdir()), process, "the hang")
        workers = {int(log.stem.split("-")[1]) for log in events.glob("events-*.log")}
        os.kill(process.pid, signal.SIGKILL)  # the driver only
        process.wait()
        deadline = time.monotonic() + 30
        while alive := [pid for pid in workers if _alive(pid)]:
            assert time.monotonic() < deadline, f"orphaned workers still running: {alive}"
            time.sleep(0.1)
        assert process.stderr is not None
        stderr = process.stderr.read().decode()  # complete: its writers are gone
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr[-2000:]
    # The next run finds the partial files of the dead workers and removes them.
    again = run(list(map(str, videos[1:])), out, options=OPTIONS, workers=1)
    assert again.exit_code == 0
    assert not list(out.rglob("*.partial"))


def test_workers_print_no_native_log_lines_unless_asked(
    tmp_path: Path, corpus: tuple[Path, dict[str, int]]
) -> None:
    """LiteRT's XNNPACK line and FFmpeg's '[mjpeg @ 0x…] overread' came from every worker."""
    folder = corpus[0]
    inputs = [str(folder / "broken"), str(_clips(corpus, "one", 1)[0])]
    code = (
        "import json, sys\n"
        "from hifipose.batch import BatchOptions, run\n"
        "loud = {'native_logs': True} if sys.argv[3] == 'loud' else {}\n"
        "summary = run(json.loads(sys.argv[1]), sys.argv[2], options=BatchOptions(model='lite'),"
        " workers=1, **loud)\n"
        "print(summary.done, len(summary.failed))\n"
    )
    lines = {}
    for mode in ("quiet", "loud"):  # quiet: the default
        done = subprocess.run(
            [sys.executable, "-c", code, json.dumps(inputs), str(tmp_path / mode), mode],
            env=ENV,
            capture_output=True,
            check=True,
            timeout=300,
        )
        assert done.stdout.decode().split() == ["1", "5"]
        lines[mode] = done.stderr.decode()
        for native in ("XNNPACK", " @ 0x", "[ WARN", "moov atom"):
            assert mode == "loud" or native not in lines[mode], lines[mode]
    assert "XNNPACK" in lines["loud"] and "overread" in lines["loud"]  # they were there


def test_bad_batch_arguments_are_one_line_errors(
    tmp_path: Path, corpus: tuple[Path, dict[str, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    """``-o bogus://x``, ``-o hdfs://…`` (88 libjvm lines) and a binary ``--list`` file gave
    tracebacks; no input at all exited 2 where the README says 1."""
    video = str(_clips(corpus, "one", 1)[0])
    binary = tmp_path / "list.bin"
    binary.write_bytes(bytes(range(256)))
    for args, reason in [
        ([video, "-o", "bogus://x"], "cannot use the output 'bogus://x'"),
        ([video, "-o", "hdfs://localhost:9/x"], "cannot open the output 'hdfs://localhost:9/x'"),
        (["--list", str(binary), "-o", str(tmp_path / "out")], "is not UTF-8 text"),
        (["-o", str(tmp_path / "out")], "give videos, folders, globs or --list FILE"),
    ]:
        assert main(["batch", *args, "--quiet"]) == 1
        captured = capsys.readouterr()
        assert captured.err.startswith("hifipose: error: ") and reason in captured.err
        assert captured.err.count("\n") == 1, captured.err[:500]
    assert not (tmp_path / "out").exists()
