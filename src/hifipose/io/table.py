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

Parquet files carry a JSON document under the file-metadata key ``hifipose``
(:data:`METADATA_KEY`) saying what produced them (see :func:`build_table`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from typing import Any, Final

import numpy as np

from hifipose._optional import require
from hifipose.camera import CAMERA_COLUMNS, CameraSpec
from hifipose.pose import FrameResult
from hifipose.topology import KEYPOINT_NAMES

__all__ = [
    "COLUMNS",
    "KEYPOINT_FIELDS",
    "METADATA_KEY",
    "SCHEMA_VERSION",
    "arrow_schema",
    "build_table",
    "camera_metadata",
    "columns",
    "has_camera_columns",
    "read_metadata",
    "table_rows",
]

#: Bumped whenever a column is added, removed or changes type.
SCHEMA_VERSION: Final = 3
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


def columns(*, camera: bool = False) -> tuple[str, ...]:
    """The pose table's columns: :data:`COLUMNS`, then the camera-space ones with ``camera``."""
    return (*COLUMNS, *CAMERA_COLUMNS) if camera else COLUMNS


def has_camera_columns(names: Iterable[str]) -> bool:
    """Whether a table with these column names holds the camera-space columns."""
    return CAMERA_COLUMNS[0] in set(names)


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


def table_rows(result: FrameResult, video_id: str, *, camera: bool = False) -> list[list[Any]]:
    """The rows of one frame, as Python values in :func:`columns` order (None = null).

    With ``camera``, a pose without camera space has NaN camera values.
    """
    track_ids, block = _pose_values(result, camera)
    head = [video_id, result.source, result.index, result.timestamp_ms, *result.size_wh]
    if not result.poses:
        return [[*head, None, *([None] * block.shape[1])]]
    return [
        [*head, track_id, *values]
        for track_id, values in zip(track_ids, block.tolist(), strict=True)
    ]


def arrow_schema(metadata: Mapping[str, Any] | None = None, *, camera: bool = False) -> Any:  # noqa: ANN401 - pyarrow
    """The pyarrow schema of the pose table, with ``metadata`` under :data:`METADATA_KEY`.

    With ``camera``, the camera-space columns follow the others.
    """
    pa = require("pyarrow", extra="parquet")
    fields = [
        pa.field("video_id", pa.string(), nullable=False),
        pa.field("source", pa.string()),
        pa.field("frame", pa.int32(), nullable=False),
        pa.field("timestamp_ms", pa.float64(), nullable=False),
        pa.field("width", pa.int32(), nullable=False),
        pa.field("height", pa.int32(), nullable=False),
        pa.field("track_id", pa.int32()),
        *(pa.field(name, pa.float32()) for name in columns(camera=camera)[len(_HEAD) :]),
    ]
    meta = None if metadata is None else {METADATA_KEY: json.dumps(dict(metadata))}
    return pa.schema(fields, metadata=meta)


def build_table(
    results: Iterable[FrameResult],
    video_id: str,
    metadata: Mapping[str, Any] | None = None,
    *,
    camera: bool = False,
) -> Any:  # noqa: ANN401 - a pyarrow.Table
    """Build the pose table of a stream's results.

    Args:
        results: The frame results, in frame order.
        video_id: The value of the ``video_id`` column.
        metadata: A JSON-ready document stored under :data:`METADATA_KEY` (the schema
            version is added as ``schema_version``).
        camera: Add the camera-space columns (``Pose.camera_array_m``; null for a pose
            without it).

    Returns:
        A ``pyarrow.Table`` with :func:`arrow_schema`'s columns.
    """
    pa = require("pyarrow", extra="parquet")
    meta = {"schema_version": SCHEMA_VERSION, **(metadata or {})}
    schema = arrow_schema(meta, camera=camera)
    sources: list[str | None] = []
    frames: list[int] = []
    stamps: list[float] = []
    widths: list[int] = []
    heights: list[int] = []
    track_ids: list[int | None] = []
    blocks: list[np.ndarray] = []
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
    n_values = len(schema) - len(_HEAD)
    values = np.concatenate(blocks) if blocks else np.empty((0, n_values), np.float32)
    missing = np.isnan(values[:, 0]) if len(values) else np.zeros(0, bool)
    # camera values: null where the pose has none (NaN in every camera column)
    no_camera = np.isnan(values[:, _N_VALUES:]).all(axis=1) if camera else missing
    columns = [
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
    return pa.Table.from_arrays(columns, schema=schema)


def read_metadata(schema_metadata: Mapping[bytes, bytes] | None) -> dict[str, Any] | None:
    """The hifipose document of a Parquet schema's metadata, or None when it has none."""
    if not schema_metadata or METADATA_KEY.encode() not in schema_metadata:
        return None
    document = json.loads(schema_metadata[METADATA_KEY.encode()])
    return document if isinstance(document, dict) else None
