"""The filter on file descriptor 2: native log lines dropped, every other line kept."""

from __future__ import annotations

import logging
import os

import pytest

from hifipose._native_logs import native_stderr_filtered

NATIVE = [
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
    "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5649ceba69c0] moov atom not found",
    "[ WARN:0@0.137] global cap.cpp:212 open VIDEOIO(FFMPEG): backend is generally available",
    "W0000 00:00:1733.1 12 inference_feedback_manager.cc:114] Feedback manager requires a model",
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "2026-12-01 05:00:00.123 [W:onnxruntime:, graph.cc:1] Initializer appears in graph inputs",
]
KEPT = ["a Python warning: UserWarning: something", "WARNING hifipose.io.sources: skipping x"]


def test_native_lines_are_dropped_and_others_kept(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="hifipose._native_logs"), native_stderr_filtered():
        for line in NATIVE + KEPT:
            os.write(2, (line + "\n").encode())
    assert capfd.readouterr().err.splitlines() == KEPT
    assert [r.getMessage() for r in caplog.records] == [f"native log: {x}" for x in NATIVE]


def test_stderr_is_restored_after_an_exception(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RuntimeError), native_stderr_filtered():
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        raise RuntimeError
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"
