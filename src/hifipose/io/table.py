"""The pose table: one schema shared by the CSV and Parquet writers, ``batch`` and ``read_poses``.

One row per frame and pose, and one row with nulls (``track_id``, ``score``, box and
keypoints) for a frame without a pose, so frame order and gaps survive. Columns, in order:

- ``video_id`` (string): ``batch``: the input's path relative to its root, without suffix;
  ``track``: the input's stem.
- ``source`` (string, nullable): where the frame came from (an image's file name, a video's
  path).
- ``frame`` (int32, 0-based), ``timestamp_ms`` (float64), ``width``, ``height`` (int32, px).
- ``track_id`` (int32, nullable): the person's id in video mode, null in static mode.
- ``score`` (float32): pose presence in [0, 1].
- ``box_xmin``, ``box_ymin``, ``box_xmax``, ``box_ymax`` (float32, px): the tight box
  around the 33 image keypoints.
- For each of the 33 names of :data:`hifipose.topology.KEYPOINT_NAMES`: ``{name}_x``,
  ``{name}_y`` (px, x right, y down), ``{name}_z`` (pixel scale, smaller is nearer),
  ``{name}_visibility``, ``{name}_presence`` (in [0, 1]), ``{name}_world_x``,
  ``{name}_world_y``, ``{name}_world_z`` (metres, origin between the hips), all float32.
- Only when a camera is given (``camera=True``; ``track --fov/--intrinsics``, ``batch
  --fov/--intrinsics``), after all of those: for each of the 33 names ``{name}_cam_x``,
  ``{name}_cam_y``, ``{name}_cam_z`` (float32, metres, camera at the origin, x right,
  y down, z forward: :data:`hifipose.camera.CAMERA_COLUMNS`, the values of
  ``Pose.camera_array_m``); null where a pose has no camera-space solution. The file's
  metadata then records the camera (see :func:`camera_metadata`).
- Only with Holistic (``holistic=True``; ``track --holistic``, ``batch --holistic``), after
  all of those (:data:`HOLISTIC_COLUMNS`): for ``left_hand`` then ``right_hand`` (the
  person's own sides, as ``Pose.left_hand``/``right_hand``), ``{hand}_score`` (float32, the
  hand model's presence), ``{hand}_handedness`` (string, the model's own ``"Left"`` or
  ``"Right"``, selfie-view convention), ``{hand}_handedness_score`` (float32), then for each
  of the 21 names of :data:`hifipose.topology.HAND_KEYPOINT_NAMES` ``{hand}_{name}_x``,
  ``_y`` (px), ``_z`` (pixel scale, as the body's), ``_world_x``, ``_world_y``,
  ``_world_z`` (metres, origin near the hand's centre), all float32: the hand model gives
  no per-point visibility or presence, only the hand's score. Then ``face_score``
  (float32, the face model's presence). All null where that part was not found; the
  scores and world columns are also null where the runtime does not give them
  (``runtime="mediapipe"``: None in :class:`~hifipose.pose.Hand`, ``Face.score``).
- The face's points (468, or 478 with ``refine_face_landmarks``): in Parquet three list
  columns at the very end, ``face_x``, ``face_y`` (px) and ``face_z`` (pixel scale), each a
  list of float32 in face-mesh order, null where no face was found
  (:data:`FACE_LIST_COLUMNS`); a CSV file holds no list, so its face goes to a companion
  file ``<stem>.face.csv`` beside it, one row per frame, person and point
  (:data:`FACE_CSV_COLUMNS`, :func:`face_csv_path`). Why: 1,404 or 1,434 more columns per
  row would make every table slow to open and awkward to look at, while both forms turn
  into the same tidy long table in pandas: ``df.explode(["face_x", "face_y", "face_z"])``
  on the Parquet table, ``pd.read_csv("x.face.csv")`` as is; the hands, 21 points each,
  stay plain columns like the body's.

Parquet files carry a JSON document under the file-metadata key ``hifipose``
(:data:`METADATA_KEY`) saying what produced them (see :func:`build_table`).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np

from hifipose._optional import require
from hifipose.camera import CAMERA_COLUMNS, CameraSpec
from hifipose.pose import Face, FrameResult, Hand
from hifipose.topology import HAND_KEYPOINT_NAMES, KEYPOINT_NAMES

__all__ = [
    "COLUMNS",
    "FACE_CSV_COLUMNS",
    "FACE_LIST_COLUMNS",
    "HAND_FIELDS",
    "HAND_SIDES",
    "HOLISTIC_COLUMNS",
    "HOLISTIC_SCHEMA_VERSION",
    "KEYPOINT_FIELDS",
    "METADATA_KEY",
    "SCHEMA_VERSION",
    "arrow_schema",
    "build_table",
    "camera_metadata",
    "columns",
    "face_csv_path",
    "face_csv_rows",
    "has_camera_columns",
    "has_holistic_columns",
    "read_metadata",
    "schema_version",
    "table_rows",
]

#: Bumped whenever a column is added, removed or changes type.
SCHEMA_VERSION: Final = 3
#: The schema of a table with the Holistic columns (version 4 added them; a table without
#: them is unchanged since version 3 and still says 3).
HOLISTIC_SCHEMA_VERSION: Final = 4
#: The Parquet file-metadata key holding hifipose's JSON document.
METADATA_KEY: Final = "hifipose"
#: The per-keypoint fields, in column order.
KEYPOINT_FIELDS: Final = (
    "x",
    "y",
    "z",
    "visibility",
    "presence",
    "world_x",
    "world_y",
    "world_z",
)
_HEAD: Final = ("video_id", "source", "frame", "timestamp_ms", "width", "height", "track_id")
_POSE: Final = ("score", "box_xmin", "box_ymin", "box_xmax", "box_ymax")
#: Every column of the pose table, in order.
COLUMNS: Final[tuple[str, ...]] = (
    *_HEAD,
    *_POSE,
    *(f"{name}_{field}" for name in KEYPOINT_NAMES for field in KEYPOINT_FIELDS),
)
_N_VALUES: Final = len(COLUMNS) - len(_HEAD)  # float32 values of one pose row
#: The two hands' column prefixes, the person's own left then right.
HAND_SIDES: Final = ("left_hand", "right_hand")
#: The per-point fields of a hand, in column order.
HAND_FIELDS: Final = ("x", "y", "z", "world_x", "world_y", "world_z")
_HAND_POINTS: Final = len(HAND_KEYPOINT_NAMES) * len(HAND_FIELDS)  # 126 values
#: The Holistic columns of both formats, in order (see the module docstring).
HOLISTIC_COLUMNS: Final[tuple[str, ...]] = (
    *(
        column
        for side in HAND_SIDES
        for column in (
            f"{side}_score",
            f"{side}_handedness",
            f"{side}_handedness_score",
            *(f"{side}_{name}_{field}" for name in HAND_KEYPOINT_NAMES for field in HAND_FIELDS),
        )
    ),
    "face_score",
)
#: Parquet's face columns, after all others: one list of float32 per row and axis.
FACE_LIST_COLUMNS: Final = ("face_x", "face_y", "face_z")
#: The columns of a CSV table's face file (:func:`face_csv_path`): ``pose`` is the pose's
#: 0-based place among its frame's rows of the pose table (``track_id`` is null in static
#: mode), ``point`` the face-mesh index, ``x``/``y`` px, ``z`` pixel scale.
FACE_CSV_COLUMNS: Final = ("video_id", "frame", "track_id", "pose", "point", "x", "y", "z")


def columns(*, camera: bool = False, holistic: bool = False) -> tuple[str, ...]:
    """The pose table's flat columns (a CSV file's header), in order.

    :data:`COLUMNS`, then the camera-space ones with ``camera``, then
    :data:`HOLISTIC_COLUMNS` with ``holistic`` (Parquet adds :data:`FACE_LIST_COLUMNS`).
    """
    return (
        *COLUMNS,
        *(CAMERA_COLUMNS if camera else ()),
        *(HOLISTIC_COLUMNS if holistic else ()),
    )


def has_camera_columns(names: Iterable[str]) -> bool:
    """Whether a table with these column names holds the camera-space columns."""
    return CAMERA_COLUMNS[0] in set(names)


def has_holistic_columns(names: Iterable[str]) -> bool:
    """Whether a table with these column names holds the Holistic (hands and face) columns."""
    return HOLISTIC_COLUMNS[-1] in set(names)


def schema_version(*, holistic: bool = False) -> int:
    """The ``schema_version`` a table records: :data:`HOLISTIC_SCHEMA_VERSION` with parts."""
    return HOLISTIC_SCHEMA_VERSION if holistic else SCHEMA_VERSION


def face_csv_path(path: str | Path) -> Path:
    """A CSV pose table's face file: ``poses.csv`` → ``poses.face.csv`` beside it."""
    path = Path(path)
    return path.with_name(f"{path.stem}.face{path.suffix}")


