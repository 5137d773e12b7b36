"""Inputs → videos: files, folders (recursive), globs and list files, each with a ``video_id``.

A video's ``video_id`` is its resolved path relative to the common root of all inputs,
without suffix, with ``/`` separators (``dance/clip01.mp4`` → ``dance/clip01``). Its output
is ``OUTDIR/poses/<video_id>.parquet``, so the output tree mirrors the input tree.

Paths are resolved before ids are made (``..``, ``.`` and links to folders), so an id never
holds a ``..`` and every output lies inside OUTDIR, whatever the inputs are spelled like.
A link to a video keeps its own name (the id of ``clips/best.mp4 -> raw/0042.mp4`` is
``clips/best``).
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from hifipose._native_logs import native_stderr_filtered
from hifipose.errors import ConfigError, VideoReadError
from hifipose.io.sources import VIDEO_SUFFIXES

__all__ = ["VideoJob", "check_outdir", "discover", "source_identity"]

SAMPLE_BYTES: Final = 1 << 20  # the content hash reads the first, middle and last MiB


@dataclass(frozen=True, slots=True)
class VideoJob:
    """One video to track.

    Attributes:
        video_id: Its path relative to the inputs' common root, without suffix.
        path: Its absolute path, its folders resolved (a link to a video is not).
    """

    video_id: str
    path: str


#: The longest output name (bytes): ``<name>.parquet.partial`` within the usual 255.
MAX_NAME_BYTES: Final = 255 - len(".parquet.partial")
#: The suffixes an output name gets: its pose table and its failure record.
_OUTPUT_SUFFIXES: Final = (".parquet", ".json")


def _exists(path: str | Path) -> bool:
    return os.path.exists(path)  # noqa: PTH110 - False (never an error) for any odd name


def _is_dir(path: str | Path) -> bool:
    return os.path.isdir(path)  # noqa: PTH112 - False (never an error) for any odd name


def _is_glob(text: str) -> bool:
    return any(ch in text for ch in "*?[") and not _exists(text)


def _glob_base(pattern: str) -> Path:
    """The folder above a glob pattern's first wildcard."""
    fixed: list[str] = []
    for part in Path(pattern).parts[:-1]:
        if any(ch in part for ch in "*?["):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path()


def _glob(pattern: str) -> list[Path]:
    """The paths that match ``pattern``, sorted.

    ``**`` matches folders at any depth but does not follow links to folders, so a link
    loop (``videos/again -> .``) cannot make it endless, as it makes ``glob.glob``.

    Raises:
        ConfigError: An invalid pattern (``**`` inside a name).
    """
    base = _glob_base(pattern)
    rest = "/".join(Path(pattern).parts[len(base.parts) :])
    if any("**" in part and part != "**" for part in Path(rest).parts):
        # Python 3.13's pathlib reads `a**` as `a*`; 3.10-3.12 refuse it. Refuse it everywhere.
        msg = f"invalid glob pattern {pattern!r}: '**' can only be an entire path component"
        raise ConfigError(msg)
    try:
        return sorted(base.glob(rest))
    except (ValueError, NotImplementedError) as exc:
        msg = f"invalid glob pattern {pattern!r}: {exc}"
        raise ConfigError(msg) from exc


