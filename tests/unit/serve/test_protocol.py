"""The live protocol and the frame-image checks: pure functions, no models."""

from __future__ import annotations

import base64
import contextlib
import struct

import cv2
import numpy as np
import pytest

from hifipose.pose import Pose
from hifipose.serve.config import ServeConfig, is_loopback_host
from hifipose.serve.images import (
    MAX_FRAME_PIXELS,
    MAX_FRAME_SIDE,
    decode_frame,
    encode_mask,
    image_size_wh,
)
from hifipose.serve.protocol import (
    ConfigMessage,
    PingMessage,
    ProtocolError,
    StreamOptions,
    encode_frame,
    parse_binary,
    parse_text,
    result_message,
)

does_not_raise = contextlib.nullcontext
MODELS = ("lite", "full", "heavy")
RUNTIMES = ("litert",)


def test_frame_header_round_trip_pins_byte_order() -> None:
    data = encode_frame(0x01020304, 1234.5, b"IMG")
    assert data[:4] == b"HPF1"
    assert data[4:8] == b"\x04\x03\x02\x01"  # little-endian uint32
    assert struct.unpack("<d", data[8:16]) == (1234.5,)
    frame = parse_binary(data, max_frame_bytes=3)
    assert (frame.frame_id, frame.timestamp_ms, frame.image) == (0x01020304, 1234.5, b"IMG")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "bad_frame"),
        (b"HPF1" + bytes(11), "bad_frame"),
        (b"XXXX" + bytes(12) + b"img", "bad_frame"),
        (encode_frame(1, 0.0, b""), "bad_frame"),
        (encode_frame(1, float("inf"), b"img"), "bad_frame"),
        (encode_frame(1, 1e306, b"img"), "bad_frame"),  # finite, but no clock says so
        (encode_frame(1, 1.0000001e13, b"img"), "bad_frame"),
        (encode_frame(1, -1.0, b"img"), "bad_frame"),
        (encode_frame(1, 0.0, b"imgs"), "frame_too_large"),
    ],
)
def test_parse_binary_rejects(data: bytes, code: str) -> None:
    with pytest.raises(ProtocolError) as error:
        parse_binary(data, max_frame_bytes=3)
    assert error.value.code == code
    assert isinstance(error.value, ValueError)


def test_encode_frame_rejects_ids_outside_uint32() -> None:
    with pytest.raises(ProtocolError):
        encode_frame(2**32, 0.0, b"x")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"type": "ping"}', PingMessage(None)),
        ('{"type": "ping", "id": "a"}', PingMessage("a")),
        ('{"type": "config"}', ConfigMessage()),
        (
            '{"type": "config", "model_type": "heavy", "smoothing": false}',
            ConfigMessage(model_type="heavy", smoothing=False),
        ),
        ('{"type": "config", "num_poses": 3}', ConfigMessage(num_poses=3)),
        ('{"type": "config", "num_poses": 10}', ConfigMessage(num_poses=10)),
    ],
)
def test_parse_text_accepts(text: str, expected: object) -> None:
    assert parse_text(text, model_types=MODELS, runtimes=RUNTIMES) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("{", "bad_json"),
        ('"config"', "bad_message"),
        ('{"type": "config", "runtime": "torch"}', "bad_config"),  # not installed here
        ('{"type": "config", "segmentation": 1}', "bad_config"),
        ('{"type": "config", "model_dir": "/tmp"}', "bad_config"),
        ('{"type": "config", "num_poses": 0}', "bad_config"),
        ('{"type": "config", "num_poses": 11}', "bad_config"),
        ('{"type": "config", "num_poses": 2.0}', "bad_config"),
        ('{"type": "config", "num_poses": true}', "bad_config"),
        ('{"type": "config", "num_poses": "3"}', "bad_config"),
        ('{"type": "ping", "id": Infinity}', "bad_message"),
        ('{"type": "ping", "id": [1]}', "bad_message"),
        ("[" * 100_000, "bad_message"),  # over the size limit, never parsed
    ],
)
def test_parse_text_rejects(text: str, code: str) -> None:
    with pytest.raises(ProtocolError) as error:
        parse_text(text, model_types=MODELS, runtimes=RUNTIMES)
    assert error.value.code == code


def test_config_messages_merge_onto_current_options() -> None:
    current = StreamOptions(model_type="full", segmentation=True)
    merged = ConfigMessage(smoothing=False).apply_to(current)
    assert merged == StreamOptions(model_type="full", smoothing=False, segmentation=True)


def test_result_message_layout_and_non_finite_values() -> None:
    image = np.zeros((33, 5), np.float32)
    image[:, 0] = np.arange(33) + 0.04  # x: distinct from y, to pin the column order
    image[:, 1] = 100.0
    image[:, 3:5] = 0.9
    image[5, 0] = np.nan
    pose = Pose(image, np.full((33, 3), 0.25), score=0.8)
    message = result_message(
        7,
        timestamp_ms=1.0,
        size_wh=(640, 480),
        poses=[pose],
        inference_ms=3.333,
        server_time_ms=4.0,
        options=StreamOptions(),
        detector_runs=1,
    )
    keypoints = message["poses"][0]["keypoints"]
    assert keypoints[1] == [1.0, 100.0, 0.9, 0.9]
    assert keypoints[5][0] is None  # JSON null, never NaN (which browsers cannot parse)
    assert message["poses"][0]["world"][0] == [0.25, 0.25, 0.25]
    assert (message["width"], message["height"], message["inference_ms"]) == (640, 480, 3.33)


