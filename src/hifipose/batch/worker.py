"""The unit of work: one video, decoded and tracked inside one worker, published as Parquet.

A :class:`VideoWorker` creates its detector once and resets it between videos; every
engine (the local process pool, Ray actors) runs videos through :meth:`VideoWorker.track`.
A :class:`FunctionWorker` runs another picklable function per video in the same pools
(``hifipose track A.mp4 B.mp4 --jobs N``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from hifipose._native_logs import native_stderr_filtered, quiet_native_logs
from hifipose.batch.discovery import VideoJob, source_identity
from hifipose.batch.options import BatchOptions
from hifipose.batch.store import OutputStore
from hifipose.errors import HifiposeError, OutputError, TruncatedVideoError
from hifipose.pose import FrameResult

__all__ = [
    "FunctionSetup",
    "FunctionWorker",
    "VideoOutcome",
    "VideoWorker",
    "Worker",
    "WorkerFactory",
    "WorkerHooks",
    "WorkerSetup",
]

PROGRESS_EVERY = 25  # frames between progress reports


class Worker(Protocol):
    """What a pool slot runs: videos one after another, never raising for bad input."""

    def track(self, job: VideoJob, progress: Callable[[int], None] | None = None) -> VideoOutcome:
        """Process one video; ``progress`` gets the frames read so far, now and then."""
        ...

    def close(self) -> None:
        """Release what the worker holds."""
        ...


class WorkerFactory(Protocol):
    """What a local pool needs to start a worker process (it is pickled into each)."""

    @property
    def threads(self) -> int:
        """Inference threads of one worker (also OpenMP's and OpenCV's thread count)."""
        ...

    def make_worker(self) -> Worker:
        """Create the worker, in the worker process."""
        ...


class WorkerHooks(Protocol):
    """Calls a :class:`VideoWorker` makes at fixed points of each video, in its own process.

    An instrumentation seam (the tests count work and kill or hang workers through it):
    the object is pickled into every worker, so it must be picklable and importable there.
    """

    def started(self, video_id: str) -> None:
        """A video's tracking begins."""
        ...

    def frame(self, video_id: str, index: int) -> None:
        """Frame ``index`` of the video was decoded and is about to be tracked."""
        ...

    def published(self, video_id: str) -> None:
        """The video's pose table was published."""
        ...


@dataclass(frozen=True, slots=True)
class WorkerSetup:
    """What every worker of a job needs (it pickles small: strings and numbers).

    Attributes:
        options: The job's result-affecting options.
        outdir: The output folder (path or ``pyarrow.fs`` URI).
        threads: Inference threads of this worker.
        keep_partial: Publish truncated videos (``complete: false``) instead of failing them.
        native_logs: Let the native libraries (LiteRT, FFmpeg, OpenCV) print their log
            lines; False: they are silenced, as ``track`` silences them.
        hooks: Called by the worker at the start, at each frame and at the publication of
            every video (:class:`WorkerHooks`); None: no calls.
    """

    options: BatchOptions
    outdir: str
    threads: int
    keep_partial: bool = False
    native_logs: bool = False
    hooks: WorkerHooks | None = None

    def make_worker(self) -> VideoWorker:
        """A :class:`VideoWorker` for this job."""
        return VideoWorker(self)


@dataclass(frozen=True, slots=True)
class VideoOutcome:
    """What happened to one video.

    Attributes:
        video_id: The video.
        status: ``"done"``, ``"failed"`` (bad input), ``"crashed"`` or ``"timeout"`` (its
            worker died or hung, the last two set by the engine).
        frames: Frames read (and, when done, published).
        poses: Poses found.
        seconds: Wall time of the attempt.
        error_class: The exception's class name, when not done.
        message: The error message, when not done.
        frames_declared: The frame count the container declares, when it states one.
        complete: False when a truncated video was published with ``keep_partial``.
        report: Lines the job's function adds to the caller's summary (``track --count``'s
            repetitions per person when ``track`` runs several inputs).
        fatal: The error is not the video's fault (its output could not be written: a
            full disk, a quota, a read-only or forbidden folder): the run stops.
    """

    video_id: str
    status: Literal["done", "failed", "crashed", "timeout"]
    frames: int = 0
    poses: int = 0
    seconds: float = 0.0
    error_class: str | None = None
    message: str | None = None
    frames_declared: int | None = None
    complete: bool | None = None
    report: tuple[str, ...] = ()
    fatal: bool = False


