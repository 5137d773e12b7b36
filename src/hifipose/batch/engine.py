"""The batch driver: plan (resume), schedule videos on a pool, record failures, summarise."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from hifipose.batch.discovery import (
    VideoJob,
    check_outdir,
    discover,
    probe_duration_s,
    source_identity,
)
from hifipose.batch.options import BatchOptions
from hifipose.batch.pools import LocalPool, Pool, RayPool
from hifipose.batch.store import JOB, OutputStore
from hifipose.batch.worker import VideoOutcome, WorkerFactory, WorkerHooks, WorkerSetup
from hifipose.errors import ConfigError, HifiposeError, OutputError, WorkerCrashError

__all__ = ["BatchSummary", "PlannedVideo", "default_workers", "plan", "run", "run_local"]

logger = logging.getLogger(__name__)

Engine = Literal["local", "ray"]
ATTEMPTS = 2  # a video whose worker crashes or hangs is retried once in a fresh worker
MIN_TIMEOUT_S = 120.0
STARTUP_ALLOWANCE_S = 120.0  # a fresh worker's imports and detector, before its clock starts
TIMEOUT_PER_VIDEO_SECOND = 10.0


@dataclass(frozen=True, slots=True)
class PlannedVideo:
    """A video and what the run does with it.

    Attributes:
        job: The video.
        action: ``"run"`` or ``"skip"``.
        reason: Why: ``new``, ``source changed``, ``options changed (--overwrite)``,
            ``retry failed``; ``done``, ``failed earlier (ErrorClass)``.
    """

    job: VideoJob
    action: Literal["run", "skip"]
    reason: str


@dataclass
class BatchSummary:
    """What a batch run did.

    Attributes:
        total: Videos found in the inputs.
        done: Videos tracked and published by this run.
        skipped: Videos already done (same options, same source), not tracked again.
        failed: This run's failures, as outcomes (``failed``, ``crashed``, ``timeout``).
        failed_earlier: Videos with a failure record from an earlier run, not retried
            (``--retry-failed`` retries them).
        frames: Frames tracked by this run.
        seconds: Wall time of the run.
        plan: The plan (every video, its action and reason).
        dry_run: Nothing was run.
    """

    total: int = 0
    done: int = 0
    skipped: int = 0
    failed: list[VideoOutcome] = field(default_factory=list)
    failed_earlier: int = 0
    frames: int = 0
    seconds: float = 0.0
    plan: list[PlannedVideo] = field(default_factory=list)
    dry_run: bool = False

    @property
    def fps(self) -> float:
        """Frames tracked per second of wall time."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def exit_code(self) -> int:
        """0: everything done; 3: done, with failures (this run's or earlier ones)."""
        return 3 if self.failed or self.failed_earlier else 0

    def table(self) -> str:
        """The summary as a plain-text table."""
        rows = [
            ("videos", str(self.total)),
            ("done now", str(self.done)),
            ("already done", str(self.skipped)),
            ("failed", str(len(self.failed))),
            ("failed earlier", str(self.failed_earlier)),
            ("frames", str(self.frames)),
            ("seconds", f"{self.seconds:.1f}"),
            ("frames/s", f"{self.fps:.1f}"),
        ]
        width = max(len(k) for k, _ in rows)
        lines = [f"{k:<{width}}  {v:>10}" for k, v in rows]
        lines += [
            f"  failed: {o.video_id}: {o.status} {o.error_class}: {o.message}" for o in self.failed
        ]
        return "\n".join(lines)


