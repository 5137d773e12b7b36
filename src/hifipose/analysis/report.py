"""Angles and counts for whole tracks, as columns: what ``hifipose analyze`` computes.

Conventions:
    One row per track and frame where the track has a pose. Angles are degrees (see
    :mod:`~hifipose.analysis.angles`), NaN where a point is not visible enough. With a
    preset, ``{preset}_signal`` is its signal (degrees), ``{preset}_count`` the repetitions
    completed up to and including the frame, ``{preset}_rep`` True on the frame that
    completes one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from numpy.typing import NDArray

from hifipose._optional import require
from hifipose._publish import publishing
from hifipose.analysis.angles import Space, check_min_visibility, normalize_angle_name
from hifipose.analysis.presets import ExercisePreset
from hifipose.analysis.reps import RepCount
from hifipose.analysis.tracks import Track
from hifipose.errors import ConfigError, OutputError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "DEFAULT_ANGLES",
    "TrackAnalysis",
    "analysis_table",
    "analyze_tracks",
    "check_table_path",
    "write_table",
]

#: The angles ``hifipose analyze`` reports when none are asked for.
DEFAULT_ANGLES: Final = (
    "left_knee",
    "right_knee",
    "left_hip",
    "right_hip",
    "left_elbow",
    "right_elbow",
    "left_shoulder",
    "right_shoulder",
)


@dataclass(frozen=True)
class TrackAnalysis:
    """One track's angle series, and its preset signal and repetitions when counted."""

    track: Track
    angles: dict[str, NDArray[np.float64]]
    signal: NDArray[np.float64] | None = None
    reps: RepCount | None = None

    def count_series(self) -> NDArray[np.int32]:
        """Repetitions completed up to each frame (zeros without a preset)."""
        done = np.zeros(len(self.track), dtype=np.int32)
        for event in self.reps.events if self.reps else ():
            done[event.end] += 1
        return np.cumsum(done, dtype=np.int32)


def analyze_tracks(
    tracks: Sequence[Track],
    names: Sequence[str] = DEFAULT_ANGLES,
    *,
    space: Space = "image",
    preset: ExercisePreset | None = None,
    min_visibility: float = 0.5,
) -> list[TrackAnalysis]:
    """Angles (and a preset's repetitions) of each track.

    Raises:
        ConfigError: An unknown angle name or space, or ``min_visibility`` outside [0, 1].
    """
    check_min_visibility(min_visibility)
    keys = [normalize_angle_name(n) for n in names]
    results = []
    for track in tracks:
        angles = track.angles(keys, space=space, min_visibility=min_visibility)
        if preset is None:
            results.append(TrackAnalysis(track, angles))
        else:
            signal, reps = preset.count(track)
            results.append(TrackAnalysis(track, angles, signal, reps))
    return results


def analysis_table(analyses: Sequence[TrackAnalysis], preset: ExercisePreset | None) -> pa.Table:
    """The analyses as one table (see the module conventions); needs pyarrow."""
    pa = require("pyarrow", extra="parquet")
    names = list(analyses[0].angles) if analyses else []
    columns: dict[str, list[Any]] = {
        "video_id": [],
        "track_id": [],
        "frame": [],
        "timestamp_ms": [],
        **{n: [] for n in names},
    }
    if preset is not None:
        columns |= {
            f"{preset.name}_signal": [],
            f"{preset.name}_count": [],
            f"{preset.name}_rep": [],
        }
    for a in analyses:
        t = a.track
        columns["video_id"] += [t.video_id] * len(t)
        columns["track_id"] += [t.track_id] * len(t)
        columns["frame"] += t.frames.tolist()
        columns["timestamp_ms"] += t.timestamps_ms.tolist()
        for n in names:
            columns[n] += a.angles[n].tolist()
        if preset is not None and a.signal is not None:
            counts = a.count_series()
            columns[f"{preset.name}_signal"] += a.signal.tolist()
            columns[f"{preset.name}_count"] += counts.tolist()
            columns[f"{preset.name}_rep"] += np.diff(counts, prepend=0).astype(bool).tolist()
    types = {
        "video_id": pa.string(),
        "track_id": pa.int32(),
        "frame": pa.int32(),
        "timestamp_ms": pa.float64(),
    }
    if preset is not None:
        types[f"{preset.name}_count"] = pa.int32()
        types[f"{preset.name}_rep"] = pa.bool_()
    return pa.table(
        {
            name: pa.array(values, type=types.get(name, pa.float64()), from_pandas=True)
            for name, values in columns.items()
        }
    )


def check_table_path(path: str | Path) -> Path:
    """``path`` if :func:`write_table` can write there (checked before any work).

    Raises:
        ConfigError: The suffix is neither ``.parquet`` nor ``.csv``.
        RuntimeUnavailableError: pyarrow is not installed.
    """
    target = Path(path)
    if target.suffix.lower() not in {".parquet", ".csv"}:
        msg = f"-o must end in .parquet or .csv, got {target.name}"
        raise ConfigError(msg)
    require("pyarrow", extra="parquet")
    return target


def write_table(table: pa.Table, path: str | Path) -> Path:
    """Write a table as Parquet or CSV (by suffix), published whole (its partial file first).

    Raises:
        ConfigError: The suffix is neither ``.parquet`` nor ``.csv``.
        OutputError: The file cannot be written.
    """
    target = check_table_path(path)
    suffix = target.suffix.lower()
    try:
        with publishing(target) as partial:
            if suffix == ".parquet":
                require("pyarrow.parquet", extra="parquet").write_table(table, partial)
            else:
                require("pyarrow.csv", extra="parquet").write_csv(table, partial)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return target
