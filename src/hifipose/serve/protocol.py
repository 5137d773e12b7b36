"""The live-demo WebSocket protocol: message formats, parsing and validation (pure, no I/O).

Client → server:

* **Frame** (binary message): a 16-byte little-endian header, then the encoded image::

      bytes 0-3   magic b"HPF1"
      bytes 4-7   uint32 frame_id (chosen by the client; echoed back)
      bytes 8-15  float64 capture timestamp in milliseconds (used as ``timestamp_ms``),
                  in [0, 1e13]
      bytes 16-   a JPEG, PNG or WebP image (whatever OpenCV decodes), at most ``max_frame_bytes``

* **Control** (text message, a JSON object with a ``type``):
  ``{"type": "config", "model_type": "lite", "runtime": "litert", "smoothing": true,
  "segmentation": false, "num_poses": 1, "holistic": false}`` (every key but ``type`` optional) and
  ``{"type": "ping", "id": 7}``.

Server → client (text messages, JSON objects): ``hello`` (models, runtimes, limits, the
current config), ``config`` (a config was applied, with its load time), ``result`` (one
answered frame), ``dropped`` (a frame replaced by a newer one before it was processed),
``pong`` and ``error`` (``code`` + ``message``; the connection stays open, except after
``too_many_streams``, sent instead of ``hello`` when the server is full, then closed with
code 1013).

Conventions:
    Keypoints in a ``result`` are ``[x_px, y_px, visibility, presence]`` in pixels of the
    frame as decoded (origin top-left, y down); world keypoints are ``[x_m, y_m, z_m]``,
    origin between the hips. Times are milliseconds. Each pose carries its ``track_id``
    (the person's identity within the stream; ``null`` where the runtime gives none), and
    the poses come sorted by it. With Holistic on (``holistic``), each pose also has
    ``left_hand`` and ``right_hand`` (21 ``[x_px, y_px]`` in the hand model's order, or
    ``null`` when not found) and ``face`` (468 or 478 ``[x_px, y_px]``, or ``null``).
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np

from hifipose.errors import HifiposeError
from hifipose.pose import Pose

__all__ = [
    "FRAME_HEADER",
    "FRAME_MAGIC",
    "MAX_NUM_POSES",
    "MAX_TIMESTAMP_MS",
    "ConfigMessage",
    "FrameMessage",
    "PingMessage",
    "ProtocolError",
    "StreamOptions",
    "encode_frame",
    "error_message",
    "parse_binary",
    "parse_text",
    "result_message",
]

FRAME_MAGIC: Final = b"HPF1"
FRAME_HEADER: Final = struct.Struct("<4sId")
MAX_TEXT_BYTES: Final = 4096
MAX_FRAME_ID: Final = 2**32 - 1
#: Largest capture timestamp accepted (about 317 years of milliseconds): far beyond any
#: clock a page sends (``performance.now()``), far below where microseconds overflow.
MAX_TIMESTAMP_MS: Final = 1e13
#: Most people a live stream may track.
MAX_NUM_POSES: Final = 10

ErrorCode = Literal[
    "bad_json",
    "bad_message",
    "bad_frame",
    "frame_too_large",
    "undecodable_image",
    "bad_config",
    "config_failed",
    "inference_failed",
    "internal_error",
    "too_many_streams",
]


class ProtocolError(HifiposeError, ValueError):
    """A client message is malformed; ``code`` is the machine-readable reason.

    Args:
        code: One of the protocol's error codes (``bad_json``, ``bad_frame``, …).
        message: A sentence for people.
    """

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: ErrorCode = code


@dataclass(frozen=True, slots=True)
class StreamOptions:
    """The detector options a client may switch live.

    Attributes:
        model_type: ``"lite"``, ``"full"`` or ``"heavy"``.
        runtime: An installed runtime name.
        smoothing: Landmark smoothing on or off.
        segmentation: Person mask on or off.
        num_poses: Most people tracked, 1 to :data:`MAX_NUM_POSES`.
        holistic: Each person's hands and face too (Holistic) on or off.
    """

    model_type: str = "lite"
    runtime: str = "litert"
    smoothing: bool = True
    segmentation: bool = False
    num_poses: int = 1
    holistic: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the options as a JSON-ready dict."""
        return {
            "model_type": self.model_type,
            "runtime": self.runtime,
            "smoothing": self.smoothing,
            "segmentation": self.segmentation,
            "num_poses": self.num_poses,
            "holistic": self.holistic,
        }


@dataclass(frozen=True, slots=True)
class FrameMessage:
    """One frame from the client: its id, capture time and encoded image bytes."""

    frame_id: int
    timestamp_ms: float
    image: bytes


