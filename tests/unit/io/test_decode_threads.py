"""``hifipose track`` picks FFmpeg's decoding threads from the core count and the outputs."""

import os

import pytest

from hifipose.cli import build_parser
from hifipose.cli.track import _decode_threads


@pytest.mark.parametrize(
    ("extra", "cores", "threads"),
    [
        (["--render", "o.mp4"], 2, 1),  # decoder, writer thread and inference share 2 cores
        (["--render", "o.AVI"], 1, 1),
        (["--render", "o.mp4"], 4, None),  # FFmpeg's own count
        (["--render", "pngs"], 2, None),  # PNGs are written on the calling thread
        (["-o", "k.csv"], 2, None),  # tracking alone: FFmpeg's default measured faster
    ],
)
def test_decode_threads(
    monkeypatch: pytest.MonkeyPatch, extra: list[str], cores: int, threads: int | None
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(cores)), raising=False)
    args = build_parser().parse_args(["track", "clip.mp4", *extra])
    assert _decode_threads(args) == threads