def default_workers(threads_per_worker: int) -> int:
    """Workers that keep the machine's CPUs busy without oversubscribing them."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cpus or 1) // max(1, threads_per_worker))


def _same_source(recorded: Any, path: str) -> bool:  # noqa: ANN401 - JSON data
    """Whether ``path`` is still the recorded source: same size and mtime, else same samples.

    The content hash is read only when the size matches but the mtime does not (a copy,
    a touched file), so checking thousands of unchanged videos costs one ``stat`` each.
    """
    if not isinstance(recorded, dict):
        return False
    try:
        stat = os.stat(path)  # noqa: PTH116
    except OSError:
        return False
    if stat.st_size != recorded.get("size"):
        return False
    if stat.st_mtime_ns == recorded.get("mtime_ns"):
        return True
    try:
        return bool(source_identity(path)["sha256_sample"] == recorded.get("sha256_sample"))
    except HifiposeError:
        return False


def plan(
    jobs: list[VideoJob],
    store: OutputStore,
    options: BatchOptions,
    *,
    retry_failed: bool = False,
    overwrite: bool = False,
) -> list[PlannedVideo]:
    """Decide, for every video, whether to run it, from what OUTDIR already holds.

    A published pose table whose recorded fingerprint equals ``options``' and whose
    recorded source identity (size, mtime, content sample) equals the input's is done;
    nothing else marks a video as done.

    Raises:
        ConfigError: OUTDIR holds results of other options and ``overwrite`` is False.
    """
    fingerprint = options.fingerprint()
    job_doc = store.read_json(JOB)
    if job_doc is not None and job_doc.get("fingerprint") != fingerprint and not overwrite:
        _mismatch(store, job_doc.get("fingerprint"), fingerprint)
    planned: list[PlannedVideo] = []
    for job in jobs:
        meta = store.pose_metadata(job.video_id)
        if meta is not None:
            recorded = {"options": meta.get("options"), "models": meta.get("models")}
            if recorded != fingerprint:
                if not overwrite:
                    _mismatch(store, recorded, fingerprint)
                planned.append(PlannedVideo(job, "run", "options changed (--overwrite)"))
                continue
            if _same_source(meta.get("source"), job.path):
                planned.append(PlannedVideo(job, "skip", "done"))
                continue
            planned.append(PlannedVideo(job, "run", "source changed"))
            continue
        failure = store.read_json(store.failure_file(job.video_id))
        if failure is not None and failure.get("fingerprint") == fingerprint:
            source = failure.get("source")
            same = _same_source(source, job.path) or (
                source is None and not os.path.exists(job.path)  # noqa: PTH110 - still missing
            )
            if same and not retry_failed:
                reason = f"failed earlier ({failure.get('error_class')})"
                planned.append(PlannedVideo(job, "skip", reason))
                continue
            planned.append(PlannedVideo(job, "run", "retry failed" if same else "source changed"))
            continue
        planned.append(PlannedVideo(job, "run", "new"))
    return planned


def _mismatch(store: OutputStore, recorded: Any, current: dict[str, Any]) -> None:  # noqa: ANN401
    old = (recorded or {}).get("options", {}) if isinstance(recorded, dict) else {}
    new = current["options"]
    changed = sorted(k for k in new if old.get(k) != new[k]) or ["model files"]
    details = ", ".join(f"{k}: {old.get(k)!r} → {new.get(k)!r}" for k in changed if k in new)
    msg = (
        f"{store.outdir} holds results made with other options ({details or 'model files'}); "
        "use the same options to resume, another output folder, or --overwrite to redo them"
    )
    raise ConfigError(msg)


@dataclass
class _Running:
    job: VideoJob
    started: float
    timeout: float
    deadline: float
    frames: int = 0


class _Progress:
    """tqdm over videos, with frames, frames/s and failures in the postfix."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="video", disable=not enabled, dynamic_ncols=True)
        self.frames = 0
        self.failed = 0
        self.started = time.perf_counter()

    def update(self, videos: int = 0, frames: int = 0, failed: int = 0) -> None:
        self.frames += frames
        self.failed += failed
        rate = self.frames / max(time.perf_counter() - self.started, 1e-9)
        self.bar.set_postfix(frames=self.frames, fps=f"{rate:.1f}", failed=self.failed)
        self.bar.update(videos)

    def close(self) -> None:
        self.bar.close()


def _failure_record(
    outcome: VideoOutcome, job: VideoJob, fingerprint: dict[str, Any], attempts: int
) -> dict[str, Any]:
    try:
        source: dict[str, Any] | None = {"path": job.path, **source_identity(job.path)}
    except HifiposeError:
        source = None
    return {
        "video_id": outcome.video_id,
        "path": job.path,
        "status": outcome.status,
        "error_class": outcome.error_class,
        "message": outcome.message,
        "frames_read": outcome.frames,
        "frames_declared": outcome.frames_declared,
        "attempts": attempts,
        "fingerprint": fingerprint,
        "source": source,
    }


