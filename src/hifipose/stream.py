"""The frame loop: :func:`track` turns a source into a stream of :class:`FrameResult`.

One loop for every front end: ``hifipose track`` and Python code run on :func:`track`;
``batch``'s workers and the server's upload jobs, which keep their own detector, run on
:func:`estimate_frames` and :func:`finish_results`, the loop's two halves.

Conventions:
    A source is a video file, an image, a folder or glob of images, a webcam index, a
    stream URL OpenCV opens (``rtsp://``, ``http://``...), or any iterable of HxWx3 uint8
    RGB arrays, optionally as ``(array, timestamp_ms)`` pairs. Timestamps are the
    container's presentation times for videos and streams (see :mod:`hifipose.io.sources`),
    ``index × 1000/30`` ms for images and for arrays given without one.
    ``FrameResult.source`` is the image's file name for images, the video's path for a
    video file, else None. Images (single, folder, glob) are tracked as unrelated photos
    (``static_image_mode``) unless that option is given.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal, get_args

import numpy as np

from hifipose.camera import CameraSpec, Intrinsics, TranslationSmoother, to_camera_space
from hifipose.config import DetectorConfig
from hifipose.errors import ConfigError
from hifipose.pose import FrameResult

if TYPE_CHECKING:  # typing.Self is 3.11+; annotations are strings here (3.10 supported)
    from typing import Self

    from hifipose.detector import PoseDetector
    from hifipose.io.sources import Frame, FrameSource

__all__ = [
    "SMOOTHING_MODES",
    "ArraySource",
    "PoseStream",
    "RunOptions",
    "estimate_frames",
    "finish_results",
    "track",
]

Smoothing = Literal["online", "offline", "none"]
SMOOTHING_MODES: Final = get_args(Smoothing)
#: Spacing of frames given without a timestamp (as a folder of images is spaced).
ARRAY_INTERVAL_MS: Final = 1000.0 / 30.0
_IMAGE_KINDS: Final = frozenset({"image", "images"})


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What :func:`track` does around the detector (its options are ``DetectorConfig``'s).

    Attributes:
        smoothing: ``"online"``: MediaPipe's live filters; ``"offline"``: track the whole
            recorded video with them off, then smooth each track without lag
            (:func:`~hifipose.filters.offline.smooth_results`; results come after the last
            frame is tracked); ``"none"``: raw landmarks.
        fov: The camera's horizontal field of view (degrees): adds camera-space 3D
            (``Pose.camera_array_m``, :func:`~hifipose.camera.to_camera_space`).
        intrinsics: The camera instead of ``fov``: an :class:`~hifipose.camera.Intrinsics`,
            a :class:`~hifipose.camera.CameraSpec`, or a JSON file as ``--intrinsics`` reads.
        max_frames: Stop after this many frames (None: all).
    """

    smoothing: Smoothing = "online"
    fov: float | None = None
    intrinsics: Intrinsics | CameraSpec | str | Path | None = None
    max_frames: int | None = None

    def __post_init__(self) -> None:
        if self.smoothing not in SMOOTHING_MODES:
            msg = f"smoothing must be one of {', '.join(SMOOTHING_MODES)}, got {self.smoothing!r}"
            raise ConfigError(msg)
        if self.fov is not None and self.intrinsics is not None:
            msg = "give fov or intrinsics, not both"
            raise ConfigError(msg)
        if self.max_frames is not None and (
            isinstance(self.max_frames, bool)
            or not isinstance(self.max_frames, int)
            or self.max_frames < 1
        ):
            msg = f"max_frames must be a positive integer or None, got {self.max_frames!r}"
            raise ConfigError(msg)
        self.camera()  # a bad fov or file is refused here, before any work

    def camera(self) -> CameraSpec | None:
        """The camera that ``fov`` or ``intrinsics`` describe, or None.

        Raises:
            ConfigError: The field of view is out of range or the file cannot be read.
        """
        if self.fov is not None:
            spec = CameraSpec(hfov_deg=self.fov)
            spec.for_size(640, 480)  # checks the angle
            return spec
        if isinstance(self.intrinsics, Intrinsics):
            return CameraSpec(intrinsics=self.intrinsics)
        if isinstance(self.intrinsics, CameraSpec) or self.intrinsics is None:
            return self.intrinsics
        return CameraSpec.from_file(self.intrinsics)


