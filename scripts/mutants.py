"""Plant each one-line bug of scripts/mutants.toml in a scratch copy and run its tests there.

Run it as ``scripts/mutants`` (all mutants), ``scripts/mutants --quick`` (the few CI runs)
or ``scripts/mutants --only NAME [NAME ...]`` (``--tests ARG ...`` runs other tests
instead of each mutant's own). The working tree (tracked and untracked,
not ignored files) is copied once to a temporary folder with ``../shared`` linked beside
it; each mutant is applied there, its tests run with ``-x`` (stop at the first failure),
and the file is restored. Prints a table (caught / SURVIVED, the test that caught it,
seconds) and exits non-zero if any mutant survived, if a mutant's original text is not
found exactly once (the list has gone stale: re-point it), or if the unmutated tests fail.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
LIST = ROOT / "scripts" / "mutants.toml"


@dataclass(frozen=True)
class Mutant:
    """One planted bug: replace ``find`` (exactly one occurrence) in ``file``."""

    name: str
    file: str
    find: str
    replace: str
    tests: tuple[str, ...]
    quick: bool = False


@dataclass
class Outcome:
    """What happened to one mutant."""

    mutant: Mutant
    status: str  # "caught", "SURVIVED", "STALE"
    detail: str
    seconds: float


def load(path: Path = LIST) -> list[Mutant]:
    """The mutants listed in ``path``."""
    entries = tomllib.loads(path.read_text())["mutant"]
    mutants = [
        Mutant(
            name=e["name"],
            file=e["file"],
            find=e["find"],
            replace=e["replace"],
            tests=tuple(e["tests"]),
            quick=e.get("quick", False),
        )
        for e in entries
    ]
    names = [m.name for m in mutants]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        sys.exit(f"{path}: duplicate mutant names {sorted(duplicates)}")
    return mutants


def scratch_copy(destination: Path) -> Path:
    """Copy the working tree (tracked + untracked, not ignored) to ``destination/repo``."""
    git = shutil.which("git") or "git"
    listed = subprocess.run(
        [git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    repo = destination / "repo"
    for raw in listed:
        if not raw:
            continue
        source = ROOT / os.fsdecode(raw)
        if not source.is_file():  # deleted in the working tree, or a submodule
            continue
        target = repo / os.fsdecode(raw)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    # the tests read ../shared/data from the project root
    shared = (ROOT.parent / "shared").resolve()
    if shared.exists():
        (destination / "shared").symlink_to(shared)
    return repo


def pytest_command(tests: tuple[str, ...]) -> list[str]:
    """The pytest command line for ``tests``: stop at the first failure, list failures."""
    return [
        str(ROOT / ".venv" / "bin" / "python"),
        "-m",
        "pytest",
        "-x",
        "-q",
        "-rf",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",  # in the order given: the fast, relevant tests first
        *tests,
    ]


def run_tests(repo: Path, tests: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    """Run ``tests`` in the scratch ``repo``, its own ``src`` first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = f"{repo / 'src'}{os.pathsep}{repo}"
    env.setdefault("OMP_NUM_THREADS", "1")
    return subprocess.run(
        pytest_command(tests), cwd=repo, env=env, capture_output=True, text=True, check=False
    )


def first_failure(output: str) -> str:
    """The first ``FAILED`` / ``ERROR`` line of pytest's short summary, shortened."""
    for line in output.splitlines():
        match = re.match(r"(FAILED|ERROR) (\S+)", line)
        if match:
            return match.group(2).split("/")[-1]
    tail = [line for line in output.splitlines() if line.strip()]
    return tail[-1] if tail else "(no output)"


def try_mutant(repo: Path, mutant: Mutant) -> Outcome:
    """Apply ``mutant`` in ``repo``, run its tests, restore the file."""
    started = time.perf_counter()
    path = repo / mutant.file
    original = path.read_text() if path.is_file() else ""
    count = original.count(mutant.find)
    if count != 1:
        where = "not found" if count == 0 else f"found {count} times"
        return Outcome(mutant, "STALE", f"original text {where} in {mutant.file}", 0.0)
    path.write_text(original.replace(mutant.find, mutant.replace))
    try:
        result = run_tests(repo, mutant.tests)
    finally:
        path.write_text(original)
    seconds = time.perf_counter() - started
    if result.returncode == 0:
        return Outcome(mutant, "SURVIVED", "every listed test passed", seconds)
    if result.returncode in (1, 2):  # tests failed / collection or import broke
        return Outcome(mutant, "caught", first_failure(result.stdout + result.stderr), seconds)
    return Outcome(
        mutant, "SURVIVED", f"pytest exit {result.returncode}: {result.stdout[-300:]}", seconds
    )


def main(argv: list[str] | None = None) -> int:
    """Run the selected mutants; 0 when every one was caught."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="only the mutants marked quick")
    group.add_argument("--only", nargs="+", metavar="NAME", help="only these mutants")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument(
        "--tests",
        nargs="+",
        metavar="ARG",
        help="run these pytest arguments instead of each mutant's own tests (e.g. to see "
        "whether the parity tests alone catch a mutant)",
    )
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip running the tests unmutated first"
    )
    args = parser.parse_args(argv)
    mutants = load()
    if args.list:
        for m in mutants:
            print(f"{m.name:40} {m.file}{'  (quick)' if m.quick else ''}")
        return 0
    if args.quick:
        mutants = [m for m in mutants if m.quick]
    elif args.only:
        unknown = set(args.only) - {m.name for m in mutants}
        if unknown:
            print(f"unknown mutants: {sorted(unknown)}", file=sys.stderr)
            return 2
        mutants = [m for m in mutants if m.name in args.only]
    if args.tests:
        mutants = [dataclasses.replace(m, tests=tuple(args.tests)) for m in mutants]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hifipose-mutants-") as scratch:
        repo = scratch_copy(Path(scratch))
        if not args.no_baseline:
            # every listed test must pass unmutated, or "caught" would mean nothing
            tests = tuple(dict.fromkeys(t for m in mutants for t in m.tests))
            baseline = run_tests(repo, tests)
            if baseline.returncode != 0:
                print(baseline.stdout[-3000:] + baseline.stderr[-2000:])
                failure = first_failure(baseline.stdout)
                print(f"the unmutated tests fail ({failure}): fix that first")
                return 1
            print(f"baseline: the {len(tests)} test selections pass unmutated")
        outcomes = []
        for mutant in mutants:
            outcome = try_mutant(repo, mutant)
            outcomes.append(outcome)
            print(
                f"  {outcome.status:8} {mutant.name} ({outcome.seconds:.0f} s): {outcome.detail}",
                flush=True,
            )
    width = max(len(o.mutant.name) for o in outcomes)
    print(f"\n| {'mutant':{width}} | file | result | caught by | s |")
    print(f"|{'-' * (width + 2)}|---|---|---|---|")
    for o in outcomes:
        print(
            f"| {o.mutant.name:{width}} | {o.mutant.file.removeprefix('src/hifipose/')} "
            f"| {o.status} | {o.detail} | {o.seconds:.0f} |"
        )
    bad = [o for o in outcomes if o.status != "caught"]
    caught = len(outcomes) - len(bad)
    print(
        f"\n{caught}/{len(outcomes)} mutants caught in {time.perf_counter() - started:.0f} s"
        + (f"; NOT caught: {', '.join(o.mutant.name for o in bad)}" if bad else "")
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
