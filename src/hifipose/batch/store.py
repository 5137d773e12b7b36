"""The output folder: poses, failure records and the job file, on a local path or a URI.

Layout::

    OUTDIR/poses/<video_id>.parquet          one pose table per video (hifipose.io.table)
    OUTDIR/_hifipose/failed/<video_id>.json  why a video failed
    OUTDIR/_hifipose/job.json                the fingerprint of the job that owns OUTDIR
    OUTDIR/_hifipose/lock                    held by the run using OUTDIR (see below)

Every file is published atomically: on a local file system it is written as
``<name>.partial`` and renamed; on an object store (a ``pyarrow.fs`` URI such as
``s3://bucket/run``) an object appears only when its upload completes. A write that fails
raises :class:`~hifipose.errors.OutputError`: the output, not the video, is at fault.

One run per local OUTDIR: :meth:`OutputStore.lock` takes an exclusive ``flock`` on
``_hifipose/lock``. The kernel drops it when the process ends in any way (a ``kill -9``
too), so it can never be left stuck; the file itself stays, and only says which process
held it last. It binds runs on one machine (and on network file systems with ``flock``
support); an object store has no lock: run one job per URI there.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any, Final

from hifipose._optional import require
from hifipose.errors import ConfigError, OutputBusyError, OutputError
from hifipose.io.table import read_metadata

__all__ = ["PARTIAL_SUFFIX", "OutputStore"]

PARTIAL_SUFFIX: Final = ".partial"
POSES: Final = "poses"
FAILED: Final = "_hifipose/failed"
JOB: Final = "_hifipose/job.json"
LOCK: Final = "_hifipose/lock"


def _check_id(video_id: str) -> str:
    """``video_id`` if it names a file inside OUTDIR (no ``..``, ``.`` or empty part).

    Raises:
        ConfigError: It would not (:func:`~hifipose.batch.discovery.discover` never makes
            such an id; a hand-made :class:`~hifipose.batch.VideoJob` could).
    """
    if video_id.startswith("/") or any(part in {"", ".", ".."} for part in video_id.split("/")):
        msg = f"the video id {video_id!r} would name a file outside OUTDIR/poses"
        raise ConfigError(msg)
    return video_id


def _filesystem(fs_module: Any, uri: str) -> tuple[Any, str]:  # noqa: ANN401 - pyarrow.fs
    """The ``pyarrow.fs`` file system of ``uri`` and the path in it.

    Raises:
        ConfigError: An unknown scheme or a malformed URI.
        OutputError: Its file system cannot be reached.
    """
    try:
        filesystem, path = fs_module.FileSystem.from_uri(uri)
    except ValueError as exc:  # ArrowInvalid
        msg = f"cannot use the output {uri!r}: {_first_line(exc)}"
        raise ConfigError(msg) from None
    except OSError as exc:
        msg = f"cannot open the output {uri!r}: {_first_line(exc)}"
        raise OutputError(msg) from None
    return filesystem, str(path)


def _first_line(exc: BaseException) -> str:
    """An Arrow error's first line, its message.

    An ``hdfs://`` URI without Java adds a ``dlopen`` line for each place it looked in.
    """
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class OutputStore:
    """An output folder on a ``pyarrow.fs`` file system (local when ``outdir`` has no scheme).

    It is rebuilt from ``outdir`` in each worker (it pickles as that string).
    """

    def __init__(self, outdir: str) -> None:
        self.outdir = outdir
        fs_module = require("pyarrow.fs", extra="parquet")
        if "://" in outdir:
            self.fs, self.root = _filesystem(fs_module, outdir)
        else:
            self.fs, self.root = fs_module.LocalFileSystem(), os.path.realpath(outdir)
        self.local = isinstance(self.fs, fs_module.LocalFileSystem)
        self._fs_module = fs_module

    def __reduce__(self) -> tuple[type[OutputStore], tuple[str]]:
        return OutputStore, (self.outdir,)

    def path(self, relative: str) -> str:
        """The full path of ``relative`` (``/``-separated) on the store's file system."""
        return f"{self.root.rstrip('/')}/{relative}"

    @staticmethod
    def pose_file(video_id: str) -> str:
        """``poses/<video_id>.parquet``.

        Raises:
            ConfigError: ``video_id`` has a ``..``, ``.`` or empty part.
        """
        return f"{POSES}/{_check_id(video_id)}.parquet"

    @staticmethod
    def failure_file(video_id: str) -> str:
        """``_hifipose/failed/<video_id>.json``.

        Raises:
            ConfigError: ``video_id`` has a ``..``, ``.`` or empty part.
        """
        return f"{FAILED}/{_check_id(video_id)}.json"

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold OUTDIR for one run (an exclusive ``flock``; see the module); a no-op on URIs.

        Raises:
            OutputBusyError: Another process holds it.
            OutputError: The lock file cannot be created.
        """
        if not self.local:
            yield
            return
        import fcntl

        path = self.path(LOCK)
        try:
            self.fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            msg = f"cannot write to the output folder {self.outdir}: {exc}"
            raise OutputError(msg) from exc
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
                msg = (
                    f"another hifipose batch run (process {holder}) is using {self.outdir}: "
                    "wait for it to end, or choose another -o"
                )
                raise OutputBusyError(msg) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            yield
        finally:
            os.close(fd)  # closing the only descriptor drops the lock

    def check_writable(self) -> None:
        """Create the folders and write a probe file.

        Raises:
            OutputError: The folder cannot be written.
        """
        probe = f"_hifipose/.write-test{PARTIAL_SUFFIX}"
        try:
            self.fs.create_dir(self.path(POSES), recursive=True)
            self.fs.create_dir(self.path(FAILED), recursive=True)
            with self.fs.open_output_stream(self.path(probe)) as stream:
                stream.write(b"ok")
            self.fs.delete_file(self.path(probe))
        except OSError as exc:
            msg = f"cannot write to the output folder {self.outdir}: {exc}"
            raise OutputError(msg) from exc

    def _publish(self, relative: str, write: Any) -> None:  # noqa: ANN401 - a callable
        """Write ``relative`` atomically with ``write(where)``.

        Raises:
            OutputError: It cannot be written (a full disk, a quota, a read-only or
                forbidden folder: not the data's fault).
        """
        final = self.path(relative)
        partial = final + PARTIAL_SUFFIX if self.local else final
        try:
            self.fs.create_dir(final.rsplit("/", 1)[0], recursive=True)
            try:
                write(partial)
                if partial != final:
                    self.fs.move(partial, final)
            except BaseException:
                if partial != final:
                    with contextlib.suppress(OSError):
                        self.delete(relative + PARTIAL_SUFFIX)
                raise
        except OSError as exc:
            msg = f"cannot write {final}: {getattr(exc, 'strerror', None) or exc}"
            raise OutputError(msg) from exc

    def write_table(self, relative: str, table: Any) -> None:  # noqa: ANN401 - pyarrow.Table
        """Publish a pose table as Parquet at ``relative``."""
        pq = require("pyarrow.parquet", extra="parquet")
        self._publish(relative, lambda where: pq.write_table(table, where, filesystem=self.fs))

    def write_json(self, relative: str, document: dict[str, Any]) -> None:
        """Publish a JSON document at ``relative``."""
        data = (json.dumps(document, indent=1, sort_keys=True) + "\n").encode()

        def write(where: str) -> None:
            with self.fs.open_output_stream(where) as stream:
                stream.write(data)

        self._publish(relative, write)

    def read_json(self, relative: str) -> dict[str, Any] | None:
        """The JSON document at ``relative``, or None when it is missing or unreadable."""
        try:
            with self.fs.open_input_stream(self.path(relative)) as stream:
                document = json.loads(stream.read())
        except (OSError, ValueError):
            return None
        return document if isinstance(document, dict) else None

    def pose_metadata(self, video_id: str) -> dict[str, Any] | None:
        """The ``hifipose`` document of a video's published pose table, or None."""
        pq = require("pyarrow.parquet", extra="parquet")
        try:
            metadata = pq.read_metadata(self.path(self.pose_file(video_id)), filesystem=self.fs)
        except (OSError, ValueError):
            return None
        return read_metadata(metadata.metadata)

    def _exists(self, full: str) -> bool:
        return bool(self.fs.get_file_info(full).type != self._fs_module.FileType.NotFound)

    def delete(self, relative: str) -> None:
        """Delete a file if it exists.

        Raises:
            OutputError: It cannot be deleted.
        """
        full = self.path(relative)
        try:
            if self._exists(full):
                self.fs.delete_file(full)
        except OSError as exc:
            msg = f"cannot delete {full}: {getattr(exc, 'strerror', None) or exc}"
            raise OutputError(msg) from exc

    def files(self, folder: str, suffix: str) -> list[str]:
        """The ``relative`` paths of the files under ``folder`` whose names end in ``suffix``."""
        selector = self._fs_module.FileSelector(
            self.path(folder), recursive=True, allow_not_found=True
        )
        prefix = self.root.rstrip("/") + "/"
        try:
            infos = self.fs.get_file_info(selector)
        except OSError as exc:
            msg = f"cannot list {self.path(folder)}: {getattr(exc, 'strerror', None) or exc}"
            raise OutputError(msg) from exc
        return sorted(
            info.path.removeprefix(prefix)
            for info in infos
            if info.type == self._fs_module.FileType.File and info.path.endswith(suffix)
        )

    def remove_partials(self) -> int:
        """Delete ``*.partial`` files left by an interrupted run; return how many."""
        stale = self.files("", PARTIAL_SUFFIX)
        for relative in stale:
            self.delete(relative)
        return len(stale)
