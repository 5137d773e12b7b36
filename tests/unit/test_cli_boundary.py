"""Only ``hifipose.cli`` parses arguments and prints (issue 22 item 4).

A ``print(...)`` call is no import, so import-linter cannot see it: the rule is checked on
the syntax trees here (no ``print(...)`` call and no ``import argparse`` in ``src/hifipose``
outside ``cli/``; pyproject.toml's "Only the command line parses arguments" contract says
the latter too).
"""

from __future__ import annotations

import ast
from pathlib import Path

import hifipose

SRC = Path(hifipose.__file__).parent


def _outside_cli() -> list[Path]:
    return [p for p in sorted(SRC.rglob("*.py")) if p.relative_to(SRC).parts[0] != "cli"]


def _breaches(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import) and any(a.name == "argparse" for a in node.names):
            found.append(f"{path.name}:{node.lineno}: import argparse")
        if isinstance(node, ast.ImportFrom) and node.module == "argparse":
            found.append(f"{path.name}:{node.lineno}: from argparse import")
        name = node.func if isinstance(node, ast.Call) else None
        if isinstance(name, ast.Name) and name.id == "print":
            found.append(f"{path.name}:{node.lineno}: print(...)")
    return found


def test_the_cli_package_is_there() -> None:
    files = {p.name for p in (SRC / "cli").glob("*.py")}
    assert {"__init__.py", "_common.py", "track.py", "batch.py", "serve.py"} <= files
    assert len(_outside_cli()) > 50  # the walk sees the library, not an empty folder


def test_nothing_below_cli_parses_arguments_or_prints() -> None:
    breaches = [line for path in _outside_cli() for line in _breaches(path)]
    assert breaches == []


def test_the_check_sees_a_print_and_an_argparse_import(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text("import argparse\n\nprint('x')\n", encoding="utf-8")
    assert _breaches(planted) == ["planted.py:1: import argparse", "planted.py:3: print(...)"]
