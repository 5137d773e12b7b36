"""The batch engine's local pool running another function per video (``track --jobs``)."""

from __future__ import annotations

import os
from collections.abc import Callable

from hifipose.batch import FunctionSetup, VideoJob, VideoOutcome, run_local
from hifipose.batch.worker import FunctionWorker
from hifipose.errors import VideoReadError


def _work(job: VideoJob, progress: Callable[[int], None]) -> VideoOutcome:
    """Module-level, so that it pickles into the spawned workers."""
    if job.video_id == "unreadable":
        msg = f"cannot open {job.path}"
        raise VideoReadError(msg)
    if job.video_id == "dies":
        os._exit(9)
    for frames in range(1, 4):
        progress(frames)
    threads = os.environ.get("OMP_NUM_THREADS")
    return VideoOutcome(job.video_id, "done", frames=3, message=f"{os.getpid()} {threads}")


def test_every_video_gets_an_outcome_in_parallel_processes_of_one_thread() -> None:
    jobs = [VideoJob(name, f"/videos/{name}.mp4") for name in ("a", "b", "unreadable", "dies")]
    outcomes: dict[str, VideoOutcome] = {}
    run_local(
        FunctionSetup(_work, threads=1),
        jobs,
        workers=2,
        on_outcome=lambda o: outcomes.update({o.video_id: o}),
    )
    assert sorted(outcomes) == ["a", "b", "dies", "unreadable"]
    done = [outcomes["a"], outcomes["b"]]
    assert [o.status for o in done] == ["done", "done"]
    pids = {o.message.split()[0] for o in done if o.message}
    assert len(pids) == 2  # the first two videos went to the two processes at once
    assert str(os.getpid()) not in pids
    assert {o.message.split()[1] for o in done if o.message} == {"1"}
    unreadable = outcomes["unreadable"]
    assert (unreadable.status, unreadable.error_class) == ("failed", "VideoReadError")
    assert "cannot open /videos/unreadable.mp4" in (unreadable.message or "")
    assert outcomes["dies"].status == "crashed"  # tried twice, then reported


def test_a_function_worker_turns_typed_errors_into_failed_outcomes_in_process() -> None:
    worker = FunctionWorker(_work)
    seen: list[int] = []
    assert worker.track(VideoJob("a", "/videos/a.mp4"), seen.append).status == "done"
    assert seen == [1, 2, 3]
    failed = worker.track(VideoJob("unreadable", "/videos/x.mp4"))
    assert (failed.status, failed.error_class) == ("failed", "VideoReadError")