def camera_metadata(spec: CameraSpec, size_wh: tuple[int, int]) -> dict[str, Any]:
    """The metadata document of a table's camera: what was given and the intrinsics used.

    Args:
        spec: The camera as given (``--fov``, ``--intrinsics``).
        size_wh: The frames' width and height in pixels.

    Returns:
        ``{"spec": {"hfov_deg", "focal_35mm", "intrinsics"}, "intrinsics": {"fx", "fy",
        "cx", "cy", "width", "height"}}`` (pixels).

    Raises:
        ConfigError: The spec's matrix is for another frame size.
    """
    return {
        "spec": dataclasses.asdict(spec),
        "intrinsics": dataclasses.asdict(spec.for_size(*size_wh)),
    }


def _pose_values(result: FrameResult, camera: bool) -> tuple[list[int | None], np.ndarray]:
    """The track ids and a (rows, values) float32 block; NaN marks a missing pose."""
    width = _N_VALUES + (len(CAMERA_COLUMNS) if camera else 0)
    if not result.poses:
        return [None], np.full((1, width), np.nan, np.float32)
    block = np.empty((len(result.poses), width), np.float32)
    for row, pose in enumerate(result.poses):
        block[row, 0] = pose.score
        block[row, 1:5] = pose.box
        points = np.concatenate([pose.image_array, pose.world_array_m], axis=1)  # (33, 8)
        block[row, 5:_N_VALUES] = points.ravel()
        if camera:
            cam = pose.camera_array_m
            block[row, _N_VALUES:] = np.nan if cam is None else cam.ravel()
    return [pose.track_id for pose in result.poses], block


