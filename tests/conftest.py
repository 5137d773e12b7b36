"""Shared fixtures: the shared data folder, the model files, decoded clips, MediaPipe."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from hifipose_dev.data import (
    CPU_RUNTIMES,
    IMAGE_SUFFIXES,
    ROOT,
    SHARED_DATA,
    VIDEO_SUFFIXES,
    clip_frames,
    decode_frames,
    read_rgb,
    shared_clips,
    shared_images,
)

__all__ = [
    "CPU_RUNTIMES",
    "IMAGE_SUFFIXES",
    "REPORT",
    "ROOT",
    "RUN_MARKER",
    "SHARED_DATA",
    "VIDEO_SUFFIXES",
    "CountingMask",
    "clip_frames",
    "decode_frames",
    "listening_sockets",
    "processes_of_run",
    "read_rgb",
    "shared_clips",
    "shared_images",
]


class CountingMask:
    """A lazy person mask (``hifipose.pose.MaskSource``) that records its reads.

    The pipeline's own is ``CropMask``; this one lets a test see whether, and at what size,
    a mask was made: ``reads`` holds each read's ``size_wh`` (None: the frame's size).
    """

    def __init__(self, size_wh: tuple[int, int] = (8, 6), value: float = 0.75) -> None:
        self.size_wh = size_wh
        self.value = value
        self.reads: list[tuple[int, int] | None] = []

    def to_image(self, size_wh: tuple[int, int] | None = None) -> np.ndarray:
        self.reads.append(size_wh)
        width, height = size_wh or self.size_wh
        return np.full((height, width), self.value, np.float32)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared test data is missing: expected it at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The verified model cache (filled by `hifipose models fetch` before the tests)."""
    from hifipose.models import MODEL_SPECS, ensure_model

    paths = [ensure_model(name, fetch=False) for name in MODEL_SPECS]
    return paths[0].parent


@pytest.fixture(scope="session")
def mediapipe_solution(model_dir: Path) -> Iterator[object]:
    """mediapipe.solutions.pose, with the npm lite/heavy models placed where it looks first.

    mediapipe 0.10.14 bundles the full landmark model (byte-identical to the npm file) and
    looks in its own ``modules/pose_landmark/`` folder before downloading lite or heavy.
    """
    from mediapipe.python.solutions import pose as mp_pose

    from hifipose.bench import install_solution_models

    install_solution_models()
    return mp_pose


@pytest.fixture(scope="session")
def mediapipe_reference(mediapipe_solution):
    """MediaPipe's per-frame results for (frames key, static mode, model type), computed once.

    Returns a function ``get(key, frames, *, static, model_type)``; every runtime's parity test
    compares against the same reference run instead of running MediaPipe again.
    """
    from tests.integration.helpers import COMPLEXITY, mediapipe_references

    cache: dict[tuple[str, bool, str], list] = {}

    def get(key: str, frames, *, static: bool, model_type: str) -> list:
        if (key, static, model_type) not in cache:
            with mediapipe_solution.Pose(
                static_image_mode=static, model_complexity=COMPLEXITY[model_type]
            ) as solution:
                cache[key, static, model_type] = mediapipe_references(frames, solution)
        return cache[key, static, model_type]

    return get


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    integration = False
    for item in items:
        if "tests/integration" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.integration)
            integration = True
    # Integration tests collect their clips and photos from the shared data at import: without
    # it they would quietly run on nothing. Fail the run instead (pyproject also sets
    # empty_parameter_set_mark = "fail_at_collect").
    if integration and not SHARED_DATA.is_dir():
        msg = f"the shared test data is missing: expected it at {SHARED_DATA}"
        raise pytest.UsageError(msg)


# Figures that parity tests report; printed at the end of the run.
REPORT: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT:
        terminalreporter.section("hifipose fidelity figures")
        for line in REPORT:
            terminalreporter.write_line(line)


# ---- the suite leaves nothing behind ---------------------------------------------------------
#: Set in the environment of the test run: every process it starts inherits it, so one that
#: outlives the run is found even after its parent died and it was re-parented to init.
RUN_MARKER = "HIFIPOSE_TEST_RUN"
#: Python's own helper processes, which end with the interpreter (not leaks).
_INTERPRETER_HELPERS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")
#: Entries left in the temporary folder on purpose, not reported: the multi-person tests'
#: cache of composite clips, Ray's session folder (logs that ``ray.shutdown()`` keeps) and
#: onnxruntime's ``.ses`` (a session marker its library writes once into the temporary folder).
#: The folder is removed at the end of the run all the same.
TEMP_CACHES = frozenset({"hifipose-test-composites", "ray", ".ses"})


