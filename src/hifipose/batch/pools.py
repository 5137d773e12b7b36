"""Worker pools: the local spawn process pool and Ray actors, behind one small interface.

A pool has ``size`` slots; the engine submits one video at a time to an idle slot and
polls for :class:`Event` s. A slot whose worker died reports ``crashed``; the engine
decides about retries and calls :meth:`Pool.replace`.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Literal, Protocol

from hifipose.batch.discovery import VideoJob
from hifipose.batch.worker import VideoOutcome, VideoWorker, WorkerFactory, WorkerSetup
from hifipose.errors import HifiposeError

__all__ = ["Event", "LocalPool", "Pool", "RayPool"]


@dataclass(frozen=True, slots=True)
class Event:
    """Something a slot reported.

    ``kind`` is ``started`` (the worker began the video; pools that cannot tell report
    it on submission), ``frames`` (payload: frames read), ``done`` (payload: a
    :class:`VideoOutcome`) or ``crashed`` (payload: a description).
    """

    slot: int
    kind: Literal["started", "frames", "done", "crashed"]
    payload: Any


class Pool(Protocol):
    """The engine's view of a pool."""

    size: int

    def submit(self, slot: int, job: VideoJob) -> None:
        """Start ``job`` on the idle ``slot``."""
        ...

    def poll(self, timeout: float) -> list[Event]:
        """Wait up to ``timeout`` seconds for events."""
        ...

    def replace(self, slot: int) -> None:
        """Kill the slot's worker (if alive) and start a fresh one."""
        ...

    def close(self) -> None:
        """Stop every worker."""
        ...


PARENT_CHECK_S = 0.5  # how often a local worker checks that its driver is still alive


def _exit_with_parent() -> None:
    """End this worker, quietly, as soon as the process that started it is gone.

    A driver killed with ``kill -9`` cannot stop its workers: without this, each would
    finish its video, publish it after the driver's lock is gone, and print a
    ``BrokenPipeError`` traceback. On Linux the kernel kills the worker at once
    (``PR_SET_PDEATHSIG``); elsewhere a daemon thread notices within
    :data:`PARENT_CHECK_S`. A partial file it leaves is removed by the next run.
    """
    known = multiprocessing.parent_process()
    parent = known.pid if known is not None and known.pid is not None else os.getppid()
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, name="hifipose-parent-watch", daemon=True).start()


