"""Property-based fuzzing of the live WebSocket: whatever a client sends, the server answers.

Hypothesis generates text, binary and JSON messages: arbitrary text and bytes, JSON of any
shape, control messages with wrong option values, frames with broken headers, NaN, huge and
negative timestamps, and images that are junk, truncated or real. All of them go over ONE
connection to the real app (real detector). The properties, for every message:

* the server never raises (Starlette's test client would re-raise it here) and the
  connection stays open: a ping sent after the message is answered;
* the message gets exactly one answer: an ``error`` with a code and a sentence, or what a
  well-formed message gets (``pong``, ``config``, ``result``);
* no answer is an ``internal_error`` (an exception the server did not expect).

CI runs a few hundred examples; ``benchmarks/bench_serve_fuzz.py`` runs 10 000 or more
(``HIFIPOSE_FUZZ_EXAMPLES``) and prints the answers' tally.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections import Counter
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from hifipose.serve import ServeConfig, create_app
from hifipose.serve.protocol import FRAME_HEADER, FRAME_MAGIC
from tests.integration.serve.helpers import squat_jpegs

EXAMPLES = int(os.environ.get("HIFIPOSE_FUZZ_EXAMPLES", "300"))
REPORT_PATH = os.environ.get("HIFIPOSE_FUZZ_REPORT")
MAX_FRAME_BYTES = 64 * 1024
#: Messages read while waiting for one answer before the test gives up on it.
MAX_MESSAGES = 50

# ---- strategies -------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
option_keys = st.sampled_from(
    ["model_type", "runtime", "smoothing", "segmentation", "num_poses", "path", "type", ""]
)
# Mostly wrong values; a few valid ones, so that switches (and failed switches) happen too.
option_values = (
    json_values
    | st.sampled_from(["lite", "litert", "huge", "LITE", "tensorrt", "../../etc", ""])
    | st.sampled_from([True, False, 1, 2, 0, -1, 11, 1.5, 3.0, "3", None])
)
control = st.fixed_dictionaries(
    {
        "type": st.integers(0, 4).flatmap(
            lambda pick: (
                json_scalars
                if pick == 0
                else st.sampled_from(["config"] * 4 + ["ping", "Config", "shutdown", ""])
            )
        )
    },
    optional={"id": json_values},
).flatmap(
    lambda base: st.dictionaries(option_keys, option_values, max_size=4).map(
        lambda extra: {**extra, **base}
    )
)


def _dumps(value: object) -> str:
    return json.dumps(value, allow_nan=True)


text_messages = st.sampled_from(["text", "json", "control", "control", "broken", "long"]).flatmap(
    lambda kind: {
        "text": st.text(max_size=200),
        "json": json_values.map(_dumps),
        "control": control.map(_dumps),
        "broken": st.text(max_size=20).map(lambda t: '{"type": "config", ' + t),
        "long": st.integers(4000, 6000).map(lambda n: '{"x": "' + "a" * n + '"}'),
    }[kind]
)

timestamps = (
    st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([1e306, -1e306, 1e13, 1.0000001e13, -0.0, -5.0, 5e-324, math.nan])
    | st.floats(min_value=0, max_value=1e6)
)
SOF_HUGE = b"\xff\xd8\xff\xc0\x00\x11\x08" + (20000).to_bytes(2, "big") * 2 + bytes(10)


@st.composite
def images(draw: st.DrawFn) -> bytes:
    """A frame's image: a real JPEG of the squat clip, or one broken in some way."""
    jpegs = squat_jpegs()
    jpeg = jpegs[draw(st.integers(0, len(jpegs) - 1))]
    at = draw(st.integers(1, len(jpeg) - 1))
    variants = {
        "real": lambda: jpeg,
        "truncated": lambda: jpeg[:at],
        "flipped": lambda: jpeg[:at] + bytes([jpeg[at] ^ 0xFF]) + jpeg[at + 1 :],
        "huge": lambda: SOF_HUGE,
        "png": lambda: b"\x89PNG\r\n\x1a\n" + draw(st.binary(max_size=64)),
        "big": lambda: jpeg + bytes(MAX_FRAME_BYTES),
        "junk": lambda: draw(st.binary(max_size=300)),
    }
    return variants[draw(st.sampled_from(["real"] * 4 + sorted(variants)))]()


@st.composite
def frames(draw: st.DrawFn) -> bytes:
    magic = draw(st.sampled_from([FRAME_MAGIC] * 6 + [b"HPF2", b"\x00\x00\x00\x00"]))
    frame_id = draw(st.integers(0, 2**32 - 1))
    header = FRAME_HEADER.pack(magic, frame_id, draw(timestamps))
    return header[: draw(st.sampled_from([16] * 6 + [0, 4, 8, 15]))] + draw(images())


# 40 % frames (most with a well-formed header), the rest text of every kind and raw bytes.
messages = st.integers(0, 9).flatmap(
    lambda pick: frames() if pick < 4 else st.binary(max_size=200) if pick == 9 else text_messages
)

# ---- the property -----------------------------------------------------------------------

ANSWERS: Counter[str] = Counter()
PING_IDS = count(1)


def receive(ws: Any) -> dict[str, Any]:
    message = ws.receive_json()
    assert message.get("type") != "error" or (message["code"] and message["message"]), message
    assert message.get("code") != "internal_error", message
    return message


