"""The code blocks of the documentation's pages, as the guide runner reads them.

A fenced block runs if its language is ``python`` (executed in one namespace per page, in
order, so a block may use what an earlier one defined) or ``bash`` (run by ``bash -euo
pipefail``). A block that must not run (a webcam, a server, a download, minutes of work)
carries ``<!-- guide: skip REASON -->`` on the line right before its opening fence; the
reason is required. Blocks in other languages (``text``, ``json``, ``results``, ...) are
data, never run; a block without a language is refused, so nothing is left unrun by
accident.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

__all__ = ["RUNNABLE", "Block", "GuideFormatError", "blocks"]

#: The languages whose blocks are run.
RUNNABLE = frozenset({"python", "bash"})

_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,})(?P<info>[^`\n]*)$")
_SKIP = re.compile(r"^\s*<!--\s*guide:\s*skip\b(?P<reason>.*?)-->\s*$")


class GuideFormatError(ValueError):
    """A page's fence or skip marker is malformed."""


@dataclass(frozen=True)
class Block:
    """One fenced code block: where it starts (1-based line of its first code line)."""

    language: str
    code: str
    line: int
    skip_reason: str | None

    @property
    def runs(self) -> bool:
        """Whether the guide runner runs it."""
        return self.language in RUNNABLE and self.skip_reason is None


def blocks(text: str) -> list[Block]:
    """The fenced code blocks of a Markdown page, in order.

    Raises:
        GuideFormatError: a fence without a language or an end, or a skip marker without a
            reason or not followed by a fence.
    """
    lines = text.splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opened = _OPEN.match(lines[i])
        marker = _SKIP.match(lines[i])
        if marker and not (i + 1 < len(lines) and _OPEN.match(lines[i + 1])):
            msg = f"line {i + 1}: a skip marker must be right before a code block's fence"
            raise GuideFormatError(msg)
        if not opened:
            i += 1
            continue
        language = opened["info"].strip().split(" ")[0].strip("{}.")
        if not language:
            msg = f"line {i + 1}: a code block without a language (python, bash, text, ...)"
            raise GuideFormatError(msg)
        skip = _SKIP.match(lines[i - 1]) if i else None
        reason = skip["reason"].strip() if skip else None
        if skip and not reason:
            msg = f"line {i}: 'guide: skip' needs a reason"
            raise GuideFormatError(msg)
        indent, fence = opened["indent"], opened["fence"]
        end = i + 1
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        if end == len(lines):
            msg = f"line {i + 1}: a code block that never ends"
            raise GuideFormatError(msg)
        body = [line.removeprefix(indent) for line in lines[i + 1 : end]]
        found.append(Block(language, textwrap.dedent("\n".join(body)) + "\n", i + 2, reason))
        i = end + 1
    return found
