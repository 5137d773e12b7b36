"""The output formats: JSON Lines, CSV, Parquet and COCO keypoints.

Conventions:
    Image keypoints are pixels of the frame (x right, y down), world keypoints metres with
    the origin between the hips (see :mod:`hifipose.pose`). JSON and CSV values are
    rounded to 4 decimals; Parquet keeps float32. CSV and Parquet share the pose table of
    :mod:`hifipose.io.table` (one row per frame and pose, a row of nulls for a frame
    without a pose).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hifipose._optional import require
from hifipose.io.table import (
    COLUMNS,
    FACE_CSV_COLUMNS,
    METADATA_KEY,
    arrow_schema,
    build_table,
    columns,
    face_csv_path,
    face_csv_rows,
    schema_version,
)
from hifipose.io.table import table_rows as _table_rows
from hifipose.io.writers.base import AtomicWriter
from hifipose.pose import FrameResult, Pose
from hifipose.topology import COCO17_FROM_BLAZEPOSE, COCO17_NAMES, COCO17_SKELETON

__all__ = ["COLUMNS", "CocoWriter", "CsvWriter", "JsonlWriter", "ParquetWriter"]

DECIMALS = 4


def _round(value: float) -> float:
    return round(value, DECIMALS)


def _default_video_id(path: Path) -> str:
    """``track``'s video id: the output's stem until the caller names the input."""
    return path.stem


class JsonlWriter(AtomicWriter):
    """One JSON object per frame: ``FrameResult.to_dict()`` plus ``source`` and ``track_id``.

    ``source`` is the frame's origin (an image's file name, a video's path) or null; each
    pose carries its ``track_id`` (null in static mode).
    """

    def _write(self, result: FrameResult) -> None:
        data = result.to_dict()
        data["source"] = result.source
        for pose, entry in zip(result.poses, data["poses"], strict=True):
            entry["track_id"] = pose.track_id
        self._file.write(json.dumps(_rounded(data), separators=(",", ":")) + "\n")


def _rounded(value: Any) -> Any:  # noqa: ANN401 - JSON-shaped data
    if isinstance(value, float):
        return _round(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _csv_cells(row: list[Any]) -> list[Any]:
    """A row's CSV cells: None and non-finite numbers empty, floats rounded."""
    return [
        ""
        if v is None or (isinstance(v, float) and not math.isfinite(v))
        else _round(v)
        if isinstance(v, float)
        else v
        for v in row
    ]


class _FaceCsvWriter(AtomicWriter):
    """A CSV pose table's face file (:data:`FACE_CSV_COLUMNS`), one row per face point."""

    def __init__(self, path: Path, video_id: str) -> None:
        super().__init__(path)
        self.video_id = video_id
        self._csv = csv.writer(self._file)
        self._csv.writerow(FACE_CSV_COLUMNS)

    def _write(self, result: FrameResult) -> None:
        # rounded there (the cells' values are known: no per-cell type checks)
        self._csv.writerows(face_csv_rows(result, self.video_id, DECIMALS))


