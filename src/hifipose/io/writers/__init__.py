"""⑧ Writers: one per output format, chosen by the output file's extension."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Final

from hifipose.errors import ConfigError
from hifipose.io.table import COLUMNS
from hifipose.io.writers.base import AtomicWriter, PoseWriter, ResultWriter
from hifipose.io.writers.bvh import BvhWriter
from hifipose.io.writers.formats import CocoWriter, CsvWriter, JsonlWriter, ParquetWriter
from hifipose.io.writers.rerun import RerunWriter

__all__ = [
    "COLUMNS",
    "WRITER_SUFFIXES",
    "AtomicWriter",
    "BvhWriter",
    "CocoWriter",
    "CsvWriter",
    "JsonlWriter",
    "ParquetWriter",
    "PoseWriter",
    "RerunWriter",
    "ResultWriter",
    "open_writer",
]

WRITER_SUFFIXES: Final[Mapping[str, Callable[[Path], ResultWriter]]] = MappingProxyType(
    {
        ".jsonl": JsonlWriter,
        ".csv": CsvWriter,
        ".parquet": ParquetWriter,
        ".json": CocoWriter,
        ".bvh": BvhWriter,
        ".rrd": RerunWriter,
    }
)


def open_writer(
    path: str | Path, *, video_id: str | None = None, camera: bool = False, holistic: bool = False
) -> ResultWriter:
    """Open the writer for ``path``'s extension.

    The extensions: .jsonl, .csv, .parquet, .json (COCO), .bvh (motion capture, one file
    per track) and .rrd (a Rerun recording).

    Args:
        path: The output file.
        video_id: The pose table's ``video_id`` column (CSV and Parquet; default: the
            output's stem); ``track`` passes the input's stem.
        camera: CSV and Parquet: add the camera-space columns (``Pose.camera_array_m``).
        holistic: CSV and Parquet: add the hands' and face's columns (a CSV file's face
            points go to ``<stem>.face.csv``); JSONL and Rerun carry the parts as they come.

    Raises:
        ConfigError: The extension is not one of those.
        OutputError: The file cannot be created.
        RuntimeUnavailableError: pyarrow is missing for .parquet, rerun-sdk for .rrd.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in WRITER_SUFFIXES:
        known = ", ".join(WRITER_SUFFIXES)
        msg = f"unknown output extension {suffix or '(none)'!r} for {path}; use one of: {known}"
        raise ConfigError(msg)
    if suffix == ".csv":
        return CsvWriter(path, video_id=video_id, camera=camera, holistic=holistic)
    if suffix == ".parquet":
        return ParquetWriter(path, video_id=video_id, camera=camera, holistic=holistic)
    return WRITER_SUFFIXES[suffix](Path(path))
