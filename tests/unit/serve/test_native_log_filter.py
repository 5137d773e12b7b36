"""``hifipose serve`` takes the native libraries' log lines out of its stderr as they come."""

from __future__ import annotations

import os
import time

import pytest

from hifipose.serve.server import native_log_lines_dropped

NATIVE = (
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
    "[mjpeg @ 0x55d0c0a2b140] overread 8",
    "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x562b9e3a21c0] moov atom not found",
    "W0000 00:00:1733000000.000000   12 inference_feedback_manager.cc:114] Feedback manager",
)
KEPT = (
    "WARNING:  Invalid HTTP request received.",  # uvicorn's own warning: two spaces
    "ERROR hifipose.serve.app: a live-stream message failed unexpectedly",
    "Traceback (most recent call last):",
    "a line with no newline at the end",
)


def test_native_lines_are_dropped_and_every_other_line_passes_at_once(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with native_log_lines_dropped():
        os.write(2, b"first line, written by C code\n")
        deadline = time.monotonic() + 10
        seen = ""
        while "first line" not in seen:  # passed on while the block still runs
            assert time.monotonic() < deadline, "the line was held back"
            time.sleep(0.02)
            seen += capfd.readouterr().err
        for native, kept in zip(NATIVE, KEPT[:-1], strict=False):
            os.write(2, f"{native}\n{kept}\n".encode())
        os.write(2, KEPT[-1].encode())
    err = seen + capfd.readouterr().err
    assert err.splitlines() == ["first line, written by C code", *KEPT], err
    with native_log_lines_dropped():  # the real stderr is back after the block, and reusable
        pass
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"
