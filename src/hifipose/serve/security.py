"""Request guards for the web demo: host, origin and token checks, and response headers.

* **Host**: without a token the server is loopback-only, and it answers only requests whose
  ``Host`` is a loopback name, so a web page on another site cannot reach it through DNS
  rebinding.
* **Origin**: a WebSocket handshake or a non-GET request that carries an ``Origin`` must
  come from the page's own origin (no cross-site WebSocket hijacking of the webcam stream,
  no cross-site uploads).
* **Token**: with a token, every request but the page's own static files (which hold no
  data) carries it as ``?token=`` or in the ``X-Hifipose-Token`` header; it is compared in
  constant time.
* Every HTTP response gets a strict Content-Security-Policy (the page loads nothing from
  elsewhere), ``nosniff``, ``no-referrer`` (the token may be in the URL) and ``no-store``.
"""

from __future__ import annotations

import hmac
import json
from typing import Final
from urllib.parse import parse_qs, urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hifipose.serve.config import is_loopback_host

__all__ = ["SECURITY_HEADERS", "GuardMiddleware"]

TOKEN_HEADER: Final = b"x-hifipose-token"
SECURITY_HEADERS: Final = (
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; "
        b"connect-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; "
        b"base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"x-frame-options", b"DENY"),
)
WS_POLICY_VIOLATION: Final = 1008
PUBLIC_PATHS: Final = frozenset({"/", "/static/app.js", "/static/style.css"})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


def _hostname(host_header: str) -> str:
    """The host part of a ``Host`` header value (``[::1]:8000`` → ``::1``)."""
    return urlsplit(f"//{host_header}").hostname or ""


class GuardMiddleware:
    """Pure ASGI middleware applying the module's checks to HTTP and WebSocket requests.

    Args:
        app: The application to guard.
        token: The shared secret, or None for a loopback-only server.
    """

    def __init__(self, app: ASGIApp, *, token: str | None) -> None:
        self.app = app
        self.token = token

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        """Why this request is refused, as (HTTP status, message), or None to let it through."""
        host = _header(scope, b"host") or ""
        if self.token is None and not is_loopback_host(_hostname(host)):
            return 421, f"this server answers only to a loopback Host, not {host!r}"
        origin = _header(scope, b"origin")
        checks_origin = scope["type"] == "websocket" or scope.get("method") not in {"GET", "HEAD"}
        if checks_origin and origin is not None and urlsplit(origin).netloc != host:
            return 403, f"cross-origin request from {origin!r} refused"
        public = scope["type"] == "http" and scope.get("path") in PUBLIC_PATHS
        if self.token is not None and not public:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            given = _header(scope, TOKEN_HEADER) or (query.get("token") or [""])[0]
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return 401, "missing or wrong token: open the URL that `hifipose serve` printed"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse or pass the request on; add the security headers to HTTP responses."""
        if scope["type"] not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        refused = self.refusal(scope)
        if refused is not None:
            status, message = refused
            if scope["type"] == "websocket":
                await receive()  # websocket.connect; closing before accept answers HTTP 403
                await send({"type": "websocket.close", "code": WS_POLICY_VIOLATION})
                return
            body = json.dumps({"error": message}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        *SECURITY_HEADERS,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {key.lower() for key, _ in message.get("headers", ())}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
