"""Frame sources: a video file, an image, a folder or glob of images, a webcam or a URL.

Conventions:
    Frames are HxWx3 uint8 **RGB** (OpenCV's BGR never leaves this module). Video
    timestamps are the container's presentation times in milliseconds (0 for a first
    frame at the start); images of a folder or glob are spaced 1000/30 ms apart; camera
    frames carry the wall-clock milliseconds since the camera was opened; a stream URL's
    frames carry the container's times, as a video file's do. A frame's index
    is its position in the input: for a folder or glob, its place in the sorted file list,
    so an unreadable image that is skipped leaves a gap.
"""

from __future__ import annotations

import glob
import logging
import math
import queue
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Final, Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from hifipose.errors import ConfigError, VideoReadError

if TYPE_CHECKING:  # typing.Self is 3.11+; annotations are strings here (3.10 supported)
    from typing import Self

__all__ = [
    "IMAGE_SUFFIXES",
    "VIDEO_SUFFIXES",
    "Frame",
    "FrameSource",
    "open_source",
    "truncation_tolerance",
]

logger = logging.getLogger(__name__)

#: Video file suffixes (lower case) for folders and uploads: the containers OpenCV's FFmpeg
#: reads. A named file is opened as a video whatever its suffix (unless it is an image's).
VIDEO_SUFFIXES = (
    ".mp4", ".mov", ".webm", ".avi", ".mkv", ".m4v",
    ".mts", ".m2ts", ".ts", ".3gp", ".3g2", ".mpg", ".mpeg", ".m2v", ".wmv", ".asf",
    ".flv", ".f4v", ".ogv", ".vob", ".mxf", ".dv", ".y4m",
)  # fmt: skip
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
IMAGE_INTERVAL_MS = 1000.0 / 30.0
_END = object()
# A stream URL OpenCV's FFmpeg opens: rtsp://, http(s)://, rtmp://, udp://...
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
#: How long opening or reading a stream URL may stall before it fails (ms).
URL_TIMEOUT_MS = 10_000
# File signatures of image formats (first bytes): an image named like a video is refused.
_IMAGE_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF8", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)


def truncation_tolerance(declared: int) -> int:
    """Frames a complete video may fall short of its declared count (estimates, rounding)."""
    return max(2, math.ceil(0.02 * declared))


