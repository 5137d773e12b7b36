"""Every guide runs as written, on the shared clips (issue 28: the docs cannot drift).

Each page of docs/ is one test: its ``python`` blocks run in order in one namespace, its
``bash`` blocks with the ``hifipose`` of this environment on PATH, all in a fresh folder
whose ``../shared`` is the shared data's folder, so the pages' ``../shared/data/...`` paths
are the ones a reader next to a checkout uses. Blocks marked ``<!-- guide: skip REASON -->``
(a webcam, a server) do not run (tests/docs/guide_blocks.py has the rules).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SHARED_DATA
from tests.docs.guide_blocks import GuideFormatError, blocks

DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "reference" not in p.relative_to(DOCS).parts)


def _run_page(page: Path, work: Path) -> int:
    namespace: dict[str, object] = {"__name__": "__guide__"}
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    where = page.relative_to(ROOT)
    ran = 0
    for block in blocks(page.read_text(encoding="utf-8")):
        if not block.runs:
            continue
        ran += 1
        if block.language == "python":
            # Line numbers in a traceback are the page's own.
            code = compile("\n" * (block.line - 1) + block.code, str(where), "exec")
            exec(code, namespace)  # noqa: S102 (the docs' own code, as a reader runs it)
            continue
        done = subprocess.run(
            [shutil.which("bash") or "/bin/bash", "-euo", "pipefail", "-c", block.code],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(
                f"{where}:{block.line}: the bash block exited {done.returncode}\n"
                f"{block.code}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}",
                pytrace=False,
            )
    return ran


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_guide_runs_as_written(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "shared").symlink_to(SHARED_DATA.parent, target_is_directory=True)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    _run_page(page, work)


def test_every_guide_has_code_that_runs() -> None:
    """A guide whose blocks were all marked skip would test nothing."""
    idle = [
        str(p.relative_to(DOCS))
        for p in PAGES
        if p.parent.name == "guides" and not any(b.runs for b in blocks(p.read_text("utf-8")))
    ]
    assert not idle


def test_markers_and_fences_are_checked() -> None:
    ok = "text\n\n<!-- guide: skip needs a webcam -->\n```bash\nhifipose track 0\n```\n"
    (block,) = blocks(ok)
    assert (block.language, block.skip_reason, block.runs, block.line) == (
        "bash",
        "needs a webcam",
        False,
        5,
    )
    for bad in (
        "<!-- guide: skip -->\n```bash\nx\n```\n",  # no reason
        "<!-- guide: skip why -->\n\n```bash\nx\n```\n",  # not right before the fence
        "```\nx\n```\n",  # no language
        "```python\nx = 1\n",  # never ends
    ):
        with pytest.raises(GuideFormatError):
            blocks(bad)
    nested = "- item\n\n  ```python\n  x = 1\n  ```\n"
    assert blocks(nested)[0].code == "x = 1\n"