@dataclass(frozen=True, slots=True)
class ConfigMessage:
    """A request to switch detector options; None fields keep their current value."""

    model_type: str | None = None
    runtime: str | None = None
    smoothing: bool | None = None
    segmentation: bool | None = None
    num_poses: int | None = None
    holistic: bool | None = None

    def apply_to(self, options: StreamOptions) -> StreamOptions:
        """Return ``options`` with this message's fields replaced."""
        return StreamOptions(
            model_type=options.model_type if self.model_type is None else self.model_type,
            runtime=options.runtime if self.runtime is None else self.runtime,
            smoothing=options.smoothing if self.smoothing is None else self.smoothing,
            segmentation=options.segmentation if self.segmentation is None else self.segmentation,
            num_poses=options.num_poses if self.num_poses is None else self.num_poses,
            holistic=options.holistic if self.holistic is None else self.holistic,
        )


@dataclass(frozen=True, slots=True)
class PingMessage:
    """A ping; the server answers ``pong`` with the same id at once."""

    ping_id: int | float | str | None


def encode_frame(frame_id: int, timestamp_ms: float, image: bytes) -> bytes:
    """Build a binary frame message (what the page and the load test send).

    Raises:
        ProtocolError: ``frame_id`` does not fit in a uint32.
    """
    if not 0 <= frame_id <= MAX_FRAME_ID:
        raise ProtocolError("bad_frame", f"frame_id must be in [0, 2**32), got {frame_id}")
    return FRAME_HEADER.pack(FRAME_MAGIC, frame_id, float(timestamp_ms)) + image


def parse_binary(data: bytes, *, max_frame_bytes: int) -> FrameMessage:
    """Parse a binary frame message.

    Args:
        data: The whole WebSocket message.
        max_frame_bytes: The largest image payload accepted.

    Returns:
        The frame.

    Raises:
        ProtocolError: Too short, wrong magic, a timestamp that is not finite or not in
            ``[0, MAX_TIMESTAMP_MS]``, no image bytes, or an image larger than
            ``max_frame_bytes``.
    """
    if len(data) < FRAME_HEADER.size:
        msg = f"a frame message needs a {FRAME_HEADER.size}-byte header, got {len(data)} bytes"
        raise ProtocolError("bad_frame", msg)
    magic, frame_id, timestamp_ms = FRAME_HEADER.unpack_from(data)
    if magic != FRAME_MAGIC:
        msg = f"a frame message starts with {FRAME_MAGIC!r}, got {bytes(magic)!r}"
        raise ProtocolError("bad_frame", msg)
    if not math.isfinite(timestamp_ms):
        raise ProtocolError("bad_frame", f"timestamp_ms must be finite, got {timestamp_ms}")
    if not 0.0 <= timestamp_ms <= MAX_TIMESTAMP_MS:
        msg = f"timestamp_ms must be in [0, {MAX_TIMESTAMP_MS:.0e}] ms, got {timestamp_ms:.6g}"
        raise ProtocolError("bad_frame", msg)
    size = len(data) - FRAME_HEADER.size
    if size == 0:
        raise ProtocolError("bad_frame", f"frame {frame_id} has no image bytes")
    if size > max_frame_bytes:
        msg = f"frame {frame_id} is {size} bytes; the limit is {max_frame_bytes} bytes"
        raise ProtocolError("frame_too_large", msg)
    return FrameMessage(frame_id, timestamp_ms, bytes(data[FRAME_HEADER.size :]))


def _optional_bool(payload: dict[str, Any], key: str) -> bool | None:
    value = payload.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise ProtocolError("bad_config", f"{key} must be true or false, got {value!r}")


def _optional_choice(payload: dict[str, Any], key: str, choices: tuple[str, ...]) -> str | None:
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or value not in choices:
        msg = f"{key} must be one of {', '.join(choices)}; got {value!r}"
        raise ProtocolError("bad_config", msg)
    return value


def _optional_count(payload: dict[str, Any], key: str, most: int) -> int | None:
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise ProtocolError("bad_config", f"{key} must be an integer in [1, {most}], got {value!r}")
    return value


