"""glibc's heap controls and the inference pool, in a fresh interpreter each."""

from __future__ import annotations

import os
import subprocess
import sys

import anyio
import pytest

from hifipose.serve.workers import InferencePool, release_free_memory

GLIBC = sys.platform.startswith("linux") and os.confstr("CS_GNU_LIBC_VERSION") is not None

SET_CAP = "from hifipose.serve.workers import limit_malloc_arenas; print(limit_malloc_arenas(2))"


def cap_in_child(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    run = subprocess.run(
        [sys.executable, "-c", SET_CAP],
        env={**base, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return run.stdout.strip()


@pytest.mark.skipif(not GLIBC, reason="mallopt and malloc_trim are glibc's")
def test_arena_cap_is_set_unless_the_environment_sets_one() -> None:
    assert cap_in_child() == "True"
    assert cap_in_child(MALLOC_ARENA_MAX="4") == "False"  # the user's choice wins


@pytest.mark.skipif(not GLIBC, reason="mallopt and malloc_trim are glibc's")
def test_freed_memory_is_returned() -> None:
    blocks = [bytearray(64 * 1024) for _ in range(2000)]  # 128 MiB below mmap's threshold
    kept = blocks[1::2]
    del blocks  # every other block freed: holes the heap cannot give back from its top
    assert release_free_memory() is True  # their pages go back all the same
    assert len(kept) == 1000


def test_pool_runs_calls_on_its_own_threads_and_passes_errors_back() -> None:
    import threading

    pool = InferencePool(2)

    async def scenario() -> tuple[set[str], str]:
        names = set()
        for _ in range(6):
            names.add(await pool.run(lambda: threading.current_thread().name))
        try:
            await pool.run(int, "not a number")
        except ValueError as exc:
            return names, str(exc)
        return names, ""

    try:
        names, error = anyio.run(scenario)
    finally:
        pool.close()
    assert names and all(name.startswith("hifipose") for name in names), names
    assert len(names) <= 2
    assert "invalid literal" in error