def _hand_values(hand: Hand | None) -> np.ndarray:
    """score, handedness score, then the 21 points' x, y, z, world x, y, z.

    NaN: no hand, or a value the runtime does not give (None in :class:`Hand`).
    """
    values = np.full(2 + _HAND_POINTS, np.nan, np.float32)
    if hand is not None:
        values[:2] = [np.nan if v is None else v for v in (hand.score, hand.handedness_score)]
        world = hand.world_array_m
        world = np.full((21, 3), np.nan, np.float32) if world is None else world
        values[2:] = np.concatenate([hand.image_array, world], axis=1).ravel()
    return values


def _parts_values(
    result: FrameResult,
) -> tuple[np.ndarray, list[tuple[str | None, str | None]], list[Face | None]]:
    """The parts of a frame's rows, for the Holistic columns.

    Returns:
        A (rows, 2, 128) float32 hand block (NaN: no hand), each row's two handedness
        labels, and each row's face (None: not found).
    """
    rows = max(1, len(result.poses))
    hands = np.full((rows, 2, 2 + _HAND_POINTS), np.nan, np.float32)
    labels: list[tuple[str | None, str | None]] = [(None, None)] * rows
    faces: list[Face | None] = [None] * rows
    for row, pose in enumerate(result.poses):
        left, right = pose.left_hand, pose.right_hand
        hands[row, 0], hands[row, 1] = _hand_values(left), _hand_values(right)
        labels[row] = (
            None if left is None else left.handedness,
            None if right is None else right.handedness,
        )
        faces[row] = pose.face
    return hands, labels, faces


def _parts_row(
    hands: np.ndarray, labels: tuple[str | None, str | None], face: Face | None
) -> list[Any]:
    """One row's :data:`HOLISTIC_COLUMNS` values (None or NaN: not found)."""
    row: list[Any] = []
    for side in range(2):
        values = hands[side].tolist()
        row += [values[0], labels[side], values[1], *values[2:]]
    row.append(None if face is None else face.score)
    return row


