"""Live streams: one :class:`StreamSession` (and one detector) per WebSocket connection.

Each session keeps at most one pending frame. A frame that arrives while another is waiting
replaces it (the older one is reported as ``dropped``): the latest frame wins and nothing
queues up behind a slow model. Detectors are created, run and closed on the threads of one
:class:`~hifipose.serve.workers.InferencePool` shared by every session, so twenty clients
never run more than ``inference_workers`` models at once, the event loop stays free for
I/O, and memory freed by a closed stream goes back to the system.

A frame never ends a connection: a malformed one, a typed error from the detector and an
unexpected exception alike are answered with an ``error`` message (the last with a generic
text, its traceback in the server's log).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
import numpy as np

from hifipose.detector import PoseDetector
from hifipose.errors import HifiposeError
from hifipose.pose import Pose
from hifipose.serve.images import decode_frame, encode_mask, mask_size_wh
from hifipose.serve.protocol import (
    ConfigMessage,
    FrameMessage,
    ProtocolError,
    StreamOptions,
    error_message,
    result_message,
)
from hifipose.serve.workers import InferencePool, release_free_memory

__all__ = ["DetectorFactory", "Send", "SessionCounters", "StreamSession"]

logger = logging.getLogger(__name__)

Send = Callable[[dict[str, Any]], Awaitable[None]]


class DetectorFactory(Protocol):
    """Builds a fresh detector (with its own tracking state) for a set of stream options."""

    def __call__(self, options: StreamOptions) -> PoseDetector:
        """Create the detector; may raise any ``HifiposeError`` (e.g. a missing runtime)."""
        ...


@dataclass
class SessionCounters:
    """Live counts shared by every session of one app (reported by ``/api/info``)."""

    sessions: int = 0
    open_detectors: int = 0
    frames_received: int = 0
    frames_answered: int = 0
    frames_dropped: int = 0


@dataclass(frozen=True, slots=True)
class _Pending:
    frame: FrameMessage
    received_s: float


@dataclass(frozen=True, slots=True)
class _Processed:
    size_wh: tuple[int, int]
    poses: list[Pose]
    inference_ms: float
    mask_png: str | None
    detector_runs: int | None


def _close_and_trim(detector: PoseDetector) -> None:
    detector.close()
    release_free_memory()


class StreamSession:
    """One client's stream: its options, its detector and its latest pending frame.

    Only :meth:`run` (one task) touches the detector, so the detector is used by one
    thread at a time, as :class:`~hifipose.detector.PoseDetector` requires.

    Args:
        options: The options to start with.
        factory: Creates a detector for a set of options.
        pool: The worker threads shared by all sessions; every detector call runs there.
        send: Sends one JSON message to this client (serialised by the caller).
        counters: The app's shared counters.
    """

    def __init__(
        self,
        *,
        options: StreamOptions,
        factory: DetectorFactory,
        pool: InferencePool,
        send: Send,
        counters: SessionCounters,
    ) -> None:
        self.options = options
        self._factory = factory
        self._pool = pool
        self._send = send
        self._counters = counters
        self._detector: PoseDetector | None = None
        self._pending: _Pending | None = None
        self._pending_options: StreamOptions | None = None
        self._wake = anyio.Event()

    def submit_frame(self, frame: FrameMessage) -> int | None:
        """Make ``frame`` the next one to process; return the id of a frame it replaced."""
        self._counters.frames_received += 1
        replaced = self._pending
        self._pending = _Pending(frame, time.perf_counter())
        self._wake.set()
        if replaced is None:
            return None
        self._counters.frames_dropped += 1
        return replaced.frame.frame_id

    def request_config(self, message: ConfigMessage) -> None:
        """Switch options before the next frame; requests not yet applied are merged."""
        self._pending_options = message.apply_to(self._pending_options or self.options)
        self._wake.set()

    async def run(self) -> None:
        """Load the first detector, then process frames and option switches until cancelled.

        Returns early only when the first detector cannot be created (after sending an
        ``error``); the caller then closes the connection. The detector is closed on the
        way out, also on cancellation (the connection closed).
        """
        try:
            if not await self._switch(self.options):
                return
            while True:
                await self._wake.wait()
                self._wake = anyio.Event()
                if self._pending_options is not None:
                    options, self._pending_options = self._pending_options, None
                    await self._switch(options)
                pending, self._pending = self._pending, None
                if pending is not None:
                    await self._process(pending)
        finally:
            with anyio.CancelScope(shield=True):
                await self._close_detector()

    async def _close_detector(self) -> None:
        detector, self._detector = self._detector, None
        if detector is not None:
            await self._pool.run(_close_and_trim, detector)
            self._counters.open_detectors -= 1

    async def _switch(self, options: StreamOptions) -> bool:
        """Replace the detector with one for ``options``; False (and an error sent) on failure."""
        started = time.perf_counter()
        try:
            # Shielded: a connection closing mid-switch must not lose the new detector
            # before it is stored (and so closed by run()'s cleanup).
            with anyio.CancelScope(shield=True):
                detector = await self._pool.run(self._factory, options)
                self._counters.open_detectors += 1
                await self._close_detector()
                self._detector, self.options = detector, options
        except (HifiposeError, OSError) as exc:
            logger.info("detector for %s failed: %s", options, exc)
            message = f"cannot switch to {options.to_dict()}: {exc}"
            await self._send(error_message("config_failed", message))
            return False
        except Exception:
            logger.exception("detector for %s failed unexpectedly", options)
            message = f"cannot switch to {options.to_dict()}: an internal error (see the log)"
            await self._send(error_message("config_failed", message))
            return False
        load_ms = round(1e3 * (time.perf_counter() - started), 1)
        await self._send({"type": "config", "config": options.to_dict(), "load_ms": load_ms})
        return True

    def _work(self, detector: PoseDetector, frame: FrameMessage) -> _Processed:
        image_rgb = decode_frame(frame.image)
        started = time.perf_counter()
        poses = detector.estimate_poses(image_rgb, timestamp_ms=frame.timestamp_ms)
        inference_ms = 1e3 * (time.perf_counter() - started)
        size_wh = (image_rgb.shape[1], image_rgb.shape[0])
        # read each mask straight at the PNG's size, not at the frame's
        small = [pose.segmentation_at(mask_size_wh(size_wh)) for pose in poses]
        masks = [m for m in small if m is not None]
        mask = masks[0] if len(masks) == 1 else np.maximum.reduce(masks) if masks else None
        return _Processed(
            size_wh=size_wh,
            poses=poses,
            inference_ms=inference_ms,
            mask_png=encode_mask(mask) if mask is not None else None,
            detector_runs=detector.detector_runs,
        )

    async def _process(self, pending: _Pending) -> None:
        frame = pending.frame
        detector = self._detector
        if detector is None:  # only after a failed first load, which ends the session
            return
        try:
            done = await self._pool.run(self._work, detector, frame)
        except ProtocolError as exc:
            await self._send(error_message(exc.code, str(exc), frame_id=frame.frame_id))
            return
        except HifiposeError as exc:
            message = f"frame {frame.frame_id}: {exc}"
            await self._send(error_message("inference_failed", message, frame_id=frame.frame_id))
            return
        except Exception:
            logger.exception("frame %d of a live stream failed unexpectedly", frame.frame_id)
            message = f"frame {frame.frame_id}: an internal error (see the server's log)"
            await self._send(error_message("internal_error", message, frame_id=frame.frame_id))
            return
        self._counters.frames_answered += 1
        await self._send(
            result_message(
                frame.frame_id,
                timestamp_ms=frame.timestamp_ms,
                size_wh=done.size_wh,
                poses=done.poses,
                inference_ms=done.inference_ms,
                server_time_ms=1e3 * (time.perf_counter() - pending.received_s),
                options=self.options,
                detector_runs=done.detector_runs,
                mask_png_base64=done.mask_png,
            )
        )
