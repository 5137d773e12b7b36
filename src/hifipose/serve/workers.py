"""Where the live streams' detectors run: a small fixed pool of threads, and glibc's heap.

Every live stream creates, runs and closes its detector on the same few threads of one
:class:`InferencePool`, never on a thread of its own. glibc gives each thread that
allocates a malloc arena of its own (up to eight per core) and hands memory freed in an
arena back to the system only when the arena's top is free; a detector allocated on one
thread and freed on another, sessions after sessions, leaves most arenas fragmented, and
the server's resident memory never comes back down when streams close (4.4 GB held with no
stream open after a few rounds of eight heavy streams with segmentation). A fixed pool
keeps the number of allocating threads (so of arenas) small, :func:`limit_malloc_arenas`
caps it for the whole process, and :func:`release_free_memory` returns freed pages after a
stream closes.

On a C library other than glibc (macOS, musl) the two functions do nothing and say so.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Final, TypeVar

import anyio

__all__ = ["InferencePool", "limit_malloc_arenas", "release_free_memory"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: ``mallopt`` parameter number of ``M_ARENA_MAX`` in glibc's ``malloc.h``.
M_ARENA_MAX: Final = -8
#: Arenas the server allows by default: enough that a few inference threads rarely wait on
#: a heap lock (inference allocates little per frame), few enough that freed detectors do
#: not leave fragmented arenas behind.
DEFAULT_ARENAS: Final = 2


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:  # musl and other C libraries
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def limit_malloc_arenas(count: int = DEFAULT_ARENAS) -> bool:
    """Cap glibc's malloc arenas for threads that have none yet (``mallopt(M_ARENA_MAX)``).

    Call it before the server starts its threads. A ``MALLOC_ARENA_MAX`` environment
    variable set by the user wins: then nothing is changed.

    Args:
        count: Most arenas, at least 1.

    Returns:
        True when the cap was set; False on another C library or when the environment
        already sets one.
    """
    libc = _glibc()
    if libc is None or "MALLOC_ARENA_MAX" in os.environ:
        return False
    return bool(libc.mallopt(M_ARENA_MAX, max(1, count)))


def release_free_memory() -> bool:
    """Return the heap's free pages to the system (glibc's ``malloc_trim(0)``, every arena).

    Returns:
        True when glibc released memory; False when none could be or on another C library.
    """
    libc = _glibc()
    return libc is not None and bool(libc.malloc_trim(0))


class InferencePool:
    """A fixed set of worker threads that runs every detector call of every live stream.

    Calls queue in order when every worker is busy, so at most ``workers`` detectors run
    at once, and the event loop never blocks on a model. Awaited from an asyncio event
    loop (uvicorn's, or the test client's).

    Args:
        workers: Threads in the pool (at least 1).
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hifipose")

    async def run(self, function: Callable[..., T], *args: object) -> T:
        """Run ``function(*args)`` on a worker and return its result (or raise its error).

        The wait is shielded from cancellation: a stream closing mid-call waits for the
        call to end, so its detector is never closed while a worker still uses it.
        """
        future = asyncio.wrap_future(self._executor.submit(function, *args))
        with anyio.CancelScope(shield=True):
            await asyncio.wait((future,))
        return future.result()

    def close(self) -> None:
        """Stop the workers once queued calls have run."""
        self._executor.shutdown(wait=True)
