"""Per-person keypoint series: from frame results, keypoint tables and JSON Lines files.

A :class:`Track` holds one person's keypoints over the frames where that person was found,
in time order. Tracks are keyed by ``(video_id, track_id)``; a None ``track_id`` is one
anonymous track per video (single-person tracking). Two poses of the same key in one frame
cannot be told apart over time, and are an error rather than a guess by list position.

The keypoint table is the one-row-per-frame-and-pose schema of hifipose's CSV and Parquet
writers: ``video_id``, ``source``, ``frame``, ``timestamp_ms``, ``width``, ``height``,
``track_id``, ``score``, ``box_*``, then per keypoint name ``{name}_x``, ``_y``, ``_z``,
``_visibility``, ``_presence``, ``_world_x``, ``_world_y``, ``_world_z``; a frame without
a pose is a row with null keypoints (skipped here).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from numpy.typing import NDArray

from hifipose._optional import require
from hifipose.analysis.angles import DEFAULT_MIN_VISIBILITY, Space, angle_series
from hifipose.errors import ConfigError, VideoReadError
from hifipose.pose import FrameResult
from hifipose.topology import KEYPOINT_NAMES, NUM_KEYPOINTS

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "KEYPOINT_FILE_SUFFIXES",
    "Track",
    "keypoint_files",
    "read_tracks",
    "tracks_from_results",
    "tracks_from_table",
]

KEYPOINT_FILE_SUFFIXES: Final = (".parquet", ".csv", ".jsonl")
_IMAGE_FIELDS: Final = ("x", "y", "z", "visibility", "presence")
_WORLD_FIELDS: Final = ("world_x", "world_y", "world_z")


def _first_line(exc: BaseException) -> str:
    """An exception's message on one line (pyarrow's may append a whole schema)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


@dataclass(frozen=True)
class Track:
    """One person's keypoints over time.

    Attributes:
        video_id: Which video (or stream) the track is from; "" when there is one.
        track_id: The person's id in that video, or None (one anonymous person).
        frames: (T,) int64 frame indices, increasing.
        timestamps_ms: (T,) float64 frame times in milliseconds.
        image: (T, 33, 5) float64: x, y (pixels), z, visibility, presence.
        world: (T, 33, 3) float64: x, y, z in metres (origin between the hips).
        scores: (T,) float64 pose presence scores.
    """

    video_id: str
    track_id: int | None
    frames: NDArray[np.int64]
    timestamps_ms: NDArray[np.float64]
    image: NDArray[np.float64]
    world: NDArray[np.float64]
    scores: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.frames.size)

    def angles(
        self,
        names: Sequence[str] | None = None,
        *,
        space: Space = "image",
        min_visibility: float = DEFAULT_MIN_VISIBILITY,
        side: str = "none",
    ) -> dict[str, NDArray[np.float64]]:
        """Named angles over the track: :func:`~hifipose.analysis.angles.angle_series`."""
        points = self.image if space == "image" else self.world
        return angle_series(
            points,
            self.image[:, :, 3],
            names,
            space=space,
            min_visibility=min_visibility,
            side=side,
        )

    @property
    def label(self) -> str:
        """A short name for tables and plots: ``"video #id"``, ``"#id"`` or ``"person"``."""
        return _label(self.video_id, self.track_id)


def _label(video_id: str, track_id: int | None) -> str:
    who = "person" if track_id is None else f"#{track_id}"
    return f"{video_id} {who}" if video_id else who


