"""``python -m tests.integration.batch.faulty_cli HOOKS ARGS...``: ``hifipose ARGS...`` whose
batch workers run :class:`~tests.integration.batch.faults.TestHooks` (``HOOKS``: its JSON).

``hifipose.batch.run`` is bound to the hooks before the command line is imported, so the
``batch`` subcommand passes them to every worker; nothing in hifipose reads the environment
for them. Run it with the repository root and ``src`` on ``PYTHONPATH`` (the workers import
this package to unpickle the hooks).
"""

from __future__ import annotations

import functools
import signal
import sys

import hifipose.batch
from hifipose.batch import engine
from tests.integration.batch.faults import TestHooks


def main() -> int:
    # As from a terminal: Ctrl-C raises. An ignored SIGINT survives exec, and a suite started
    # as a background job of a shell script (as CI's can be) ignores it from the start: the
    # command line would never see the Ctrl-C (the test then failed with exit 3, not 130).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    hooks = TestHooks.from_json(sys.argv[1])
    hifipose.batch.run = functools.partial(engine.run, hooks=hooks)  # type: ignore[assignment]
    from hifipose.cli import main as cli_main

    return cli_main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
