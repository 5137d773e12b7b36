"""⑨ Drawing poses on frames, and writing overlay videos or PNG sequences.

Conventions:
    Images are HxWx3 uint8 RGB; colours are RGB tuples. The drawing functions also draw on
    BGR images (``bgr=True``: the colours are swapped, every pixel is the RGB drawing's with
    its channels reversed), so an overlay can be drawn straight into the encoder's BGR frame.
    Keypoints are pixels of the frame.
    A keypoint is hidden when its visibility is below ``DrawStyle.min_visibility`` or its
    presence below 0.5 (MediaPipe's drawing rule); an edge is drawn only when both ends are
    shown. A pose with a ``track_id`` is drawn in that id's colour (:func:`track_colour`,
    the same in every frame) with the id written above it; one without keeps the
    left/right/middle colours.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from hifipose._publish import Publication, discard, publishing
from hifipose.errors import OutputError
from hifipose.io.writers.base import PublishOnSuccess
from hifipose.pose import Pose
from hifipose.topology import HAND_EDGES, SKELETON_EDGES, Kp, keypoint_side

__all__ = [
    "DEFAULT_STYLE",
    "Draw",
    "DrawStyle",
    "FrameSink",
    "OverlayVideoWriter",
    "PngSequenceWriter",
    "draw_poses",
    "open_renderer",
    "track_colour",
]

RGB = tuple[int, int, int]
MIN_PRESENCE = 0.5

#: Draws in place on a BGR frame (see :meth:`OverlayVideoWriter.write`).
Draw = Callable[[NDArray[np.uint8]], object]


@dataclass(frozen=True, slots=True)
class DrawStyle:
    """Colours and sizes for :func:`draw_poses`."""

    left_rgb: RGB = (255, 138, 0)
    right_rgb: RGB = (0, 217, 231)
    middle_rgb: RGB = (255, 255, 255)
    thickness: int = 2
    radius: int = 4
    min_visibility: float = 0.5
    mask_rgb: RGB = (80, 200, 120)
    mask_opacity: float = 0.4
    face_rgb: RGB = (224, 224, 224)


DEFAULT_STYLE = DrawStyle()
_SIDE = {kp: keypoint_side(kp) for kp in Kp}


#: Colours for track ids (Tableau 10, RGB), taken in turn: id 1 → the first.
TRACK_PALETTE: tuple[RGB, ...] = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (188, 189, 34),
    (23, 190, 207),
    (127, 127, 127),
)


def track_colour(track_id: int) -> RGB:
    """The colour of a track id: stable for the id, cycling through :data:`TRACK_PALETTE`."""
    return TRACK_PALETTE[(track_id - 1) % len(TRACK_PALETTE)]


def channels(rgb: RGB, *, bgr: bool) -> RGB:
    """``rgb`` as the channel triple of an RGB image, or of a BGR one (reversed)."""
    return (rgb[2], rgb[1], rgb[0]) if bgr else rgb


def _colour(style: DrawStyle, side: str, track_id: int | None = None) -> RGB:
    if track_id is not None:
        return track_colour(track_id)
    return {"left": style.left_rgb, "right": style.right_rgb}.get(side, style.middle_rgb)


def _tint(
    canvas: NDArray[np.uint8], mask: NDArray[np.float32], colour: RGB, opacity: float
) -> None:
    """Blend ``colour`` into ``canvas`` with weight ``mask * opacity``, in place.

    Each pixel becomes the blend rounded to the nearest level (up to float rounding). Only
    the box around the pixels whose weight is at least half a level (0.5/255) is touched:
    outside it the rounded blend is the pixel itself. At 1080p this is several times faster
    than blending the whole frame in float.
    """
    levels = cv2.convertScaleAbs(mask, alpha=255.0 * opacity)  # the weight in 1/255, rounded
    x, y, w, h = cv2.boundingRect(levels)
    if w == 0 or h == 0:
        return
    region = canvas[y : y + h, x : x + w]
    weight = np.ascontiguousarray(mask[y : y + h, x : x + w], np.float32) * np.float32(opacity)
    solid = np.empty_like(region)
    solid[:] = colour
    region[:] = cv2.blendLinear(region, solid, 1 - weight, weight)


def _label(canvas: NDArray[np.uint8], text: str, points: NDArray[np.int32], colour: RGB) -> None:
    """Write ``text`` above the topmost of ``points`` on a filled box of ``colour``."""
    scale = max(0.5, canvas.shape[0] / 900)
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    x = int(np.clip(points[:, 0].mean() - w / 2, 0, max(canvas.shape[1] - w - 6, 0)))
    y = int(np.clip(points[:, 1].min() - 10, h + base + 6, canvas.shape[0]))
    cv2.rectangle(canvas, (x, y - h - base - 6), (x + w + 6, y), colour, -1)
    cv2.putText(
        canvas,
        text,
        (x + 3, y - base - 3),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (0, 0, 0),
        2,
        cv2.LINE_AA,
    )


def draw_poses(
    image_rgb: NDArray[np.uint8],
    poses: Sequence[Pose],
    *,
    style: DrawStyle = DEFAULT_STYLE,
    out: NDArray[np.uint8] | None = None,
    segmentation: bool = False,
    caption: str | None = None,
    bgr: bool = False,
) -> NDArray[np.uint8]:
    """Draw the 35-edge skeleton of each pose, optionally a mask tint and a caption.

    With Holistic parts (``Pose.parts``) the hands are drawn as 21-point skeletons and the
    face as a light mesh of points.

    Args:
        image_rgb: The frame (not modified unless it is also ``out``).
        poses: The poses to draw.
        style: Colours and sizes.
        out: Draw into this array instead of a copy.
        segmentation: Tint each pose's mask, if it has one.
        caption: Text for a box in the top-left corner (e.g. model, runtime, FPS).
        bgr: The image (and ``out``) is BGR: draw the style's colours with their channels
            swapped, giving the RGB drawing's pixels in BGR order.

    Returns:
        The drawn image.
    """
    canvas = image_rgb.copy() if out is None else out
    for pose in poses:
        if segmentation:
            mask = pose.segmentation
            if mask is not None:
                _tint(canvas, mask, channels(style.mask_rgb, bgr=bgr), style.mask_opacity)
        array = pose.image_array
        shown = (
            (array[:, 3] >= style.min_visibility)
            & (array[:, 4] >= MIN_PRESENCE)
            & np.isfinite(array[:, :2]).all(1)
        )
        points = np.round(array[:, :2]).astype(np.int32)
        for start, end in SKELETON_EDGES:
            if shown[start] and shown[end]:
                side = _SIDE[start] if _SIDE[start] == _SIDE[end] else "middle"
                cv2.line(
                    canvas,
                    tuple(points[start].tolist()),
                    tuple(points[end].tolist()),
                    channels(_colour(style, side, pose.track_id), bgr=bgr),
                    style.thickness,
                    cv2.LINE_AA,
                )
        for kp in Kp:
            if shown[kp]:
                cv2.circle(
                    canvas,
                    tuple(points[kp].tolist()),
                    style.radius,
                    channels(_colour(style, _SIDE[kp], pose.track_id), bgr=bgr),
                    -1,
                    cv2.LINE_AA,
                )
        _draw_parts(canvas, pose, style, bgr=bgr)
        if pose.track_id is not None and shown.any():
            colour = channels(track_colour(pose.track_id), bgr=bgr)
            _label(canvas, str(pose.track_id), points[shown], colour)
    if caption:
        scale = max(0.4, canvas.shape[0] / 900)
        (w, h), base = cv2.getTextSize(caption, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        cv2.rectangle(canvas, (0, 0), (w + 12, h + base + 12), (0, 0, 0), -1)
        cv2.putText(
            canvas,
            caption,
            (6, h + 6),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            (255, 255, 255),
            1,
            cv2.LINE_AA,
        )
    return canvas


def _draw_parts(canvas: NDArray[np.uint8], pose: Pose, style: DrawStyle, *, bgr: bool) -> None:
    """Draw a pose's Holistic hands and face, where found.

    Hands as 21-point skeletons in their side's colour, the face as its points drawn as
    single pixels (a light mesh).
    """
    for side, hand in (("left", pose.left_hand), ("right", pose.right_hand)):
        if hand is None or not np.isfinite(hand.image_array[:, :2]).all():
            continue
        points = np.round(hand.image_array[:, :2]).astype(np.int32)
        colour = channels(_colour(style, side), bgr=bgr)
        for start, end in HAND_EDGES:
            cv2.line(
                canvas,
                tuple(points[start].tolist()),
                tuple(points[end].tolist()),
                colour,
                max(1, style.thickness // 2),
                cv2.LINE_AA,
            )
    face = pose.face
    if face is not None:
        xy = np.round(face.image_array[:, :2])
        xy = xy[np.isfinite(xy).all(1)].astype(np.int64)
        height, width = canvas.shape[:2]
        inside = (xy[:, 0] >= 0) & (xy[:, 0] < width) & (xy[:, 1] >= 0) & (xy[:, 1] < height)
        xy = xy[inside]
        canvas[xy[:, 1], xy[:, 0]] = channels(style.face_rgb, bgr=bgr)


def _to_bgr(image_rgb: NDArray[np.uint8], draw: Draw | None) -> NDArray[np.uint8]:
    """A BGR copy of ``image_rgb`` with ``draw`` applied to it."""
    canvas = np.asarray(cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR), np.uint8)
    if draw is not None:
        draw(canvas)
    return canvas


class FrameSink(Protocol):
    """Where rendered frames go."""

    path: Path

    def write(self, image_rgb: NDArray[np.uint8], draw: Draw | None = None) -> None:
        """Append one RGB frame, with ``draw`` applied to a BGR copy of it when given."""
        ...

    def close(self) -> None:
        """Finish and publish."""
        ...


class OverlayVideoWriter(PublishOnSuccess):
    """An mp4 (or avi) of rendered frames, written to a partial file and renamed on close.

    The partial file follows the writers' rule (see :mod:`hifipose.io.writers.base`); an
    exception deletes it.

    Frames are encoded on a background thread ("hifipose-encode"), so encoding overlaps the
    caller's inference instead of adding to it; given a ``draw`` function, the thread also
    draws the overlay (see :meth:`write`). The queue between them is bounded: ``write``
    waits when the encoder is ``queue_frames`` behind, so no frame is ever dropped and memory
    stays bounded; frames are encoded in the order written. An encoding error is raised, as an
    :class:`~hifipose.errors.OutputError`, by the next ``write`` or by ``close`` (which then
    publishes nothing).

    The writer keeps a reference to each frame until it is encoded: do not modify an array
    after passing it to ``write`` (:func:`draw_poses` returns a new array each time, and so
    does :func:`hifipose.io.sources.open_source` for each frame).

    Args:
        path: The final video path.
        fps: Frame rate (the input's).
        size_wh: Frame (width, height) (the input's).
        queue_frames: Frames that may wait for the encoder (at least 1).
    """

    def __init__(
        self, path: str | Path, fps: float, size_wh: tuple[int, int], *, queue_frames: int = 4
    ) -> None:
        self.path = Path(path)
        self.size_wh = size_wh
        if self.path.is_dir():
            msg = f"cannot write video {self.path}: it is a folder; give a file name"
            raise OutputError(msg)
        try:
            self._publication = Publication(self.path)
            self.partial = self._publication.partial
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from exc
        fourcc = cv2.VideoWriter.fourcc(*("mp4v" if self.path.suffix.lower() != ".avi" else "MJPG"))
        self._writer = cv2.VideoWriter(str(self.partial), fourcc, float(fps), size_wh)
        if not self._writer.isOpened():
            discard(self.partial)
            msg = f"cannot write video {self.path}: folder not writable or format unsupported"
            raise OutputError(msg)
        self._closed = False
        self._error: BaseException | None = None
        self._queue: queue.Queue[tuple[NDArray[np.uint8], Draw | None] | None] = queue.Queue(
            maxsize=max(1, queue_frames)
        )
        self._thread = threading.Thread(target=self._encode, name="hifipose-encode", daemon=True)
        self._thread.start()

    def write(self, image_rgb: NDArray[np.uint8], draw: Draw | None = None) -> None:
        """Queue one RGB frame of the writer's size for encoding (waits while the queue is full).

        Args:
            image_rgb: The frame; not modified, but kept until encoded (do not change it).
            draw: Called on the encoder thread with a BGR copy of the frame (the one colour
                conversion the encoder needs anyway), to draw the overlay into it in place
                (``draw_poses(canvas, poses, out=canvas, bgr=True)``). It runs after this
                call returns, so it must only read data nobody changes afterwards (poses
                are immutable). Without it the frame is encoded as it is.

        Raises:
            OutputError: The frame has another size, the writer is closed, or encoding (or
                drawing) an earlier frame failed.
        """
        if self._closed:
            msg = f"the overlay video {self.path} is closed"
            raise OutputError(msg)
        if image_rgb.shape[1::-1] != self.size_wh:
            msg = f"frame size {image_rgb.shape[1::-1]} differs from the video's {self.size_wh}"
            raise OutputError(msg)
        self._raise_encoding_error()
        self._queue.put((image_rgb, draw))

    def _encode(self) -> None:
        """The encoder thread: draw and encode queued frames in order until ``None``."""
        while (item := self._queue.get()) is not None:
            if self._error is None:  # after an error, keep draining so ``write`` never blocks
                try:
                    self._writer.write(_to_bgr(*item))
                except Exception as exc:  # noqa: BLE001 - handed to the caller's thread
                    self._error = exc

    def _raise_encoding_error(self) -> None:
        if self._error is not None:
            msg = f"encoding the overlay video {self.path} failed: {self._error}"
            raise OutputError(msg) from self._error

    def _finish(self) -> None:
        """Encode what is queued, stop the thread and release the encoder."""
        self._closed = True
        self._queue.put(None)
        self._thread.join()
        self._writer.release()

    def close(self) -> None:
        """Encode the queued frames, finish the video and rename it into place. Idempotent.

        Raises:
            OutputError: Encoding a frame failed; nothing is published.
        """
        if not self._closed:
            self._finish()
            self._raise_encoding_error()
            self._publication.publish()

    def abort(self) -> None:
        """Stop without publishing and delete the partial file."""
        if not self._closed:
            self._finish()
            discard(self.partial)


class PngSequenceWriter(PublishOnSuccess):
    """Rendered frames as ``frame_000000.png``, ``frame_000001.png``, … in a folder.

    Each PNG is published whole (:func:`hifipose._publish.publishing`).
    """

    def __init__(self, folder: str | Path) -> None:
        self.path = Path(folder)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create {self.path}: {exc.strerror or exc}") from exc
        self._index = 0

    def write(self, image_rgb: NDArray[np.uint8], draw: Draw | None = None) -> None:
        """Write the next frame as a PNG, with ``draw`` applied to its BGR copy when given."""
        target = self.path / f"frame_{self._index:06d}.png"
        try:
            with publishing(target) as partial:
                if not cv2.imwrite(str(partial), _to_bgr(image_rgb, draw)):
                    raise OSError("the PNG encoder failed")
        except OSError as exc:
            msg = f"cannot write {target}: {exc.strerror or exc}"
            raise OutputError(msg) from exc
        self._index += 1

    def close(self) -> None:
        """Nothing to finish: each PNG is complete when written."""

    def abort(self) -> None:
        """Nothing to undo: the PNGs written so far stay."""


def open_renderer(
    path: str | Path, fps: float, size_wh: tuple[int, int]
) -> OverlayVideoWriter | PngSequenceWriter:
    """An mp4/avi writer for a video suffix, else a folder of PNGs."""
    if Path(path).suffix.lower() in {".mp4", ".avi", ".mov", ".m4v"}:
        return OverlayVideoWriter(path, fps, size_wh)
    return PngSequenceWriter(path)
