"""A Ctrl-C that comes while the local pool starts a worker process."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator

import pytest

from hifipose.batch import FunctionSetup, VideoJob, VideoOutcome, run_local
from hifipose.batch.pools import _sigint_held

pytestmark = pytest.mark.skipif(
    not hasattr(signal, "pthread_sigmask"), reason="SIGINT masks are POSIX"
)


@pytest.fixture
def ctrl_c_raises() -> Iterator[None]:
    """Python's own SIGINT handler (a test runner's worker may have another)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("ctrl_c_raises")
def test_a_ctrl_c_while_a_worker_starts_is_raised_after_the_start_not_lost() -> None:
    steps = []
    with pytest.raises(KeyboardInterrupt), _sigint_held():
        os.kill(os.getpid(), signal.SIGINT)  # what a terminal's Ctrl-C sends
        steps.append("the start went on")  # not cut short by the Ctrl-C
    assert steps == ["the start went on"]
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])


def _signal_state(job: VideoJob, progress: Callable[[int], None]) -> VideoOutcome:
    """Module-level, so that it pickles into the spawned workers."""
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    blocked = signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])
    return VideoOutcome(job.video_id, "done", message=f"ignored={ignored} blocked={blocked}")


def test_a_worker_ignores_ctrl_c_and_leaves_nothing_blocked() -> None:
    # The driver handles Ctrl-C for the whole process group and stops the workers.
    outcomes: list[VideoOutcome] = []
    run_local(
        FunctionSetup(_signal_state, threads=1),
        [VideoJob("a", "/videos/a.mp4")],
        on_outcome=outcomes.append,
        workers=1,
    )
    assert [o.message for o in outcomes] == ["ignored=True blocked=False"]
