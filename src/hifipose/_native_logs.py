"""Quieting the native libraries' own log lines: OpenCV, FFmpeg, LiteRT and MediaPipe (glog).

They write to the process's stderr (file descriptor 2) from C++, not through Python's
logging, so a one-line error from the command line could come after lines such as
``INFO: Created TensorFlow Lite XNNPACK delegate for CPU.`` or FFmpeg's ``moov atom not
found``. :func:`quiet_native_logs` turns off those that have a switch (environment variables
and OpenCV's log level); :func:`native_stderr_filtered` catches the rest (LiteRT has no
switch) around a block, drops the lines that look like native log lines, passes every other
line on, and sends the dropped ones to Python's logging at DEBUG level.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Iterator
from typing import Final

__all__ = ["NATIVE_LOG_ENV", "native_stderr_filtered", "quiet_native_logs"]

logger = logging.getLogger(__name__)

#: Set (unless already set) by :func:`quiet_native_logs`.
NATIVE_LOG_ENV: Final = {
    "OPENCV_LOG_LEVEL": "SILENT",  # OpenCV's "[ WARN:0@0.1] global cap.cpp ..."
    "OPENCV_FFMPEG_LOGLEVEL": "-8",  # AV_LOG_QUIET: FFmpeg's "[mov,mp4,...] moov atom not found"
    "TF_CPP_MIN_LOG_LEVEL": "3",  # TensorFlow-style logging in the runtimes that read it
    "GLOG_minloglevel": "3",  # MediaPipe's glog lines ("I0000 ...", "W0000 ...")
}

# Lines native libraries log: TFLite ("INFO: Created TensorFlow Lite XNNPACK delegate"), glog
# and absl ("I0000 00:00:1.0 ...", "WARNING: All log messages before absl::InitializeLog()"),
# OpenCV ("[ WARN:0@0.1] ..."), FFmpeg ("[mov,mp4,m4a @ 0x55...] ...") and onnxruntime
# ("2026-01-01 12:00:00.0 [W:onnxruntime:...]").
_NATIVE_LINE: Final = re.compile(
    r"(INFO|WARNING|VERBOSE): |[IWE]\d{4} |\[ ?(INFO|WARN|DEBUG|ERROR)[:\]]"
    r"|\[[\w,]+ @ 0x[0-9a-f]+\]|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \[[IWE]:onnxruntime"
)


def quiet_native_logs() -> None:
    """Turn off the native libraries' log lines that have a switch (and one stray warning).

    Environment variables the user set are kept. Call it before the libraries start up
    (OpenCV's FFmpeg backend and MediaPipe read theirs on first use).
    """
    for name, value in NATIVE_LOG_ENV.items():
        os.environ.setdefault(name, value)
    # mediapipe 0.10.14 calls a protobuf API deprecated since protobuf 4 on every first frame.
    warnings.filterwarnings("ignore", "SymbolDatabase.GetPrototype", UserWarning)
    if "cv2" in sys.modules:  # imported already: its level is read at import time
        import cv2

        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


@contextlib.contextmanager
def native_stderr_filtered() -> Iterator[None]:
    """Within the block, drop native log lines written to file descriptor 2.

    Other lines written to stderr in the block (Python warnings, log records) are written
    to stderr when the block ends. Dropped lines go to this module's logger at DEBUG.
    Where file descriptor 2 cannot be redirected, the block runs unfiltered.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (e.g. closed, or an embedded interpreter)
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", errors="replace")
            kept = []
            for line in text.splitlines():
                if _NATIVE_LINE.match(line):
                    logger.debug("native log: %s", line)
                else:
                    kept.append(line)
            if kept:
                sys.stderr.write("\n".join(kept) + "\n")
                sys.stderr.flush()
