"""The docs' ``results`` blocks render the committed results files' tables (issue 28 item 4)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hifipose_dev.docs_tables import ResultsBlockError, render_block, render_page, tables

RESULTS = """# A benchmark

Speed on the squat clip, ms per frame.

| model | runtime | ms | FPS |
|---|---|---:|---:|
| lite | litert | 4.08 | 245 |
| lite | onnxruntime | 5.82 | 172 |
| full | litert | 6.65 | 150 |

## Second

| a | b |
|---|---|
| 1 | 2 |
"""


@pytest.fixture
def results_dir(tmp_path: Path) -> Path:
    (tmp_path / "bench.md").write_text(RESULTS, encoding="utf-8")
    return tmp_path


def test_tables_and_captions_are_read() -> None:
    first, second = tables(RESULTS)
    assert first.header == ("model", "runtime", "ms", "FPS")
    assert first.rows[2] == ("full", "litert", "6.65", "150")
    assert first.caption == "Speed on the squat clip, ms per frame."
    assert (second.caption, second.rows) == ("", (("1", "2"),))  # a heading is no caption


def test_a_block_selects_rows_and_columns(results_dir: Path) -> None:
    body = "file: bench.md\nwhere: runtime=litert\ncolumns: model; ms\nrename: ms=hifipose ms\n"
    assert render_block(body, results_dir).splitlines() == [
        "| model | hifipose ms |",
        "|---|---:|",
        "| lite | 4.08 |",
        "| full | 6.65 |",
        "",
        "*From `benchmarks/results/bench.md`.*",
    ]
    page = f"Text.\n\n```results\n{body}```\n\nMore.\n"
    rendered = render_page(page, results_dir)
    assert "```" not in rendered
    assert "| full | 6.65 |" in rendered
    assert rendered.startswith("Text.\n\n") and rendered.endswith("\n\nMore.\n")
    in_a_list = "- item\n\n" + textwrap.indent(f"```results\n{body}```\n", "  ")
    nested = render_page(in_a_list, results_dir)
    assert "\n  | full | 6.65 |\n" in nested  # indented as the block was
    assert "```" not in nested
    captioned = render_block("file: bench.md\ntable: 1\ncaption: yes", results_dir)
    assert captioned.startswith("Speed on the squat clip, ms per frame.\n\n| model |")


@pytest.mark.parametrize(
    "body",
    [
        "file: missing.md",
        "file: ../bench.md",
        "file: bench.md\ntable: 3",
        "file: bench.md\ncolumns: model; speed",
        "file: bench.md\nwhere: runtime=tensorrt",
        "file: bench.md\nwhere: runtime",
        "file: bench.md\nrename: seconds=s",
        "file: bench.md\ntable: 2\ncaption: yes",
        "file: bench.md\nsort: ms",
        "table: 1",
    ],
)
def test_a_block_naming_what_is_not_there_is_an_error(results_dir: Path, body: str) -> None:
    with pytest.raises(ResultsBlockError):
        render_block(body, results_dir)


def test_the_committed_results_render() -> None:
    """The blocks the docs use read the real files (a renamed column fails here too)."""
    table = render_block("file: bench.md\nwhere: runtime=litert; threads=default\ncolumns: model")
    assert table.splitlines()[2:5] == ["| lite |", "| full |", "| heavy |"]
