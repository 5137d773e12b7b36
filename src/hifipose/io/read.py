"""Read pose tables back: a Parquet or CSV file, or a whole folder of Parquet files as one table.

Every column is read by name and checked: a file that lacks a column of the pose table
(:mod:`hifipose.io.table`), holds one of the wrong type (text in ``frame``, a fraction in
``track_id``), has an empty cell where the table allows none, or cannot be parsed at all is a
:class:`~hifipose.errors.VideoReadError` naming the file and the column, never a table of
nulls or a pyarrow error. Columns that are not the pose table's are ignored.

A table with the Holistic columns (``track --holistic``, ``batch --holistic``) reads with
them, the face as Parquet's list columns ``face_x``, ``face_y``, ``face_z`` whatever the
format: a CSV table's face points are read from its face file ``<stem>.face.csv``
(:func:`hifipose.io.table.face_csv_path`).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Final

import numpy as np

from hifipose._optional import require
from hifipose.camera import CAMERA_COLUMNS
from hifipose.errors import VideoReadError
from hifipose.io.table import (
    FACE_CSV_COLUMNS,
    FACE_LIST_COLUMNS,
    HOLISTIC_COLUMNS,
    METADATA_KEY,
    arrow_schema,
    columns,
    face_csv_path,
    has_camera_columns,
    has_holistic_columns,
)

__all__ = ["pose_files", "read_poses"]

#: Columns that are never null in a pose table (a frame without a pose still has them).
_NOT_NULL: Final = ("video_id", "frame", "timestamp_ms", "width", "height")


def _first_line(exc: BaseException) -> str:
    """An exception's message on one line (pyarrow's may append a whole schema)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _missing_message(path: Path, missing: list[str]) -> str:
    shown = ", ".join(missing[:5]) + (f", … ({len(missing)} in all)" if len(missing) > 5 else "")
    return (
        f"{path} is not a hifipose pose table: missing column(s) {shown} "
        "(write it with `hifipose track -o x.parquet` or `batch`)"
    )


def _unique(table: Any) -> set[str]:  # noqa: ANN401 - a pyarrow table
    """The column names that occur once in ``table``."""
    names = list(table.column_names)
    return {n for n in names if names.count(n) == 1}


def _typed(path: Path, table: Any, camera: bool, holistic: bool = False) -> Any:  # noqa: ANN401
    """``table`` with the pose table's columns, in order, cast to their types by name."""
    pa = require("pyarrow", extra="parquet")
    schema = arrow_schema(camera=camera, holistic=holistic)
    missing = [name for name in schema.names if name not in table.column_names]
    if missing:
        raise VideoReadError(_missing_message(path, missing))
    twice = sorted({n for n in table.column_names if n in schema.names} - _unique(table))
    if twice:
        msg = f"{path}: column(s) {', '.join(twice)} appear more than once"
        raise VideoReadError(msg)
    arrays = []
    for field in schema:
        column = table.column(field.name)
        try:
            arrays.append(column.cast(field.type, safe=True))
        except (pa.ArrowException, ValueError, TypeError) as exc:
            why = _first_line(exc)
            msg = f"{path}: column {field.name} is {column.type}, not {field.type}: {why}"
            raise VideoReadError(msg) from exc
    for name in _NOT_NULL:
        nulls = table.column(name).null_count
        if nulls:
            msg = f"{path}: column {name} has {nulls} empty cell(s); every row needs one"
            raise VideoReadError(msg)
    return pa.Table.from_arrays(arrays, schema=schema)


