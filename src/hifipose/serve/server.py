"""Run the web demo on uvicorn: the listening socket first, then the server on it.

While it serves, the native libraries' own log lines (LiteRT's ``INFO: Created TensorFlow
Lite XNNPACK delegate for CPU.`` each time a stream loads a model, FFmpeg's ``[mjpeg @ 0x…]
overread`` while an upload decodes) are taken out of the process's stderr as they come: a
thread reads file descriptor 2 through a pipe, passes every other line on at once, and sends
the dropped ones to Python's logging at DEBUG level (``hifipose serve --debug`` shows them).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import ssl
import sys
import threading
from collections.abc import Iterator
from typing import Final

import uvicorn

from hifipose._native_logs import _NATIVE_LINE
from hifipose.errors import ConfigError
from hifipose.serve.app import create_app
from hifipose.serve.config import ServeConfig
from hifipose.serve.workers import limit_malloc_arenas

__all__ = ["native_log_lines_dropped", "open_listener", "run_server"]

logger = logging.getLogger(__name__)

#: Frames up to this many times the frame limit get an ``error`` reply; larger WebSocket
#: messages are refused by the protocol layer (close code 1009) before they are buffered.
WS_SIZE_FACTOR = 4
#: uvicorn's own lines (``WARNING:  Invalid HTTP request received.``): the level, a colon and
#: at least two spaces, where the native libraries write one.
_UVICORN_LINE: Final = re.compile(r"(TRACE|DEBUG|INFO|WARNING|ERROR|CRITICAL):  ")


def _is_native_line(line: str) -> bool:
    return bool(_NATIVE_LINE.match(line)) and not _UVICORN_LINE.match(line)


def _pass_on(raw: bytes, out_fd: int) -> None:
    line = raw.decode("utf-8", errors="replace")
    if _is_native_line(line):
        logger.debug("native log: %s", line)
        return
    with contextlib.suppress(OSError):
        os.write(out_fd, raw + b"\n")


def _pump_lines(read_fd: int, out_fd: int) -> None:
    """Copy lines from ``read_fd`` to ``out_fd`` until end of file, dropping native ones."""
    pending = b""
    try:
        while chunk := os.read(read_fd, 65536):
            *lines, pending = (pending + chunk).split(b"\n")
            for raw in lines:
                _pass_on(raw, out_fd)
    except OSError:
        pass
    finally:
        if pending:
            _pass_on(pending, out_fd)
        os.close(read_fd)


@contextlib.contextmanager
def native_log_lines_dropped() -> Iterator[None]:
    """Within the block, drop the native libraries' log lines written to stderr, as they come.

    File descriptor 2 becomes a pipe read by a thread, which writes every other line to the
    real stderr at once (a long-running server's warnings and tracebacks are not held back)
    and sends the dropped ones to this module's logger at DEBUG level. Where file descriptor
    2 cannot be redirected, the block runs unfiltered.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr
        yield
        return
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    pump = threading.Thread(
        target=_pump_lines, args=(read_fd, saved), name="hifipose-stderr", daemon=True
    )
    pump.start()
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        os.dup2(saved, 2)  # the pipe's last write end closes: the thread reads to its end
        pump.join(timeout=5)
        os.close(saved)


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
    config: ServeConfig,
    *,
    log_level: str = "warning",
    sock: socket.socket | None = None,
    quiet_native: bool = True,
) -> None:
    """Serve the demo until interrupted (Ctrl-C); blocks.

    glibc's malloc arenas are capped first (see :mod:`hifipose.serve.workers`), so the
    memory of closed streams goes back to the system.

    Args:
        config: Host, port, token, TLS files and limits.
        log_level: uvicorn's log level (``"warning"``, ``"info"``, ``"debug"``).
        sock: The socket from :func:`open_listener` (None: it is opened here).
        quiet_native: Drop the native libraries' log lines from stderr while serving
            (:func:`native_log_lines_dropped`).

    Raises:
        ConfigError: See :func:`open_listener`.
    """
    listener = sock if sock is not None else open_listener(config)
    with (
        contextlib.closing(listener),
        native_log_lines_dropped() if quiet_native else contextlib.nullcontext(),
    ):
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
