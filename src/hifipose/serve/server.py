"""Run the web demo on uvicorn: the listening socket first, then the server on it."""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl

import uvicorn

from hifipose.errors import ConfigError
from hifipose.serve.app import create_app
from hifipose.serve.config import ServeConfig
from hifipose.serve.workers import limit_malloc_arenas

__all__ = ["open_listener", "run_server"]

logger = logging.getLogger(__name__)

#: Frames up to this many times the frame limit get an ``error`` reply; larger WebSocket
#: messages are refused by the protocol layer (close code 1009) before they are buffered.
WS_SIZE_FACTOR = 4


def _check_tls(config: ServeConfig) -> None:
    if config.certfile is None or config.keyfile is None:
        return
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(config.certfile, config.keyfile)
    except (OSError, ssl.SSLError) as exc:
        msg = (
            f"cannot use --certfile {config.certfile} with --keyfile {config.keyfile}: "
            f"{getattr(exc, 'strerror', None) or exc}"
        )
        raise ConfigError(msg) from exc


def open_listener(config: ServeConfig) -> socket.socket:
    """Check the TLS files and bind the server's port, before anything is announced.

    Args:
        config: Host, port and TLS files.

    Returns:
        A bound socket (uvicorn listens on it); close it if the server is not started.

    Raises:
        ConfigError: The certificate or key cannot be loaded, the host is unknown, or the
            port cannot be bound (in use by another program, or not allowed).
    """
    _check_tls(config)
    host = config.host.strip("[]")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, config.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on {config.host!r}: {exc.strerror}") from exc
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6 and host == "::":
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        hint = "; is another server running there? choose another --port" if exc.errno else ""
        msg = f"cannot listen on {config.host} port {config.port}: {exc.strerror or exc}{hint}"
        raise ConfigError(msg) from exc
    sock.set_inheritable(True)
    return sock


def run_server(
    config: ServeConfig, *, log_level: str = "warning", sock: socket.socket | None = None
) -> None:
    """Serve the demo until interrupted (Ctrl-C); blocks.

    glibc's malloc arenas are capped first (see :mod:`hifipose.serve.workers`), so the
    memory of closed streams goes back to the system.

    Args:
        config: Host, port, token, TLS files and limits.
        log_level: uvicorn's log level (``"warning"``, ``"info"``, ``"debug"``).
        sock: The socket from :func:`open_listener` (None: it is opened here).

    Raises:
        ConfigError: See :func:`open_listener`.
    """
    listener = sock if sock is not None else open_listener(config)
    with contextlib.closing(listener):
        limit_malloc_arenas()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(config),
                host=config.host,
                port=config.port,
                log_level=log_level,
                ws_max_size=WS_SIZE_FACTOR * config.max_frame_bytes + 64,
                timeout_graceful_shutdown=5,
                server_header=False,
                ssl_certfile=None if config.certfile is None else str(config.certfile),
                ssl_keyfile=None if config.keyfile is None else str(config.keyfile),
            )
        )
        server.run(sockets=[listener])
