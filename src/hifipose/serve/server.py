"""Run the web demo on uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from hifipose.serve.app import create_app
from hifipose.serve.config import ServeConfig

__all__ = ["run_server"]

logger = logging.getLogger(__name__)

#: Frames up to this many times the frame limit get an ``error`` reply; larger WebSocket
#: messages are refused by the protocol layer (close code 1009) before they are buffered.
WS_SIZE_FACTOR = 4


def run_server(config: ServeConfig, *, log_level: str = "warning") -> None:
    """Serve the demo until interrupted (Ctrl-C); blocks.

    Args:
        config: Host, port, token and limits.
        log_level: uvicorn's log level (``"warning"``, ``"info"``, ``"debug"``).
    """
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            host=config.host,
            port=config.port,
            log_level=log_level,
            ws_max_size=WS_SIZE_FACTOR * config.max_frame_bytes + 64,
            timeout_graceful_shutdown=5,
            server_header=False,
        )
    )
    server.run()