def _stack(
    video_id: str,
    track_id: int | None,
    rows: list[tuple[int, float, NDArray[np.float64], NDArray[np.float64], float]],
) -> Track:
    rows.sort(key=lambda r: r[0])
    stamps = np.array([r[1] for r in rows], dtype=np.float64)
    who = _label(video_id, track_id)
    bad = np.flatnonzero(~np.isfinite(stamps))
    if bad.size:
        msg = f"{who}: frame {rows[bad[0]][0]} has timestamp_ms {stamps[bad[0]]}; need a number"
        raise ConfigError(msg)
    back = np.flatnonzero(np.diff(stamps) < 0)
    if back.size:
        i = int(back[0])
        msg = (
            f"{who}: timestamps go backwards: frame {rows[i + 1][0]} is at {stamps[i + 1]} ms, "
            f"before frame {rows[i][0]} at {stamps[i]} ms (frame numbers and times must agree)"
        )
        raise ConfigError(msg)
    return Track(
        video_id=video_id,
        track_id=track_id,
        frames=np.array([r[0] for r in rows], dtype=np.int64),
        timestamps_ms=stamps,
        image=np.stack([r[2] for r in rows]).astype(np.float64),
        world=np.stack([r[3] for r in rows]).astype(np.float64),
        scores=np.array([r[4] for r in rows], dtype=np.float64),
    )


def _group(
    items: Iterable[tuple[str, int, float, int | None, NDArray[Any], NDArray[Any], float]],
) -> list[Track]:
    groups: dict[tuple[str, int | None], list[Any]] = {}
    seen: set[tuple[str, int | None, int]] = set()
    for video_id, frame, stamp, track_id, image, world, score in items:
        key = (video_id, track_id, frame)
        if key in seen:
            msg = (
                f"frame {frame}{' of ' + video_id if video_id else ''} has several poses with "
                f"track_id {track_id}: track with num_poses > 1 in video mode to get ids"
            )
            raise ConfigError(msg)
        seen.add(key)
        groups.setdefault((video_id, track_id), []).append((frame, stamp, image, world, score))
    ordered = sorted(groups, key=lambda k: (k[0], -1 if k[1] is None else k[1]))
    return [
        _stack(video_id, track_id, groups[(video_id, track_id)]) for video_id, track_id in ordered
    ]


def tracks_from_results(results: Iterable[FrameResult], video_id: str = "") -> list[Track]:
    """Group a stream's poses into tracks by ``track_id``.

    Raises:
        ConfigError: A frame holds two poses with the same ``track_id``.
    """
    return _group(
        (
            video_id,
            r.index,
            r.timestamp_ms,
            pose.track_id,
            pose.image_array,
            pose.world_array_m,
            pose.score,
        )
        for r in results
        for pose in r.poses
    )


def tracks_from_table(table: pa.Table) -> list[Track]:
    """Tracks from a keypoint table (the schema in the module docstring).

    Raises:
        ConfigError: A column is missing, or a frame holds two poses of one track id.
    """
    names = set(table.column_names)
    image_cols = [f"{n}_{f}" for n in KEYPOINT_NAMES for f in _IMAGE_FIELDS]
    world_cols = [f"{n}_{f}" for n in KEYPOINT_NAMES for f in _WORLD_FIELDS]
    required = ["frame", "timestamp_ms", "track_id", "score", *image_cols, *world_cols]
    missing = [c for c in required if c not in names]
    if missing:
        more = "…" if len(missing) > 4 else ""
        msg = f"not a hifipose keypoint table: missing columns {missing[:4]}{more}"
        raise ConfigError(msg)
    listed = list(table.column_names)
    twice = sorted({c for c in [*required, "video_id"] if listed.count(c) > 1})
    if twice:
        msg = f"not a hifipose keypoint table: column(s) {', '.join(twice)} appear more than once"
        raise ConfigError(msg)
    n = table.num_rows
    arrow = require("pyarrow", extra="parquet")

    def column(name: str, kind: Any) -> Any:  # noqa: ANN401 - a pyarrow array
        try:
            return table.column(name).cast(kind, safe=True)
        except (arrow.ArrowException, ValueError, TypeError) as exc:
            msg = f"column {name} is {table.column(name).type}, not {kind}: {_first_line(exc)}"
            raise ConfigError(msg) from exc

    def floats(columns: list[str]) -> NDArray[np.float64]:
        arrays = [column(c, arrow.float64()).to_numpy(zero_copy_only=False) for c in columns]
        return np.stack([np.asarray(a, dtype=np.float64) for a in arrays], axis=1)

    image = floats(image_cols).reshape(n, NUM_KEYPOINTS, len(_IMAGE_FIELDS))
    world = floats(world_cols).reshape(n, NUM_KEYPOINTS, len(_WORLD_FIELDS))
    frames = column("frame", arrow.int32()).to_pylist()  # the pose table's types
    stamps = column("timestamp_ms", arrow.float64()).to_pylist()
    track_ids = column("track_id", arrow.int32()).to_pylist()
    scores = column("score", arrow.float64()).to_pylist()
    videos = column("video_id", arrow.string()).to_pylist() if "video_id" in names else [""] * n
    has_pose = np.isfinite(image[:, :, :2]).any(axis=(1, 2))
    for name, values in (("frame", frames), ("timestamp_ms", stamps)):
        empty = [i for i in np.flatnonzero(has_pose).tolist() if values[i] is None]
        if empty:
            msg = f"column {name} is empty in row {empty[0] + 1}, a row with a pose"
            raise ConfigError(msg)
    return _group(
        (
            str(videos[i] or ""),
            int(frames[i]),
            float(stamps[i]),
            None if track_ids[i] is None else int(track_ids[i]),
            image[i],
            world[i],
            float("nan") if scores[i] is None else float(scores[i]),
        )
        for i in np.flatnonzero(has_pose).tolist()
    )


