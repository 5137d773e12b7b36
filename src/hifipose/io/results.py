"""Read keypoint files back as :class:`~hifipose.pose.FrameResult` s.

Conventions:
    The files are those ``hifipose track -o`` and the writers make: ``.jsonl`` (one frame a
    line), ``.csv`` and ``.parquet`` (the pose table of :mod:`hifipose.io.table`). Values
    come back as the file holds them: float32 for Parquet (the numbers tracked), rounded to
    the writer's 4 decimals for JSONL and CSV; an empty cell or ``null`` is NaN. The box is
    not read (a ``Pose`` derives it from its keypoints), nor are masks (never written).
    Camera space (``camera_array_m``) comes back where the file has it; a pose whose camera
    cells are all empty has none. Holistic hands and face (``Pose.parts``) come back where
    the file has them (JSONL's ``left_hand``/``right_hand``/``face`` keys, the pose table's
    Holistic columns and a CSV table's ``.face.csv`` file; reading those needs pyarrow).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from hifipose.camera import CAMERA_COLUMNS
from hifipose.errors import ConfigError, VideoReadError
from hifipose.io.read import read_poses
from hifipose.io.table import (
    COLUMNS,
    FACE_LIST_COLUMNS,
    HAND_FIELDS,
    HAND_SIDES,
    KEYPOINT_FIELDS,
    columns,
    has_camera_columns,
    has_holistic_columns,
)
from hifipose.pose import Face, FrameResult, Hand, HolisticParts, Pose
from hifipose.topology import HAND_KEYPOINT_NAMES, NUM_KEYPOINTS

__all__ = ["RESULT_SUFFIXES", "json_float", "json_int", "read_results"]

#: The keypoint files :func:`read_results` reads.
RESULT_SUFFIXES: Final = (".jsonl", ".csv", ".parquet")
# The pose table: the head columns, then score and box, then 33 × KEYPOINT_FIELDS.
_SCORE: Final = COLUMNS.index("score")
_POINTS: Final = COLUMNS.index("box_ymax") + 1
_HEAD_NAMES: Final = ("source", "frame", "timestamp_ms", "width", "height", "track_id")


def read_results(path: str | Path) -> Iterator[FrameResult]:
    """Yield the frames of a keypoint file written by ``track`` (or its writers), in order.

    Args:
        path: A ``.jsonl``, ``.csv`` or ``.parquet`` file.

    Yields:
        One :class:`FrameResult` per frame, with its source, poses and track ids (see the
        module's conventions for the precision).

    Raises:
        ConfigError: Another extension.
        VideoReadError: The file is missing, or is not such a file (the line or row is named).
        RuntimeUnavailableError: pyarrow is missing for ``.parquet``.
    """
    path = Path(path).expanduser()
    suffix = path.suffix.lower()
    if suffix not in RESULT_SUFFIXES:
        msg = f"cannot read results from {path}: use one of {', '.join(RESULT_SUFFIXES)}"
        raise ConfigError(msg)
    if not path.is_file():
        msg = f"keypoint file not found: {path}"
        raise VideoReadError(msg)
    if suffix == ".jsonl":
        return _read_jsonl(path)
    if suffix == ".csv":
        return _read_csv(path)
    return _read_parquet(path)


def json_float(value: object) -> float:
    """A JSON number as a float: no text, no bool (``true`` is not 1).

    Raises:
        TypeError: Not a number.
        OverflowError: An integer beyond float's range.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"expected a number, got {type(value).__name__}"
        raise TypeError(msg)
    return float(value)


def json_int(value: object) -> int:
    """A frame number, size or track id: a whole number that fits the pose table's int32.

    Raises:
        TypeError: Not a whole number (``2.5``, ``1e400``, text, bool).
        ValueError: Beyond 32 bits.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"expected a whole number, got {type(value).__name__}"
        raise TypeError(msg)
    if not -(2**31) <= value < 2**31:
        msg = "a frame number or track id beyond 32 bits"
        raise ValueError(msg)
    return value


def _array(rows: object, width: int, where: str) -> NDArray[np.float32]:
    """(33, width) float32 from nested lists; None is NaN."""
    try:
        values = np.array(rows, dtype=np.float64)  # None → nan
    except (TypeError, ValueError) as exc:
        msg = f"{where}: not numbers: {exc}"
        raise VideoReadError(msg) from exc
    if values.shape != (NUM_KEYPOINTS, width):
        msg = f"{where}: expected {NUM_KEYPOINTS}×{width} values, got shape {values.shape}"
        raise VideoReadError(msg)
    return values.astype(np.float32)


def _points(points: object, keys: tuple[str, ...]) -> NDArray[np.float32]:
    """(33, len(keys)) float32 from a list of keypoint objects; a missing or null value is NaN."""
    if not isinstance(points, list) or len(points) != NUM_KEYPOINTS:
        msg = f"expected a list of {NUM_KEYPOINTS} keypoints"
        raise TypeError(msg)
    if not all(isinstance(point, dict) for point in points):
        msg = "a keypoint is a JSON object"
        raise TypeError(msg)
    values = [[math.nan if p.get(k) is None else json_float(p[k]) for k in keys] for p in points]
    with np.errstate(over="ignore"):  # beyond float32: ±inf
        return np.array(values, dtype=np.float64).astype(np.float32)


def _score(value: object) -> float:
    return math.nan if value is None else json_float(value)


def _optional_score(value: object) -> float | None:
    """A part's score, or None where the runtime gave none (null)."""
    return None if value is None else json_float(value)


def _hand_from_json(entry: object) -> Hand | None:
    """A :meth:`Hand.to_dict` object, or None (null: not found)."""
    if entry is None:
        return None
    if not isinstance(entry, dict):
        msg = f"a hand is a JSON object or null, got {type(entry).__name__}"
        raise TypeError(msg)
    world = entry["keypoints3d"]  # null: the runtime gives no world points
    return Hand(
        np.array(entry["keypoints"], dtype=np.float64),  # None → nan
        None if world is None else np.array(world, dtype=np.float64),
        _optional_score(entry["score"]),
        entry["handedness"],
        _optional_score(entry["handedness_score"]),
    )


def _face_from_json(entry: object) -> Face | None:
    """A :meth:`Face.to_dict` object, or None (null: not found)."""
    if entry is None:
        return None
    if not isinstance(entry, dict):
        msg = f"a face is a JSON object or null, got {type(entry).__name__}"
        raise TypeError(msg)
    return Face(np.array(entry["keypoints"], dtype=np.float64), _optional_score(entry["score"]))


def _parts_from_json(entry: dict[str, Any]) -> HolisticParts | None:
    """The pose's Holistic parts, or None when the line has none of their keys."""
    if not {"left_hand", "right_hand", "face"} & entry.keys():
        return None
    return HolisticParts(
        _hand_from_json(entry.get("left_hand")),
        _hand_from_json(entry.get("right_hand")),
        _face_from_json(entry.get("face")),
    )


def _pose_from_json(entry: object, where: str) -> Pose:
    if not isinstance(entry, dict):
        msg = f"a pose is a JSON object, got {type(entry).__name__}"
        raise TypeError(msg)
    camera = entry.get("camera_m")
    track_id = entry.get("track_id")
    score = entry.get("score")
    return Pose(
        _points(entry["keypoints"], ("x", "y", "z", "score", "presence")),
        _points(entry["keypoints3d"], ("x", "y", "z")),
        math.nan if score is None else json_float(score),
        track_id=None if track_id is None else json_int(track_id),
        camera_array_m=None if camera is None else _array(camera, 3, where),
        parts=_parts_from_json(entry),
    )


def _column(table: Any, name: str) -> NDArray[np.float32]:  # noqa: ANN401 - pyarrow
    """A float column as float32, null as NaN."""
    values: NDArray[np.float32] = np.asarray(
        table.column(name).to_numpy(zero_copy_only=False), dtype=np.float32
    )
    return values


def _given(score: float) -> float | None:
    """A part's score from a table, or None where it is null (NaN): not given."""
    return None if math.isnan(score) else score


def _parts_from_table(table: Any, where: str) -> list[HolisticParts]:  # noqa: ANN401 - pyarrow
    """Each row's Holistic parts, from :func:`read_poses`' table with the Holistic columns."""
    hands: list[list[Hand | None]] = []
    for side in HAND_SIDES:
        names = [f"{side}_{n}_{f}" for n in HAND_KEYPOINT_NAMES for f in HAND_FIELDS]
        points = np.column_stack([_column(table, name) for name in names])
        points = points.reshape(len(points), len(HAND_KEYPOINT_NAMES), len(HAND_FIELDS))
        scores = _column(table, f"{side}_score").tolist()
        label_scores = _column(table, f"{side}_handedness_score").tolist()
        labels = table.column(f"{side}_handedness").to_pylist()
        hands.append(
            [
                None
                if label is None
                else Hand(
                    row[:, :3],
                    None if np.isnan(row[:, 3:]).all() else row[:, 3:],  # null: not given
                    _given(score),
                    label,
                    _given(label_score),
                )
                for row, score, label, label_score in zip(
                    points, scores, labels, label_scores, strict=True
                )
            ]
        )
    face_scores = _column(table, "face_score").tolist()
    axes = [table.column(name).to_pylist() for name in FACE_LIST_COLUMNS]
    faces: list[Face | None] = []
    for row, (score, *xyz) in enumerate(zip(face_scores, *axes, strict=True)):
        if xyz[0] is None:
            faces.append(None)
            continue
        try:
            faces.append(Face(np.array(xyz, dtype=np.float32).T, _given(score)))
        except ValueError as exc:
            msg = f"{where}, row {row + 1}: {exc}"
            raise VideoReadError(msg) from exc
    return [
        HolisticParts(left, right, face)
        for left, right, face in zip(hands[0], hands[1], faces, strict=True)
    ]


def _frame_from_json(data: object, where: str) -> FrameResult:
    if not isinstance(data, dict):
        msg = f"a line is a JSON object, got {type(data).__name__}"
        raise TypeError(msg)
    poses = data["poses"]
    if not isinstance(poses, list):
        msg = "poses is a list"
        raise TypeError(msg)
    source = data.get("source")
    if source is not None and not isinstance(source, str):
        msg = f"source is a string, got {type(source).__name__}"
        raise TypeError(msg)
    return FrameResult(
        json_int(data["frame"]),
        json_float(data["timestamp_ms"]),
        (json_int(data["width"]), json_int(data["height"])),
        tuple(_pose_from_json(entry, where) for entry in poses),
        source=source,
    )


def _read_jsonl(path: Path) -> Iterator[FrameResult]:
    with path.open(encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                result = _frame_from_json(json.loads(line), where)
            except (ValueError, KeyError, TypeError, OverflowError) as exc:  # JSON: ValueError
                reason = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
                msg = f"{where}: not a hifipose keypoint line ({reason.splitlines()[0]})"
                raise VideoReadError(msg) from exc
            yield result


def _frames(
    heads: Sequence[Sequence[Any]],
    values: NDArray[np.float32],
    *,
    camera: bool,
    where: str,
    parts: Sequence[HolisticParts] | None = None,
) -> Iterator[FrameResult]:
    """Group the pose table's rows (consecutive rows of a frame) into results.

    ``heads``: per row, the :data:`_HEAD_NAMES` values; ``values``: per row, the float
    columns from ``score`` on (the camera's last when ``camera``); ``parts``: per row, the
    Holistic parts (None: the table has none).
    """
    points_end = _POINTS - _SCORE + NUM_KEYPOINTS * len(KEYPOINT_FIELDS)
    start = 0
    while start < len(heads):
        source, frame, timestamp, width, height, _ = heads[start]
        end = start + 1
        while end < len(heads) and tuple(heads[end][:3]) == (source, frame, timestamp):
            end += 1
        poses = []
        for row in range(start, end):
            score = values[row, 0]
            if math.isnan(score):  # the row of a frame without a pose
                continue
            points = values[row, _POINTS - _SCORE : points_end].reshape(NUM_KEYPOINTS, -1)
            cam = values[row, points_end:].reshape(NUM_KEYPOINTS, 3) if camera else None
            poses.append(
                Pose(
                    points[:, :5],
                    points[:, 5:],
                    float(score),
                    track_id=heads[row][5],
                    camera_array_m=None if cam is None or np.isnan(cam).all() else cam,
                    parts=None if parts is None else parts[row],
                )
            )
        try:
            yield FrameResult(
                int(frame), float(timestamp), (int(width), int(height)), tuple(poses), source
            )
        except (TypeError, ValueError) as exc:
            msg = f"{where}, row {start + 1}: frame, timestamp_ms, width and height must be set"
            raise VideoReadError(msg) from exc
        start = end


def _read_csv(path: Path) -> Iterator[FrameResult]:
    with path.open(encoding="utf-8", newline="") as file:
        reader = csv.reader(file)
        header = next(reader, None)
        if header is None or tuple(header[: len(COLUMNS)]) != COLUMNS:
            msg = f"{path}: not a hifipose pose table (its header is not the table's columns)"
            raise VideoReadError(msg)
        camera = has_camera_columns(header)
        holistic = has_holistic_columns(header)
        flat = len(columns(camera=camera))  # the body's cells (the parts: read_poses)
        heads: list[list[Any]] = []
        rows: list[list[float]] = []
        for number, row in enumerate(reader, start=2):
            if len(row) != len(header):
                msg = f"{path}, line {number}: {len(row)} cells, the header has {len(header)}"
                raise VideoReadError(msg)
            try:
                source, frame, timestamp, width, height, track_id = row[1:_SCORE]
                heads.append(
                    [
                        source or None,
                        int(frame),
                        float(timestamp),
                        int(width),
                        int(height),
                        int(track_id) if track_id else None,
                    ]
                )
                rows.append([float(v) if v else math.nan for v in row[_SCORE:flat]])
            except ValueError as exc:
                msg = f"{path}, line {number}: {exc}"
                raise VideoReadError(msg) from exc
    cells = flat - _SCORE
    values = np.array(rows, dtype=np.float32).reshape(len(rows), cells)
    parts = _parts_from_table(read_poses(path), str(path)) if holistic else None
    yield from _frames(heads, values, camera=camera, where=str(path), parts=parts)


def _read_parquet(path: Path) -> Iterator[FrameResult]:
    table = read_poses(path)
    camera = has_camera_columns(table.column_names)
    names = [*COLUMNS[_SCORE:], *(CAMERA_COLUMNS if camera else ())]
    values = np.column_stack(
        [table.column(name).to_numpy(zero_copy_only=False).astype(np.float32) for name in names]
    )
    heads = list(zip(*(table.column(name).to_pylist() for name in _HEAD_NAMES), strict=True))
    holistic = has_holistic_columns(table.column_names)
    parts = _parts_from_table(table, str(path)) if holistic else None
    yield from _frames(heads, values, camera=camera, where=str(path), parts=parts)
