"""The ``hifipose`` command line: the only package that prints (and sees argparse).

Commands, one module each with ``add_parser(sub)`` and ``run(args) -> int``: ``track``
(video/image/folder/glob/webcam → keypoints and an overlay), ``analyze`` (keypoints → joint
angles and repetition counts per person), ``demo`` (the same on a built-in sample), ``bench``
(timings), ``serve`` (the live web demo), ``batch`` (many videos, resumably),
``evaluate`` (accuracy on labelled photos), ``models list|fetch|verify|path|clean``. Flags
several commands share are declared once in :mod:`hifipose.cli._common`.

Exit status: 0 done, 1 error or bad arguments (one line on stderr; ``--debug`` shows the
traceback), 3 done with failures (e.g. unreadable images skipped), 130 interrupted. Native
libraries' log lines (OpenCV, FFmpeg, LiteRT, MediaPipe) are silenced unless ``--verbose``
or ``--debug``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from hifipose._native_logs import quiet_native_logs
from hifipose._version import __version__
from hifipose.cli import analyze, batch, bench, demo, evaluate, models, serve, track
from hifipose.cli._common import add_logging_flags
from hifipose.errors import HifiposeError

__all__ = ["build_parser", "main"]

#: The subcommands, in the order ``hifipose --help`` lists them.
COMMANDS = (track, analyze, demo, bench, serve, batch, evaluate, models)


class _Parser(argparse.ArgumentParser):
    """argparse with the README's rule for bad arguments: one line on stderr, exit status 1.

    (argparse's own is the usage block and status 2.) Subcommand parsers are this class too.
    """

    def error(self, message: str) -> NoReturn:
        """Print ``<prog>: error: <message> (see <prog> --help)`` and exit with status 1."""
        self.exit(1, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hifipose`` command."""
    parser: argparse.ArgumentParser = _Parser(
        prog="hifipose", description="High-fidelity BlazePose pose tracking."
    )
    parser.add_argument("--version", action="version", version=f"hifipose {__version__}")
    add_logging_flags(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    for subparser in sub.choices.values():  # --debug and --verbose after every subcommand too
        add_logging_flags(subparser.add_argument_group("logging"), after_command=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 error, 130 interrupted)."""
    args = build_parser().parse_args(argv)
    if not (args.debug or args.verbose):
        quiet_native_logs()
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    runs: dict[str, Callable[[argparse.Namespace], int]] = {
        command.__name__.rpartition(".")[2]: command.run for command in COMMANDS
    }
    try:
        return runs[args.command](args)
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was published", file=sys.stderr)
        return 130
    except (HifiposeError, OSError) as exc:
        if args.debug:
            raise
        print(f"hifipose: error: {exc}", file=sys.stderr)
        return 1
