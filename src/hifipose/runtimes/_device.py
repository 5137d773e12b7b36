"""Device selection helpers shared by the converted-graph runtimes (onnxruntime, torch)."""

from __future__ import annotations

import functools
import logging

__all__ = ["note_cpu_fallback"]

logger = logging.getLogger("hifipose.runtimes")


@functools.cache
def note_cpu_fallback(runtime: str, reason: str) -> None:
    """Log, once per process for each (runtime, reason), that ``device="auto"`` chose the CPU."""
    logger.warning("device='auto': %s; the %s runtime runs on the CPU", reason, runtime)
