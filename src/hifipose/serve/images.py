"""Frame images for the live demo: size sniffing (before any decode), decoding, mask encoding.

Conventions:
    Sizes are ``(width, height)`` in pixels. Decoded frames are HxWx3 uint8 RGB.
"""

from __future__ import annotations

import base64
import struct
from typing import Final

import cv2
import numpy as np
from numpy.typing import NDArray

from hifipose.serve.protocol import ProtocolError

__all__ = [
    "MAX_FRAME_PIXELS",
    "MAX_FRAME_SIDE",
    "decode_frame",
    "encode_mask",
    "image_size_wh",
    "mask_size_wh",
]

MAX_FRAME_SIDE: Final = 4096
MAX_FRAME_PIXELS: Final = 4096 * 2304
MASK_MAX_SIDE: Final = 160
_JPEG_SOF: Final = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_NO_LENGTH: Final = frozenset({0x01, *range(0xD0, 0xD8)})


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _JPEG_NO_LENGTH:
            pos += 2
            continue
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if marker in _JPEG_SOF and pos + 9 <= len(data):
            height, width = struct.unpack_from(">HH", data, pos + 5)
            return int(width), int(height)
        if marker == 0xDA or length < 2:  # start of scan before any frame header
            return None
        pos += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    if len(data) < 30:
        return None
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack_from("<HH", data, 26)
        return int(width & 0x3FFF), int(height & 0x3FFF)
    if chunk == b"VP8L" and data[20] == 0x2F:
        (bits,) = struct.unpack_from("<I", data, 21)
        return int((bits & 0x3FFF) + 1), int(((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None


def image_size_wh(data: bytes) -> tuple[int, int]:
    """Read an encoded image's (width, height) from its header, without decoding it.

    Args:
        data: JPEG, PNG or WebP bytes.

    Returns:
        (width, height) in pixels.

    Raises:
        ProtocolError: ``undecodable_image`` for another format or a header that cannot be
            read.
    """
    size: tuple[int, int] | None = None
    if data[:3] == b"\xff\xd8\xff":
        size = _jpeg_size(data)
    elif data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack_from(">II", data, 16)
        size = (int(width), int(height))
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        size = _webp_size(data)
    else:
        raise ProtocolError("undecodable_image", "frames must be JPEG, PNG or WebP images")
    if size is None:
        raise ProtocolError("undecodable_image", "cannot read the image header (truncated?)")
    return size


def decode_frame(data: bytes) -> NDArray[np.uint8]:
    """Decode a client's frame into an RGB array, refusing oversized images before decoding.

    Args:
        data: JPEG, PNG or WebP bytes.

    Returns:
        HxWx3 uint8 RGB.

    Raises:
        ProtocolError: ``undecodable_image`` for an unknown format, a corrupt image, an empty
            one, or one larger than ``MAX_FRAME_SIDE`` / ``MAX_FRAME_PIXELS``.
    """
    width, height = image_size_wh(data)
    if min(width, height) < 1 or max(width, height) > MAX_FRAME_SIDE:
        msg = f"frame is {width}x{height} px; each side must be in [1, {MAX_FRAME_SIDE}]"
        raise ProtocolError("undecodable_image", msg)
    if width * height > MAX_FRAME_PIXELS:
        msg = f"frame is {width}x{height} px; at most {MAX_FRAME_PIXELS} pixels are accepted"
        raise ProtocolError("undecodable_image", msg)
    frame_bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if frame_bgr is None or frame_bgr.size == 0:
        raise ProtocolError("undecodable_image", "the image bytes are corrupt")
    return np.asarray(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def mask_size_wh(size_wh: tuple[int, int]) -> tuple[int, int]:
    """The (width, height) of the PNG mask for a frame: its aspect, longest side ≤ 160 px."""
    width, height = size_wh
    scale = min(1.0, MASK_MAX_SIDE / max(height, width))
    return (max(1, round(width * scale)), max(1, round(height * scale)))


def encode_mask(mask: NDArray[np.float32]) -> str:
    """Encode a [0, 1] person mask as a small grayscale PNG (:func:`mask_size_wh`), base64.

    A mask already at that size (read so with ``Pose.segmentation_at``) is not resized.
    """
    height, width = mask.shape[:2]
    size_wh = mask_size_wh((width, height))
    small = (
        mask
        if size_wh == (width, height)
        else cv2.resize(mask, size_wh, interpolation=cv2.INTER_AREA)
    )
    grey = np.clip(small * 255.0 + 0.5, 0, 255).astype(np.uint8)
    ok, png = cv2.imencode(".png", grey)
    if not ok:  # pragma: no cover - OpenCV always encodes a uint8 image
        msg = "cannot encode the segmentation mask"
        raise ProtocolError("inference_failed", msg)
    return base64.b64encode(png.tobytes()).decode("ascii")
