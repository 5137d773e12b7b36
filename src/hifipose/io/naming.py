"""Output names for several inputs: ``{stem}`` / ``{index}`` placeholders or a folder.

``hifipose track A.mp4 B.mp4 -o out/{stem}.parquet`` writes ``out/A.parquet`` and
``out/B.parquet``; ``-o out/`` (a folder) means ``out/{stem}`` plus a default suffix. The
names are checked before any work: no two inputs may write one file, and no output may be
an input.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from hifipose.errors import ConfigError

__all__ = ["PLACEHOLDERS", "check_distinct", "output_names"]

#: ``{stem}``: the input's name without its suffix; ``{index}``: its position (from 1).
PLACEHOLDERS: Final = ("{stem}", "{index}")


def _is_folder(value: str) -> bool:
    return value.endswith(("/", os.sep)) or Path(value).is_dir()


def output_names(flag: str, value: str, inputs: Sequence[str], *, folder_suffix: str) -> list[str]:
    """Each input's output path from one ``-o`` / ``--render`` value.

    Placeholders (:data:`PLACEHOLDERS`) are replaced in every case; other text, braces
    included, is kept as it is. With several inputs the value must contain a placeholder
    or name a folder (an existing one, or a path ending in ``/``): ``DIR`` means
    ``DIR/{stem}<folder_suffix>``. With one input a value without placeholders is returned
    unchanged (a folder is the caller's to accept or refuse).

    Args:
        flag: The option's name, for the error message.
        value: The option's value.
        inputs: The inputs, in command-line order.
        folder_suffix: The suffix of the files written into a folder (e.g. ``.jsonl``).

    Returns:
        One path per input, in the inputs' order.

    Raises:
        ConfigError: Several inputs, and ``value`` neither names a folder nor contains a
            placeholder.
    """
    if not any(p in value for p in PLACEHOLDERS):
        if len(inputs) == 1:
            return [value]
        if not _is_folder(value):
            msg = (
                f"{flag} {value} would be written by each of the {len(inputs)} inputs; name a "
                f"folder (e.g. {flag} out/) or use {{stem}} (e.g. {flag} out/{{stem}}"
                f"{Path(value).suffix or folder_suffix})"
            )
            raise ConfigError(msg)
        value = str(Path(value) / f"{{stem}}{folder_suffix}")
    return [
        value.replace("{stem}", Path(item).stem or item).replace("{index}", str(index))
        for index, item in enumerate(inputs, start=1)
    ]


def _where(path: str) -> Path:
    """Where ``path`` is or would be (links and ``..`` resolved)."""
    return Path(path).resolve()


def check_distinct(outputs: Mapping[str, Sequence[str]], inputs: Sequence[str]) -> None:
    """Refuse outputs that two inputs would share, or that would overwrite an input.

    Args:
        outputs: Per flag (``-o``, ``--render``), one output path per input.
        inputs: The inputs, in the same order.

    Raises:
        ConfigError: Two outputs are one path (for two inputs, the message names both
            and suggests ``{index}``), or an output is one of the inputs.
    """
    sources = {_where(item): item for item in inputs}
    seen: dict[Path, tuple[str, int]] = {}
    for flag, paths in outputs.items():
        for index, (item, path) in enumerate(zip(inputs, paths, strict=True)):
            where = _where(path)
            if where in sources:
                msg = f"{flag} {path} is the input file {sources[where]}: choose another name"
                raise ConfigError(msg)
            if where in seen:
                other_flag, other = seen[where]
                if other == index:
                    msg = f"{other_flag} and {flag} name the same path {path}; give each its own"
                    raise ConfigError(msg)
                msg = (
                    f"{inputs[other]} ({other_flag}) and {item} ({flag}) would both write {path}; "
                    "give each input its own name, e.g. with {index}"
                )
                raise ConfigError(msg)
            seen[where] = (flag, index)
