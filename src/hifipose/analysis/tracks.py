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

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from numpy.typing import NDArray

from hifipose._optional import require
from hifipose.analysis.angles import DEFAULT_MIN_VISIBILITY, Space, angle_series
from hifipose.errors import ConfigError, VideoReadError
from hifipose.pose import FrameResult, Pose
from hifipose.topology import KEYPOINT_NAMES, NUM_KEYPOINTS

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "KEYPOINT_FILE_SUFFIXES",
    "Track",
    "read_tracks",
    "tracks_from_results",
    "tracks_from_table",
]

KEYPOINT_FILE_SUFFIXES: Final = (".parquet", ".csv", ".jsonl")
_IMAGE_FIELDS: Final = ("x", "y", "z", "visibility", "presence")
_WORLD_FIELDS: Final = ("world_x", "world_y", "world_z")


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
        who = "person" if self.track_id is None else f"#{self.track_id}"
        return f"{self.video_id} {who}" if self.video_id else who


def _stack(
    video_id: str,
    track_id: int | None,
    rows: list[tuple[int, float, NDArray[np.float64], NDArray[np.float64], float]],
) -> Track:
    rows.sort(key=lambda r: r[0])
    return Track(
        video_id=video_id,
        track_id=track_id,
        frames=np.array([r[0] for r in rows], dtype=np.int64),
        timestamps_ms=np.array([r[1] for r in rows], dtype=np.float64),
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
    n = table.num_rows

    def floats(columns: list[str]) -> NDArray[np.float64]:
        arrays = [table.column(c).to_numpy(zero_copy_only=False) for c in columns]
        return np.stack([np.asarray(a, dtype=np.float64) for a in arrays], axis=1)

    image = floats(image_cols).reshape(n, NUM_KEYPOINTS, len(_IMAGE_FIELDS))
    world = floats(world_cols).reshape(n, NUM_KEYPOINTS, len(_WORLD_FIELDS))
    frames = table.column("frame").to_pylist()
    stamps = table.column("timestamp_ms").to_pylist()
    track_ids = table.column("track_id").to_pylist()
    scores = table.column("score").to_pylist()
    videos = table.column("video_id").to_pylist() if "video_id" in names else [""] * n
    has_pose = np.isfinite(image[:, :, :2]).any(axis=(1, 2))
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


def _pose_from_json(data: Mapping[str, Any]) -> Pose:
    def array(points: list[Mapping[str, Any]], fields: tuple[str, ...]) -> NDArray[np.float32]:
        return np.array(
            [[np.nan if p.get(f) is None else p[f] for f in fields] for p in points],
            dtype=np.float32,
        )

    image = array(data["keypoints"], ("x", "y", "z", "score", "presence"))
    world = array(data["keypoints3d"], ("x", "y", "z"))
    track_id = data.get("track_id")
    return Pose(
        image, world, data.get("score") or 0.0, track_id=None if track_id is None else int(track_id)
    )


def read_tracks(path: str | Path) -> list[Track]:
    """Read tracks from a keypoint file: ``.parquet`` or ``.csv`` tables, or ``.jsonl``.

    JSON Lines files are ``hifipose track -o`` output: one object per frame with
    ``poses[]``, each with ``keypoints`` and ``keypoints3d`` lists (and ``track_id`` when
    tracked). Tables follow the schema in the module docstring.

    Raises:
        VideoReadError: The file cannot be read or parsed.
        ConfigError: Unknown suffix, or not a hifipose keypoint file.
    """
    source = Path(path)
    suffix = source.suffix.lower()
    if suffix not in KEYPOINT_FILE_SUFFIXES:
        msg = f"keypoint files end in {', '.join(KEYPOINT_FILE_SUFFIXES)}; got {source.name}"
        raise ConfigError(msg)
    if not source.is_file():
        msg = f"no such keypoint file: {source}"
        raise VideoReadError(msg)
    try:
        if suffix == ".jsonl":
            results = []
            with source.open() as handle:
                for line_no, line in enumerate(handle, start=1):
                    if not line.strip():
                        continue
                    try:
                        data = json.loads(line)
                        poses = tuple(_pose_from_json(p) for p in data["poses"])
                        results.append(
                            FrameResult(
                                int(data["frame"]),
                                float(data["timestamp_ms"]),
                                (int(data.get("width", 0)), int(data.get("height", 0))),
                                poses,
                            )
                        )
                    except (KeyError, TypeError, ValueError) as exc:
                        msg = f"{source}:{line_no}: not a hifipose keypoint line ({exc})"
                        raise ConfigError(msg) from exc
            return tracks_from_results(results)
        if suffix == ".parquet":
            table = require("pyarrow.parquet", extra="parquet").read_table(source)
        else:
            table = require("pyarrow.csv", extra="parquet").read_csv(source)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        if isinstance(exc, ConfigError):
            raise
        raise VideoReadError(f"cannot read {source}: {exc}") from exc
    return tracks_from_table(table)