class VideoWorker:
    """Tracks whole videos one after another with one detector.

    Args:
        setup: The job's options, output folder and thread count.
    """

    def __init__(self, setup: WorkerSetup) -> None:
        from hifipose.api import detector_from_config

        self.setup = setup
        if not setup.native_logs:
            quiet_native_logs()  # FFmpeg's and OpenCV's lines: before the first video opens
        self.store = OutputStore(setup.outdir)
        config = setup.options.detector_config(setup.threads)
        # LiteRT's "Created TensorFlow Lite XNNPACK delegate" line has no switch.
        with nullcontext() if setup.native_logs else native_stderr_filtered():
            self.detector = detector_from_config(config)
        self._producer = setup.options.producer()

    def close(self) -> None:
        """Release the detector."""
        self.detector.close()

    def track(self, job: VideoJob, progress: Callable[[int], None] | None = None) -> VideoOutcome:
        """Track one video and publish ``poses/<video_id>.parquet``; never raises for bad input.

        Args:
            job: The video.
            progress: Called with the number of frames read, every few frames.

        Returns:
            ``done`` with the counts, or ``failed`` with the error (any
            :class:`~hifipose.errors.HifiposeError` or ``OSError``: unreadable, corrupt,
            empty or truncated input; ``fatal`` when the output could not be written).
        """
        started = time.perf_counter()
        self.detector.reset()
        hooks = self.setup.hooks
        if hooks is not None:
            hooks.started(job.video_id)
        frames = 0
        declared: int | None = None
        try:
            identity = source_identity(job.path)
            from hifipose.io.sources import open_source
            from hifipose.stream import estimate_frames

            results: list[FrameResult] = []
            with open_source(job.path) as source:
                for result, _ in estimate_frames(
                    self.detector,
                    source,
                    static=False,
                    video_name=job.path,
                    keep_segmentation=False,
                    before_frame=None
                    if hooks is None
                    else lambda frame: hooks.frame(job.video_id, frame.index),
                ):
                    results.append(result)
                    frames = len(results)
                    if progress is not None and frames % PROGRESS_EVERY == 0:
                        progress(frames)
                declared, complete = source.frames_declared, source.complete
            if complete is False and not self.setup.keep_partial:
                msg = (
                    f"{job.path} is truncated: {frames} of the {declared} frames its container "
                    "declares were decoded (to publish them, run again with --retry-failed "
                    "--keep-partial; Python: retry_failed=True, keep_partial=True)"
                )
                raise TruncatedVideoError(msg)
            results = self._postprocess(results)
            self._publish(job, results, identity, declared, complete)
        except (HifiposeError, OSError) as exc:
            return VideoOutcome(
                job.video_id,
                "failed",
                frames=frames,
                seconds=time.perf_counter() - started,
                error_class=type(exc).__name__,
                message=str(exc),
                frames_declared=declared,
                fatal=isinstance(exc, OutputError),
            )
        return VideoOutcome(
            job.video_id,
            "done",
            frames=frames,
            poses=sum(len(r.poses) for r in results),
            seconds=time.perf_counter() - started,
            frames_declared=declared,
            complete=complete,
        )

    def _postprocess(self, results: list[FrameResult]) -> list[FrameResult]:
        """Offline smoothing, then camera space: what ``track`` does before writing.

        Raises:
            ConfigError: The camera's matrix is for another frame size.
        """
        from hifipose.stream import finish_results

        options = self.setup.options
        return list(finish_results(results, smoothing=options.smoothing, camera=options.camera))

    def _publish(
        self,
        job: VideoJob,
        results: list[FrameResult],
        identity: dict[str, Any],
        declared: int | None,
        complete: bool | None,
    ) -> None:
        from hifipose.io.table import build_table, camera_metadata

        camera = self.setup.options.camera
        metadata = {
            **self._producer,
            "video_id": job.video_id,
            "source": {"path": job.path, **identity},
            "frames_read": len(results),
            "frames_declared": declared,
            "complete": complete is not False,
        }
        if camera is not None and results:
            metadata["camera"] = camera_metadata(camera, results[0].size_wh)
        holistic = self.setup.options.detector.holistic
        table = build_table(
            results, job.video_id, metadata, camera=camera is not None, holistic=holistic
        )
        self.store.write_table(self.store.pose_file(job.video_id), table)
        if self.setup.hooks is not None:
            self.setup.hooks.published(job.video_id)


@dataclass(frozen=True, slots=True)
class FunctionSetup:
    """A pool job that calls ``function(job, progress)`` for every video.

    Attributes:
        function: A picklable function (module-level, or a ``functools.partial`` of one)
            that processes one video and returns its ``done`` outcome; it raises
            :class:`~hifipose.errors.HifiposeError` or ``OSError`` for bad input.
        threads: Inference threads per worker process.
    """

    function: Callable[[VideoJob, Callable[[int], None]], VideoOutcome]
    threads: int

    def make_worker(self) -> FunctionWorker:
        """A :class:`FunctionWorker` calling :attr:`function`."""
        return FunctionWorker(self.function)


class FunctionWorker:
    """Runs a function per video; its typed errors become ``failed`` outcomes.

    Args:
        function: See :attr:`FunctionSetup.function`.
    """

    def __init__(self, function: Callable[[VideoJob, Callable[[int], None]], VideoOutcome]) -> None:
        self.function = function

    def track(self, job: VideoJob, progress: Callable[[int], None] | None = None) -> VideoOutcome:
        """Call the function on ``job``; a HifiposeError or OSError is a ``failed`` outcome."""
        started = time.perf_counter()
        try:
            return self.function(job, progress or (lambda _: None))
        except (HifiposeError, OSError) as exc:
            return VideoOutcome(
                job.video_id,
                "failed",
                seconds=time.perf_counter() - started,
                error_class=type(exc).__name__,
                message=str(exc),
            )

    def close(self) -> None:
        """Nothing to release: the function owns its resources."""
