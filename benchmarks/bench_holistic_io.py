"""What the Holistic columns cost to write and read: body-only against Holistic tables.

Tracks a few frames of the crossing clip with ``holistic=True`` (three people, each with
both hands and a face), repeats them to ``--frames`` frames, then times writing each
format with and without the parts (interleaved rounds, median) and reading it back with
``read_poses`` and ``read_results``, and reports the file sizes. Prints a Markdown table.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_holistic_io.py --frames 300 --rounds 3
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import DATA

import hifipose
from hifipose.io import read_poses, read_results
from hifipose.io.writers import open_writer


def _time(function: object) -> float:
    started = time.perf_counter()
    function()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> int:
    """Run the measurement and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    clip = DATA / "multi" / "crossing_squats.mp4"
    tracked = list(hifipose.track(clip, holistic=True, num_poses=3, max_frames=4))[1:]
    results = [
        dataclasses.replace(tracked[i % len(tracked)], index=i, timestamp_ms=40.0 * i)
        for i in range(args.frames)
    ]
    timings: dict[tuple[str, bool, str], list[float]] = {}
    sizes: dict[tuple[str, bool], int] = {}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.rounds):
            for suffix in (".jsonl", ".csv", ".parquet"):
                for holistic in (False, True):
                    path = Path(folder) / f"k{'_h' if holistic else ''}{suffix}"
                    # JSONL always carries the parts; its body-only row strips them
                    frames = (
                        results
                        if holistic
                        else [
                            dataclasses.replace(
                                r, poses=tuple(p.replace(parts=None) for p in r.poses)
                            )
                            for r in results
                        ]
                    )

                    def write(
                        path: Path = path, frames: list = frames, holistic: bool = holistic
                    ) -> None:
                        with open_writer(path, holistic=holistic) as writer:
                            for result in frames:
                                writer.write(result)

                    key = (suffix, holistic)
                    timings.setdefault((*key, "write"), []).append(_time(write))
                    if suffix != ".jsonl":
                        timings.setdefault((*key, "read_poses"), []).append(
                            _time(lambda path=path: read_poses(path))
                        )
                    timings.setdefault((*key, "read_results"), []).append(
                        _time(lambda path=path: list(read_results(path)))
                    )
                    companion = path.with_name(f"{path.stem}.face{suffix}")
                    sizes[key] = sum(p.stat().st_size for p in (path, companion) if p.exists())
    print(f"{args.frames} frames × 3 people, median of {args.rounds} rounds (ms per frame)\n")
    print("| format | parts | write | read_poses | read_results | bytes per frame |")
    print("|---|---|---:|---:|---:|---:|")
    for suffix in (".jsonl", ".csv", ".parquet"):
        for holistic in (False, True):
            cells = [
                f"{1000 * statistics.median(timings[(suffix, holistic, step)]) / args.frames:.2f}"
                if (suffix, holistic, step) in timings
                else "–"
                for step in ("write", "read_poses", "read_results")
            ]
            per_frame = sizes[(suffix, holistic)] / args.frames
            parts = "hands + face" if holistic else "body"
            print(f"| {suffix} | {parts} | {' | '.join(cells)} | {per_frame:.0f} |")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    sys.exit(main())