def _image_kind(path: Path) -> str | None:
    """The image format whose signature ``path`` starts with, or None."""
    try:
        with path.open("rb") as file:
            head = file.read(12)
    except OSError:
        return None
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    return next((kind for magic, kind in _IMAGE_MAGIC if head.startswith(magic)), None)


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame: its 0-based index, its time in ms, its RGB pixels and where it came from.

    ``source`` is the image's file name for images (single, folder or glob), else None.
    """

    index: int
    timestamp_ms: float
    image_rgb: NDArray[np.uint8]
    source: str | None = None


def _natural_key(path: Path) -> list[object]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


# JPEG markers that stand alone (no length field): TEM, RST0-7, SOI, EOI.
_JPEG_STANDALONE: Final = frozenset({0x01, *range(0xD0, 0xD8), 0xD8, 0xD9})


def _jpeg_is_complete(data: bytes) -> bool:
    """Whether a JPEG's segments and scans run up to its end-of-image marker.

    libjpeg decodes a truncated file without an error (OpenCV fills the missing rows with
    grey), so the structure is walked instead: segments by their lengths (an embedded
    thumbnail lies inside APP1 and is skipped whole), the entropy-coded data of each scan
    up to the next marker that is not a stuffed ``FF 00`` or a restart marker. Data after
    EOI (e.g. a motion photo's video) is not looked at.
    """
    pos = 2  # after SOI
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return False
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == 0xD9:
            return True
        if marker in _JPEG_STANDALONE:
            pos += 2
            continue
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker != 0xDA:  # not a scan: the next segment follows
            continue
        while True:  # the scan's entropy-coded data, up to the next real marker
            pos = data.find(b"\xff", pos)
            if pos < 0 or pos + 1 >= len(data):
                return False
            following = data[pos + 1]
            if following == 0x00 or 0xD0 <= following <= 0xD7:
                pos += 2
                continue
            if following == 0xFF:
                pos += 1
                continue
            break
    return pos + 2 <= len(data) and data[pos : pos + 2] == b"\xff\xd9"


def _read_image(path: Path) -> NDArray[np.uint8]:
    frame_bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if frame_bgr is None:
        msg = f"cannot read image {path}: not an image file, or corrupt"
        raise VideoReadError(msg)
    if _image_kind(path) == "JPEG":
        try:
            complete = _jpeg_is_complete(path.read_bytes())
        except OSError as exc:
            msg = f"cannot read image {path}: {exc}"
            raise VideoReadError(msg) from exc
        if not complete:
            msg = f"cannot read image {path}: truncated JPEG (no end-of-image marker)"
            raise VideoReadError(msg)
    return np.asarray(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


class FrameSource:
    """An iterable of :class:`Frame` from one input; a context manager.

    Video and camera frames are decoded on a background thread into a bounded queue, so
    decoding overlaps the caller's work. Leaving the ``with`` block (or calling
    :meth:`close`) stops and joins that thread.

    In a folder or glob (``kind == "images"``), an image that cannot be read is skipped with
    a one-line warning and listed in :attr:`skipped`; the others are still read.

    Attributes:
        kind: ``"video"``, ``"image"``, ``"images"``, ``"camera"`` or ``"stream"`` (a URL).
        name: A short name for messages.
        files: The input files (the video, or the images in reading order); empty for a
            camera.
        skipped: ``(path, reason)`` for each image of a folder or glob that was skipped.
        fps: Frames per second (None for single images).
        size_wh: (width, height) of the frames, when known before reading.
        frame_count: Number of frames, when known (an estimate for videos).
        frames_declared: The frame count the video's container states, or None (other
            kinds, or a container that states none).
        frames_read: Frames decoded so far.
        complete: After a video was read to its end: False when it ended more than
            :func:`truncation_tolerance` frames before ``frames_declared`` (a truncated
            file; a one-line warning is logged), else True. None before the end, when
            reading stopped early (``max_frames``, a break) and for other kinds.
    """

    def __init__(
        self,
        kind: Literal["video", "image", "images", "camera", "stream"],
        name: str,
        *,
        paths: list[Path] | None = None,
        capture: cv2.VideoCapture | None = None,
        max_frames: int | None = None,
        prefetch: int = 8,
    ) -> None:
        self.kind = kind
        self.name = name
        self._paths = paths or []
        self.files: tuple[Path, ...] = tuple(self._paths)
        self.skipped: list[tuple[Path, str]] = []
        self._capture = capture
        self._max_frames = max_frames
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(1, prefetch))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.fps: float | None = None
        self.size_wh: tuple[int, int] | None = None
        self.frame_count: int | None = len(self._paths) if self._paths else None
        self.frames_declared: int | None = None
        self.frames_read = 0
        self.complete: bool | None = None
        if capture is not None:
            fps = capture.get(cv2.CAP_PROP_FPS)
            self.fps = fps if math.isfinite(fps) and fps > 0 else 30.0
            width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
            height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
            self.size_wh = (width, height) if width > 0 and height > 0 else None
            count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
            self.frame_count = count if count > 0 and kind == "video" else None
            self.frames_declared = self.frame_count
        elif kind == "images":
            self.fps = 1000.0 / IMAGE_INTERVAL_MS
        if max_frames is not None and self.frame_count is not None:
            self.frame_count = min(self.frame_count, max_frames)

    def __iter__(self) -> Iterator[Frame]:
        if self._capture is None:
            yield from self._iter_images()
            return
        if self._thread is not None:
            msg = f"{self.name} can be read only once"
            raise VideoReadError(msg)
        self._thread = threading.Thread(target=self._decode, name="hifipose-decode", daemon=True)
        self._thread.start()
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, Frame)  # noqa: S101 - the queue holds only these
            yield item

    def _iter_images(self) -> Iterator[Frame]:
        yielded = 0
        for index, path in enumerate(self._paths):
            if self._max_frames is not None and yielded >= self._max_frames:
                return
            try:
                image = _read_image(path)
            except VideoReadError as exc:
                if self.kind != "images":
                    raise
                logger.warning("skipping %s: %s", path, str(exc).rpartition(": ")[2])
                self.skipped.append((path, str(exc)))
                continue
            if self.size_wh is None:
                self.size_wh = (image.shape[1], image.shape[0])
            yield Frame(index, index * IMAGE_INTERVAL_MS, image, source=path.name)
            yielded += 1
        if self.skipped and not yielded:
            msg = f"none of the {len(self._paths)} images in {self.name} could be read"
            raise VideoReadError(msg)

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def _decode(self) -> None:
        capture = self._capture
        assert capture is not None  # noqa: S101 - only started for captures
        started = time.monotonic()
        last_ms = -math.inf
        index = 0
        try:
            while not self._stop.is_set():
                if self._max_frames is not None and index >= self._max_frames:
                    break
                ok, frame_bgr = capture.read()
                if not ok or frame_bgr is None:
                    if index == 0 and self.kind in {"video", "stream"}:
                        msg = (
                            f"cannot decode any frame of {self.name}: unsupported or corrupt video"
                        )
                        self._put(VideoReadError(msg))
                        return
                    self._check_complete(index)
                    break
                if self.kind == "camera":
                    timestamp = 1000.0 * (time.monotonic() - started)
                else:
                    timestamp = capture.get(cv2.CAP_PROP_POS_MSEC)
                    if not math.isfinite(timestamp) or timestamp <= last_ms:
                        fallback = index * 1000.0 / (self.fps or 30.0)
                        logger.debug(
                            "frame %d: container time %s unusable, using %.3f ms",
                            index,
                            timestamp,
                            fallback,
                        )
                        timestamp = max(fallback, last_ms + 1e-3)
                last_ms = timestamp
                if not self._put(
                    Frame(
                        index,
                        timestamp,
                        np.asarray(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB), np.uint8),
                    )
                ):
                    return
                index += 1
                self.frames_read = index
        except cv2.error as exc:
            self._put(VideoReadError(f"decoding {self.name} failed: {exc}"))
            return
        self._put(_END)

    def _check_complete(self, frames: int) -> None:
        """At a video's end: compare the frames decoded with the declared count."""
        if self.kind != "video":
            return
        declared = self.frames_declared
        self.complete = declared is None or frames >= declared - truncation_tolerance(declared)
        if not self.complete:
            logger.warning(
                "%s looks truncated: %d of the %s frames its container declares were decoded",
                self.name,
                frames,
                declared,
            )

    def close(self) -> None:
        """Stop decoding and release the file or camera. Idempotent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._capture is not None:
            self._capture.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def open_source(
    spec: str | Path | int,
    *,
    max_frames: int | None = None,
    prefetch: int = 8,
    threads: int | None = None,
) -> FrameSource:
    """Open a video file, an image, a folder or glob of images, a webcam index or a URL.

    Args:
        spec: A path, a glob pattern (``*``, ``?``, ``[``), a camera index (an int, or a
            string of digits such as ``"0"``), or a stream URL OpenCV's FFmpeg opens
            (``rtsp://``, ``http://``...; opening and reading give up after
            :data:`URL_TIMEOUT_MS`).
        max_frames: Stop after this many frames.
        prefetch: Frames decoded ahead (videos and cameras).
        threads: FFmpeg's decoding threads for a video file; None or 0: FFmpeg's choice,
            which follows the core count (measured fastest for tracking alone, also on 2
            cores; ``hifipose track`` asks for 1 when it also encodes a video overlay on
            ≤ 2 cores: ``benchmarks/results/track_io.md``).

    Returns:
        The source; use it in a ``with`` block.

    Raises:
        VideoReadError: The input does not exist, holds no images, or cannot be opened (a
            URL: no answer, or not a video).
        ConfigError: ``threads`` is not a non-negative integer.
    """
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        index = int(spec)
        capture = cv2.VideoCapture(index)
        if not capture.isOpened():
            msg = f"cannot open camera {index}: is a webcam connected and free to use?"
            raise VideoReadError(msg)
        return FrameSource(
            "camera", f"camera {index}", capture=capture, max_frames=max_frames, prefetch=prefetch
        )
    text = str(spec)
    if isinstance(spec, str) and _URL.match(spec):
        return _open_url(spec, max_frames=max_frames, prefetch=prefetch)
    if any(ch in text for ch in "*?[") and not Path(text).exists():
        paths = sorted((Path(p) for p in glob.glob(text)), key=_natural_key)  # noqa: PTH207 - user glob
        images = [p for p in paths if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
        if not images:
            msg = f"no images match {text!r} (looked for {', '.join(IMAGE_SUFFIXES)})"
            raise VideoReadError(msg)
        return FrameSource("images", text, paths=images, max_frames=max_frames)
    path = Path(text).expanduser()
    if not path.exists():
        msg = f"input not found: {path}"
        raise VideoReadError(msg)
    if path.is_dir():
        images = sorted(
            (p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()),
            key=_natural_key,
        )
        if not images:
            msg = f"no images in folder {path} (looked for {', '.join(IMAGE_SUFFIXES)})"
            raise VideoReadError(msg)
        return FrameSource("images", str(path), paths=images, max_frames=max_frames)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return FrameSource("image", str(path), paths=[path], max_frames=max_frames)
    if threads is not None and (
        isinstance(threads, bool) or not isinstance(threads, int) or threads < 0
    ):
        msg = f"threads must be a non-negative integer or None, got {threads!r}"
        raise ConfigError(msg)
    image_kind = _image_kind(path)
    if image_kind is not None:
        msg = f"{path} is a {image_kind} image, not a video: give it an image suffix"
        raise VideoReadError(msg)
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, threads or 0])
    if not capture.isOpened():
        capture.release()
        msg = f"cannot open {path} as a video: unsupported format or corrupt file"
        raise VideoReadError(msg)
    source = FrameSource(
        "video", str(path), capture=capture, max_frames=max_frames, prefetch=prefetch
    )
    source.files = (path,)
    return source


def _open_url(url: str, *, max_frames: int | None, prefetch: int) -> FrameSource:
    capture = cv2.VideoCapture(
        url,
        cv2.CAP_FFMPEG,
        [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            URL_TIMEOUT_MS,
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            URL_TIMEOUT_MS,
        ],
    )
    if not capture.isOpened():
        capture.release()
        msg = f"cannot open {url}: no answer, or not a video stream OpenCV's FFmpeg can read"
        raise VideoReadError(msg)
    return FrameSource("stream", url, capture=capture, max_frames=max_frames, prefetch=prefetch)
