"""Upload jobs: a video uploaded by the page is tracked into keypoint files and an overlay.

Every job lives in its own folder, named by a random id, inside one temporary folder that
the server creates at start and deletes at exit. The client never names a file: the upload
is stored as ``input`` plus a suffix picked from a fixed table (a photo's from its first
bytes, whatever suffix the page sent; a video's from
:data:`hifipose.io.sources.VIDEO_SUFFIXES`), and the outputs have fixed names
(:data:`OUTPUTS`); the keypoint files name each frame's source by that stored name
(``input.mp4``, ``input.jpg``), never by the server's path. A photo is tracked as a
one-frame video. Jobs run one at a time on a worker
thread, each with its own detector; the page polls their progress.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal

import anyio
import anyio.to_thread
import numpy as np
from numpy.typing import NDArray

from hifipose.detector import PoseDetector
from hifipose.errors import HifiposeError, VideoReadError
from hifipose.io.render import OverlayVideoWriter, draw_poses
from hifipose.io.sources import IMAGE_SUFFIXES, VIDEO_SUFFIXES, open_source
from hifipose.io.writers import ResultWriter, open_writer
from hifipose.pose import Pose
from hifipose.serve.protocol import StreamOptions
from hifipose.serve.workers import release_free_memory
from hifipose.stream import estimate_frames

__all__ = ["OUTPUTS", "Job", "JobError", "JobManager"]

logger = logging.getLogger(__name__)

#: Download kind → fixed file name inside a job's folder.
OUTPUTS: Final = MappingProxyType(
    {
        "jsonl": "keypoints.jsonl",
        "csv": "keypoints.csv",
        "parquet": "keypoints.parquet",
        "overlay": "overlay.mp4",
        # a Holistic job's CSV face points (hifipose.io.table.face_csv_path of the CSV)
        "face_csv": "keypoints.face.csv",
    }
)
#: The kinds only a Holistic job makes.
_HOLISTIC_KINDS: Final = ("face_csv",)
#: An image's first bytes → the suffix its upload is stored with (None: a format the
#: decoder cannot read). WebP is ``RIFF????WEBP``, checked apart.
_IMAGE_SIGNATURES: Final = (
    (b"\xff\xd8\xff", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"BM", ".bmp"),
    (b"II*\x00", ".tif"),
    (b"MM\x00*", ".tif"),
    (b"GIF8", None),
)
JobState = Literal["uploading", "queued", "running", "done", "error", "cancelled"]
_FINISHED: Final = frozenset({"done", "error", "cancelled"})


def _draw_overlay(
    canvas_bgr: NDArray[np.uint8], *, poses: tuple[Pose, ...], segmentation: bool, caption: str
) -> None:
    """Draw a job's overlay into the writer's BGR frame, in place."""
    draw_poses(
        canvas_bgr, poses, out=canvas_bgr, segmentation=segmentation, caption=caption, bgr=True
    )


class JobError(HifiposeError, ValueError):
    """An upload is refused; ``status`` is the HTTP status to answer with.

    Args:
        status: 400 (bad request), 413 (too large) or 429 (too many jobs).
        message: A sentence for people.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _photo_suffix(head: bytes) -> str | None:
    """The suffix a photo starting with ``head`` is stored with; None if it is no photo.

    Raises:
        JobError: 400 for an image format that cannot be tracked (GIF).
    """
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp"
    for signature, suffix in _IMAGE_SIGNATURES:
        if head.startswith(signature):
            if suffix is None:
                msg = "GIF images cannot be tracked; send a JPEG, PNG or WebP photo, or a video"
                raise JobError(400, msg)
            return suffix
    return None


class _Cancelled(Exception):
    """Raised inside a job's thread when the server shuts down."""


def _stop_if_cancelled(cancel: threading.Event, _frame: object) -> None:
    """Raise :class:`_Cancelled` before the next frame once ``cancel`` is set."""
    if cancel.is_set():
        raise _Cancelled