def keypoint_files(path: str | Path) -> list[Path]:
    """The files :func:`read_tracks` reads for ``path``: itself, or a folder's Parquet files.

    A folder is read as ``read_poses`` reads it: ``batch``'s ``OUTDIR`` (its ``poses``
    subfolder) or any folder, its ``.parquet`` files recursively, in sorted order.

    Raises:
        VideoReadError: The path does not exist, or the folder holds no Parquet file.
        ConfigError: A file's suffix is not one of :data:`KEYPOINT_FILE_SUFFIXES`.
    """
    source = Path(path).expanduser()
    if source.is_dir():
        from hifipose.io.read import pose_files

        return pose_files(source)
    if source.suffix.lower() not in KEYPOINT_FILE_SUFFIXES:
        msg = f"keypoint files end in {', '.join(KEYPOINT_FILE_SUFFIXES)}; got {source.name}"
        raise ConfigError(msg)
    if not source.is_file():
        msg = f"no such keypoint file: {source}"
        raise VideoReadError(msg)
    return [source]


def _read_one(source: Path) -> list[Track]:
    from hifipose.io import read_poses, read_results  # the one reader of keypoint files

    try:
        if source.suffix.lower() == ".jsonl":
            return tracks_from_results(read_results(source))
        return tracks_from_table(read_poses(source))
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, VideoReadError):
            raise
        raise VideoReadError(f"cannot read {source}: {_first_line(exc)}") from exc


def read_tracks(path: str | Path) -> list[Track]:
    """Read tracks from a keypoint file (``.parquet``/``.csv`` table, ``.jsonl``) or folder.

    JSON Lines files are ``hifipose track -o`` output: one object per frame with
    ``poses[]``, each with ``keypoints`` and ``keypoints3d`` lists (and ``track_id`` when
    tracked). Tables follow the schema in the module docstring, columns read by name. A
    folder (``batch``'s ``OUTDIR``) gives the tracks of each of its :func:`keypoint_files`
    in turn; their ``video_id`` column tells the videos apart.

    Tables are read with :func:`hifipose.io.read_poses` (its checks: every column of the
    pose table, by name, of its type, no empty ``video_id``, ``frame``, ``timestamp_ms``,
    ``width`` or ``height``); this function adds the track's own.

    Files are read with :func:`hifipose.io.read_results` (JSON Lines) and
    :func:`hifipose.io.read_poses` (tables): a file that is not a keypoint file is a
    :class:`~hifipose.errors.VideoReadError`, as everywhere keypoint files are read.

    Raises:
        VideoReadError: The path does not exist, or a file cannot be read or parsed: a JSON
            line that is not a hifipose keypoint line (a key missing, a value of the wrong
            kind; ``path:line`` named), a table's column missing or of the wrong type (an id
            beyond the table's int32), a required cell empty.
        ConfigError: Unknown suffix, two poses of one track in a frame, or a track whose
            timestamps are not finite or go backwards.
    """
    return [track for file in keypoint_files(path) for track in _read_one(file)]