def test_parse_binary_accepts_the_timestamp_bounds() -> None:
    for timestamp_ms in (0.0, 1e13):
        frame = parse_binary(encode_frame(1, timestamp_ms, b"i"), max_frame_bytes=1)
        assert frame.timestamp_ms == timestamp_ms


def test_every_pose_carries_its_track_id_and_num_poses_is_echoed() -> None:
    def pose(x: float, track_id: int | None) -> Pose:
        image = np.zeros((33, 5), np.float32)
        image[:, 0], image[:, 3:5] = x, 0.9
        return Pose(image, np.zeros((33, 3)), score=0.8, track_id=track_id)

    message = result_message(
        1,
        timestamp_ms=0.0,
        size_wh=(640, 480),
        poses=[pose(10.0, 1), pose(200.0, 4), pose(300.0, None)],
        inference_ms=1.0,
        server_time_ms=1.0,
        options=StreamOptions(num_poses=3),
        detector_runs=1,
    )
    assert [p["track_id"] for p in message["poses"]] == [1, 4, None]
    assert [p["keypoints"][0][0] for p in message["poses"]] == [10.0, 200.0, 300.0]
    assert message["config"]["num_poses"] == 3
    merged = ConfigMessage(num_poses=2).apply_to(StreamOptions(model_type="full"))
    assert merged == StreamOptions(model_type="full", num_poses=2)


def _encoded(suffix: str, width: int, height: int) -> bytes:
    image = np.zeros((height, width, 3), np.uint8)
    image[:, : width // 2] = (0, 0, 255)  # left half red in BGR
    ok, data = cv2.imencode(suffix, image)
    assert ok
    return data.tobytes()


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp"])
def test_image_size_is_read_from_the_header(suffix: str) -> None:
    assert image_size_wh(_encoded(suffix, 96, 40)) == (96, 40)


def test_lossless_webp_header() -> None:
    data = cv2.imencode(".webp", np.zeros((21, 34, 3), np.uint8), [cv2.IMWRITE_WEBP_QUALITY, 101])
    assert image_size_wh(data[1].tobytes()) == (34, 21)


def test_decode_frame_returns_rgb() -> None:
    image = decode_frame(_encoded(".png", 8, 4))
    assert image.shape == (4, 8, 3)
    assert image[0, 0].tolist() == [255, 0, 0]  # red in RGB: channel order pinned


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"GIF89a" + bytes(20), "JPEG, PNG or WebP"),
        (b"\xff\xd8\xff\xe0\x00\x10", "header"),
        (b"\x89PNG\r\n\x1a\n" + bytes(4) + b"IHDR" + struct.pack(">II", 5000, 10), "each side"),
        (b"\x89PNG\r\n\x1a\n" + bytes(4) + b"IHDR" + struct.pack(">II", 4000, 4000), "pixels"),
        (_encoded(".png", 8, 8)[:40], "corrupt"),
    ],
)
def test_decode_frame_rejects(data: bytes, match: str) -> None:
    with pytest.raises(ProtocolError, match=match) as error:
        decode_frame(data)
    assert error.value.code == "undecodable_image"


def _png(width: int, height: int) -> bytes:
    ok, data = cv2.imencode(".png", np.zeros((height, width, 3), np.uint8))
    assert ok
    return data.tobytes()


@pytest.mark.parametrize(
    ("width", "height", "refused"),
    [
        (1, 1, None),
        (MAX_FRAME_SIDE, 1, None),  # a side exactly at the limit
        (1, MAX_FRAME_SIDE, None),
        (MAX_FRAME_SIDE + 1, 1, "each side"),
        (1, MAX_FRAME_SIDE + 1, "each side"),
        (MAX_FRAME_SIDE, MAX_FRAME_PIXELS // MAX_FRAME_SIDE, None),  # pixels exactly at it
        (MAX_FRAME_SIDE, MAX_FRAME_PIXELS // MAX_FRAME_SIDE + 1, "pixels"),
    ],
)
def test_frame_size_limits_hold_at_their_edge(width: int, height: int, refused: str | None) -> None:
    """Limits tested far above them only let an off-by-one through: here at and just past."""
    data = _png(width, height)
    if refused is None:
        assert decode_frame(data).shape == (height, width, 3)
    else:
        with pytest.raises(ProtocolError, match=refused) as error:
            decode_frame(data)
        assert error.value.code == "undecodable_image"
        assert f"{width}x{height}" in str(error.value)


def test_encode_mask_keeps_aspect_and_values() -> None:
    mask = np.zeros((480, 320), np.float32)
    mask[:, 160:] = 1.0
    png = cv2.imdecode(np.frombuffer(base64.b64decode(encode_mask(mask)), np.uint8), 0)
    assert png.shape == (160, 107)
    assert png[:, :50].max() == 0 and png[:, -50:].min() == 255


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),  # noqa: S104
        ("192.168.1.2", False),
        ("example.com", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({}, does_not_raise()),
        ({"host": "::", "token": "x" * 16}, does_not_raise()),
        ({"host": "0.0.0.0"}, pytest.raises(ValueError, match="token")),  # noqa: S104
        ({"token": "short"}, pytest.raises(ValueError, match="16")),
        ({"port": 70000}, pytest.raises(ValueError, match="port")),
        ({"max_frame_bytes": 0}, pytest.raises(ValueError, match="max_frame_bytes")),
        ({"max_sessions": True}, pytest.raises(ValueError, match="max_sessions")),
        ({"model_type": "huge"}, pytest.raises(ValueError, match="model_type")),
    ],
)
def test_serve_config_validation(
    options: dict[str, object], error: contextlib.AbstractContextManager[object]
) -> None:
    with error:
        ServeConfig(**options)  # type: ignore[arg-type]