def table_rows(
    result: FrameResult, video_id: str, *, camera: bool = False, holistic: bool = False
) -> list[list[Any]]:
    """The rows of one frame, as Python values in :func:`columns` order (None = null).

    With ``camera``, a pose without camera space has NaN camera values; with ``holistic``,
    a part not found has None or NaN values (the face's points: :func:`face_csv_rows`).
    """
    track_ids, block = _pose_values(result, camera)
    head = [video_id, result.source, result.index, result.timestamp_ms, *result.size_wh]
    if not result.poses:
        empty = len(HOLISTIC_COLUMNS) if holistic else 0
        return [[*head, None, *([None] * (block.shape[1] + empty))]]
    rows = [
        [*head, track_id, *values]
        for track_id, values in zip(track_ids, block.tolist(), strict=True)
    ]
    if holistic:
        hands, labels, faces = _parts_values(result)
        for row, (hand, label, face) in enumerate(zip(hands, labels, faces, strict=True)):
            rows[row] += _parts_row(hand, label, face)
    return rows


def face_csv_rows(
    result: FrameResult, video_id: str, decimals: int | None = None
) -> list[list[Any]]:
    """The face file's rows of one frame (:data:`FACE_CSV_COLUMNS`): one per face point.

    With ``decimals``, the coordinates are rounded to that many; a non-finite one is None.
    """
    rows: list[list[Any]] = []
    for place, pose in enumerate(result.poses):
        face = pose.face
        if face is None:
            continue
        head = [video_id, result.index, pose.track_id, place]
        values = face.image_array.astype(np.float64)
        if decimals is not None:  # n / 10**d, the double nearest the decimal, as round() gives
            values = np.round(values, decimals)
        points = values.tolist()
        if decimals is not None and not np.isfinite(values).all():
            points = [[v if math.isfinite(v) else None for v in xyz] for xyz in points]
        rows += [[*head, point, *xyz] for point, xyz in enumerate(points)]
    return rows


def arrow_schema(
    metadata: Mapping[str, Any] | None = None, *, camera: bool = False, holistic: bool = False
) -> Any:  # noqa: ANN401 - pyarrow
    """The pyarrow schema of the pose table, with ``metadata`` under :data:`METADATA_KEY`.

    With ``camera``, the camera-space columns follow the others; with ``holistic``, then
    :data:`HOLISTIC_COLUMNS` (handedness as strings) and :data:`FACE_LIST_COLUMNS` (lists
    of float32).
    """
    pa = require("pyarrow", extra="parquet")
    parts = (
        [
            pa.field(name, pa.string() if name.endswith("_handedness") else pa.float32())
            for name in HOLISTIC_COLUMNS
        ]
        + [pa.field(name, pa.list_(pa.float32())) for name in FACE_LIST_COLUMNS]
        if holistic
        else []
    )
    fields = [
        pa.field("video_id", pa.string(), nullable=False),
        pa.field("source", pa.string()),
        pa.field("frame", pa.int32(), nullable=False),
        pa.field("timestamp_ms", pa.float64(), nullable=False),
        pa.field("width", pa.int32(), nullable=False),
        pa.field("height", pa.int32(), nullable=False),
        pa.field("track_id", pa.int32()),
        *(pa.field(name, pa.float32()) for name in columns(camera=camera)[len(_HEAD) :]),
        *parts,
    ]
    meta = None if metadata is None else {METADATA_KEY: json.dumps(dict(metadata))}
    return pa.schema(fields, metadata=meta)


