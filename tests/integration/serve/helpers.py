"""Helpers for the web demo's tests: the squat clip as JPEGs or Y4M, a real uvicorn server."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from tests.conftest import SHARED_DATA, clip_frames

SQUATS = SHARED_DATA / "tfjs_golden" / "pose_squats.mp4"
CROSSING = SHARED_DATA / "multi" / "crossing_squats.mp4"
ROOT = Path(__file__).resolve().parents[3]


@functools.cache
def squat_jpegs(width: int = 270) -> tuple[bytes, ...]:
    """The squat clip's frames, resized to ``width`` px wide and JPEG-encoded (as the page does)."""
    return clip_jpegs(SQUATS, width)


@functools.cache
def crossing_jpegs(width: int = 480, frames: int = 12) -> tuple[bytes, ...]:
    """The first frames of the three-people clip, as :func:`squat_jpegs`."""
    return clip_jpegs(CROSSING, width, frames, quality=80)


def clip_jpegs(
    path: Path, width: int, frames: int | None = None, *, quality: int = 95
) -> tuple[bytes, ...]:
    """A clip's frames (the first ``frames``, or all), ``width`` px wide, as JPEG bytes."""
    out = []
    for frame_rgb in first_frames(path, frames):
        height = round(frame_rgb.shape[0] * width / frame_rgb.shape[1])
        small = cv2.resize(frame_rgb, (width, height), interpolation=cv2.INTER_AREA)
        bgr = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
        ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
        assert ok
        out.append(jpeg.tobytes())
    return tuple(out)


def first_frames(path: Path, count: int | None = None) -> list[np.ndarray]:
    """The first ``count`` frames of a clip (all when None) as RGB arrays."""
    if count is None:
        return list(clip_frames(path))
    capture = cv2.VideoCapture(str(path))
    frames = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    capture.release()
    assert frames, f"cannot decode {path}"
    return frames


def write_y4m(path: Path, *, size_wh: tuple[int, int], fps: int, clip: Path = SQUATS) -> Path:
    """Write a clip (the squat clip by default) as a Y4M file (4:2:0), Chromium's fake-camera
    input format.

    Y4M is a one-line header, then per frame ``FRAME\\n`` and the Y, U and V planes (I420).
    """
    width, height = size_wh
    assert width % 2 == 0 and height % 2 == 0
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame_rgb in first_frames(clip):
            small = cv2.resize(frame_rgb, size_wh, interpolation=cv2.INTER_AREA)
            i420 = cv2.cvtColor(small, cv2.COLOR_RGB2YUV_I420)
            assert i420.shape == (height * 3 // 2, width) and i420.dtype == np.uint8
            out.write(b"FRAME\n")
            out.write(i420.tobytes())
    return path


def get_json(url: str, *, timeout: float = 10.0, context: ssl.SSLContext | None = None) -> dict:
    with urllib.request.urlopen(url, timeout=timeout, context=context) as response:  # noqa: S310
        return json.loads(response.read())


@dataclass
class Server:
    """A ``hifipose serve`` process on a loopback port."""

    base_url: str
    process: subprocess.Popen[str]
    log_path: Path

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http", "ws", 1) + "/ws"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(status.split("VmRSS:")[1].split()[0]) / 1024


#: ``hifipose serve``'s first line: where to open the page.
ANNOUNCED = re.compile(r"hifipose serve: open (https?)://(\S+?):(\d+)/")


@contextlib.contextmanager
def running_server(
    log_dir: Path,
    *args: str,
    startup_s: float = 60.0,
    context: ssl.SSLContext | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """Start ``python -m hifipose serve --port 0`` and use the port it announces; stop it with
    SIGINT at the end (SIGKILL if it lingers), in a session of its own.

    Args:
        log_dir: Where the server's output goes.
        args: More ``serve`` arguments.
        startup_s: How long to wait for ``/api/info`` to answer.
        context: A TLS context trusting the server's certificate: the server speaks HTTPS.
        env: Extra environment variables for the server.
    """
    log_path = log_dir / f"serve-{time.monotonic_ns()}.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "hifipose", "serve", "--port", "0", *args],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + startup_s
        while not (announced := ANNOUNCED.search(log_path.read_text(errors="replace"))):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"hifipose serve did not announce its URL:\n{log_path.read_text()}"
                )
            time.sleep(0.05)
        port = int(announced.group(3))
        assert port != 0, f"hifipose serve announced port 0: {announced.group(0)}"
        scheme = "https" if context is not None else "http"
        server = Server(f"{scheme}://127.0.0.1:{port}", process, log_path)
        while True:
            if process.poll() is not None:
                raise AssertionError(f"hifipose serve exited early:\n{server.log()}")
            try:
                get_json(f"{server.base_url}/api/info", timeout=2, context=context)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"hifipose serve did not start:\n{server.log()}") from None
                time.sleep(0.2)
        yield server
    finally:
        stop_process_group(process, signal.SIGINT, timeout_s=15)


def stop_process_group(process: subprocess.Popen, sig: int, timeout_s: float = 30) -> None:
    """Send ``sig`` to the process group ``process`` leads (started with
    ``start_new_session=True``), wait, then SIGKILL whatever is left of the group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout_s)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
