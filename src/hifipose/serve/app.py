"""The ASGI app of ``hifipose serve``: the page, the live WebSocket and the upload jobs.

Routes:
    ``GET /``: the page (``static/index.html``); ``GET /static/app.js``, ``/static/style.css``.
    ``GET /api/info``: version, model types, runtimes, limits and live counters.
    ``GET /healthz``: a cheap liveness answer (the load test times it).
    ``WS /ws``: the live stream (see :mod:`hifipose.serve.protocol`).
    ``POST /api/jobs?suffix=.mp4&model_type=…&runtime=…&smoothing=1&segmentation=0&num_poses=1``
    (and ``&holistic=1`` for hands and face): the raw video as the body; answers the
    job's status. ``GET /api/jobs/{id}``: its status.
    ``GET /api/jobs/{id}/files/{kind}``: ``kind`` is ``jsonl``, ``csv``, ``parquet`` or
    ``overlay``.

Static files are read from the package once, into memory, and served from a fixed table:
no part of a URL ever becomes a file path.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.resources
import importlib.util
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any, Final, cast

import anyio
import anyio.abc
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from hifipose._version import __version__
from hifipose.api import available_runtimes, detector_from_config, list_models
from hifipose.config import ModelType, RuntimeName
from hifipose.detector import PoseDetector
from hifipose.errors import ConfigError
from hifipose.serve.config import ServeConfig
from hifipose.serve.jobs import OUTPUTS, JobError, JobManager
from hifipose.serve.protocol import (
    MAX_NUM_POSES,
    ConfigMessage,
    PingMessage,
    ProtocolError,
    StreamOptions,
    error_message,
    parse_binary,
    parse_text,
)
from hifipose.serve.security import GuardMiddleware
from hifipose.serve.sessions import DetectorFactory, Send, SessionCounters, StreamSession
from hifipose.serve.workers import InferencePool
from hifipose.topology import HAND_EDGES, KEYPOINT_NAMES, SKELETON_EDGES, Kp, keypoint_side

__all__ = ["create_app"]

logger = logging.getLogger(__name__)

STATIC_FILES: Final = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
WS_TRY_AGAIN_LATER: Final = 1013
WS_INTERNAL_ERROR: Final = 1011
#: How long a new live stream waits for a slot when all ``max_sessions`` are taken, before
#: it is told ``too_many_streams``: a reloaded page (or a client reconnecting) opens its new
#: socket while the server may not yet have seen the old one close.
SLOT_WAIT_S: Final = 2.0
SLOT_POLL_S: Final = 0.02


def _load_static() -> dict[str, bytes]:
    folder = importlib.resources.files("hifipose.serve") / "static"
    return {name: (folder / name).read_bytes() for name in STATIC_FILES}


def _detector_factory(config: ServeConfig) -> DetectorFactory:
    def factory(options: StreamOptions) -> PoseDetector:
        chosen = dataclasses.replace(
            config.detector,
            model_type=cast(ModelType, options.model_type),
            runtime=cast(RuntimeName, options.runtime),
            enable_smoothing=options.smoothing,
            enable_segmentation=options.segmentation,
            num_poses=options.num_poses,
            holistic=options.holistic,
            num_threads=1,  # the inference pool provides the parallelism
        )
        return detector_from_config(chosen)

    return factory


def _flag(value: str | None, name: str, default: bool) -> bool:
    if value is None:
        return default
    if value.lower() in {"1", "true", "on", "yes"}:
        return True
    if value.lower() in {"0", "false", "off", "no"}:
        return False
    raise JobError(400, f"{name} must be 1 or 0, got {value[:16]!r}")


def _count(value: str | None, name: str, default: int) -> int:
    if value is None:
        return default
    if not value.isdigit() or not 1 <= int(value) <= MAX_NUM_POSES:
        raise JobError(
            400, f"{name} must be an integer in [1, {MAX_NUM_POSES}], got {value[:16]!r}"
        )
    return int(value)


class _DemoApp:
    """The app's shared state and its request handlers (one instance per ``create_app``)."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.static = _load_static()
        self.models = tuple(list_models())
        self.runtimes = tuple(available_runtimes())
        self.factory = _detector_factory(config)
        self.counters = SessionCounters()
        self.pool = InferencePool(config.inference_workers)
        self.parquet = importlib.util.find_spec("pyarrow") is not None
        if config.runtime not in self.runtimes:
            msg = f"runtime {config.runtime!r} is not installed; installed: {self.runtimes}"
            raise ConfigError(msg)
        self.default_options = StreamOptions(
            model_type=config.model_type, runtime=config.runtime, num_poses=config.num_poses
        )
        self.limits = {
            "max_frame_bytes": config.max_frame_bytes,
            "max_upload_bytes": config.max_upload_bytes,
            "max_sessions": config.max_sessions,
            "inference_workers": config.inference_workers,
            "max_job_frames": config.max_job_frames,
            "max_num_poses": MAX_NUM_POSES,
        }
        self.topology = {
            "names": list(KEYPOINT_NAMES),
            "edges": [[int(a), int(b)] for a, b in SKELETON_EDGES],
            "hand_edges": [[a, b] for a, b in HAND_EDGES],
            "sides": [keypoint_side(kp) for kp in Kp],
        }
        self.jobs: JobManager | None = None
        self.group: anyio.abc.TaskGroup | None = None

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        """Own the upload jobs: a temporary folder and a task group, both gone at exit."""
        jobs = JobManager(
            factory=self.factory,
            max_jobs=self.config.max_jobs,
            max_upload_bytes=self.config.max_upload_bytes,
            max_frames=self.config.max_job_frames,
            parquet=self.parquet,
            work_dir=self.config.work_dir,
        )
        try:
            async with anyio.create_task_group() as group:
                self.jobs, self.group = jobs, group
                yield
                jobs.cancel_all()  # each running job stops at its next frame
        finally:
            jobs.close()
            self.jobs = self.group = None
            self.pool.close()

    # ---- HTTP ---------------------------------------------------------------------------
    def _page(self, name: str) -> Response:
        return Response(self.static[name], media_type=STATIC_FILES[name])

    async def index(self, request: Request) -> Response:
        """The page."""
        return self._page("index.html")

    async def app_js(self, request: Request) -> Response:
        """The page's script."""
        return self._page("app.js")

    async def style_css(self, request: Request) -> Response:
        """The page's style sheet."""
        return self._page("style.css")

    async def healthz(self, request: Request) -> Response:
        """A cheap answer: the event loop is alive."""
        return JSONResponse({"ok": True})

    async def info(self, request: Request) -> Response:
        """Version, choices, limits and live counters."""
        counters = self.counters
        return JSONResponse(
            {
                "version": __version__,
                "models": list(self.models),
                "runtimes": list(self.runtimes),
                "default": self.default_options.to_dict(),
                "limits": self.limits,
                "parquet": self.parquet,
                "sessions": counters.sessions,
                "open_detectors": counters.open_detectors,
                "frames_received": counters.frames_received,
                "frames_answered": counters.frames_answered,
                "frames_dropped": counters.frames_dropped,
                "jobs": 0 if self.jobs is None else len(self.jobs),
            }
        )

    def _job_options(self, request: Request) -> StreamOptions:
        query = request.query_params
        options = StreamOptions(
            model_type=query.get("model_type", self.config.model_type),
            runtime=query.get("runtime", self.config.runtime),
            smoothing=_flag(query.get("smoothing"), "smoothing", default=True),
            segmentation=_flag(query.get("segmentation"), "segmentation", default=False),
            num_poses=_count(query.get("num_poses"), "num_poses", default=self.config.num_poses),
            holistic=_flag(query.get("holistic"), "holistic", default=False),
        )
        if options.model_type not in self.models:
            raise JobError(400, f"model_type must be one of {', '.join(self.models)}")
        if options.runtime not in self.runtimes:
            raise JobError(400, f"runtime must be one of {', '.join(self.runtimes)}")
        return options

    async def create_job(self, request: Request) -> Response:
        """Store the uploaded video (the raw body) and start tracking it."""
        jobs, group = self.jobs, self.group
        if jobs is None or group is None:
            return JSONResponse({"error": "the server is shutting down"}, status_code=503)
        try:
            length_header = request.headers.get("content-length")
            try:
                content_length = int(length_header) if length_header is not None else None
            except ValueError as exc:
                raise JobError(400, "Content-Length is not a number") from exc
            job = await jobs.receive(
                request.stream(),
                suffix=request.query_params.get("suffix", ""),
                options=self._job_options(request),
                content_length=content_length,
            )
        except JobError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        group.start_soon(jobs.run, job)
        return JSONResponse(job.to_dict(), status_code=202)

    async def job_status(self, request: Request) -> Response:
        """A job's state and progress."""
        job = self.jobs.get(request.path_params["job_id"]) if self.jobs is not None else None
        if job is None:
            return JSONResponse({"error": "no such job"}, status_code=404)
        return JSONResponse(job.to_dict())

    async def job_file(self, request: Request) -> Response:
        """Download one output of a finished job; the kind comes from a fixed table."""
        jobs = self.jobs
        job = jobs.get(request.path_params["job_id"]) if jobs is not None else None
        kind = request.path_params["kind"]
        path = jobs.output_path(job, kind) if jobs is not None and job is not None else None
        if job is None or path is None or not path.is_file():
            return JSONResponse({"error": "no such file (yet)"}, status_code=404)
        return FileResponse(path, filename=f"hifipose-{job.job_id[:8]}-{OUTPUTS[kind]}")

    # ---- WebSocket ----------------------------------------------------------------------
    async def _take_slot(self) -> bool:
        """Count a new live stream in one of ``max_sessions`` slots; False if none is free.

        When all are taken, waits up to :data:`SLOT_WAIT_S` for one to free up.
        """
        deadline = time.monotonic() + SLOT_WAIT_S
        while self.counters.sessions >= self.config.max_sessions:
            if time.monotonic() >= deadline:
                return False
            await anyio.sleep(SLOT_POLL_S)
        self.counters.sessions += 1  # no await since the check: no overshoot
        return True

    async def live(self, websocket: WebSocket) -> None:
        """One live stream: a session (and a detector) for as long as the socket is open.

        A stream holds one of ``max_sessions`` slots from its handshake until its socket
        closes; its detector is closed after that, without holding the slot (so a reloaded
        page gets its stream at once). When every slot is taken, a new connection waits up
        to :data:`SLOT_WAIT_S` for one, then is accepted only to say so: an ``error`` message
        with code ``too_many_streams``, then a close with code 1013 (try again later).
        """
        if not await self._take_slot():
            limit = self.config.max_sessions
            message = f"too many live streams: this server serves {limit} at once; try again later"
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                await websocket.accept()  # the client may have left while it waited
                await websocket.send_json(error_message("too_many_streams", message))
                await websocket.close(code=WS_TRY_AGAIN_LATER, reason="too many live streams")
            return
        holding = True

        def release_slot() -> None:
            nonlocal holding
            if holding:
                holding = False
                self.counters.sessions -= 1

        try:
            await websocket.accept()
            async with anyio.create_task_group() as group:
                send = _sender(websocket, group.cancel_scope)
                session = StreamSession(
                    options=self.default_options,
                    factory=self.factory,
                    pool=self.pool,
                    send=send,
                    counters=self.counters,
                )
                await send(
                    {
                        "type": "hello",
                        "version": __version__,
                        "models": list(self.models),
                        "runtimes": list(self.runtimes),
                        "config": self.default_options.to_dict(),
                        "limits": self.limits,
                        "topology": self.topology,
                    }
                )

                async def run_session() -> None:
                    await session.run()  # returns only if no detector could be loaded
                    with contextlib.suppress(RuntimeError, OSError):
                        await websocket.close(code=WS_INTERNAL_ERROR, reason="no detector")
                    group.cancel_scope.cancel()

                group.start_soon(run_session)
                await self._receive_loop(websocket, session, send)
                release_slot()  # the client has gone; its detector closes as the group ends
                group.cancel_scope.cancel()
        finally:
            release_slot()

    async def _receive_loop(self, websocket: WebSocket, session: StreamSession, send: Send) -> None:
        """Read client messages until the client leaves; answer bad ones with an ``error``."""
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                data = message.get("bytes")
                text = message.get("text")
                if data is not None:
                    frame = parse_binary(data, max_frame_bytes=self.config.max_frame_bytes)
                    replaced = session.submit_frame(frame)
                    if replaced is not None:
                        await send({"type": "dropped", "frame_id": replaced})
                elif text is not None:
                    parsed = parse_text(text, model_types=self.models, runtimes=self.runtimes)
                    if isinstance(parsed, PingMessage):
                        await send({"type": "pong", "id": parsed.ping_id})
                    elif isinstance(parsed, ConfigMessage):
                        session.request_config(parsed)
            except ProtocolError as exc:
                await send(error_message(exc.code, str(exc)))
            except Exception:  # a message must never end the connection
                logger.exception("a live-stream message failed unexpectedly")
                await send(error_message("internal_error", "an internal error (see the log)"))