@dataclass
class Job:
    """One upload and its tracking run.

    Attributes:
        job_id: Random hex id; also the folder name.
        folder: The job's folder inside the server's temporary folder.
        options: Detector options chosen on the page.
        state: ``uploading``, ``queued``, ``running``, ``done``, ``error`` or ``cancelled``.
        frames_done: Frames tracked so far.
        frames_total: Frames in the video (an estimate from the container), if known.
        frames_with_pose: Frames in which a pose was found.
        error: The error message when ``state == "error"``.
        outputs: The download kinds that are ready (keys of :data:`OUTPUTS`).
    """

    job_id: str
    folder: Path
    options: StreamOptions
    state: JobState = "uploading"
    frames_done: int = 0
    frames_total: int | None = None
    frames_with_pose: int = 0
    error: str | None = None
    outputs: tuple[str, ...] = ()
    upload_bytes: int = 0
    created_s: float = field(default_factory=time.time)
    cancel: threading.Event = field(default_factory=threading.Event)

    def to_dict(self) -> dict[str, Any]:
        """Return the job's public status (no paths)."""
        progress = None
        if self.state == "done":
            progress = 1.0
        elif self.frames_total:
            progress = min(1.0, self.frames_done / self.frames_total)
        return {
            "job_id": self.job_id,
            "state": self.state,
            "frames_done": self.frames_done,
            "frames_total": self.frames_total,
            "frames_with_pose": self.frames_with_pose,
            "progress": progress,
            "error": self.error,
            "outputs": list(self.outputs),
            "options": self.options.to_dict(),
        }


