"""A short run of the load benchmark: 5 concurrent WebSocket clients for a few seconds.

The full run (20 clients x 30 s) is ``benchmarks/bench_serve.py``; its figures are in
``benchmarks/results/serve.md``. This checks behaviour, not speed: every client is served,
nobody sees another client's results, the server keeps answering HTTP during the load, and
closing the connections frees every detector.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPORT
from tests.integration.serve.helpers import ROOT

CLIENTS = 5
# A memory bound, not a timing: one detector (lite, 1 thread) takes about 60 MiB. How fast
# /healthz answers under load is reported, never asserted (timings vary with the machine).
RSS_PER_STREAM_MB = 150.0


def test_five_clients_are_served_without_cross_talk(tmp_path: Path, shared_data: Path) -> None:
    out = tmp_path / "load.json"
    run = subprocess.run(
        [
            sys.executable,
            "benchmarks/bench_serve.py",
            "--clients",
            str(CLIENTS),
            "--seconds",
            "4",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    summary = json.loads(out.read_text())
    total = summary["total"]
    assert total["crosstalk"] == 0
    assert total["errors"] == 0
    for client in summary["per_client"]:
        assert client["answered"] >= 1, client  # every client is served (how many: reported)
        assert client["answered"] + client["dropped"] == client["sent"], client
        assert client["with_pose"] >= 0.8 * client["answered"], client
    assert summary["health_checks"] >= 5
    assert summary["health_failures"] == []
    assert summary["rss_peak_mb"] - summary["rss_before_mb"] < CLIENTS * RSS_PER_STREAM_MB
    assert summary["open_detectors_after"] == 0
    assert summary["sessions_after"] == 0
    REPORT.append(
        f"serve load ({CLIENTS} clients x 4 s): {total['answered']}/{total['sent']} frames "
        f"answered, {total['dropped']} dropped, latency p50 {summary['latency_p50_ms']:.0f} ms, "
        f"/healthz max {summary['health_max_ms']:.0f} ms, cross-talk 0"
    )
