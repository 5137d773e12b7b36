"""⑧ Writers: one per output format, chosen by the output file's extension."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Final

from hifipose.errors import ConfigError
from hifipose.io.table import COLUMNS
from hifipose.io.writers.base import AtomicWriter, PoseWriter
from hifipose.io.writers.formats import CocoWriter, CsvWriter, JsonlWriter, ParquetWriter

__all__ = [
    "COLUMNS",
    "WRITER_SUFFIXES",
    "AtomicWriter",
    "CocoWriter",
    "CsvWriter",
    "JsonlWriter",
    "ParquetWriter",
    "PoseWriter",
    "open_writer",
]

WRITER_SUFFIXES: Final = MappingProxyType(
    {".jsonl": JsonlWriter, ".csv": CsvWriter, ".parquet": ParquetWriter, ".json": CocoWriter}
)


def open_writer(path: str | Path, *, video_id: str | None = None) -> AtomicWriter:
    """Open the writer for ``path``'s extension: .jsonl, .csv, .parquet or .json (COCO).

    Args:
        path: The output file.
        video_id: The pose table's ``video_id`` column (CSV and Parquet; default: the
            output's stem); ``track`` passes the input's stem.

    Raises:
        ConfigError: The extension is not one of those.
        OutputError: The file cannot be created.
        RuntimeUnavailableError: pyarrow is missing for .parquet.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in WRITER_SUFFIXES:
        known = ", ".join(WRITER_SUFFIXES)
        msg = f"unknown output extension {suffix or '(none)'!r} for {path}; use one of: {known}"
        raise ConfigError(msg)
    if suffix == ".csv":
        return CsvWriter(path, video_id=video_id)
    if suffix == ".parquet":
        return ParquetWriter(path, video_id=video_id)
    writer: AtomicWriter = WRITER_SUFFIXES[suffix](path)
    return writer