class ArraySource:
    """Frames from an iterable of RGB arrays or ``(array, timestamp_ms)`` pairs.

    Has the attributes of :class:`~hifipose.io.sources.FrameSource` that the loop reads
    (``kind`` is ``"arrays"``). The arrays are checked by the detector
    (:class:`~hifipose.errors.InvalidImageError`), the timestamps too.
    """

    def __init__(self, frames: Iterable[Any], *, max_frames: int | None = None) -> None:
        self.kind = "arrays"
        self.name = "frames"
        self.files: tuple[Path, ...] = ()
        self.skipped: list[tuple[Path, str]] = []
        self.fps: float | None = None
        self._iterator = iter(frames)
        self._max_frames = max_frames

    def __iter__(self) -> Iterator[Frame]:
        from hifipose.io.sources import Frame

        for index, item in enumerate(self._iterator):
            if self._max_frames is not None and index >= self._max_frames:
                return
            if isinstance(item, tuple) and len(item) == 2:
                image, timestamp = item
            else:
                image, timestamp = item, index * ARRAY_INTERVAL_MS
            yield Frame(index, timestamp, image)

    def close(self) -> None:
        """Close the iterable when it is a generator. Idempotent."""
        close = getattr(self._iterator, "close", None)
        if callable(close):
            close()


def _open_source(
    source: object, *, max_frames: int | None, decode_threads: int | None
) -> FrameSource | ArraySource:
    from hifipose.io.sources import open_source

    if isinstance(source, str | Path) or (isinstance(source, int) and not isinstance(source, bool)):
        return open_source(source, max_frames=max_frames, threads=decode_threads)
    if isinstance(source, np.ndarray) and source.ndim != 4:
        msg = (
            f"an array source is a batch of frames (N, H, W, 3), got shape {source.shape}; "
            "give one image as [image]"
        )
        raise ConfigError(msg)
    if isinstance(source, Iterable) and not isinstance(source, bytes | Mapping):
        return ArraySource(source, max_frames=max_frames)
    msg = (
        "source must be a path, glob, webcam index, stream URL or an iterable of RGB arrays, "
        f"got {type(source).__name__}"
    )
    raise ConfigError(msg)