def _proc_text(pid: str, name: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/{name}").read_bytes()
    except OSError:  # gone, or another user's
        return b""


def processes_of_run(token: str) -> dict[int, str]:
    """Live processes (pid → command line) started by this run: children of this process, and
    any process whose environment carries ``RUN_MARKER=token`` (orphans included).

    Zombies (exited, not yet reaped) and Python's own helpers are not counted. Reads /proc
    (Linux); elsewhere nothing is found.
    """
    marker = f"{RUN_MARKER}={token}".encode()
    me = os.getpid()
    found: dict[int, str] = {}
    with contextlib.suppress(OSError):
        pids = [entry.name for entry in Path("/proc").iterdir() if entry.name.isdigit()]
        for pid in pids:
            if int(pid) == me:
                continue
            stat = _proc_text(pid, "stat")
            fields = stat.rpartition(b")")[2].split()
            if len(fields) < 2 or fields[0] in {b"Z", b"X"}:
                continue
            ours = int(fields[1]) == me or marker in _proc_text(pid, "environ").split(b"\0")
            command = _proc_text(pid, "cmdline").replace(b"\0", b" ").decode(errors="replace")
            if ours and not any(helper in command for helper in _INTERPRETER_HELPERS):
                found[int(pid)] = command.strip()[:200]
    return found


def _listening_inodes() -> set[str]:
    inodes = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) > 9 and fields[3] == "0A":  # TCP_LISTEN
                    inodes.add(fields[9])
    return inodes


def listening_sockets() -> set[str]:
    """The TCP sockets this process has open in the listening state (by inode)."""
    mine = set()
    with contextlib.suppress(OSError):
        for fd in Path("/proc/self/fd").iterdir():
            with contextlib.suppress(OSError):
                target = str(fd.readlink())
                if target.startswith("socket:["):
                    mine.add(target[8:-1])
    return mine & _listening_inodes() if mine else set()


def untracked_files() -> set[str]:
    """Files in the repository that git does not track and does not ignore.

    Only new files count: a tracked file changed during a run is more often an edit made
    while the tests ran (or ``HIFIPOSE_UPDATE_DOCS=1`` refreshing a figure) than a test's.
    """
    try:
        done = subprocess.run(
            [
                shutil.which("git") or "git",
                "-C",
                str(ROOT),
                "ls-files",
                "--others",
                "--exclude-standard",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):  # not a git checkout (an sdist), no git
        return set()
    return set(done.stdout.splitlines())


@pytest.fixture(scope="session", autouse=True)
def leaves_nothing_behind(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fail the run if it leaves a process, a listening socket or a file behind.

    For the whole run, the temporary folder (``TMPDIR``, :mod:`tempfile`) is a fresh one:
    anything a test or a program it starts leaves there (outside ``tmp_path``, which pytest
    keeps elsewhere) is reported, then the folder is removed. Processes started by the run
    that are still alive at its end (children of this process, or any process carrying
    this run's ``RUN_MARKER`` in its environment) are listed, then killed; TCP sockets this
    process opened and still listens on, and new files in the repository, are listed. It
    costs a few tens of milliseconds (/proc and one ``git ls-files``).
    """
    tmp_path_factory.getbasetemp()  # pytest's own temporary folders stay where they are
    token = secrets.token_hex(8)
    saved = {name: os.environ.get(name) for name in (RUN_MARKER, "TMPDIR")}
    temp = Path(tempfile.mkdtemp(prefix="hifipose-tests-"))
    os.environ[RUN_MARKER], os.environ["TMPDIR"] = token, str(temp)
    saved_tempdir, tempfile.tempdir = tempfile.tempdir, str(temp)
    untracked_before = untracked_files()
    sockets_before = listening_sockets()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        tempfile.tempdir = saved_tempdir
    problems = []
    left = processes_of_run(token)
    deadline = time.monotonic() + 10  # a stopped process may take a moment to exit
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = processes_of_run(token)
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    problems += [f"process {pid} still running: {command}" for pid, command in left.items()]
    problems += [
        f"a socket still listening (inode {i})" for i in listening_sockets() - sockets_before
    ]
    leftovers = sorted(p.name for p in temp.iterdir() if p.name not in TEMP_CACHES)
    shutil.rmtree(temp, ignore_errors=True)
    problems += [f"left in the temporary folder: {name}" for name in leftovers]
    problems += [
        f"left in the repository: {name}" for name in sorted(untracked_files() - untracked_before)
    ]
    if problems:
        pytest.fail("the test run left things behind:\n" + "\n".join(problems), pytrace=False)
