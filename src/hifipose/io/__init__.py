"""Edges of the system: frames in (sources), files and pictures out (writers, rendering)."""

from __future__ import annotations

from hifipose.io.read import read_poses
from hifipose.io.render import DrawStyle, draw_poses, open_renderer
from hifipose.io.results import read_results
from hifipose.io.sources import Frame, FrameSource, open_source
from hifipose.io.writers import WRITER_SUFFIXES, PoseWriter, open_writer

__all__ = [
    "WRITER_SUFFIXES",
    "DrawStyle",
    "Frame",
    "FrameSource",
    "PoseWriter",
    "draw_poses",
    "open_renderer",
    "open_source",
    "open_writer",
    "read_poses",
    "read_results",
]