class CsvWriter(AtomicWriter):
    """The pose table's :data:`COLUMNS`: one row per frame and pose.

    A frame without a pose has one row whose ``track_id``, score, box and keypoint cells
    are empty. With ``holistic`` the hands are columns of the table and the face's points go
    to a second file, ``<stem>.face.csv`` (a CSV cell holds no list; see
    :mod:`hifipose.io.table`), published and discarded with the table.

    Args:
        path: The output file.
        video_id: The ``video_id`` column's value (default: the file's stem).
        camera: Add the camera-space columns ``{name}_cam_x/_y/_z`` (metres; empty for a
            pose without ``camera_array_m``).
        holistic: Add the hands' and ``face_score`` columns and write the face file.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        video_id: str | None = None,
        camera: bool = False,
        holistic: bool = False,
    ) -> None:
        super().__init__(path)
        self.video_id = video_id or _default_video_id(self.path)
        self._camera = camera
        self._holistic = holistic
        self._csv = csv.writer(self._file)
        self._csv.writerow(columns(camera=camera, holistic=holistic))
        self._faces: _FaceCsvWriter | None = None
        if holistic:
            try:
                self._faces = _FaceCsvWriter(face_csv_path(self.path), self.video_id)
            except BaseException:
                super().abort()
                raise

    @property
    def companion_paths(self) -> list[Path]:
        """The other files this writer publishes (the face file with ``holistic``)."""
        return [] if self._faces is None else [self._faces.path]

    def _write(self, result: FrameResult) -> None:
        rows = _table_rows(result, self.video_id, camera=self._camera, holistic=self._holistic)
        self._csv.writerows(_csv_cells(row) for row in rows)
        if self._faces is not None:
            self._faces.write(result)

    def close(self) -> None:
        """Finish and publish the table, then its face file."""
        super().close()
        if self._faces is not None:
            self._faces.close()

    def abort(self) -> None:
        """Close without publishing; delete the partial files."""
        super().abort()
        if self._faces is not None:
            self._faces.abort()


class ParquetWriter(AtomicWriter):
    """The pose table, typed (see :mod:`hifipose.io.table`), in row groups of ``batch_frames``.

    Memory stays bounded: frames are buffered and written ``batch_frames`` at a time. The
    document given to :meth:`set_metadata` (any time before closing) is stored under the
    file-metadata key ``hifipose`` with the ``schema_version``.

    Args:
        path: The output file.
        video_id: The ``video_id`` column's value (default: the file's stem).
        batch_frames: Frames per row group.
        camera: Add the camera-space columns ``{name}_cam_x/_y/_z`` (metres; null for a
            pose without ``camera_array_m``).
        holistic: Add the hands' and face's columns (``face_x/_y/_z`` are lists; see
            :mod:`hifipose.io.table`).
    """

    binary = True

    def __init__(
        self,
        path: str | Path,
        *,
        video_id: str | None = None,
        batch_frames: int = 1024,
        camera: bool = False,
        holistic: bool = False,
    ) -> None:
        pq = require("pyarrow.parquet", extra="parquet")
        super().__init__(path)
        self.video_id = video_id or _default_video_id(self.path)
        self._camera = camera
        self._holistic = holistic
        schema = arrow_schema(camera=camera, holistic=holistic)
        self._writer = pq.ParquetWriter(self._file, schema)
        self._results: list[FrameResult] = []
        self._batch_frames = batch_frames
        self._metadata: dict[str, Any] = {}

    def set_metadata(self, metadata: Mapping[str, Any]) -> None:
        """Record a JSON-ready document (e.g. options, source identity) in the file."""
        self._metadata = dict(metadata)

    def _write(self, result: FrameResult) -> None:
        self._results.append(result)
        if len(self._results) >= self._batch_frames:
            self._flush()

    def _flush(self) -> None:
        if self._results:
            self._writer.write_table(
                build_table(
                    self._results, self.video_id, camera=self._camera, holistic=self._holistic
                ).replace_schema_metadata(None)
            )
            self._results = []

    def _finish(self) -> None:
        self._flush()
        document = {"schema_version": schema_version(holistic=self._holistic), **self._metadata}
        self._writer.add_key_value_metadata({METADATA_KEY: json.dumps(document)})
        self._writer.close()

    def abort(self) -> None:
        """Close without publishing; the ``.partial`` file stays."""
        if not self._closed:
            self._writer.close()
        super().abort()


class CocoWriter(AtomicWriter):
    """A COCO keypoints file: ``{"images", "annotations", "categories"}``.

    ``images`` maps each frame's ``id`` (its index) to its ``file_name`` (the frame's
    source, or ``"frame_{index:06d}"`` when it has none), ``width`` and ``height``. Each
    annotation is ``{"id", "image_id", "category_id": 1, "keypoints": [x, y, v] * 17,
    "num_keypoints", "bbox": [x, y, w, h], "area", "iscrowd": 0, "score", "track_id"}``
    (``track_id`` is an extra key, null in static mode); the ``annotations`` list alone is
    a COCO *results* list (``COCO.loadRes`` takes it). The 17 COCO keypoints are the
    BlazePose keypoints of the same names (BlazePose indices 0, 2, 5, 7, 8, 11–16,
    23–28); ``v`` is the keypoint's visibility score. The other 16 BlazePose points have
    no COCO counterpart and are left out.
    """

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self._images: list[dict[str, Any]] = []
        self._annotations: list[dict[str, Any]] = []

    def _write(self, result: FrameResult) -> None:
        name = result.source or f"frame_{result.index:06d}"
        width, height = result.size_wh
        self._images.append(
            {"id": result.index, "file_name": name, "width": width, "height": height}
        )
        for pose in result.poses:
            box = pose.box
            keypoints = coco_keypoints(pose)
            self._annotations.append(
                {
                    "id": len(self._annotations) + 1,
                    "image_id": result.index,
                    "category_id": 1,
                    "keypoints": keypoints,
                    "num_keypoints": len(COCO17_FROM_BLAZEPOSE),
                    "bbox": [_round(v) for v in (box.xmin, box.ymin, box.width, box.height)],
                    "area": _round(box.width * box.height),
                    "iscrowd": 0,
                    "score": _round(pose.score),
                    "track_id": pose.track_id,
                }
            )

    def _finish(self) -> None:
        category = {
            "id": 1,
            "name": "person",
            "supercategory": "person",
            "keypoints": list(COCO17_NAMES),
            "skeleton": [list(edge) for edge in COCO17_SKELETON],
        }
        document = {
            "images": self._images,
            "annotations": self._annotations,
            "categories": [category],
        }
        json.dump(_rounded(document), self._file)
        self._file.write("\n")


def coco_keypoints(pose: Pose) -> list[float]:
    """The flat ``[x, y, v] * 17`` list of a pose in COCO order."""
    values: list[float] = []
    for index in COCO17_FROM_BLAZEPOSE:
        x, y, _, score, _ = pose.image_array[index].tolist()
        values += [_round(x), _round(y), _round(score)]
    return values