class JobManager:
    """Stores uploads, runs ``track`` on them one at a time, and deletes them at the end.

    Args:
        factory: Creates a detector for a job's options.
        max_jobs: Most jobs kept; the oldest finished one is deleted to make room.
        max_upload_bytes: Largest upload accepted.
        max_frames: Frames tracked per job at most.
        parquet: Whether to write Parquet (pyarrow installed).
        work_dir: Parent of the temporary folder (None: the system's temp folder).
    """

    def __init__(
        self,
        *,
        factory: Callable[[StreamOptions], PoseDetector],
        max_jobs: int,
        max_upload_bytes: int,
        max_frames: int,
        parquet: bool,
        work_dir: Path | None = None,
    ) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="hifipose-serve-", dir=work_dir))
        self._factory = factory
        self._max_jobs = max_jobs
        self._max_upload_bytes = max_upload_bytes
        self._max_frames = max_frames
        self._kinds = tuple(
            k for k in OUTPUTS if (parquet or k != "parquet") and k not in _HOLISTIC_KINDS
        )
        self._jobs: dict[str, Job] = {}
        self._runner = anyio.CapacityLimiter(1)

    def __len__(self) -> int:
        return len(self._jobs)

    def get(self, job_id: str) -> Job | None:
        """The job with this id, or None (ids are only ever looked up, never used as paths)."""
        return self._jobs.get(job_id)

    def output_path(self, job: Job, kind: str) -> Path | None:
        """The file of a finished output kind, or None when the kind is unknown or not ready."""
        if kind not in job.outputs:
            return None
        return job.folder / OUTPUTS[kind]

    def _make_room(self) -> None:
        if len(self._jobs) < self._max_jobs:
            return
        finished = [job for job in self._jobs.values() if job.state in _FINISHED]
        if not finished:
            msg = f"{len(self._jobs)} jobs are already queued or running; try again later"
            raise JobError(429, msg)
        oldest = min(finished, key=lambda job: job.created_s)
        self._remove(oldest)

    def _remove(self, job: Job) -> None:
        self._jobs.pop(job.job_id, None)
        shutil.rmtree(job.folder, ignore_errors=True)

    async def receive(
        self,
        chunks: AsyncIterator[bytes],
        *,
        suffix: str,
        options: StreamOptions,
        content_length: int | None,
    ) -> Job:
        """Store an upload streamed from the client as a new job (state ``queued``).

        Args:
            chunks: The request body.
            suffix: The file's extension as the client gave it, e.g. ``".mp4"`` or
                ``".jpg"``; it must be one of :data:`~hifipose.io.sources.VIDEO_SUFFIXES`
                or :data:`~hifipose.io.sources.IMAGE_SUFFIXES`. It only selects which of
                those fixed names a video gets; a photo (known by its first bytes) is
                named by its format, so a photo sent with a video's suffix is tracked too.
            options: Detector options for the job.
            content_length: The request's Content-Length, if it sent one.

        Returns:
            The new job; start it with :meth:`run`.

        Raises:
            JobError: 400 for a suffix that is not a video's or a photo's, an empty body or
                a GIF, 413 for an upload over the limit, 429 when every job slot is busy.
        """
        wanted = suffix.lower() if suffix.startswith(".") else f".{suffix.lower()}"
        known = {s: s for s in (*VIDEO_SUFFIXES, *IMAGE_SUFFIXES)}
        if wanted not in known:
            msg = (
                f"unsupported file type {suffix[:16]!r}; send a video "
                f"({', '.join(VIDEO_SUFFIXES)}) or a photo ({', '.join(IMAGE_SUFFIXES)})"
            )
            raise JobError(400, msg)
        limit = self._max_upload_bytes
        if content_length is not None and content_length > limit:
            raise JobError(413, f"upload is {content_length} bytes; the limit is {limit} bytes")
        self._make_room()
        job_id = secrets.token_hex(16)
        folder = self.root / job_id
        folder.mkdir()
        job = Job(job_id=job_id, folder=folder, options=options)
        self._jobs[job_id] = job
        target = folder / f"input{known[wanted]}"
        try:
            size = 0
            with target.open("wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise JobError(413, f"upload exceeds the limit of {limit} bytes")
                    out.write(chunk)
            if size == 0:
                raise JobError(400, "the upload is empty")
            with target.open("rb") as stored:
                photo = _photo_suffix(stored.read(16))
            if photo is not None and photo != target.suffix:
                target.rename(target.with_suffix(photo))
        except BaseException:
            self._remove(job)
            raise
        job.upload_bytes = size
        job.state = "queued"
        return job

    async def run(self, job: Job) -> None:
        """Track the job's video (one job at a time); never raises for a bad video."""
        async with self._runner:
            if job.cancel.is_set():
                job.state = "cancelled"
                return
            job.state = "running"
            try:
                await anyio.to_thread.run_sync(self._track_and_trim, job)
            except _Cancelled:
                job.state = "cancelled"
                return
            except (HifiposeError, OSError) as exc:
                job.state, job.error = "error", self._public_message(str(exc), job)
                logger.info("job %s failed: %s", job.job_id, exc)
                return
            except Exception:
                job.state, job.error = "error", "tracking failed: an internal error (see the log)"
                logger.exception("job %s failed unexpectedly", job.job_id)
                return
        job.state = "done"

    def _public_message(self, text: str, job: Job) -> str:
        """``text`` with the server's folders taken out: files are named as the client knows.

        A path inside the job's folder becomes its file name (``input.mp4``); any other
        mention of the temporary folder makes the whole message a generic one.
        """
        for folder in {job.folder, job.folder.resolve()}:
            text = text.replace(f"{folder}{os.sep}", "").replace(str(folder), "the upload")
        if str(self.root) in text or str(self.root.resolve()) in text:
            return "tracking failed (details in the server's log)"
        return text

    def _track_and_trim(self, job: Job) -> None:
        try:
            self._track(job)
        finally:  # the job's detector and buffers are freed: give the pages back
            release_free_memory()

    def _track(self, job: Job) -> None:
        inputs = [p for p in job.folder.iterdir() if p.name.startswith("input")]
        options = job.options
        with ExitStack() as stack:
            source = stack.enter_context(open_source(inputs[0], max_frames=self._max_frames))
            job.frames_total = source.frame_count
            writers: list[ResultWriter] = [
                stack.enter_context(
                    open_writer(job.folder / OUTPUTS[kind], holistic=options.holistic)
                )
                for kind in self._kinds
                if kind != "overlay"
            ]  # with holistic, the CSV writer writes face_csv beside its table
            detector = stack.enter_context(self._factory(options))
            renderer: OverlayVideoWriter | None = None
            caption = f"{options.model_type} | {options.runtime}"
            for result, frame in estimate_frames(
                detector,
                source,
                static=False,
                video_name=inputs[0].name,
                before_frame=functools.partial(_stop_if_cancelled, job.cancel),
            ):
                width, height = result.size_wh
                for writer in writers:
                    writer.write(result)
                if renderer is None:
                    path = job.folder / OUTPUTS["overlay"]
                    renderer = OverlayVideoWriter(path, source.fps or 30.0, (width, height))
                    stack.enter_context(renderer)
                renderer.write(  # drawn on the writer's thread, into the BGR frame it encodes
                    frame.image_rgb,
                    functools.partial(
                        _draw_overlay,
                        poses=result.poses,
                        segmentation=options.segmentation,
                        caption=caption,
                    ),
                )
                job.frames_done += 1
                job.frames_with_pose += bool(result.poses)
            if renderer is None:
                msg = "the upload holds no video frame that can be decoded"
                raise VideoReadError(msg)
        job.outputs = self._kinds + (
            ("face_csv",) if options.holistic and "csv" in self._kinds else ()
        )

    def cancel_all(self) -> None:
        """Ask every queued or running job to stop at its next frame."""
        for job in self._jobs.values():
            job.cancel.set()

    def close(self) -> None:
        """Cancel every job and delete every job's files (call after the runs have ended)."""
        self.cancel_all()
        self._jobs.clear()
        shutil.rmtree(self.root, ignore_errors=True)
