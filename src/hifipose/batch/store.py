"""The output folder: poses, failure records and the job file, on a local path or a URI.

Layout::

    OUTDIR/poses/<video_id>.parquet          one pose table per video (hifipose.io.table)
    OUTDIR/_hifipose/failed/<video_id>.json  why a video failed
    OUTDIR/_hifipose/job.json                the fingerprint of the job that owns OUTDIR

Every file is published atomically: on a local file system it is written as
``<name>.partial`` and renamed; on an object store (a ``pyarrow.fs`` URI such as
``s3://bucket/run``) an object appears only when its upload completes.
"""

from __future__ import annotations

import json
from typing import Any, Final

from hifipose._optional import require
from hifipose.errors import OutputError
from hifipose.io.table import read_metadata

__all__ = ["PARTIAL_SUFFIX", "OutputStore"]

PARTIAL_SUFFIX: Final = ".partial"
POSES: Final = "poses"
FAILED: Final = "_hifipose/failed"
JOB: Final = "_hifipose/job.json"


class OutputStore:
    """An output folder on a ``pyarrow.fs`` file system (local when ``outdir`` has no scheme).

    It is rebuilt from ``outdir`` in each worker (it pickles as that string).
    """

    def __init__(self, outdir: str) -> None:
        self.outdir = outdir
        fs_module = require("pyarrow.fs", extra="parquet")
        if "://" in outdir:
            self.fs, self.root = fs_module.FileSystem.from_uri(outdir)
        else:
            from pathlib import Path

            self.fs, self.root = fs_module.LocalFileSystem(), str(Path(outdir).resolve())
        self.local = isinstance(self.fs, fs_module.LocalFileSystem)
        self._fs_module = fs_module

    def __reduce__(self) -> tuple[type[OutputStore], tuple[str]]:
        return OutputStore, (self.outdir,)

    def path(self, relative: str) -> str:
        """The full path of ``relative`` (``/``-separated) on the store's file system."""
        return f"{self.root.rstrip('/')}/{relative}"

    @staticmethod
    def pose_file(video_id: str) -> str:
        """``poses/<video_id>.parquet``."""
        return f"{POSES}/{video_id}.parquet"

    @staticmethod
    def failure_file(video_id: str) -> str:
        """``_hifipose/failed/<video_id>.json``."""
        return f"{FAILED}/{video_id}.json"

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
        final = self.path(relative)
        self.fs.create_dir(final.rsplit("/", 1)[0], recursive=True)
        if not self.local:
            write(final)
            return
        partial = final + PARTIAL_SUFFIX
        try:
            write(partial)
            self.fs.move(partial, final)
        except BaseException:
            if self._exists(partial):
                self.fs.delete_file(partial)
            raise

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
        """Delete a file if it exists."""
        full = self.path(relative)
        if self._exists(full):
            self.fs.delete_file(full)

    def files(self, folder: str, suffix: str) -> list[str]:
        """The ``relative`` paths of the files under ``folder`` whose names end in ``suffix``."""
        selector = self._fs_module.FileSelector(
            self.path(folder), recursive=True, allow_not_found=True
        )
        prefix = self.root.rstrip("/") + "/"
        return sorted(
            info.path.removeprefix(prefix)
            for info in self.fs.get_file_info(selector)
            if info.type == self._fs_module.FileType.File and info.path.endswith(suffix)
        )

    def remove_partials(self) -> int:
        """Delete ``*.partial`` files left by an interrupted run; return how many."""
        stale = self.files("", PARTIAL_SUFFIX)
        for relative in stale:
            self.delete(relative)
        return len(stale)
