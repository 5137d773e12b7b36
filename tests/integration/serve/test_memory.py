"""A short run of the memory benchmark: closed streams give their memory back.

The full run (heavy model with segmentation, 16 streams, then 12 rounds of 8) is
``benchmarks/bench_serve_memory.py``; its figures are in
``benchmarks/results/serve_memory.md``. Here: a real server, 4 rounds of 3 lite streams
with segmentation, and bounds on memory, not on time. Before the fixed inference pool
(one thread per stream, each with its own glibc arena) the same run kept 400 MiB over the
baseline with no stream open, growing every round.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPORT
from tests.integration.serve.helpers import ROOT

#: Most resident memory (MiB) a server with no stream open may hold over its baseline
#: after streams have come and gone (about 40 MiB here: the models' files stay mapped).
MAX_KEPT_MB = 100.0
#: Least share of what the open streams took that must come back when they close.
MIN_RETURNED = 0.5


def test_memory_comes_back_when_streams_close(tmp_path: Path, shared_data: Path) -> None:
    out = tmp_path / "memory.json"
    argv = ["--model", "lite", "--rounds", "3", "--sessions", "3", "--peak", "3"]
    run = subprocess.run(
        [sys.executable, "benchmarks/bench_serve_memory.py", *argv, "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    summary = json.loads(out.read_text())
    baseline = summary["baseline_mb"]
    for row in summary["rounds"]:
        assert row["frames_with_pose"] == row["frames"], row  # the streams really tracked
        taken = row["rss_open_mb"] - baseline
        kept = row["rss_closed_mb"] - baseline
        assert taken > 0, row
        assert kept <= MAX_KEPT_MB, (baseline, row)
        assert (taken - kept) / taken >= MIN_RETURNED, (baseline, row)
    REPORT.append(
        f"serve memory (lite + segmentation, 4 rounds x 3 streams): baseline {baseline:.0f} MiB, "
        f"peak {summary['peak_open_mb']:.0f} MiB, after the last round "
        f"{summary['last_closed_mb']:.0f} MiB"
    )