def _timeout(job: VideoJob, timeout_per_video: float | None) -> float:
    if timeout_per_video is not None:
        return timeout_per_video
    duration = probe_duration_s(job.path)
    return max(MIN_TIMEOUT_S, TIMEOUT_PER_VIDEO_SECOND * (duration or 0.0))


def _execute(
    pool: Pool,
    jobs: list[VideoJob],
    *,
    timeout_per_video: float | None,
    on_outcome: Callable[[VideoOutcome, VideoJob, int], None],
    progress: _Progress,
) -> None:
    pending = deque(jobs)
    attempts: dict[str, int] = {}
    running: dict[int, _Running] = {}

    def lost(slot: int, status: Literal["crashed", "timeout"], message: str) -> None:
        entry = running.pop(slot)
        pool.replace(slot)
        if attempts[entry.job.video_id] < ATTEMPTS:
            logger.warning("%s: %s; retrying it in a fresh worker", entry.job.video_id, message)
            progress.update(frames=-entry.frames)
            pending.appendleft(entry.job)
            return
        outcome = VideoOutcome(
            entry.job.video_id,
            status,
            frames=entry.frames,
            seconds=time.monotonic() - entry.started,
            error_class=WorkerCrashError.__name__,
            message=message,
        )
        on_outcome(outcome, entry.job, attempts[entry.job.video_id])

    while pending or running:
        for slot in range(pool.size):
            if slot not in running and pending:
                job = pending.popleft()
                attempts[job.video_id] = attempts.get(job.video_id, 0) + 1
                now = time.monotonic()
                limit = _timeout(job, timeout_per_video)
                running[slot] = _Running(job, now, limit, now + limit + STARTUP_ALLOWANCE_S)
                pool.submit(slot, job)
        for event in pool.poll(0.2):
            entry = running.get(event.slot)
            if entry is None:
                continue
            if event.kind == "started":
                entry.started = time.monotonic()
                entry.deadline = entry.started + entry.timeout
            elif event.kind == "frames":
                progress.update(frames=event.payload - entry.frames)
                entry.frames = event.payload
            elif event.kind == "done":
                running.pop(event.slot)
                outcome: VideoOutcome = event.payload
                progress.update(frames=outcome.frames - entry.frames)
                on_outcome(outcome, entry.job, attempts[entry.job.video_id])
            else:
                lost(event.slot, "crashed", f"its worker died ({event.payload})")
        now = time.monotonic()
        for slot, entry in list(running.items()):
            if now > entry.deadline:
                lost(slot, "timeout", f"no result after {entry.timeout:.0f} s")


def run_local(
    setup: WorkerFactory,
    jobs: list[VideoJob],
    *,
    workers: int,
    on_outcome: Callable[[VideoOutcome], None],
    progress: bool = False,
    recycle_after: int = 200,
    timeout_per_video: float | None = None,
) -> None:
    """Run ``jobs`` on a local spawn pool of ``workers`` processes built by ``setup``.

    The scheduling of :func:`run` without its output folder: each video goes to the next
    idle process; a process that dies or hangs is replaced and its video tried once more,
    then reported as ``crashed`` or ``timeout``. Every video's outcome reaches
    ``on_outcome`` (in the calling process, in the order they finish).

    Args:
        setup: What each worker process needs (a :class:`WorkerSetup`, a
            :class:`~hifipose.batch.worker.FunctionSetup`).
        jobs: The videos, in the order they are handed out.
        workers: Worker processes (at most one per video is started).
        on_outcome: Called with each video's final outcome.
        progress: Show one progress bar (videos, frames, frames/s, failures) on stderr.
        recycle_after: Videos a process handles before it is replaced.
        timeout_per_video: Seconds before a video's process counts as hung (default:
            max(120, 10 × the video's duration); ``math.inf``: never).

    Raises:
        HifiposeError: A worker process could not start (its setup failed).
    """
    bar = _Progress(len(jobs), enabled=progress)

    def finished(outcome: VideoOutcome, _job: VideoJob, _attempts: int) -> None:
        on_outcome(outcome)
        bar.update(videos=1, failed=int(outcome.status != "done"))

    pool = LocalPool(setup, max(1, min(workers, len(jobs))), recycle_after)
    try:
        _execute(pool, jobs, timeout_per_video=timeout_per_video, on_outcome=finished, progress=bar)
    finally:
        pool.close()
        bar.close()


