"""The live web demo behind ``hifipose serve``: webcam pose tracking in the browser.

Needs the ``serve`` extra (``pip install 'hifipose[serve]'``): Starlette, uvicorn and
websockets. :func:`create_app` builds the ASGI app; :func:`open_listener` binds its port and
:func:`run_server` serves it. :class:`ServeConfig` needs no extra (the command line reads
its tables to build ``serve``'s flags), so the app and the server load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hifipose.serve.config import ServeConfig, is_loopback_host

if TYPE_CHECKING:
    from hifipose.serve.app import create_app
    from hifipose.serve.server import open_listener, run_server

__all__ = ["ServeConfig", "create_app", "is_loopback_host", "open_listener", "run_server"]

_LAZY = {"create_app": "app", "open_listener": "server", "run_server": "server"}


def __getattr__(name: str) -> Any:  # noqa: ANN401 - the function asked for
    """Import the app and the server (the ``serve`` extra) when first asked for."""
    if name not in _LAZY:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
