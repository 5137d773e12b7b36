"""hifipose batch on the local process pool: a corpus with broken files, resume, faults."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.compute as pc
import pytest

from hifipose.batch import BatchOptions, BatchSummary, run
from hifipose.camera import CAMERA_COLUMNS, CameraSpec
from hifipose.cli import main
from hifipose.errors import ConfigError
from hifipose.io import read_poses
from tests.conftest import SHARED_DATA
from tests.integration.batch.conftest import OPTIONS
from tests.integration.batch.corpus import BROKEN, FRAMES_PER_CLIP
from tests.integration.batch.faults import FAULTY_CLI_ENV, Fault, TestHooks, faulty_cli
from tests.integration.batch.helpers import (
    assert_same_outputs,
    group_processes,
    output_files,
    read_events,
)


def test_corpus_with_broken_files(
    reference: tuple[Path, BatchSummary], corpus: tuple[Path, dict[str, int]]
) -> None:
    out, summary = reference
    clips = corpus[1]
    assert summary.exit_code == 3
    assert summary.done == len(clips)
    assert {o.video_id: o.error_class for o in summary.failed} == BROKEN
    poses = sorted(
        p.relative_to(out / "poses").with_suffix("").as_posix()
        for p in (out / "poses").rglob("*.parquet")
    )
    assert poses == sorted(clips)  # the input tree, mirrored
    records = {
        p.relative_to(out / "_hifipose" / "failed").with_suffix("").as_posix(): json.loads(
            p.read_text()
        )
        for p in (out / "_hifipose" / "failed").rglob("*.json")
    }
    assert {k: r["error_class"] for k, r in records.items()} == BROKEN
    truncated = records["broken/truncated"]
    assert truncated["status"] == "failed"
    assert 0 < truncated["frames_read"] < truncated["frames_declared"] == 40
    assert "run again with --retry-failed --keep-partial" in truncated["message"]
    assert records["broken/zero_bytes"]["frames_read"] == 0
    # All outputs read back as one table: one row per frame (num_poses=1: a pose or a null row).
    table = read_poses(out)
    assert table.num_rows == sum(clips.values()) == FRAMES_PER_CLIP * len(clips)
    ids = table.column("video_id").to_pylist()
    assert {v: ids.count(v) for v in set(ids)} == clips
    nobody = table.filter(pc.starts_with(table.column("video_id"), "nobody/"))
    assert nobody.column("score").null_count == nobody.num_rows  # no person in view
    one = table.filter(pc.starts_with(table.column("video_id"), "one/"))
    assert one.column("score").null_count == 0  # the squatting woman in every frame
    assert set(one.column("track_id").to_pylist()) <= {None, 1}


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)


def test_rerun_does_only_what_is_missing(
    tmp_path: Path, corpus: tuple[Path, dict[str, int]]
) -> None:
    folder, clips = corpus
    inputs, out, events = tmp_path / "in", tmp_path / "out", tmp_path / "events"
    events.mkdir()
    hooks = TestHooks(events)
    chosen = [v for v in sorted(clips) if not v.startswith("several/")][:6]
    for video_id in chosen[:4]:
        shutil.copy2(
            folder / f"{video_id}.mp4",
            (inputs / video_id).parent.mkdir(parents=True, exist_ok=True)
            or inputs / f"{video_id}.mp4",
        )
    first = run([str(inputs)], out, options=OPTIONS, workers=2, hooks=hooks)
    assert (first.done, first.skipped, first.exit_code) == (4, 0, 0)
    for video_id in chosen[4:]:  # new videos appear in the input folder
        _copy(folder / f"{video_id}.mp4", inputs / f"{video_id}.mp4")
    dry = run([str(inputs)], out, options=OPTIONS, dry_run=True)
    assert {p.job.video_id: (p.action, p.reason) for p in dry.plan} == {
        **dict.fromkeys(chosen[:4], ("skip", "done")),
        **dict.fromkeys(chosen[4:], ("run", "new")),
    }
    again = run([str(inputs)], out, options=OPTIONS, workers=2, hooks=hooks)
    assert (again.done, again.skipped, again.exit_code) == (2, 4, 0)
    started = [v for e, v in read_events(events) if e == "start"]
    assert sorted(started) == sorted(chosen)  # nothing tracked twice
    # A changed source is tracked again.
    changed = inputs / f"{chosen[0]}.mp4"
    other = next(v for v in sorted(clips) if v.startswith("one/"))  # other content
    shutil.copy2(folder / f"{other}.mp4", changed)
    plan = run([str(inputs)], out, options=OPTIONS, dry_run=True).plan
    assert [(p.job.video_id, p.reason) for p in plan if p.action == "run"] == [
        (chosen[0], "source changed")
    ]
    # Other result-affecting options into the same OUTDIR: refused before any work...
    with pytest.raises(ConfigError, match=r"other options \(model: 'lite' → 'full'\)"):
        run([str(inputs)], out, options=BatchOptions(model="full"))
    args = ["batch", str(inputs), "-o", str(out), "--model", "lite", "--quiet"]
    assert main([*args, "--smoothing", "none"]) == 1
    # ... unless --overwrite.
    assert main([*args, "--smoothing", "none", "--overwrite"]) == 0
    meta = json.loads(
        read_poses(out / "poses" / f"{chosen[1]}.parquet").schema.metadata[b"hifipose"]
    )
    assert meta["options"]["smoothing"] == "none"


def test_retry_failed_and_keep_partial(tmp_path: Path, corpus: tuple[Path, dict[str, int]]) -> None:
    folder = corpus[0]
    out = tmp_path / "out"
    first = run([str(folder / "broken")], out, options=OPTIONS, workers=1)
    assert len(first.failed) == 5
    second = run([str(folder / "broken")], out, options=OPTIONS, workers=1)
    assert (second.failed_earlier, len(second.failed), second.exit_code) == (5, 0, 3)
    third = run(
        [str(folder / "broken")],
        out,
        options=OPTIONS,
        workers=1,
        retry_failed=True,
        keep_partial=True,
    )
    # ids are relative to the input folder: "truncated", not "broken/truncated"
    assert {f"broken/{o.video_id}" for o in third.failed} == set(BROKEN) - {"broken/truncated"}
    assert third.done == 1
    assert not (out / "_hifipose" / "failed" / "truncated.json").exists()
    assert (out / "_hifipose" / "failed" / "photo.json").exists()
    meta = json.loads(read_poses(out / "poses" / "truncated.parquet").schema.metadata[b"hifipose"])
    assert meta["complete"] is False
    assert 0 < meta["frames_read"] < meta["frames_declared"] == 40


def test_outdir_inside_an_input_is_refused(
    tmp_path: Path, corpus: tuple[Path, dict[str, int]]
) -> None:
    folder = corpus[0]
    for outdir in (folder / "one" / "out", folder / "one"):
        with pytest.raises(ConfigError, match="inside the input"):
            run([str(folder / "one")], outdir, options=OPTIONS, dry_run=True)
    video = next((folder / "one").glob("*.mp4"))
    with pytest.raises(ConfigError, match="inside the input"):
        run([str(video)], video, options=OPTIONS, dry_run=True)
    assert not (folder / "one" / "out").exists()


def test_worker_killed_or_hung(tmp_path: Path, corpus: tuple[Path, dict[str, int]]) -> None:
    folder, clips = corpus
    few = sorted(v for v in clips if v.startswith("one/"))[:5]
    once, always, hangs = (v.removeprefix("one/") for v in few[:3])
    markers = tmp_path / "markers"
    markers.mkdir()
    faults = (Fault("kill", once, 1), Fault("kill", always), Fault("hang", hangs))
    hooks = TestHooks(faults=faults, markers=markers)
    out = tmp_path / "out"
    inputs = [str(folder / f"{v}.mp4") for v in few]
    summary = run(inputs, out, options=OPTIONS, workers=2, timeout_per_video=6.0, hooks=hooks)
    # The first is killed once and done on the retry; the run completes around the others.
    assert summary.done == 3
    assert {o.video_id: o.status for o in summary.failed} == {always: "crashed", hangs: "timeout"}
    assert {o.error_class for o in summary.failed} == {"WorkerCrashError"}
    tried = sorted(m.name.rsplit("-", 2)[0] for m in markers.iterdir())
    assert tried == sorted(
        [f"kill-{once}", f"kill-{always}", f"kill-{always}", f"hang-{hangs}", f"hang-{hangs}"]
    )
    for video_id in (always, hangs):
        record = json.loads((out / "_hifipose" / "failed" / f"{video_id}.json").read_text())
        assert record["attempts"] == 2
    assert (out / "poses" / f"{once}.parquet").exists()
    assert not list(out.rglob("*.partial"))


def _wait_for(event: str, events: Path, process: subprocess.Popen[bytes], count: int = 1) -> None:
    """Wait for the workers' ``count``-th ``event``.

    Counting events rather than seconds keeps the kill mid-run on a fast machine and a
    loaded one alike.
    """
    deadline = time.monotonic() + 120
    while len([e for e, _ in read_events(events) if e == event]) < count:
        assert process.poll() is None, f"the batch ended before {count} '{event}' events"
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_kill_9_at_random_moments_then_resume(
    tmp_path: Path,
    corpus: tuple[Path, dict[str, int]],
    reference: tuple[Path, BatchSummary],
) -> None:
    folder = corpus[0]
    out = tmp_path / "out"
    command = [
        "batch",
        str(folder),
        "-o",
        str(out),
        "--model",
        "lite",
        "--workers",
        "2",
        "--quiet",
    ]
    rng = random.Random(12)  # noqa: S311 - kill moments, not secrets
    published: set[str] = set()
    for trial in range(3):
        events = tmp_path / f"events{trial}"
        events.mkdir()
        process = subprocess.Popen(
            faulty_cli(TestHooks(events), command),
            env=FAULTY_CLI_ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        # The first trial dies early (maybe before anything is published), the others
        # after a random number of videos are (a few of the 100, so the run is never over).
        if trial == 0:
            _wait_for("start", events, process)
        else:
            _wait_for("published", events, process, count=rng.randint(1, 10))
        time.sleep(rng.uniform(0.0, 0.3))
        os.killpg(process.pid, signal.SIGKILL)  # the driver and its workers at once
        process.wait()
        trial_events = read_events(events)
        again = {v for e, v in trial_events if e == "start"} & published
        assert not again, f"trial {trial}: finished videos tracked again: {sorted(again)}"
        published |= {v for e, v in trial_events if e == "published"}
    final_events = tmp_path / "events_final"
    final_events.mkdir()
    done = subprocess.run(
        faulty_cli(TestHooks(final_events), command),
        env=FAULTY_CLI_ENV,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 3, done.stderr.decode()[-2000:]
    assert not {v for e, v in read_events(final_events) if e == "start"} & published
    assert 0 < len(published) < len(corpus[1])  # the kills did land mid-run
    assert not [f for f in output_files(out) if f.endswith(".partial")]
    assert_same_outputs(out, reference[0])


def test_list_file_and_a_pyarrow_fs_uri(
    tmp_path: Path, corpus: tuple[Path, dict[str, int]]
) -> None:
    folder, clips = corpus
    chosen = sorted(v for v in clips if v.startswith("nobody/"))[:2]
    listing = tmp_path / "videos.csv"
    listing.write_text("path,label\n" + "".join(f"{folder / v}.mp4,x\n" for v in chosen))
    out = tmp_path / "out"
    summary = run([], out.as_uri(), options=OPTIONS, list_file=listing, workers=1)
    assert (summary.done, summary.exit_code) == (2, 0)
    ids = {v.removeprefix("nobody/") for v in chosen}  # relative to the common folder
    table = read_poses(out)
    assert set(table.column("video_id").to_pylist()) == ids
    assert table.num_rows == sum(clips[v] for v in chosen)


def test_ctrl_c_exits_130_and_keeps_finished_videos(
    tmp_path: Path, corpus: tuple[Path, dict[str, int]]
) -> None:
    events, out, log = tmp_path / "events", tmp_path / "out", tmp_path / "stderr.txt"
    events.mkdir()
    command = ["batch", str(corpus[0]), "-o", str(out)]
    # stderr goes to a file: a pipe nobody reads while the run goes on can fill up and
    # block its writers, and reading it to its end waits for every process holding it.
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            faulty_cli(
                TestHooks(events), [*command, "--model", "lite", "--workers", "2", "--quiet"]
            ),
            env=FAULTY_CLI_ENV,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        _wait_for("published", events, process)
        os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends
        process.wait(timeout=60)
        left = group_processes(process.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    stderr_text = log.read_text()
    assert process.returncode == 130, stderr_text[-2000:]
    assert "run the same command again to resume" in stderr_text
    assert "Traceback" not in stderr_text, stderr_text[-2000:]  # no worker's KeyboardInterrupt
    assert not left, f"processes left after the run: {left}"
    assert list((out / "poses").rglob("*.parquet"))
    assert not [f for f in output_files(out) if f.endswith(".partial")]


def test_workers_are_recycled_after_k_videos(
    tmp_path: Path, corpus: tuple[Path, dict[str, int]]
) -> None:
    folder, clips = corpus
    few = sorted(v for v in clips if v.startswith("one/"))[:5]
    events = tmp_path / "events"
    events.mkdir()
    inputs = [str(folder / f"{v}.mp4") for v in few]
    summary = run(
        inputs,
        tmp_path / "out",
        options=OPTIONS,
        workers=1,
        recycle_after=2,
        hooks=TestHooks(events),
    )
    assert summary.done == 5
    per_process = sorted(len(log.read_text().splitlines()) for log in events.iterdir())
    assert per_process == [2, 4, 4]  # start + published per video: 2, 2 and 1 videos


def test_offline_smoothing_and_camera_space_match_track(
    tmp_path: Path, corpus: tuple[Path, dict[str, int]], model_dir: Path
) -> None:
    """``batch --smoothing offline --fov 60`` writes what ``track`` writes, row for row."""
    folder, clips = corpus
    inputs, out = tmp_path / "in", tmp_path / "out"
    chosen = [next(v for v in sorted(clips) if v.startswith(kind)) for kind in ("one/", "several/")]
    for video_id in chosen:
        _copy(folder / f"{video_id}.mp4", inputs / f"{video_id}.mp4")
    options = BatchOptions(
        model="lite", num_poses=3, smoothing="offline", camera=CameraSpec(hfov_deg=60.0)
    )
    summary = run([str(inputs)], out, options=options, workers=1)
    assert (summary.done, summary.exit_code) == (2, 0)
    for video_id in chosen:
        batch = read_poses(out / "poses" / f"{video_id}.parquet")
        track_out = tmp_path / f"{video_id.replace('/', '_')}.parquet"
        args = ["track", str(inputs / f"{video_id}.mp4"), "-o", str(track_out), "--quiet"]
        args += ["--model", "lite", "--num-poses", "3", "--smoothing", "offline", "--fov", "60"]
        assert main([*args, "--model-dir", str(model_dir)]) == 0
        track = read_poses(track_out)
        assert batch.column_names == track.column_names
        assert batch.column_names[-len(CAMERA_COLUMNS) :] == list(CAMERA_COLUMNS)
        assert batch.column("nose_cam_z").null_count < batch.num_rows  # someone was placed
        same = [c for c in batch.column_names if c not in {"video_id", "source"}]
        assert batch.select(same).equals(track.select(same)), video_id
        for document in (batch.schema.metadata, track.schema.metadata):
            meta = json.loads(document[b"hifipose"])
            assert meta["options"]["smoothing"] == "offline"
            assert meta["options"]["camera"]["hfov_deg"] == 60.0
            assert meta["camera"]["intrinsics"]["width"] == batch.column("width")[0].as_py()
    # Offline against online (or without the camera) are other options: no silent resume.
    online = BatchOptions(model="lite", num_poses=3, camera=CameraSpec(hfov_deg=60.0))
    with pytest.raises(ConfigError, match="smoothing: 'offline' → 'online'"):
        run([str(inputs)], out, options=online, dry_run=True)
    no_camera = BatchOptions(model="lite", num_poses=3, smoothing="offline")
    with pytest.raises(ConfigError, match="camera: "):
        run([str(inputs)], out, options=no_camera, dry_run=True)
    assert run([str(inputs)], out, options=options, dry_run=True).skipped == 2


@pytest.fixture
def opencv_one_thread() -> Iterator[None]:
    """OpenCV on one thread while the test runs, as in a batch worker with one thread."""
    import cv2

    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(before)


@pytest.mark.usefixtures("opencv_one_thread")
def test_batch_cli_writes_the_pose_table_track_writes(
    tmp_path: Path, model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``hifipose batch`` and ``hifipose track -o x.parquet`` run one frame loop
    (:func:`hifipose.stream.estimate_frames`): the same clip gives the same table, column by
    column (only their metadata documents differ). Options other than the defaults reach
    batch's workers as they reach ``track`` (the workers once dropped every detector option
    added after batch's first release).

    ``track`` runs here with OpenCV on one thread, as a worker with one thread runs it: the
    crops OpenCV cuts on one thread and on several differ by a rounding (measured: a person
    more or less in frame 118 of this clip)."""
    # Resolved: batch names its inputs by their resolved paths (a link in ../shared would differ).
    clip = str((SHARED_DATA / "multi" / "crossing_squats.mp4").resolve())
    common = ["--model", "lite", "--num-poses", "3", "--model-dir", str(model_dir), "--quiet"]
    common += ["--detect-every", "7", "--max-lost-ms", "2500", "--tiles", "2"]
    out, track_out = tmp_path / "out", tmp_path / "track.parquet"
    assert main(["batch", clip, "-o", str(out), "--workers", "1", *common]) == 0
    assert main(["track", clip, "-o", str(track_out), *common]) == 0
    capsys.readouterr()
    (batch_file,) = (out / "poses").rglob("*.parquet")
    batch, track = read_poses(batch_file), read_poses(track_out)
    assert batch.column_names == track.column_names
    assert batch.num_rows == track.num_rows > 120  # several people in some frames
    assert set(batch.column("source").to_pylist()) == {clip}
    for name in batch.column_names:
        if name != "video_id":  # batch names a video by its path below the input folder
            assert batch.column(name).equals(track.column(name)), name
