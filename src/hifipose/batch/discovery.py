"""Inputs → videos: files, folders (recursive), globs and list files, each with a ``video_id``.

A video's ``video_id`` is its path relative to the common root of all inputs, without
suffix, with ``/`` separators (``dance/clip01.mp4`` → ``dance/clip01``). Its output is
``OUTDIR/poses/<video_id>.parquet``, so the output tree mirrors the input tree.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from hifipose.errors import ConfigError, VideoReadError
from hifipose.io.sources import VIDEO_SUFFIXES

__all__ = ["VideoJob", "check_outdir", "discover", "source_identity"]

SAMPLE_BYTES: Final = 1 << 20  # the content hash reads the first, middle and last MiB


@dataclass(frozen=True, slots=True)
class VideoJob:
    """One video to track.

    Attributes:
        video_id: Its path relative to the inputs' common root, without suffix.
        path: Its absolute path (symlinks not resolved).
    """

    video_id: str
    path: str


def _is_glob(text: str) -> bool:
    return any(ch in text for ch in "*?[") and not Path(text).exists()


def _glob_base(pattern: str) -> Path:
    """The folder above a glob pattern's first wildcard."""
    fixed: list[str] = []
    for part in Path(pattern).parts[:-1]:
        if any(ch in part for ch in "*?["):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path()


def _is_video_name(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES and not path.name.startswith(".")


def _folder_videos(folder: Path) -> list[Path]:
    # is_dir() is False for dangling links: they are kept and fail as unreadable videos.
    return sorted(p for p in folder.rglob("*") if _is_video_name(p) and not p.is_dir())


def read_list_file(path: Path) -> list[Path]:
    """The paths of a list file: one per line, or a CSV with a ``path`` column.

    Relative paths are relative to the list file's folder; blank lines and ``#`` comments
    are ignored.

    Raises:
        ConfigError: The file cannot be read.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"cannot read the list file {path}: {exc.strerror or exc}"
        raise ConfigError(msg) from exc
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if lines and "path" in next(csv.reader([lines[0]])):
        entries = [row["path"] for row in csv.DictReader(lines) if row.get("path")]
    else:
        entries = [line.strip() for line in lines]
    return [(path.parent / entry).expanduser() for entry in entries]


def discover(inputs: list[str], list_file: str | Path | None = None) -> list[VideoJob]:
    """Expand the inputs into videos with ``video_id`` s, in sorted ``video_id`` order.

    A named file is taken whatever its suffix, and so is a missing one (it fails as
    unreadable when tracked, and is recorded, so nothing is dropped silently); folders
    are searched recursively for :data:`~hifipose.io.sources.VIDEO_SUFFIXES`.

    Raises:
        ConfigError: Nothing to do, a glob or folder without videos, or two videos with
            the same ``video_id`` (e.g. ``a.mp4`` and ``a.avi`` side by side).
    """
    found: list[tuple[Path, Path]] = []  # (video, the root it was found under)
    for spec in inputs:
        if _is_glob(spec):
            matches = sorted(Path(p) for p in glob.glob(spec, recursive=True))  # noqa: PTH207
            videos = [p for p in matches if _is_video_name(p) and not p.is_dir()]
            if not videos:
                msg = f"no videos match {spec!r} (looked for {', '.join(VIDEO_SUFFIXES)})"
                raise ConfigError(msg)
            found += [(p, _glob_base(spec)) for p in videos]
            continue
        path = Path(spec).expanduser()
        if path.is_dir():
            videos = _folder_videos(path)
            if not videos:
                msg = f"no videos in {path} (looked for {', '.join(VIDEO_SUFFIXES)})"
                raise ConfigError(msg)
            found += [(p, path) for p in videos]
        else:
            found.append((path, path.parent))
    if list_file is not None:
        found += [(p, p.parent) for p in read_list_file(Path(list_file))]
    if not found:
        msg = "no inputs: give video files, folders, globs or --list FILE"
        raise ConfigError(msg)
    absolute = [(Path.cwd() / v, Path.cwd() / r) for v, r in found]  # absolute, links kept
    root = Path(os.path.commonpath([str(r) for _, r in absolute]))
    jobs: dict[str, VideoJob] = {}
    for video, _ in absolute:
        video_id = video.relative_to(root).with_suffix("").as_posix()
        job = VideoJob(video_id, str(video))
        if video_id in jobs and jobs[video_id].path != job.path:
            msg = (
                f"{jobs[video_id].path} and {job.path} would both be written to "
                f"poses/{video_id}.parquet; rename one of them"
            )
            raise ConfigError(msg)
        jobs[video_id] = job
    return [jobs[key] for key in sorted(jobs)]


def check_outdir(outdir: str, inputs: list[str], jobs: list[VideoJob]) -> None:
    """Refuse an output folder that is, or is inside, an input, or holds an input video.

    Raises:
        ConfigError: OUTDIR and the inputs overlap.
    """
    if "://" in outdir:
        return
    out = Path(outdir).expanduser().resolve()
    for spec in inputs:
        base = _glob_base(spec) if _is_glob(spec) else Path(spec).expanduser()
        base = base.resolve()
        if out == base or (base.is_dir() and out.is_relative_to(base)):
            msg = f"the output folder {out} is inside the input {base}: choose another -o"
            raise ConfigError(msg)
    for job in jobs:
        video = Path(job.path).resolve()
        if video == out or video.is_relative_to(out):
            msg = f"the input {job.path} is inside the output folder {out}: choose another -o"
            raise ConfigError(msg)


def source_identity(path: str) -> dict[str, Any]:
    """The identity of an input file: size, mtime (ns) and a SHA-256 of three samples.

    The samples are the first, middle and last MiB (the whole file when smaller), so a
    changed file is noticed without reading all of it.

    Raises:
        VideoReadError: The file cannot be read.
    """
    try:
        stat = os.stat(path)  # noqa: PTH116 - one call for size and mtime
        digest = hashlib.sha256()
        with open(path, "rb") as file:  # noqa: PTH123
            size = stat.st_size
            for offset in sorted(
                {0, max(0, size // 2 - SAMPLE_BYTES // 2), max(0, size - SAMPLE_BYTES)}
            ):
                file.seek(offset)
                digest.update(file.read(SAMPLE_BYTES))
    except OSError as exc:
        msg = f"cannot read {path}: {exc.strerror or exc}"
        raise VideoReadError(msg) from exc
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256_sample": digest.hexdigest()}


def probe_duration_s(path: str) -> float | None:
    """The video's declared duration in seconds (frame count / fps), or None."""
    import cv2

    capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    try:
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        fps = capture.get(cv2.CAP_PROP_FPS)
    finally:
        capture.release()
    if count > 0 and fps > 0:
        return float(count / fps)
    return None