def _header(path: Path) -> list[str]:
    """The CSV file's column names (its first row)."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        msg = f"cannot read {path} as a CSV pose table: {_first_line(exc)}"
        raise VideoReadError(msg) from exc


def _read_csv(path: Path) -> Any:  # noqa: ANN401 - a pyarrow.Table
    pa = require("pyarrow", extra="parquet")
    pc = require("pyarrow.csv", extra="parquet")
    names = _header(path)
    camera = has_camera_columns(names)
    holistic = has_holistic_columns(names)
    wanted = list(columns(camera=camera, holistic=holistic))
    missing = [name for name in wanted if name not in names]
    if missing:  # before parsing: an empty file or another tool's table says what it lacks
        raise VideoReadError(_missing_message(path, missing))
    schema = arrow_schema(camera=camera, holistic=holistic)
    typed = {name: schema.field(name).type for name in wanted}

    def read(types: dict[str, Any]) -> Any:  # noqa: ANN401 - a pyarrow.Table
        options = pc.ConvertOptions(
            column_types=types, include_columns=wanted, strings_can_be_null=True
        )
        return pc.read_csv(path, convert_options=options)

    try:
        try:
            table = read(typed)
        except pa.ArrowInvalid:  # as text, then cast by name: the error names the column
            table = read(dict.fromkeys(wanted, pa.string()))
    except (pa.ArrowException, OSError, ValueError) as exc:
        msg = f"cannot read {path} as a CSV pose table: {_first_line(exc)}"
        raise VideoReadError(msg) from exc
    if holistic:
        for name, array in zip(FACE_LIST_COLUMNS, _face_lists(path, table), strict=True):
            table = table.append_column(name, array)
    return _typed(path, table, camera, holistic)


def _face_lists(path: Path, table: Any) -> list[Any]:  # noqa: ANN401 - pyarrow
    """The ``face_x/_y/_z`` list arrays of a CSV table's rows, from its face file.

    A row's face is the face file's points of its frame and place among the frame's rows
    (``pose``); null where the face file has none (a face's ``face_score`` may be empty
    where the runtime gives no score, ``runtime="mediapipe"``).

    Raises:
        VideoReadError: The face file is missing or unreadable, or lacks a face that the
            table says was found.
    """
    pa = require("pyarrow", extra="parquet")
    pc = require("pyarrow.csv", extra="parquet")
    face_path = face_csv_path(path)
    types = dict.fromkeys(FACE_CSV_COLUMNS, pa.float32())
    types |= {"video_id": pa.string(), "frame": pa.int64(), "track_id": pa.int64()}
    types |= {"pose": pa.int64(), "point": pa.int64()}
    try:
        faces = pc.read_csv(face_path, convert_options=pc.ConvertOptions(column_types=types))
        frame, place, point = (faces.column(n).to_numpy() for n in ("frame", "pose", "point"))
        xyz = np.column_stack([faces.column(n).to_numpy() for n in ("x", "y", "z")])
    except (pa.ArrowException, OSError, ValueError, KeyError) as exc:
        msg = f"cannot read {face_path}, the face file of {path}: {_first_line(exc)}"
        raise VideoReadError(msg) from exc
    order = np.lexsort((point, place, frame))
    keys = np.stack([frame[order], place[order]], axis=1)
    starts = np.flatnonzero(np.r_[True, (keys[1:] != keys[:-1]).any(axis=1)])
    ends = np.r_[starts[1:], len(keys)]
    groups = {
        (int(keys[a, 0]), int(keys[a, 1])): xyz[order[a:b]]
        for a, b in zip(starts, ends, strict=True)
    }
    frames = table.column("frame").to_numpy(zero_copy_only=False)
    found = table.column("face_score").is_valid().to_numpy(zero_copy_only=False)
    points: list[np.ndarray | None] = []
    previous, place_in_frame = None, 0
    for row, frame_index in enumerate(frames.tolist()):
        place_in_frame = place_in_frame + 1 if frame_index == previous else 0
        previous = frame_index
        face = groups.get((frame_index, place_in_frame))  # with or without a face_score
        if found[row] and face is None:
            msg = f"{face_path} has no face for frame {frame_index}, pose {place_in_frame}"
            raise VideoReadError(msg)
        points.append(face)
    return [
        pa.array([None if p is None else p[:, axis] for p in points], pa.list_(pa.float32()))
        for axis in range(3)
    ]


def _read_parquet(path: Path, *, camera: bool | None = None, holistic: bool | None = None) -> Any:  # noqa: ANN401 - a pyarrow.Table
    """One Parquet pose table; ``camera``, ``holistic`` None: those columns as the file has."""
    pa = require("pyarrow", extra="parquet")
    pq = require("pyarrow.parquet", extra="parquet")
    try:
        parquet = pq.ParquetFile(path)
        names = parquet.schema_arrow.names
        has_camera = has_camera_columns(names)
        has_parts = has_holistic_columns(names)
        schema = arrow_schema(camera=has_camera, holistic=has_parts)
        wanted = [n for n in schema.names if n in names]
        table = parquet.read(columns=wanted)
        document = parquet.metadata.metadata or {}
    except (pa.ArrowException, OSError, ValueError) as exc:
        msg = f"cannot read {path} as a Parquet pose table: {_first_line(exc)}"
        raise VideoReadError(msg) from exc
    if camera and not has_camera:  # in a folder where other files have them: nulls
        nulls = [pa.nulls(table.num_rows, pa.float32()) for _ in CAMERA_COLUMNS]
        for name, array in zip(CAMERA_COLUMNS, nulls, strict=True):
            table = table.append_column(name, array)
    if holistic and not has_parts:  # the same for the parts (typed by _typed's cast)
        for name in (*HOLISTIC_COLUMNS, *FACE_LIST_COLUMNS):
            table = table.append_column(name, pa.nulls(table.num_rows))
    camera = has_camera if camera is None else camera
    typed = _typed(path, table, camera, has_parts if holistic is None else holistic)
    if METADATA_KEY.encode() in document:
        typed = typed.replace_schema_metadata({METADATA_KEY: document[METADATA_KEY.encode()]})
    return typed


def pose_files(folder: str | Path) -> list[Path]:
    """The Parquet files :func:`read_poses` reads for a folder, in sorted path order.

    ``batch``'s ``OUTDIR`` is read through its ``poses`` subfolder; any other folder
    recursively.

    Raises:
        VideoReadError: The folder holds no Parquet file.
    """
    folder = Path(folder).expanduser()
    root = folder / "poses" if (folder / "poses").is_dir() else folder
    files = sorted(p for p in root.rglob("*.parquet") if p.is_file())
    if not files:
        msg = f"no .parquet files under {folder}"
        raise VideoReadError(msg)
    return files


def read_poses(path_or_dir: str | Path, *, as_pandas: bool = False) -> Any:  # noqa: ANN401
    """Read pose tables written by ``track -o x.parquet``/``x.csv`` or ``batch`` as one table.

    Args:
        path_or_dir: A ``.parquet`` or ``.csv`` file, or a folder whose ``.parquet`` files are
            read recursively as one table (``batch``'s ``OUTDIR/poses``, or ``OUTDIR``
            itself).
        as_pandas: Return a ``pandas.DataFrame`` instead of a ``pyarrow.Table``.

    Returns:
        A ``pyarrow.Table`` (or DataFrame) with the columns of :mod:`hifipose.io.table`, in
        that order and of those types, rows in file order (within a file: frame order; a
        folder's files in sorted path order). A single Parquet file's table keeps its
        ``hifipose`` metadata document on its schema. The camera-space columns are there
        when the file (or any file of the folder) has them; in a folder, files without them
        read as nulls there. So are the Holistic columns (hands, ``face_score`` and the
        ``face_x/_y/_z`` lists, a CSV table's from its ``.face.csv`` file).

    Raises:
        VideoReadError: The path does not exist, holds no Parquet file, or a file cannot
            be read as a pose table: unreadable or corrupt, a column missing or of the
            wrong type, or an empty cell in ``video_id``, ``frame``, ``timestamp_ms``,
            ``width`` or ``height`` (the message names the file and the column).
    """
    pa = require("pyarrow", extra="parquet")
    path = Path(path_or_dir).expanduser()
    if path.is_file():
        table = _read_csv(path) if path.suffix.lower() == ".csv" else _read_parquet(path)
    elif path.is_dir():
        files = pose_files(path)
        camera = holistic = False
        for file in files:
            try:
                names = require("pyarrow.parquet", extra="parquet").read_schema(file).names
            except (pa.ArrowException, OSError, ValueError) as exc:
                msg = f"cannot read {file} as a Parquet pose table: {_first_line(exc)}"
                raise VideoReadError(msg) from exc
            camera = camera or has_camera_columns(names)
            holistic = holistic or has_holistic_columns(names)
        tables = [
            _read_parquet(f, camera=camera, holistic=holistic).replace_schema_metadata(None)
            for f in files
        ]
        table = pa.concat_tables(tables)
    else:
        msg = f"not found: {path}"
        raise VideoReadError(msg)
    if as_pandas:
        require("pandas", extra="pandas")
        return table.to_pandas()
    return table
