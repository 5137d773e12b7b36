"""The live web demo behind ``hifipose serve``: webcam pose tracking in the browser.

Needs the ``serve`` extra (``pip install 'hifipose[serve]'``): Starlette, uvicorn and
websockets. :func:`create_app` builds the ASGI app; :func:`open_listener` binds its port and
:func:`run_server` serves it.
"""

from __future__ import annotations

from hifipose.serve.app import create_app
from hifipose.serve.config import ServeConfig, is_loopback_host
from hifipose.serve.server import open_listener, run_server

__all__ = ["ServeConfig", "create_app", "is_loopback_host", "open_listener", "run_server"]
