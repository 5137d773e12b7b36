"""The README is the front page (issue 28): short, its two commands first, its links alive,
and its headline tables the committed benchmark results' own figures."""

from __future__ import annotations

import re

import pytest

from hifipose_dev.docs_tables import RESULTS_DIR, Table, tables
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
#: The two commands .ci/run runs, in this order (it adds --quiet to the demo).
COMMANDS = [
    "bash scripts/setup && .venv/bin/hifipose demo",
    "bash scripts/setup --dev && bash scripts/check",
]


def test_readme_is_a_front_page() -> None:
    assert len(README.splitlines()) < 250


def test_the_two_commands_come_first_and_ci_runs_them() -> None:
    first = re.search(r"```bash\n(.*?)```", README, re.DOTALL)
    assert first is not None
    assert first.group(1).splitlines() == COMMANDS
    assert README.index("```bash") < README.index("```python")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"{COMMANDS[0]} --quiet" in ci
    assert COMMANDS[1] in ci
    assert ci.index(COMMANDS[0]) < ci.index(COMMANDS[1])


def test_local_links_and_pictures_exist() -> None:
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    local = [t for t in targets if "://" not in t]
    assert local, "the README links into the docs"
    assert [t for t in local if not (ROOT / t).is_file()] == []


def _rows(table: Table) -> list[dict[str, str]]:
    return [dict(zip(table.header, row, strict=True)) for row in table.rows]


@pytest.mark.parametrize(
    ("index", "results", "key"),
    [
        (0, "bench.md", {"runtime": "litert", "threads": "default"}),
        (1, "bench_openvino.md", {"threads": "default"}),
        (2, "parity.md", {"runtime": "litert"}),
    ],
)
def test_headline_tables_are_the_committed_results(
    index: int, results: str, key: dict[str, str]
) -> None:
    """Each README row equals the results file's row for the same model (and mode, ...)."""
    mine = tables(README)[index]
    theirs = _rows(tables((RESULTS_DIR / results).read_text(encoding="utf-8"))[0])
    assert mine.rows
    for row in _rows(mine):
        match = [
            r
            for r in theirs
            if all(r[k] == v for k, v in key.items())
            and all(
                r[c] == row[c]
                for c in ("model", "mode", "sequence", "runtime", "precision")
                if c in row
            )
        ]
        assert len(match) == 1, row
        assert {c: match[0][c] for c in mine.header} == row
