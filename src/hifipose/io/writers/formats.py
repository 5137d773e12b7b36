"""The output formats: JSON Lines, CSV, Parquet and COCO keypoint results.

Conventions:
    Image keypoints are pixels of the frame (x right, y down), world keypoints metres with
    the origin between the hips (see :mod:`hifipose.pose`). JSON and CSV values are
    rounded to 4 decimals; Parquet keeps float32.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any, Final

from hifipose._optional import require
from hifipose.io.writers.base import AtomicWriter
from hifipose.pose import FrameResult, Pose
from hifipose.topology import COCO17_FROM_BLAZEPOSE, KEYPOINT_NAMES

__all__ = ["COLUMNS", "CocoWriter", "CsvWriter", "JsonlWriter", "ParquetWriter", "row_values"]

DECIMALS = 4
#: The wide table's columns, fixed for every CSV and Parquet file.
COLUMNS: Final[tuple[str, ...]] = (
    "frame",
    "timestamp_ms",
    "width",
    "height",
    "pose_score",
    *(f"{n}_{c}" for n in KEYPOINT_NAMES for c in ("x", "y", "z", "score", "presence")),
    *(f"{n}_world_{c}" for n in KEYPOINT_NAMES for c in ("x", "y", "z")),
)


def _round(value: float) -> float:
    return round(value, DECIMALS)


def row_values(result: FrameResult) -> list[float | int | None]:
    """One wide row: frame facts, then the first pose's values (None when no pose)."""
    head: list[float | int | None] = [result.index, result.timestamp_ms, *result.size_wh]
    if not result.poses:
        return head + [None] * (len(COLUMNS) - len(head))
    pose = result.poses[0]
    return [
        *head,
        pose.score,
        *pose.image_array.ravel().tolist(),
        *pose.world_array_m.ravel().tolist(),
    ]


class JsonlWriter(AtomicWriter):
    """One JSON object per frame: ``FrameResult.to_dict()`` (all poses, named keypoints)."""

    def _write(self, result: FrameResult) -> None:
        data = _rounded(result.to_dict())
        self._file.write(json.dumps(data, separators=(",", ":")) + "\n")


def _rounded(value: Any) -> Any:  # noqa: ANN401 - JSON-shaped data
    if isinstance(value, float):
        return _round(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


class CsvWriter(AtomicWriter):
    """One row per frame with the fixed wide :data:`COLUMNS`; only the first pose is kept.

    A frame with no pose has empty cells after its frame facts.
    """

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self._csv = csv.writer(self._file)
        self._csv.writerow(COLUMNS)

    def _write(self, result: FrameResult) -> None:
        row = row_values(result)
        self._csv.writerow(
            ["" if v is None else _round(v) if isinstance(v, float) else v for v in row]
        )


class ParquetWriter(AtomicWriter):
    """The CSV's columns, typed (frame int64, timestamp float64, size int32, values float32).

    Rows are buffered and written in row groups of ``batch_rows``, so memory stays bounded.
    """

    binary = True

    def __init__(self, path: str | Path, *, batch_rows: int = 1024) -> None:
        self._pa = require("pyarrow", extra="parquet")
        self._pq = require("pyarrow.parquet", extra="parquet")
        super().__init__(path)
        pa = self._pa
        fields = [
            pa.field("frame", pa.int64(), nullable=False),
            pa.field("timestamp_ms", pa.float64(), nullable=False),
            pa.field("width", pa.int32(), nullable=False),
            pa.field("height", pa.int32(), nullable=False),
            *(pa.field(c, pa.float32()) for c in COLUMNS[4:]),
        ]
        self._schema = pa.schema(fields)
        self._writer = self._pq.ParquetWriter(self._file, self._schema)
        self._rows: list[list[float | int | None]] = []
        self._batch_rows = batch_rows

    def _write(self, result: FrameResult) -> None:
        self._rows.append(row_values(result))
        if len(self._rows) >= self._batch_rows:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            columns = list(zip(*self._rows, strict=True))
            self._writer.write_table(
                self._pa.Table.from_arrays(
                    [
                        self._pa.array(c, type=f.type)
                        for c, f in zip(columns, self._schema, strict=True)
                    ],
                    schema=self._schema,
                )
            )
            self._rows = []

    def _finish(self) -> None:
        self._flush()
        self._writer.close()


class CocoWriter(AtomicWriter):
    """A COCO keypoint *results* file: a JSON list, one entry per pose.

    Each entry is ``{"image_id": frame, "category_id": 1, "keypoints": [x, y, v] * 17,
    "score": pose score}``. The 17 COCO keypoints are the BlazePose keypoints of the same
    names (nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles: BlazePose
    indices 0, 2, 5, 7, 8, 11–16, 23–28); ``v`` is the keypoint's visibility score. The
    other 16 BlazePose points have no COCO counterpart and are left out.
    """

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self._file.write("[")
        self._first = True

    def _write(self, result: FrameResult) -> None:
        for pose in result.poses:
            entry = {
                "image_id": result.index,
                "category_id": 1,
                "keypoints": coco_keypoints(pose),
                "score": _round(pose.score),
            }
            self._file.write(("" if self._first else ",\n") + json.dumps(entry))
            self._first = False

    def _finish(self) -> None:
        self._file.write("]\n")


def coco_keypoints(pose: Pose) -> list[float]:
    """The flat ``[x, y, v] * 17`` list of a pose in COCO order."""
    values: list[float] = []
    for index in COCO17_FROM_BLAZEPOSE:
        x, y, _, score, _ = pose.image_array[index].tolist()
        values += [_round(x), _round(y), _round(score)]
    return values
