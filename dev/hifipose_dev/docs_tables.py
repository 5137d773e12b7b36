"""The documentation site's tables, rendered from the committed benchmark results.

A MkDocs hook (``hooks:`` in mkdocs.yml): a fenced block of language ``results`` in a page
is replaced, at build time, by a table taken from a file in ``benchmarks/results/``, so the
figures in the docs are the ones the benchmarks wrote, never copied by hand::

    ```results
    file: bench.md
    table: 1
    where: runtime=litert; threads=default
    columns: model; hifipose ms; FPS; Tasks ms; vs Tasks
    caption: yes
    ```

Keys (one ``key: value`` per line; lists are separated by ``;``):

- ``file`` (required): a Markdown file under ``benchmarks/results/``.
- ``table``: which of the file's Markdown tables, counted from 1 (default 1).
- ``where``: keep only the rows whose cells equal these values (``column=value; ...``).
- ``columns``: these columns, in this order (default: all).
- ``rename``: header names shown instead (``column=shown; ...``).
- ``caption``: ``yes`` shows the paragraph the file puts right before the table.

Every name is checked: an unknown file, table, column or key, or a filter that keeps no row,
stops the build with an error naming the page and the block (``mkdocs build --strict``
included, where a warning would be too late). The page says which file each table came from.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["RESULTS_DIR", "ResultsBlockError", "Table", "render_block", "render_page", "tables"]

#: Where the benchmarks commit their results.
RESULTS_DIR = Path(__file__).resolve().parents[2] / "benchmarks" / "results"

# A block may be indented (in a list item): its table is indented the same way.
_BLOCK = re.compile(
    r"^(?P<indent>[ \t]*)```results[ \t]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_KEYS = frozenset({"file", "table", "where", "columns", "rename", "caption"})
_SEPARATOR_CELL = re.compile(r"^:?-{3,}:?$")


class ResultsBlockError(ValueError):
    """A ``results`` block names a file, table, column or key that is not there."""


@dataclass(frozen=True)
class Table:
    """One Markdown table of a results file, with the paragraph written right before it."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    align: tuple[str, ...] = field(default=())


def _cells(line: str) -> tuple[str, ...]:
    inner = line.strip()
    inner = inner.removeprefix("|").removesuffix("|")
    return tuple(cell.strip() for cell in inner.split("|"))


def tables(text: str) -> list[Table]:
    """Every Markdown table of ``text``, in order, each with its caption paragraph."""
    lines = text.splitlines()
    found: list[Table] = []
    paragraph: list[str] = []
    ended = False  # a blank line closed the paragraph: the next line starts another
    i = 0
    while i < len(lines):
        line = lines[i]
        is_table = (
            line.lstrip().startswith("|")
            and i + 1 < len(lines)
            and all(_SEPARATOR_CELL.match(c) for c in _cells(lines[i + 1]))
        )
        if not is_table:
            # The caption is the last paragraph before the table; a heading is none.
            if line.lstrip().startswith("#"):
                paragraph, ended = [], False
            elif line.strip():
                paragraph = [*([] if ended else paragraph), line.strip()]
                ended = False
            else:
                ended = True
            i += 1
            continue
        header, align = _cells(line), _cells(lines[i + 1])
        rows: list[tuple[str, ...]] = []
        i += 2
        while i < len(lines) and lines[i].lstrip().startswith("|"):
            row = _cells(lines[i])
            if len(row) != len(header):
                msg = (
                    f"table {len(found) + 1}: a row has {len(row)} cells, the header {len(header)}"
                )
                raise ResultsBlockError(msg)
            rows.append(row)
            i += 1
        found.append(Table(header, tuple(rows), " ".join(paragraph), align))
        paragraph, ended = [], False
    return found


def _parse(body: str) -> dict[str, str]:
    spec: dict[str, str] = {}
    for raw in body.splitlines():
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep or key not in _KEYS:
            msg = f"unknown line {line!r} (keys: {', '.join(sorted(_KEYS))})"
            raise ResultsBlockError(msg)
        spec[key] = value.strip()
    if "file" not in spec:
        raise ResultsBlockError("no 'file:' line")
    return spec


def _pairs(value: str, key: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in value.split(";"))):
        name, sep, wanted = item.partition("=")
        if not sep:
            msg = f"{key}: {item!r} is not column=value"
            raise ResultsBlockError(msg)
        pairs[name.strip()] = wanted.strip()
    return pairs


def _column(table: Table, name: str, source: str) -> int:
    if name not in table.header:
        msg = f"{source} has no column {name!r} (columns: {', '.join(table.header)})"
        raise ResultsBlockError(msg)
    return table.header.index(name)


def render_block(body: str, results_dir: Path = RESULTS_DIR) -> str:
    """The Markdown a ``results`` block stands for (its body is the text between the fences).

    Raises:
        ResultsBlockError: the block names something the results file does not have, or its
            filter keeps no row.
    """
    spec = _parse(body)
    name = spec["file"]
    path = results_dir / name
    if path.parent != results_dir or not path.is_file():
        msg = f"no results file {name!r} in {results_dir}"
        raise ResultsBlockError(msg)
    found = tables(path.read_text(encoding="utf-8"))
    number = int(spec.get("table", "1"))
    if not 1 <= number <= len(found):
        msg = f"{name} has {len(found)} tables, not a table {number}"
        raise ResultsBlockError(msg)
    table = found[number - 1]
    source = f"{name} table {number}"
    where = {
        _column(table, k, source): v for k, v in _pairs(spec.get("where", ""), "where").items()
    }
    rows = [row for row in table.rows if all(row[i] == v for i, v in where.items())]
    if not rows:
        msg = f"{source}: no row has {spec.get('where')!r}"
        raise ResultsBlockError(msg)
    names = [c.strip() for c in spec.get("columns", "").split(";") if c.strip()]
    picked = [_column(table, c, source) for c in names] or list(range(len(table.header)))
    rename = _pairs(spec.get("rename", ""), "rename")
    for old in rename:
        _column(table, old, source)
    header = [rename.get(table.header[i], table.header[i]) for i in picked]
    align = [table.align[i] if table.align else "---" for i in picked]
    out = []
    if spec.get("caption", "no").lower() in {"yes", "true"}:
        if not table.caption:
            msg = f"{source} has no caption paragraph"
            raise ResultsBlockError(msg)
        out += [table.caption, ""]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "|".join(align) + "|")
    out += ["| " + " | ".join(row[i] for i in picked) + " |" for row in rows]
    out += ["", f"*From `benchmarks/results/{name}`.*"]
    return "\n".join(out)


def render_page(markdown: str, results_dir: Path = RESULTS_DIR) -> str:
    """``markdown`` with every ``results`` block replaced by its table."""

    def table(match: re.Match[str]) -> str:
        indent = match["indent"]
        lines = render_block(textwrap.dedent(match["body"]), results_dir).splitlines()
        return "\n".join(indent + line if line else line for line in lines)

    return _BLOCK.sub(table, markdown)


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    """MkDocs hook: render the page's ``results`` blocks; an error names the page."""
    from mkdocs.exceptions import PluginError

    try:
        return render_page(markdown)
    except ResultsBlockError as exc:
        msg = f"{page.file.src_path}: results block: {exc}"
        raise PluginError(msg) from None
