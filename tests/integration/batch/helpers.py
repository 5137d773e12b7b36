"""Comparing two batch output folders."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq


def output_files(outdir: Path) -> list[str]:
    return sorted(str(p.relative_to(outdir)) for p in outdir.rglob("*") if p.is_file())


def assert_same_outputs(left: Path, right: Path) -> None:
    """Same files; Parquet tables equal row for row (with metadata); same JSON records."""
    files = output_files(left)
    assert files == output_files(right)
    for name in files:
        if name.endswith(".parquet"):
            a, b = pq.read_table(left / name), pq.read_table(right / name)
            assert a.equals(b), name
            assert pq.read_metadata(left / name).metadata == pq.read_metadata(right / name).metadata
        elif name.endswith(".json"):
            assert json.loads((left / name).read_text()) == json.loads((right / name).read_text())


def read_events(folder: Path) -> list[tuple[str, str]]:
    """The (event, video_id) lines the workers wrote (``TestHooks.events``)."""
    events = []
    for log in sorted(folder.glob("events-*.log")):
        events += [tuple(line.split(" ", 1)) for line in log.read_text().splitlines()]
    return events  # type: ignore[return-value]


def group_processes(pgid: int) -> list[int]:
    """The running processes of process group ``pgid`` (zombies, dead but unreaped, not)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended while we looked
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found
