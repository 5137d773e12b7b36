"""The long run of the WebSocket fuzz test: N hypothesis examples over one live connection.

CI runs ``tests/integration/serve/test_fuzz.py`` with a few hundred examples; this runs the
same property with as many as asked (10 000 by default) and prints how the server answered
(error codes, results, switches). It fails, as the test does, on the first message that
crashes the server, closes the connection, goes unanswered or gets an ``internal_error``.

    .venv/bin/python benchmarks/bench_serve_fuzz.py                  # 10 000 examples
    .venv/bin/python benchmarks/bench_serve_fuzz.py --examples 50000 --markdown out.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST = "tests/integration/serve/test_fuzz.py"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--markdown", type=Path, help="write the tally as Markdown here")
    args = parser.parse_args()
    if args.examples < 1:
        parser.error("--examples must be at least 1")
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "answers.json"
        env = {
            **os.environ,
            "HIFIPOSE_FUZZ_EXAMPLES": str(args.examples),
            "HIFIPOSE_FUZZ_REPORT": str(report),
        }
        started = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", TEST],
            cwd=ROOT,
            env=env,
            check=False,
        )
        seconds = time.perf_counter() - started
        answers = json.loads(report.read_text()) if report.exists() else {}
    total = sum(answers.values())
    lines = [
        f"# `hifipose serve` WebSocket fuzzing: {args.examples} examples",
        "",
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"one connection, {seconds:.0f} s; pytest exit status {run.returncode} "
        f"({'passed: 0 crashes, connection open throughout' if run.returncode == 0 else 'FAILED'}"
        "). Made by `.venv/bin/python benchmarks/bench_serve_fuzz.py`.",
        "",
        "| answer | messages | share |",
        "|---|---:|---:|",
        *(f"| {kind} | {n} | {100 * n / total:.1f} % |" for kind, n in answers.items()),
        f"| **all** | {total} | |",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
