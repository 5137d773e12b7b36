"""A live session with a real detector survives any failure of a frame, typed or not."""

from __future__ import annotations

from typing import Any

import anyio

from hifipose.api import create_detector
from hifipose.detector import PoseDetector
from hifipose.serve.protocol import FrameMessage, StreamOptions
from hifipose.serve.sessions import SessionCounters, StreamSession
from hifipose.serve.workers import InferencePool
from tests.integration.serve.helpers import squat_jpegs


def lite_detector(options: StreamOptions) -> PoseDetector:
    return create_detector(model_type="lite", num_threads=1)


def test_a_frame_the_core_cannot_take_gets_an_error_and_the_session_goes_on() -> None:
    """A finite but huge timestamp that slips past the protocol (here: handed straight to the
    session) made the core raise an untyped OverflowError, which ended the connection. Now
    any exception from a frame is an ``error`` message for that frame, and the next frame is
    answered as usual."""
    jpeg = squat_jpegs()[0]
    messages: list[dict[str, Any]] = []

    async def scenario() -> None:
        pool = InferencePool(1)
        got = anyio.Event()

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)
            if message["type"] in {"result", "error"}:
                got.set()

        session = StreamSession(
            options=StreamOptions(model_type="lite"),
            factory=lite_detector,
            pool=pool,
            send=send,
            counters=SessionCounters(),
        )
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(session.run)
                for frame in (FrameMessage(1, 1e306, jpeg), FrameMessage(2, 40.0, jpeg)):
                    got = anyio.Event()
                    session.submit_frame(frame)
                    with anyio.fail_after(60):
                        await got.wait()
                group.cancel_scope.cancel()
        finally:
            pool.close()

    anyio.run(scenario)
    kinds = [(m["type"], m.get("frame_id")) for m in messages]
    assert kinds == [("config", None), ("error", 1), ("result", 2)], messages
    error = messages[1]
    # TimestampError from the core ("inference_failed") or an untyped one ("internal_error").
    assert error["code"] in {"inference_failed", "internal_error"}, error
    assert error["message"].startswith("frame 1: "), error
    assert len(messages[2]["poses"]) == 1
