"""Inference runtimes: the only code that touches an inference engine."""

from __future__ import annotations

from hifipose.runtimes.base import Session, SessionOptions, available_runtimes, open_session

__all__ = ["Session", "SessionOptions", "available_runtimes", "open_session"]
