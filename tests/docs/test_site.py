"""The documentation site builds strictly, and its API pages cover the public surface.

One build per run (``mkdocs build --strict`` into a temporary folder: broken links, missing
anchors, pages left out of the nav, docstrings mkdocstrings cannot parse and ``results``
blocks naming a missing table all fail it); the tests then read the built HTML.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT
from tests.docs.guide_blocks import blocks as guide_blocks

#: The modules whose every public name (``__all__``) the API reference must show.
API_MODULES = {
    "hifipose": "reference/hifipose",
    "hifipose.io": "reference/io",
    "hifipose.solutions": "reference/solutions",
    "hifipose.analysis": "reference/analysis",
    "hifipose.camera": "reference/camera",
    "hifipose.batch": "reference/batch",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    yield out


def _anchors(html: Path) -> set[str]:
    return set(re.findall(r'id="([^"]+)"', html.read_text(encoding="utf-8")))


@pytest.mark.parametrize("module_name", sorted(API_MODULES))
def test_api_page_shows_every_public_name(site: Path, module_name: str) -> None:
    module = importlib.import_module(module_name)
    page = _anchors(site / API_MODULES[module_name] / "index.html")
    every_page = set().union(*(_anchors(p) for p in (site / "reference").rglob("index.html")))
    missing = []
    for name in module.__all__:
        target = getattr(module, name)
        # A submodule in __all__ (hifipose.solutions.pose) has its own section somewhere.
        shown = (
            f"{target.__name__}" in every_page
            if isinstance(target, ModuleType)
            else f"{module_name}.{name}" in page
        )
        if not shown:
            missing.append(name)
    assert not missing, f"{module_name}: not in the API reference: {missing}"


def test_results_tables_are_rendered_from_the_results_files(site: Path) -> None:
    """The speed table's cells are the committed bench.md's (no results block left raw)."""
    html = (site / "guides" / "runtimes-and-precision" / "index.html").read_text("utf-8")
    assert "benchmarks/results/bench.md" in html
    bench = (ROOT / "benchmarks" / "results" / "bench.md").read_text("utf-8")
    row = next(r for r in bench.splitlines() if r.startswith("| full | litert | float32 |"))
    ms = row.split("|")[5].strip()  # model, runtime, precision, threads, hifipose ms
    assert f"<td>{ms}</td>" in html
    # Every results block of every page became a table that names its file (a block the
    # hook missed would be shown as code instead).
    for source in (ROOT / "docs").rglob("*.md"):
        blocks = [b for b in guide_blocks(source.read_text("utf-8")) if b.language == "results"]
        page = source.relative_to(ROOT / "docs").with_suffix("")
        folder = page.parent if page.name == "index" else page
        html = (site / folder / "index.html").read_text("utf-8")
        rendered = html.count("From <code>benchmarks/results/")
        assert rendered == len(blocks), source