def _open_pool(
    engine: Engine,
    setup: WorkerSetup,
    workers: int,
    recycle_after: int,
    ray_address: str | None,
) -> tuple[Pool, Callable[[], None]]:
    """The pool and what to do after closing it (shut a Ray instance this run started)."""
    if engine == "local":
        return LocalPool(setup, workers, recycle_after), lambda: None
    from hifipose._optional import require

    ray = require("ray", extra="ray")
    started = False
    if not ray.is_initialized():
        if ray_address:
            ray.init(address=ray_address, log_to_driver=False)
        else:
            ray.init(num_cpus=workers * setup.threads, include_dashboard=False, log_to_driver=False)
        started = True
    return RayPool(setup, workers, recycle_after), (ray.shutdown if started else lambda: None)


def run(
    inputs: list[str] | tuple[str, ...],
    outdir: str | Path,
    *,
    options: BatchOptions | None = None,
    list_file: str | Path | None = None,
    engine: Engine = "local",
    workers: int | None = None,
    threads_per_worker: int = 1,
    recycle_after: int = 200,
    timeout_per_video: float | None = None,
    retry_failed: bool = False,
    overwrite: bool = False,
    keep_partial: bool = False,
    dry_run: bool = False,
    ray_address: str | None = None,
    progress: bool = False,
    native_logs: bool = False,
    hooks: WorkerHooks | None = None,
) -> BatchSummary:
    """Track many videos into ``OUTDIR/poses/<video_id>.parquet``, resumably.

    Rerunning the same call does only what is missing: videos whose published table
    records the same options and the same source are skipped, new inputs are picked up,
    failures recorded under ``OUTDIR/_hifipose/failed/`` are skipped unless
    ``retry_failed``. A bad video never stops the run; a worker that dies or hangs is
    replaced and its video tried once more. An output that cannot be written (a full disk,
    a quota, a read-only folder) stops it: that is no video's fault, and nothing is recorded
    for the video. One run per local OUTDIR: a second one is refused before any work
    (:meth:`~hifipose.batch.store.OutputStore.lock`; a ``kill -9`` never leaves it stuck).

    Args:
        inputs: Video files, folders (searched recursively) and glob patterns.
        outdir: The output folder: a path, or a ``pyarrow.fs`` URI (e.g. ``s3://b/run``).
        options: The result-affecting options (default: :class:`BatchOptions` ()).
        list_file: A file naming more inputs: one path per line, or a CSV with ``path``.
        engine: ``"local"`` (a spawn process pool) or ``"ray"`` (Ray actors).
        workers: Worker processes or actors (default: CPUs / ``threads_per_worker``).
        threads_per_worker: Inference threads per worker.
        recycle_after: Videos per worker before it is replaced (bounds memory).
        timeout_per_video: Seconds before a video's worker counts as hung (default:
            max(120, 10 × the video's duration)).
        retry_failed: Retry videos recorded as failed.
        overwrite: Redo videos done with other options instead of refusing.
        keep_partial: Publish truncated videos (metadata ``complete: false``).
        dry_run: Only plan: nothing is tracked or written.
        ray_address: The Ray cluster to join (default: a local Ray instance with
            ``workers × threads_per_worker`` CPUs, or the one this process started).
        progress: Show a progress bar on stderr.
        native_logs: Let the workers' native libraries (LiteRT, FFmpeg, OpenCV) print
            their log lines (the command line's ``--verbose``); by default they are silenced.
        hooks: An instrumentation seam: a picklable :class:`WorkerHooks` every worker calls
            at the start, at each frame and at the publication of each video (the tests
            count work and inject worker faults with it); None: no calls.

    Returns:
        The :class:`BatchSummary`.

    Raises:
        ConfigError: Bad options, no inputs, OUTDIR overlapping an input, OUTDIR
            holding results of other options (without ``overwrite``), or an unusable
            OUTDIR URI.
        OutputBusyError: Another run is using OUTDIR.
        OutputError: OUTDIR cannot be written (before or during the run).
        RuntimeUnavailableError: ``engine="ray"`` without Ray installed.
    """
    started = time.perf_counter()
    options = options or BatchOptions()
    if threads_per_worker < 1 or (workers is not None and workers < 1) or recycle_after < 1:
        msg = "--workers, --threads-per-worker and --recycle-after must be at least 1"
        raise ConfigError(msg)
    if engine not in ("local", "ray"):
        msg = f"engine must be 'local' or 'ray', got {engine!r}"
        raise ConfigError(msg)
    inputs = list(inputs)
    jobs = discover(inputs, list_file)
    outdir = str(outdir)
    check_outdir(outdir, inputs, jobs)
    store = OutputStore(outdir)
    if dry_run:  # writes nothing, so takes no lock
        planned = plan(jobs, store, options, retry_failed=retry_failed, overwrite=overwrite)
        return _planned_summary(jobs, planned, dry_run=True)
    with store.lock():  # before the plan: another run's results may still appear
        store.check_writable()
        planned = plan(jobs, store, options, retry_failed=retry_failed, overwrite=overwrite)
        summary = _planned_summary(jobs, planned, dry_run=False)
        removed = store.remove_partials()
        if removed:
            logger.info("removed %d partial file(s) of an interrupted run", removed)
        fingerprint = options.fingerprint()
        store.write_json(JOB, {"fingerprint": fingerprint, **options.producer()})
        to_run = [p.job for p in planned if p.action == "run"]
        workers = min(workers or default_workers(threads_per_worker), max(1, len(to_run)))
        setup = WorkerSetup(options, outdir, threads_per_worker, keep_partial, native_logs, hooks)
        bar = _Progress(len(to_run), enabled=progress)

        on_outcome = _recorder(store, summary, fingerprint, bar)
        if to_run:
            pool, after = _open_pool(engine, setup, workers, recycle_after, ray_address)
            try:
                _execute(
                    pool,
                    to_run,
                    timeout_per_video=timeout_per_video,
                    on_outcome=on_outcome,
                    progress=bar,
                )
            finally:
                pool.close()
                after()
                bar.close()
                with contextlib.suppress(OutputError):  # the error being raised says more
                    store.remove_partials()
    summary.seconds = time.perf_counter() - started
    return summary