def create_app(config: ServeConfig | None = None) -> Starlette:
    """Build the web demo's ASGI app.

    Args:
        config: Options and limits (the defaults of :class:`ServeConfig` when None).

    Returns:
        A Starlette app; serve it with uvicorn (``hifipose serve``) or test it with
        Starlette's ``TestClient`` used as a context manager (jobs need the lifespan). Its
        ``state.demo`` holds the live counters (``state.demo.counters``).
    """
    demo = _DemoApp(config or ServeConfig())
    routes = [
        Route("/", demo.index),
        Route("/static/app.js", demo.app_js),
        Route("/static/style.css", demo.style_css),
        Route("/healthz", demo.healthz),
        Route("/api/info", demo.info),
        Route("/api/jobs", demo.create_job, methods=["POST"]),
        Route("/api/jobs/{job_id:str}", demo.job_status),
        Route("/api/jobs/{job_id:str}/files/{kind:str}", demo.job_file),
        WebSocketRoute("/ws", demo.live),
    ]
    app = Starlette(routes=routes, lifespan=demo.lifespan)
    app.add_middleware(GuardMiddleware, token=demo.config.token)
    app.state.demo = demo
    return app


def _sender(websocket: WebSocket, scope: anyio.CancelScope) -> Send:
    """A send function for one connection: serialised, and quiet once the client has gone.

    A failed send (the client left) cancels ``scope``, which ends the connection's tasks and
    so closes its detector.
    """
    lock = anyio.Lock()

    async def send(message: dict[str, Any]) -> None:
        text = json.dumps(message, separators=(",", ":"))
        async with lock:
            if scope.cancel_called:
                return
            try:
                await websocket.send_text(text)
            except (WebSocketDisconnect, RuntimeError, OSError):
                scope.cancel()

    return send
