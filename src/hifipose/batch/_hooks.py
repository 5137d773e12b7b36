"""Fault-injection and event hooks for the batch tests, read from environment variables.

- ``HIFIPOSE_BATCH_TEST_EVENTS=DIR``: workers append ``<event> <video_id>`` lines
  (``start``, ``published``) to ``DIR/events-<pid>.log``.
- ``HIFIPOSE_BATCH_TEST_FAULT=MODE:VIDEO_ID:TIMES:DIR[;...]``: at frame 2 of ``VIDEO_ID``
  the worker kills itself with SIGKILL (``MODE`` ``kill``) or hangs (``hang``), the first
  ``TIMES`` times (``always``: every time), counted with marker files in ``DIR``; several
  faults are separated by ``;``.

Unset (always, outside the tests), each hook is one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

__all__ = ["at_frame", "event"]

FAULT_FRAME = 2


def event(name: str, video_id: str) -> None:
    """Record a worker event when ``HIFIPOSE_BATCH_TEST_EVENTS`` is set."""
    folder = os.environ.get("HIFIPOSE_BATCH_TEST_EVENTS")
    if folder:
        with (Path(folder) / f"events-{os.getpid()}.log").open("a") as log:
            log.write(f"{name} {video_id}\n")


def at_frame(video_id: str, index: int) -> None:
    """Inject the configured faults at frame :data:`FAULT_FRAME` of the configured videos."""
    specs = os.environ.get("HIFIPOSE_BATCH_TEST_FAULT")
    if not specs or index != FAULT_FRAME:
        return
    for spec in specs.split(";"):
        mode, target, times, folder = spec.split(":", 3)
        if target != video_id:
            continue
        tag = f"{mode}-{target.replace('/', '_')}"
        done = len(list(Path(folder).glob(f"{tag}-*")))
        if times != "always" and done >= int(times):
            continue
        (Path(folder) / f"{tag}-{os.getpid()}-{done}").touch()
        if mode == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        while mode == "hang":
            time.sleep(3600)