def build_table(
    results: Iterable[FrameResult],
    video_id: str,
    metadata: Mapping[str, Any] | None = None,
    *,
    camera: bool = False,
    holistic: bool = False,
) -> Any:  # noqa: ANN401 - a pyarrow.Table
    """Build the pose table of a stream's results.

    Args:
        results: The frame results, in frame order.
        video_id: The value of the ``video_id`` column.
        metadata: A JSON-ready document stored under :data:`METADATA_KEY` (the schema
            version is added as ``schema_version``: :func:`schema_version`).
        camera: Add the camera-space columns (``Pose.camera_array_m``; null for a pose
            without it).
        holistic: Add the hands' and face's columns (null where a part was not found).

    Returns:
        A ``pyarrow.Table`` with :func:`arrow_schema`'s columns.
    """
    pa = require("pyarrow", extra="parquet")
    meta = {"schema_version": schema_version(holistic=holistic), **(metadata or {})}
    schema = arrow_schema(meta, camera=camera, holistic=holistic)
    sources: list[str | None] = []
    frames: list[int] = []
    stamps: list[float] = []
    widths: list[int] = []
    heights: list[int] = []
    track_ids: list[int | None] = []
    blocks: list[np.ndarray] = []
    hand_blocks: list[np.ndarray] = []
    labels: list[tuple[str | None, str | None]] = []
    faces: list[Face | None] = []
    for result in results:
        ids, block = _pose_values(result, camera)
        n = len(ids)
        sources += [result.source] * n
        frames += [result.index] * n
        stamps += [result.timestamp_ms] * n
        widths += [result.size_wh[0]] * n
        heights += [result.size_wh[1]] * n
        track_ids += ids
        blocks.append(block)
        if holistic:
            hands, frame_labels, frame_faces = _parts_values(result)
            hand_blocks.append(hands)
            labels += frame_labels
            faces += frame_faces
    n_values = len(columns(camera=camera)) - len(_HEAD)
    values = np.concatenate(blocks) if blocks else np.empty((0, n_values), np.float32)
    missing = np.isnan(values[:, 0]) if len(values) else np.zeros(0, bool)
    # camera values: null where the pose has none (NaN in every camera column)
    no_camera = np.isnan(values[:, _N_VALUES:]).all(axis=1) if camera else missing
    arrays = [
        pa.array([video_id] * len(frames), pa.string()),
        pa.array(sources, pa.string()),
        pa.array(frames, pa.int32()),
        pa.array(stamps, pa.float64()),
        pa.array(widths, pa.int32()),
        pa.array(heights, pa.int32()),
        pa.array(track_ids, pa.int32()),
        # A row without a pose is null in every value column; a NaN inside a real pose stays NaN.
        *(pa.array(values[:, i], pa.float32(), mask=missing) for i in range(_N_VALUES)),
        *(pa.array(values[:, i], pa.float32(), mask=no_camera) for i in range(_N_VALUES, n_values)),
    ]
    if holistic:
        arrays += _parts_arrays(hand_blocks, labels, faces)
    return pa.Table.from_arrays(arrays, schema=schema)


def _parts_arrays(
    hand_blocks: list[np.ndarray],
    labels: list[tuple[str | None, str | None]],
    faces: list[Face | None],
) -> list[Any]:
    """The Holistic columns' arrays: :data:`HOLISTIC_COLUMNS`, then :data:`FACE_LIST_COLUMNS`."""
    pa = require("pyarrow", extra="parquet")
    width = 2 + _HAND_POINTS
    hands = np.concatenate(hand_blocks) if hand_blocks else np.empty((0, 2, width), np.float32)
    arrays: list[Any] = []
    for side in range(2):
        block = hands[:, side]
        # null: no hand (or no pose), or a value the runtime does not give (NaN in the block)
        missing = np.isnan(block)
        arrays += [
            pa.array(block[:, 0], pa.float32(), mask=missing[:, 0]),
            pa.array([label[side] for label in labels], pa.string()),
            *(pa.array(block[:, i], pa.float32(), mask=missing[:, i]) for i in range(1, width)),
        ]
    arrays.append(pa.array([None if f is None else f.score for f in faces], pa.float32()))
    arrays += [
        pa.array(
            [None if f is None else f.image_array[:, axis] for f in faces], pa.list_(pa.float32())
        )
        for axis in range(3)
    ]
    return arrays


def read_metadata(schema_metadata: Mapping[bytes, bytes] | None) -> dict[str, Any] | None:
    """The hifipose document of a Parquet schema's metadata, or None when it has none."""
    if not schema_metadata or METADATA_KEY.encode() not in schema_metadata:
        return None
    document = json.loads(schema_metadata[METADATA_KEY.encode()])
    return document if isinstance(document, dict) else None