def _worker_main(conn: Connection, setup: WorkerFactory, recycle_after: int) -> None:
    """A local worker process: one worker, ``recycle_after`` videos at most, then exit.

    It exits quietly when its driver is gone (:func:`_exit_with_parent`; a closed pipe).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    _exit_with_parent()
    os.environ["OMP_NUM_THREADS"] = str(setup.threads)
    import cv2

    cv2.setNumThreads(setup.threads)
    try:
        try:
            worker = setup.make_worker()
        except (HifiposeError, OSError) as exc:
            conn.send(("fatal", f"{type(exc).__name__}: {exc}"))
            return
        try:
            for _ in range(recycle_after):
                job = conn.recv()
                if job is None:
                    break
                conn.send(("started", None))
                outcome = worker.track(job, progress=lambda n: conn.send(("frames", n)))
                conn.send(("done", outcome))
        finally:
            worker.close()
    except (EOFError, OSError):  # the driver is gone (BrokenPipeError, EOF): nothing to tell
        return


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT while a worker process is started, so that it starts ignoring it.

    A terminal's Ctrl-C goes to the whole process group; the driver handles it and stops
    the workers. A worker still importing when it came (before :func:`_worker_main` could
    ignore it) died with a ``KeyboardInterrupt`` traceback; an ignored SIGINT is inherited
    and Python leaves it ignored. Only the main thread can change it; elsewhere nothing is
    done.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:  # None: a handler installed outside Python, which cannot be put back
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)


class LocalPool:
    """Spawned worker processes, each with its own detector, recycled every few videos.

    Args:
        setup: What each worker needs: a :class:`WorkerSetup` (batch) or any
            :class:`WorkerFactory` (e.g. a :class:`FunctionSetup`).
        workers: Number of processes.
        recycle_after: Videos a process tracks before it is replaced (bounds memory).
    """

    def __init__(self, setup: WorkerFactory, workers: int, recycle_after: int) -> None:
        self.size = workers
        self._setup = setup
        self._recycle_after = recycle_after
        self._context = multiprocessing.get_context("spawn")
        self._procs: list[Any] = [None] * workers
        self._conns: list[Connection | None] = [None] * workers
        self._busy = [False] * workers
        self._count = [0] * workers
        self._fatal: str | None = None
        for slot in range(workers):
            self._start(slot)

    def _start(self, slot: int) -> None:
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_worker_main,
            args=(child, self._setup, self._recycle_after),
            name=f"hifipose-batch-{slot}",
            daemon=True,
        )
        with _sigint_ignored():
            process.start()
        child.close()
        self._procs[slot], self._conns[slot], self._busy[slot] = process, parent, False
        self._count[slot] = 0

    def submit(self, slot: int, job: VideoJob) -> None:
        """Send ``job`` to the worker of ``slot``."""
        conn = self._conns[slot]
        assert conn is not None  # noqa: S101 - every slot has a worker
        self._busy[slot] = True
        with contextlib.suppress(OSError):  # the worker is gone: poll() reports the crash
            conn.send(job)

    def poll(self, timeout: float) -> list[Event]:
        """Wait for messages or dead workers; recycled workers are replaced here.

        Raises:
            HifiposeError: A worker could not create its detector (a fatal setup error).
        """
        by_object: dict[Any, int] = {}
        for slot, (conn, process) in enumerate(zip(self._conns, self._procs, strict=True)):
            by_object[conn] = slot
            by_object[process.sentinel] = slot
        events: list[Event] = []
        for ready in wait(list(by_object), timeout):
            slot = by_object[ready]
            events += self._drain(slot)
        if self._fatal:
            msg = f"a batch worker could not start: {self._fatal}"
            raise HifiposeError(msg)
        return events

    def _drain(self, slot: int) -> list[Event]:
        conn, process = self._conns[slot], self._procs[slot]
        assert conn is not None  # noqa: S101
        events: list[Event] = []
        try:
            while conn.poll():
                kind, payload = conn.recv()
                if kind in {"started", "frames"}:
                    events.append(Event(slot, kind, payload))
                elif kind == "done":
                    self._busy[slot] = False
                    self._count[slot] += 1
                    events.append(Event(slot, "done", payload))
                elif kind == "fatal":
                    self._fatal = payload
        except (EOFError, OSError):
            pass  # the worker is gone; its exit is handled below
        if self._count[slot] >= self._recycle_after:
            process.join(timeout=30)  # it exits by itself after its last video
            self.replace(slot)
        elif not process.is_alive():
            process.join(timeout=5)
            if self._busy[slot]:
                events.append(Event(slot, "crashed", f"worker exited with {process.exitcode}"))
            else:
                self._restart(slot)
        return events

    def _restart(self, slot: int) -> None:
        conn = self._conns[slot]
        if conn is not None:
            conn.close()
        self._start(slot)

    def replace(self, slot: int) -> None:
        """Kill the worker of ``slot`` if it is alive and start a fresh one."""
        process = self._procs[slot]
        if process.is_alive():
            process.kill()
        process.join(timeout=5)
        self._restart(slot)

    def close(self) -> None:
        """Ask idle workers to stop, kill busy ones, and wait for all."""
        for slot, process in enumerate(self._procs):
            conn = self._conns[slot]
            if self._busy[slot]:
                process.kill()
            elif conn is not None:
                with contextlib.suppress(OSError):
                    conn.send(None)
        deadline = time.monotonic() + 5
        for process in self._procs:
            process.join(timeout=max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        for conn in self._conns:
            if conn is not None:
                conn.close()


class _TrackerActor:
    """A Ray actor: one :class:`VideoWorker` (one detector) for all its videos."""

    def __init__(self, setup: WorkerSetup) -> None:
        os.environ["OMP_NUM_THREADS"] = str(setup.threads)
        self.worker = VideoWorker(setup)

    def ready(self) -> bool:
        return True

    def track(self, job: VideoJob) -> VideoOutcome:
        return self.worker.track(job)


class RayPool:
    """``actors`` Ray actors, each holding a detector; videos decoded inside the actor.

    Actors have ``max_restarts=0`` and ``max_task_retries=0``: Ray never retries on its
    own; the engine replaces a dead actor and retries its video once (the same policy as
    the local pool, and a video that always kills its worker is tried exactly twice).

    Args:
        setup: What each actor needs.
        actors: Number of actors.
        recycle_after: Videos an actor tracks before it is replaced.
    """

    def __init__(self, setup: WorkerSetup, actors: int, recycle_after: int) -> None:
        import ray

        self._ray = ray
        self.size = actors
        self._setup = setup
        self._recycle_after = recycle_after
        # HIFIPOSE_* variables (model cache, offline, mirror) reach the actors on any cluster.
        env = {k: v for k, v in os.environ.items() if k.startswith("HIFIPOSE_")}
        self._remote: Any = ray.remote(
            num_cpus=setup.threads,
            max_restarts=0,
            max_task_retries=0,
            runtime_env={"env_vars": env},
        )(_TrackerActor)
        self._actors: list[Any] = [None] * actors
        self._tasks: dict[Any, int] = {}
        self._count = [0] * actors
        self._started: list[int] = []
        self._fresh: set[int] = set()
        self._start(*range(actors))

    def _start(self, *slots: int, wait: bool = True) -> None:
        """Create the slots' actors; with ``wait``, wait until their detectors are ready.

        The first actors are waited for (a setup error is fatal, and no video's clock
        runs during start-up); replacements start while the next video is queued on them.

        Raises:
            HifiposeError: An actor could not create its detector (a fatal setup error).
        """
        for slot in slots:
            self._actors[slot] = self._remote.remote(self._setup)
            self._count[slot] = 0
        if not wait:
            self._fresh.update(slots)
            return
        try:
            self._ray.get([self._actors[slot].ready.remote() for slot in slots])
        except self._ray.exceptions.RayActorError as exc:
            msg = f"a batch worker could not start: {exc}"
            raise HifiposeError(msg) from exc

    def submit(self, slot: int, job: VideoJob) -> None:
        """Queue ``job`` on the actor of ``slot``; its clock starts now if the actor is ready."""
        self._tasks[self._actors[slot].track.remote(job)] = slot
        if slot in self._fresh:  # still starting: the engine allows for its start-up
            self._fresh.discard(slot)
        else:
            self._started.append(slot)

    def poll(self, timeout: float) -> list[Event]:
        """Wait for finished videos or dead actors.

        Raises:
            HifiposeError: An actor could not create its detector (a fatal setup error).
        """
        events = [Event(slot, "started", None) for slot in self._started]
        self._started = []
        if not self._tasks:
            time.sleep(timeout)
            return events
        ready, _ = self._ray.wait(list(self._tasks), num_returns=1, timeout=timeout)
        for ref in ready:
            slot = self._tasks.pop(ref)
            try:
                outcome = self._ray.get(ref)
            except self._ray.exceptions.RayActorError as exc:
                events.append(Event(slot, "crashed", f"actor died: {type(exc).__name__}"))
                continue
            events.append(Event(slot, "done", outcome))
            self._count[slot] += 1
            if self._count[slot] >= self._recycle_after:
                self.replace(slot)
        return events

    def replace(self, slot: int) -> None:
        """Kill the slot's actor and start a fresh one."""
        for ref, owner in list(self._tasks.items()):
            if owner == slot:
                del self._tasks[ref]
        with contextlib.suppress(Exception):
            self._ray.kill(self._actors[slot], no_restart=True)
        self._start(slot, wait=False)

    def close(self) -> None:
        """Kill every actor."""
        for actor in self._actors:
            with contextlib.suppress(Exception):
                self._ray.kill(actor, no_restart=True)