def parse_text(
    text: str, *, model_types: tuple[str, ...], runtimes: tuple[str, ...]
) -> ConfigMessage | PingMessage:
    """Parse a control message.

    Args:
        text: The WebSocket text message.
        model_types: Valid ``model_type`` values.
        runtimes: Valid ``runtime`` values (the installed ones).

    Returns:
        The parsed message.

    Raises:
        ProtocolError: Not JSON, not an object, an unknown ``type``, an unknown key, or a
            value outside its choices.
    """
    if len(text) > MAX_TEXT_BYTES:
        msg = f"control messages are at most {MAX_TEXT_BYTES} characters, got {len(text)}"
        raise ProtocolError("bad_message", msg)
    try:
        payload = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ProtocolError("bad_json", f"not valid JSON: {exc}") from exc
    if not isinstance(payload, dict):
        msg = f"a control message is a JSON object, got {type(payload).__name__}"
        raise ProtocolError("bad_message", msg)
    kind = payload.get("type")
    if kind == "ping":
        ping_id = payload.get("id")
        finite = not isinstance(ping_id, float) or math.isfinite(ping_id)
        if ping_id is not None and not (isinstance(ping_id, int | float | str) and finite):
            raise ProtocolError("bad_message", "ping id must be a finite number or a string")
        if isinstance(ping_id, str) and len(ping_id) > 64:
            raise ProtocolError("bad_message", "ping id strings are at most 64 characters")
        return PingMessage(ping_id)
    if kind == "config":
        known = {"type", "model_type", "runtime", "smoothing", "segmentation", "num_poses"}
        known.add("holistic")
        unknown = sorted(set(payload) - known)
        if unknown:
            msg = f"unknown config key(s) {', '.join(map(repr, unknown))}; known: {sorted(known)}"
            raise ProtocolError("bad_config", msg)
        return ConfigMessage(
            model_type=_optional_choice(payload, "model_type", model_types),
            runtime=_optional_choice(payload, "runtime", runtimes),
            smoothing=_optional_bool(payload, "smoothing"),
            segmentation=_optional_bool(payload, "segmentation"),
            num_poses=_optional_count(payload, "num_poses", MAX_NUM_POSES),
            holistic=_optional_bool(payload, "holistic"),
        )
    raise ProtocolError("bad_message", f"unknown message type {kind!r}; use 'config' or 'ping'")


def _rows(array: np.ndarray[Any, Any], decimals: int) -> list[list[float | None]]:
    """Rows of ``array`` rounded for JSON; a non-finite value becomes None (JSON null)."""
    values: list[list[float]] = np.round(array.astype(np.float64), decimals).tolist()
    return [[v if math.isfinite(v) else None for v in row] for row in values]


def _part_points(points: np.ndarray[Any, Any] | None) -> list[list[float | None]] | None:
    """A hand's or face's ``[x_px, y_px]`` rows (1 decimal), or None when not found."""
    return None if points is None else _rows(points[:, :2], 1)


def _pose_entry(pose: Pose) -> dict[str, Any]:
    """One pose of a ``result``; the Holistic parts only when the detector runs Holistic."""
    entry: dict[str, Any] = {
        "track_id": pose.track_id,
        "score": round(pose.score, 4),
        "keypoints": [
            [*xy, *vp]
            for xy, vp in zip(
                _rows(pose.image_array[:, :2], 1),
                _rows(pose.image_array[:, 3:5], 3),
                strict=True,
            )
        ],
        "world": _rows(pose.world_array_m, 4),
    }
    if pose.parts is not None:
        for name in ("left_hand", "right_hand", "face"):
            part = getattr(pose.parts, name)
            entry[name] = _part_points(None if part is None else part.image_array)
    return entry


def result_message(
    frame_id: int,
    *,
    timestamp_ms: float,
    size_wh: tuple[int, int],
    poses: list[Pose],
    inference_ms: float,
    server_time_ms: float,
    options: StreamOptions,
    detector_runs: int | None,
    mask_png_base64: str | None = None,
) -> dict[str, Any]:
    """Build the JSON-ready ``result`` message for one processed frame.

    Args:
        frame_id: The client's frame id, echoed back.
        timestamp_ms: The client's capture time, echoed back.
        size_wh: The decoded frame's (width, height).
        poses: The detector's poses (empty: no person).
        inference_ms: Time spent in ``estimate_poses``.
        server_time_ms: Time from receiving the frame to sending this result.
        options: The options the frame was processed with.
        detector_runs: How often this stream's detector has run the person detector (None
            when the runtime does not say).
        mask_png_base64: The people's segmentation mask (all poses' masks merged) as a
            base64 PNG, if requested.

    Returns:
        The message.
    """
    return {
        "type": "result",
        "frame_id": frame_id,
        "timestamp_ms": timestamp_ms,
        "width": size_wh[0],
        "height": size_wh[1],
        "poses": [_pose_entry(pose) for pose in poses],
        "mask_png": mask_png_base64,
        "inference_ms": round(inference_ms, 2),
        "server_time_ms": round(server_time_ms, 2),
        "config": options.to_dict(),
        "detector_runs": detector_runs,
    }


def error_message(code: ErrorCode, message: str, *, frame_id: int | None = None) -> dict[str, Any]:
    """Build an ``error`` message; the connection stays open after it."""
    return {"type": "error", "code": code, "message": message, "frame_id": frame_id}