def _is_video_name(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES and not path.name.startswith(".")


def _folder_videos(folder: Path) -> list[Path]:
    # _is_dir() is False for dangling links: they are kept and fail as unreadable videos.
    return sorted(p for p in folder.rglob("*") if _is_video_name(p) and not _is_dir(p))


def _resolved(path: Path) -> Path:
    """``path`` made absolute, its folders resolved (``..``, links); its own name kept.

    A link to a video keeps its name, and so does a missing file (it fails when tracked).
    """
    absolute = Path.cwd() / path
    if absolute.name in {"", ".."}:
        return Path(os.path.realpath(absolute))
    return Path(os.path.realpath(absolute.parent)) / absolute.name


def _check_text(text: str, what: str) -> None:
    if "\x00" in text:
        msg = f"{what} {text!r} holds a NUL character"
        raise ConfigError(msg)


def read_list_file(path: Path) -> list[Path]:
    """The paths of a list file: one per line, or a CSV with a ``path`` column.

    Relative paths are relative to the list file's folder; blank lines and ``#`` comments
    are ignored.

    Raises:
        ConfigError: The file cannot be read, is not UTF-8 text, or names a path with a
            NUL character.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"cannot read the list file {path}: {exc.strerror or exc}"
        raise ConfigError(msg) from exc
    except UnicodeDecodeError as exc:
        msg = f"the list file {path} is not UTF-8 text (byte {exc.start}): give one path per line"
        raise ConfigError(msg) from exc
    _check_text(text, f"the list file {path}:")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    try:
        if lines and "path" in next(csv.reader([lines[0]])):
            entries = [row["path"] for row in csv.DictReader(lines) if row.get("path")]
        else:
            entries = [line.strip() for line in lines]
    except csv.Error as exc:
        msg = f"the list file {path} is not a valid CSV file: {exc}"
        raise ConfigError(msg) from exc
    return [path.parent / os.path.expanduser(entry) for entry in entries]  # noqa: PTH111


def _check_names(jobs: dict[str, VideoJob]) -> None:
    """Refuse ids whose output files could not be written, or would hide each other.

    Raises:
        ConfigError: A name that is not UTF-8, too long for a file name, or an id whose
            output file is a folder of another's (``a`` and ``a.parquet/b``).
    """
    for video_id, job in jobs.items():
        try:
            last = video_id.rsplit("/", 1)[-1].encode("utf-8")
        except UnicodeEncodeError:
            msg = f"the name of {job.path!r} is not UTF-8: rename it to name its output"
            raise ConfigError(msg) from None
        if len(last) > MAX_NAME_BYTES:
            msg = (
                f"the name of {job.path!r} is too long to name its output file "
                f"(over {MAX_NAME_BYTES} bytes): rename it"
            )
            raise ConfigError(msg)
        parts = video_id.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            for suffix in _OUTPUT_SUFFIXES:
                other = jobs.get(folder.removesuffix(suffix)) if folder.endswith(suffix) else None
                if other is not None:
                    msg = (
                        f"the outputs of {other.path} and {job.path} would clash "
                        f"({folder} is a file and a folder): rename one of them"
                    )
                    raise ConfigError(msg)


def _video_id(relative: Path) -> str:
    """``relative`` without its suffix, ``/``-separated.

    A name that would be left as ``.`` or ``..`` (``..mp4``) keeps its suffix.
    """
    name = relative.name
    stem = name[: -len(relative.suffix)] if relative.suffix else name
    return (relative.parent / (stem if stem not in {".", ".."} else name)).as_posix()


def discover(inputs: list[str], list_file: str | Path | None = None) -> list[VideoJob]:
    """Expand the inputs into videos with ``video_id`` s, in sorted ``video_id`` order.

    A named file is taken whatever its suffix, and so is a missing one (it fails as
    unreadable when tracked, and is recorded, so nothing is dropped silently); folders
    are searched recursively for :data:`~hifipose.io.sources.VIDEO_SUFFIXES` (every video
    suffix ``track`` knows). Paths are resolved before ids are made (see the module).

    Raises:
        ConfigError: Nothing to do, a glob or folder without videos, two videos with
            the same ``video_id`` (e.g. ``a.mp4`` and ``a.avi`` side by side), a NUL
            character in an input, or a name that cannot name an output file.
    """
    found: list[tuple[Path, Path]] = []  # (video, the root it was found under)
    for spec in inputs:
        _check_text(spec, "the input")
        if _is_glob(spec):
            videos = [p for p in _glob(spec) if _is_video_name(p) and not _is_dir(p)]
            if not videos:
                msg = f"no videos match {spec!r} (looked for {', '.join(VIDEO_SUFFIXES)})"
                raise ConfigError(msg)
            found += [(p, _glob_base(spec)) for p in videos]
            continue
        path = Path(os.path.expanduser(spec))  # noqa: PTH111 - ~nobody/x stays as it is
        if _is_dir(path):
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
    resolved = [
        (_resolved(video), Path(os.path.realpath(Path.cwd() / root))) for video, root in found
    ]
    root = os.path.commonpath([str(r) for _, r in resolved] + [str(v.parent) for v, _ in resolved])
    jobs: dict[str, VideoJob] = {}
    for video, _ in resolved:
        video_id = _video_id(video.relative_to(root))
        job = VideoJob(video_id, str(video))
        if video_id in jobs and jobs[video_id].path != job.path:
            msg = (
                f"{jobs[video_id].path} and {job.path} would both be written to "
                f"poses/{video_id}.parquet; rename one of them"
            )
            raise ConfigError(msg)
        jobs[video_id] = job
    _check_names(jobs)
    return [jobs[key] for key in sorted(jobs)]


def check_outdir(outdir: str, inputs: list[str], jobs: list[VideoJob]) -> None:
    """Refuse an output folder that is, or is inside, an input, or holds an input video.

    Raises:
        ConfigError: OUTDIR and the inputs overlap.
    """
    if "://" in outdir:
        return
    _check_text(outdir, "the output folder")
    out = Path(os.path.realpath(os.path.expanduser(outdir)))  # noqa: PTH111
    for spec in inputs:
        base = _glob_base(spec) if _is_glob(spec) else Path(os.path.expanduser(spec))  # noqa: PTH111
        base = Path(os.path.realpath(base))
        if out == base or (_is_dir(base) and out.is_relative_to(base)):
            msg = f"the output folder {out} is inside the input {base}: choose another -o"
            raise ConfigError(msg)
    for job in jobs:
        video = Path(os.path.realpath(job.path))
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
    """The video's declared duration in seconds (frame count / fps), or None.

    FFmpeg's and OpenCV's lines about a broken file are dropped (the worker that opens it
    reports the error).
    """
    import cv2

    with native_stderr_filtered():
        capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
        try:
            count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
            fps = capture.get(cv2.CAP_PROP_FPS)
        finally:
            capture.release()
    if count > 0 and fps > 0:
        return float(count / fps)
    return None
