"""Batch worker faults and event logs, injected through ``hifipose.batch.run(hooks=...)``.

:class:`TestHooks` is the :class:`~hifipose.batch.worker.WorkerHooks` the batch tests pass
to ``run`` (or, for the command line, through ``python -m tests.integration.batch.faulty_cli``):
it is pickled into every worker and acts there.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

#: The repository root (this module runs where hifipose_dev is not on the path).
ROOT = Path(__file__).resolve().parents[3]
#: The frame of a video at which its faults strike.
FAULT_FRAME = 2


@dataclass(frozen=True)
class Fault:
    """At frame :data:`FAULT_FRAME` of ``video_id``: SIGKILL the worker, or hang it forever.

    ``times``: the first ``times`` attempts only (counted with marker files); None: always.
    """

    mode: Literal["kill", "hang"]
    video_id: str
    times: int | None = None


@dataclass(frozen=True)
class TestHooks:
    """Worker events logged to ``events/events-<pid>.log`` and faults, marked in ``markers``.

    Each event is a line ``<event> <video_id>`` (``start``, ``published``); each fault that
    strikes first touches ``markers/<mode>-<video_id>-<pid>-<n>``.
    """

    __test__ = False  # not a pytest test class

    events: Path | None = None
    faults: tuple[Fault, ...] = ()
    markers: Path | None = None

    def started(self, video_id: str) -> None:
        self._log("start", video_id)

    def published(self, video_id: str) -> None:
        self._log("published", video_id)

    def frame(self, video_id: str, index: int) -> None:
        if index != FAULT_FRAME:
            return
        for fault in self.faults:
            if fault.video_id != video_id:
                continue
            assert self.markers is not None, "faults need a markers folder"
            tag = f"{fault.mode}-{video_id.replace('/', '_')}"
            done = len(list(self.markers.glob(f"{tag}-*")))
            if fault.times is not None and done >= fault.times:
                continue
            (self.markers / f"{tag}-{os.getpid()}-{done}").touch()
            if fault.mode == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            while True:  # hang
                time.sleep(3600)

    def _log(self, event: str, video_id: str) -> None:
        if self.events is not None:
            with (self.events / f"events-{os.getpid()}.log").open("a") as log:
                log.write(f"{event} {video_id}\n")

    def to_json(self) -> str:
        """The hooks as one command-line argument (for :mod:`faulty_cli`)."""
        return json.dumps(
            {
                "events": None if self.events is None else str(self.events),
                "markers": None if self.markers is None else str(self.markers),
                "faults": [[f.mode, f.video_id, f.times] for f in self.faults],
            }
        )

    @classmethod
    def from_json(cls, text: str) -> TestHooks:
        data = json.loads(text)
        return cls(
            events=None if data["events"] is None else Path(data["events"]),
            faults=tuple(Fault(*f) for f in data["faults"]),
            markers=None if data["markers"] is None else Path(data["markers"]),
        )


#: The environment of :func:`faulty_cli`'s processes: this checkout's ``src`` and root.
FAULTY_CLI_ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(str(ROOT / part) for part in ("src", "")),
}


def faulty_cli(hooks: TestHooks, args: list[str]) -> list[str]:
    """The command line running ``hifipose ARGS`` with ``hooks`` in its batch workers."""
    return [sys.executable, "-m", "tests.integration.batch.faulty_cli", hooks.to_json(), *args]
