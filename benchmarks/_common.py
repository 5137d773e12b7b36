"""What several benchmark scripts share: the shared data, its clips' frames, a live server, reports.

Not a script. The scripts run as ``.venv/bin/python benchmarks/<script>.py`` from the
repository root; Python puts ``benchmarks/`` first on ``sys.path``, so they import this as
``_common``. It imports nothing from hifipose: ``bench_serve_memory.py`` measures servers
of other source trees (``--src``) with a client that must not depend on this one's.

Conventions: frames are HxWx3 uint8 arrays, BGR as OpenCV decodes them unless a name says
RGB; sizes are (width, height) in pixels; memory is in MiB.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

#: The repository root.
ROOT = Path(__file__).resolve().parents[1]
#: The shared real data (videos, photos), next to the repository: ``../shared/data``.
DATA = ROOT.parent / "shared" / "data"


# --- frames of the shared clips ----------------------------------------------------------


def read_frames(
    path: Path, limit: int | None = None, *, rgb: bool = False
) -> Iterator[NDArray[np.uint8]]:
    """The frames of the video at ``path`` as they are decoded: the first ``limit`` (None: all).

    BGR, or RGB (what hifipose takes) when ``rgb``. Nothing is kept: a caller that wants a
    list makes it from what it keeps of each frame. An unreadable file yields no frame.
    """
    capture = cv2.VideoCapture(str(path))
    try:
        count = 0
        while limit is None or count < limit:
            ok, frame = capture.read()
            if not ok:
                return
            yield np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) if rgb else frame, np.uint8)
            count += 1
    finally:
        capture.release()


def letterbox_frame(frame: NDArray[np.uint8], size_wh: tuple[int, int]) -> NDArray[np.uint8]:
    """``frame`` scaled to fit ``size_wh``, its aspect kept, centred on a black canvas.

    Bilinear (OpenCV's default), where :func:`hifipose.bench.letterbox` averages areas: the
    committed colour and track_io results were made with this one.
    """
    width, height = size_wh
    scale = min(width / frame.shape[1], height / frame.shape[0])
    small = cv2.resize(frame, (round(frame.shape[1] * scale), round(frame.shape[0] * scale)))
    canvas = np.zeros((height, width, 3), np.uint8)
    x, y = (width - small.shape[1]) // 2, (height - small.shape[0]) // 2
    canvas[y : y + small.shape[0], x : x + small.shape[1]] = small
    return canvas


def clip_jpegs(path: Path, width: int, limit: int | None = None) -> list[bytes]:
    """The first ``limit`` frames (None: all) of ``path`` as JPEGs (quality 80), ``width`` wide.

    Scaled by area averaging, the aspect kept. Exits the script when no frame can be read.
    """
    out = []
    for frame in read_frames(path, limit):
        height = round(frame.shape[0] * width / frame.shape[1])
        small = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
        out.append(cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    if not out:
        sys.exit(f"cannot read {path}")
    return out


# --- a live ``hifipose serve`` on loopback -----------------------------------------------


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(url: str) -> dict[str, Any]:
    """The JSON body of a GET of ``url`` (10 s timeout)."""
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
        body: dict[str, Any] = json.loads(response.read())
    return body


def rss_mb(pid: int) -> float:
    """The resident memory (``VmRSS``) of process ``pid``, MiB (Linux)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


@contextmanager
def running_server(
    command: list[str], port: int, *, env: dict[str, str] | None = None, stop_s: float
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` (a ``hifipose serve`` on ``port``) from the repository root.

    Enters once ``GET /api/info`` answers (60 s at most; the script exits if the server
    stops or never answers); on leaving, interrupts the server as Ctrl-C does and kills it
    if it has not stopped after ``stop_s`` seconds. Its output is discarded.
    """
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=env
    )
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            sys.exit(f"hifipose serve exited at start: {' '.join(command)}")
        try:
            get_json(f"http://127.0.0.1:{port}/api/info")
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                sys.exit("hifipose serve did not start")
            time.sleep(0.2)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=stop_s)
        except subprocess.TimeoutExpired:
            process.kill()


# --- reports ---------------------------------------------------------------------------


def add_report_options(parser: argparse.ArgumentParser, what: str = "table") -> None:
    """``--markdown`` and ``--json`` (for :func:`publish`), ``--render-only`` (:func:`print_saved`).

    ``what`` names what the script renders, in ``--render-only``'s help.
    """
    parser.add_argument("--markdown")
    parser.add_argument("--json")
    parser.add_argument("--render-only", help=f"print the {what} of this JSON report; no timing")


def ratio_range(ratios: Iterable[float]) -> str:
    """Paired ratios (one per round) as the reports give them: ``median× (min–max)``."""
    values = list(ratios)
    return f"{statistics.median(values):.2f}× ({min(values):.2f}–{max(values):.2f})"


def publish(
    report: dict[str, Any],
    render: Callable[[dict[str, Any]], str],
    markdown: str | None,
    json_path: str | None,
) -> None:
    """Print ``render(report)``; write it to ``markdown`` and the report to ``json_path``.

    Either file only where its path is given; the JSON is indented, one trailing newline.
    """
    table = render(report)
    print(table)
    if markdown:
        Path(markdown).write_text(table)
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=2) + "\n")


def print_saved(json_path: str, render: Callable[[dict[str, Any]], str]) -> None:
    """Print ``render`` of the report saved at ``json_path`` (``--render-only``: no timing)."""
    print(render(json.loads(Path(json_path).read_text())))