def _recorder(
    store: OutputStore, summary: BatchSummary, fingerprint: dict[str, Any], bar: _Progress
) -> Callable[[VideoOutcome, VideoJob, int], None]:
    """What the run does with each video's outcome: publish its record, count it.

    Raises (from the callback):
        OutputError: A fatal outcome (its output could not be written): the run stops.
    """

    def on_outcome(outcome: VideoOutcome, job: VideoJob, attempts: int) -> None:
        if outcome.fatal:  # not the video's fault: no record, stop
            msg = (
                f"{outcome.message}; that is no fault of {job.video_id}, so nothing was "
                "recorded for it and the run stops: make room or fix the output folder, "
                "then run the same command again"
            )
            raise OutputError(msg)
        summary.frames += outcome.frames if outcome.status == "done" else 0
        if outcome.status == "done":
            summary.done += 1
            store.delete(store.failure_file(job.video_id))
        else:
            summary.failed.append(outcome)
            record = _failure_record(outcome, job, fingerprint, attempts)
            store.write_json(store.failure_file(job.video_id), record)
        bar.update(videos=1, failed=int(outcome.status != "done"))

    return on_outcome


def _planned_summary(
    jobs: list[VideoJob], planned: list[PlannedVideo], *, dry_run: bool
) -> BatchSummary:
    summary = BatchSummary(total=len(jobs), plan=planned, dry_run=dry_run)
    summary.skipped = sum(p.reason == "done" for p in planned)
    summary.failed_earlier = sum(p.action == "skip" and p.reason != "done" for p in planned)
    return summary