def check_answered(ws: Any, sent: bytes | str) -> str:
    """Send ``sent`` and a ping; return the one answer ``sent`` got (type or error code)."""
    if isinstance(sent, bytes):
        ws.send_bytes(sent)
    else:
        ws.send_text(sent)
    ping_id = f"fuzz-{next(PING_IDS)}"
    ws.send_text(json.dumps({"type": "ping", "id": ping_id}))
    answers: list[dict[str, Any]] = []
    for _ in range(MAX_MESSAGES):
        message = receive(ws)
        if message == {"type": "pong", "id": ping_id}:
            break
        answers.append(message)
    else:
        pytest.fail(f"no pong after {MAX_MESSAGES} messages: the connection is stuck")
    if not answers:  # well-formed so far: the answer is deferred (a frame or a switch)
        frame_id = struct.unpack_from("<I", sent, 4)[0] if isinstance(sent, bytes) else None
        for _ in range(MAX_MESSAGES):
            message = receive(ws)
            if isinstance(sent, bytes) and message.get("frame_id") == frame_id:
                answers.append(message)
                break
            if isinstance(sent, str) and message["type"] in {"config", "error"}:
                answers.append(message)
                break
    assert len(answers) == 1, (sent[:200], answers)
    (answer,) = answers
    kind = answer["type"]
    assert kind in {"error", "pong", "config", "result"}, answer
    return f"error:{answer['code']}" if kind == "error" else kind


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    work = tmp_path_factory.mktemp("fuzz")
    config = ServeConfig(work_dir=work, max_frame_bytes=MAX_FRAME_BYTES)
    with (
        TestClient(create_app(config), base_url="http://127.0.0.1:8000") as client,
        client.websocket_connect("ws://127.0.0.1:8000/ws") as ws,
    ):
        assert ws.receive_json()["type"] == "hello"
        assert ws.receive_json()["type"] == "config"
        yield ws
    if REPORT_PATH:
        Path(REPORT_PATH).write_text(json.dumps(dict(ANSWERS.most_common()), indent=2))


def test_every_message_is_answered_and_the_connection_stays_open(stream: Any) -> None:
    """The property over ``EXAMPLES`` messages; then, that they hit every kind of refusal.

    One test, not two: a check that reads what another test gathered passes or skips by
    the order the tests run in.
    """

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(message=messages)
    def answered(message: bytes | str) -> None:
        ANSWERS[check_answered(stream, message)] += 1

    answered()
    assert sum(ANSWERS.values()) >= min(EXAMPLES, 100), ANSWERS
    for code in ("bad_json", "bad_message", "bad_config", "bad_frame", "undecodable_image"):
        assert ANSWERS[f"error:{code}"] > 0, (code, ANSWERS)


# ---- the upload API ---------------------------------------------------------------------

UPLOAD_LIMIT = 4096
query_keys = st.sampled_from(
    ["suffix", "model_type", "runtime", "smoothing", "segmentation", "num_poses", "other"]
)
query_values = st.text(max_size=24) | st.sampled_from(
    [".mp4", ".JPG", "mp4", ".gif", "../x.mp4", "lite", "litert", "1", "0", "3", "11", "-1", ""]
)
upload_bodies = st.sampled_from(["junk", "empty", "gif", "over"]).flatmap(
    lambda kind: {
        "junk": st.binary(min_size=1, max_size=200),
        "empty": st.just(b""),
        "gif": st.binary(max_size=40).map(lambda tail: b"GIF89a" + tail),
        "over": st.integers(UPLOAD_LIMIT + 1, UPLOAD_LIMIT + 64).map(bytes),
    }[kind]
)


@pytest.fixture(scope="module")
def uploads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    work = tmp_path_factory.mktemp("fuzz-uploads")
    config = ServeConfig(work_dir=work, max_upload_bytes=UPLOAD_LIMIT, max_jobs=4)
    with TestClient(create_app(config), base_url="http://127.0.0.1:8000") as client:
        yield client, work


def test_every_upload_request_gets_a_typed_answer_and_refusals_leave_nothing(
    uploads: tuple[TestClient, Path],
) -> None:
    """Random query strings and bodies to ``POST /api/jobs``: every answer is 202 or a 4xx
    with a one-line ``error`` (never a 500), and the server keeps a folder for accepted jobs
    only."""
    client, work = uploads
    statuses: Counter[int] = Counter()

    @settings(
        max_examples=min(EXAMPLES, 150),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(query=st.dictionaries(query_keys, query_values, max_size=6), body=upload_bodies)
    @example(query={"suffix": ".mp4"}, body=b"not a video")  # accepted (then fails to track)
    @example(query={"suffix": ".mp4"}, body=bytes(UPLOAD_LIMIT + 1))
    @example(query={"suffix": ".exe"}, body=b"x")
    def answered(query: dict[str, str], body: bytes) -> None:
        response = client.post("/api/jobs", params=query, content=body)
        statuses[response.status_code] += 1
        answer = response.json()
        if response.status_code == 202:
            assert len(answer["job_id"]) == 32 and answer["state"] == "queued", answer
            assert 0 < len(body) <= UPLOAD_LIMIT, len(body)
        else:
            assert response.status_code in {400, 413, 429}, (response.status_code, answer)
            assert answer["error"] and "\n" not in answer["error"], answer
        (root,) = work.iterdir()
        folders = {p.name for p in root.iterdir()}
        assert len(folders) <= 4, folders  # max_jobs: old finished jobs make room
        for job_id in folders:
            assert client.get(f"/api/jobs/{job_id}").status_code == 200, job_id

    answered()
    assert statuses[202] and statuses[400] and statuses[413], statuses
