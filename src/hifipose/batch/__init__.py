"""Batch tracking: many videos on one machine (a process pool) or a Ray cluster.

``hifipose.batch.run(inputs, outdir)`` tracks every video into
``OUTDIR/poses/<video_id>.parquet`` (the pose table of :mod:`hifipose.io.table`), resumably:
a published table whose recorded options and source match is the only "done" mark.
``run_local`` runs any :class:`FunctionSetup` on the same local process pool (``hifipose
track A.mp4 B.mp4 --jobs N``).
"""

from __future__ import annotations

from hifipose.batch.discovery import VideoJob, discover
from hifipose.batch.engine import (
    BatchSummary,
    PlannedVideo,
    default_workers,
    plan,
    run,
    run_local,
)
from hifipose.batch.options import SMOOTHING_MODES, BatchOptions
from hifipose.batch.worker import FunctionSetup, VideoOutcome

__all__ = [
    "SMOOTHING_MODES",
    "BatchOptions",
    "BatchSummary",
    "FunctionSetup",
    "PlannedVideo",
    "VideoJob",
    "VideoOutcome",
    "default_workers",
    "discover",
    "plan",
    "run",
    "run_local",
]