def _split_options(options: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``options`` as ``DetectorConfig``'s and ``RunOptions``' keyword arguments."""
    detector_names = {f.name for f in dataclasses.fields(DetectorConfig)}
    run_names = {f.name for f in dataclasses.fields(RunOptions)}
    unknown = sorted(set(options) - detector_names - run_names)
    if unknown:
        msg = (
            f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: "
            "give DetectorConfig's fields or RunOptions' (smoothing, fov, intrinsics, max_frames)"
        )
        raise ConfigError(msg)
    detector = {k: v for k, v in options.items() if k in detector_names}
    run = {k: v for k, v in options.items() if k in run_names}
    return detector, run


def estimate_frames(
    detector: PoseDetector,
    frames: Iterable[Frame],
    *,
    static: bool,
    video_name: str | None = None,
    keep_segmentation: bool = True,
    before_frame: Callable[[Frame], None] | None = None,
) -> Iterator[tuple[FrameResult, Frame]]:
    """The loop's core: each frame through ``detector``, as a :class:`FrameResult`.

    Every front end (:class:`PoseStream`, ``batch``'s worker, the server's upload jobs)
    builds its results here, so they agree field for field.

    Args:
        detector: An open detector; it is neither reset nor closed here.
        frames: The source's frames, in order.
        static: Unrelated images: the detector gets no timestamps.
        video_name: ``FrameResult.source`` for frames that carry no file name of their own
            (an image's file name wins).
        keep_segmentation: False: drop the poses' masks (for callers that keep a whole
            video's results in memory and never write masks).
        before_frame: Called with each frame before the detector sees it (a caller's
            cancellation check or test hook; what it raises ends the loop).

    Yields:
        ``(result, frame)`` pairs, one per frame.
    """
    for frame in frames:
        if before_frame is not None:
            before_frame(frame)
        poses = detector.estimate_poses(
            frame.image_rgb, timestamp_ms=None if static else frame.timestamp_ms
        )
        if not keep_segmentation:
            poses = [pose.replace(segmentation=None) for pose in poses]
        height, width = frame.image_rgb.shape[:2]
        result = FrameResult(
            frame.index,
            frame.timestamp_ms,
            (width, height),
            tuple(poses),
            source=frame.source or video_name,
        )
        yield result, frame


def finish_results(
    results: Iterable[FrameResult],
    *,
    smoothing: Smoothing,
    camera: CameraSpec | None,
    static: bool = False,
) -> Iterator[FrameResult]:
    """What the loop does after the detector: offline smoothing, then camera space.

    ``smoothing="offline"`` reads every result before yielding the first. Camera-space
    depth is smoothed per track over time unless ``smoothing`` is ``"none"`` or the
    frames are unrelated images (``static``).

    Raises:
        ConfigError: The camera's matrix is for another frame size.
    """
    if smoothing == "offline":
        from hifipose.filters.offline import smooth_results

        results = smooth_results(list(results))
    smoother = None if static or smoothing == "none" else TranslationSmoother()
    for result in results:
        if camera is not None:
            yield to_camera_space(result, camera.for_size(*result.size_wh), smoother)
        else:
            yield result


class PoseStream:
    """The poses of every frame of a source: an iterator of :class:`FrameResult`.

    Also a context manager (see :func:`track`).

    Leaving the ``with`` block, :meth:`close`, reaching the end, an exception (Ctrl-C
    included) inside the loop, or dropping the stream releases the source (its decoding
    thread, file or camera) and the detector.

    Attributes:
        source: The opened source (:class:`~hifipose.io.sources.FrameSource` or
            :class:`ArraySource`): ``kind``, ``name``, ``fps``, ``skipped``...
        config: The detector's options, as given, with ``static_image_mode`` and
            ``enable_smoothing`` resolved from the source and ``smoothing``.
        run: The run options.
        camera: The camera the results are placed in, or None.
    """

    def __init__(
        self, source: object, options: Mapping[str, Any], *, decode_threads: int | None = None
    ) -> None:
        """Open the source and check the options; the detector opens in :meth:`open_detector`.

        ``decode_threads``: FFmpeg's decoding threads for a video file (see
        :func:`~hifipose.io.sources.open_source`).
        """
        self._lock = threading.Lock()
        self._detector: PoseDetector | None = None
        self._iterator: Iterator[FrameResult] | None = None
        self._released = False
        detector_options, run_options = _split_options(options)
        self.run = RunOptions(**run_options)
        if "enable_smoothing" in detector_options and "smoothing" not in run_options:
            smoothing: Smoothing = "online" if detector_options["enable_smoothing"] else "none"
            self.run = dataclasses.replace(self.run, smoothing=smoothing)
        detector_options.setdefault("enable_smoothing", self.run.smoothing == "online")
        if detector_options["enable_smoothing"] != (self.run.smoothing == "online"):
            msg = f"enable_smoothing={detector_options['enable_smoothing']!r} contradicts "
            msg += f"smoothing={self.run.smoothing!r}"
            raise ConfigError(msg)
        self.camera = self.run.camera()
        self.source = _open_source(
            source, max_frames=self.run.max_frames, decode_threads=decode_threads
        )
        try:
            static = detector_options.setdefault(
                "static_image_mode", self.source.kind in _IMAGE_KINDS
            )
            if self.run.smoothing == "offline" and (static or self.source.kind == "camera"):
                msg = "smoothing='offline' needs a recorded video tracked in video mode"
                raise ConfigError(msg)
            self.config = DetectorConfig(**detector_options)
        except BaseException:
            self.source.close()
            raise

    @property
    def detector(self) -> PoseDetector:
        """The detector (opened by :meth:`open_detector`; :func:`track` opens it)."""
        if self._detector is None:
            msg = "the detector is not open: call open_detector() (track() does)"
            raise ConfigError(msg)
        return self._detector

    def open_detector(self) -> PoseDetector:
        """Create the detector from :attr:`config` (fetching model files if needed)."""
        from hifipose.api import detector_from_config

        if self._detector is None:
            self._detector = detector_from_config(self.config)
        return self._detector

    def frames(self) -> Iterator[tuple[FrameResult, Frame]]:
        """Each frame's result as the detector gives it, with the frame it came from.

        No offline smoothing and no camera space here (iterating the stream adds them);
        the source and the detector stay open at the end.
        """
        video_name = self.source.name if self.source.kind == "video" else None
        return estimate_frames(
            self.detector,
            self.source,
            static=self.config.static_image_mode,
            video_name=video_name,
        )

    def _results(self) -> Iterator[FrameResult]:
        try:
            yield from finish_results(
                (result for result, _ in self.frames()),
                smoothing=self.run.smoothing,
                camera=self.camera,
                static=self.config.static_image_mode,
            )
        finally:
            self._release()

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> FrameResult:
        if self._iterator is None:
            if self._released:
                raise StopIteration
            self.detector  # noqa: B018 - refuse before starting when it is not open
            self._iterator = self._results()
        return next(self._iterator)

    def _release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        try:
            if self._detector is not None:
                self._detector.close()
        finally:
            self.source.close()

    def close(self) -> None:
        """Stop, and release the source and the detector. Idempotent."""
        iterator, self._iterator = self._iterator, None
        try:
            if iterator is not None and hasattr(iterator, "close"):
                iterator.close()
        finally:
            self._release()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        if not getattr(self, "_released", True) and hasattr(self, "source"):
            self._release()


def track(source: object, **options: object) -> PoseStream:
    """Track the poses of every frame of ``source``; yield one :class:`FrameResult` per frame.

    Args:
        source: A video file, an image, a folder or glob of images, a webcam index, a
            stream URL OpenCV can open, or an iterable of HxWx3 uint8 RGB arrays
            (optionally ``(array, timestamp_ms)`` pairs).
        **options: Any field of :class:`~hifipose.config.DetectorConfig` (``model_type``,
            ``num_poses``, ``detect_every``...; named, defaulted and checked there) and of
            :class:`RunOptions` (``smoothing``, ``fov``, ``intrinsics``, ``max_frames``).
            ``static_image_mode`` defaults to True for images, False otherwise;
            ``enable_smoothing`` follows ``smoothing``.

    Returns:
        A :class:`PoseStream`: iterate it, ideally in a ``with`` block; it releases the
        source and the detector at the end, on an exception, or when closed.

    Raises:
        ConfigError: An unknown or invalid option.
        VideoReadError: The source cannot be opened (missing file, no camera, a URL
            OpenCV cannot open). While iterating: a frame that cannot be decoded.

    Example:
        >>> import hifipose
        >>> with hifipose.track("squat.mp4", model_type="lite") as results:  # doctest: +SKIP
        ...     for result in results:
        ...         print(result.index, len(result.poses))
    """
    stream = PoseStream(source, options)
    try:
        stream.open_detector()
    except BaseException:
        stream.close()
        raise
    return stream
