"""The session guard of tests/conftest.py sees what a run leaves behind (it reads /proc:
hifipose runs on Linux)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time

from tests.conftest import RUN_MARKER, listening_sockets, processes_of_run


def test_an_orphan_carrying_the_run_marker_is_found_and_a_stranger_is_not() -> None:
    """A grandchild whose parent exited (re-parented to init, as `rerun`'s native viewer
    was) still carries the run's marker in its environment."""
    token = "guard-test-" + os.urandom(4).hex()
    env = {**os.environ, RUN_MARKER: token}
    parent = subprocess.Popen(
        [shutil.which("sh") or "sh", "-c", "sleep 30 >/dev/null 2>&1 & echo $!"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    orphan = int(parent.communicate(timeout=10)[0])
    try:
        deadline = time.monotonic() + 10
        while orphan not in (found := processes_of_run(token)):
            assert time.monotonic() < deadline, found
            time.sleep(0.05)
        assert "sleep 30" in found[orphan]
        assert orphan not in processes_of_run("another-run")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(orphan, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while orphan in processes_of_run(token):  # killed: gone (or a zombie, not counted)
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_listening_socket_of_this_process_is_found() -> None:
    before = listening_sockets()
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert len(listening_sockets() - before) == 1
    assert listening_sockets() - before == set()
