"""``hifipose serve``: the live web demo (webcam in the browser) on uvicorn."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from hifipose.cli._common import (
    add_detector_flag,
    add_detector_flags,
    add_model,
    add_model_dir,
    add_runtime,
    bounded_int,
    detector_options,
)
from hifipose.errors import ConfigError

if TYPE_CHECKING:
    from hifipose.serve import ServeConfig


def run(args: argparse.Namespace) -> int:
    """``hifipose serve``: the live web demo (webcam in the browser) on uvicorn."""
    import secrets

    from hifipose._optional import require

    for module in ("starlette", "uvicorn", "websockets"):
        require(module, extra="serve")
    from hifipose.api import available_runtimes
    from hifipose.serve import is_loopback_host, open_listener, run_server

    if args.runtime not in available_runtimes():
        msg = f"runtime {args.runtime!r} is not installed; installed: {available_runtimes()}"
        raise ConfigError(msg)

    token = args.token
    if token is None and not is_loopback_host(args.host):
        token = secrets.token_urlsafe(24)
        print(
            "\n" + "!" * 78 + f"\n!! WARNING: --host {args.host} exposes the demo (and the webcam "
            "frames sent to it)\n!! to your network. No --token was given, so this one was "
            f"generated:\n!!     {token}\n!! Anyone with the URL below can use the server. "
            "Browsers allow the camera only\n!! on localhost or over https (--certfile).\n"
            + "!"
            * 78,
            file=sys.stderr,
        )
    config = serve_config(args, token)
    listener = open_listener(config)  # a busy port or bad TLS files fail here, before the URL
    shown = "127.0.0.1" if args.host in {"0.0.0.0", "::"} else args.host  # noqa: S104
    shown = f"[{shown}]" if ":" in shown else shown
    query = f"?token={token}" if token else ""
    port = listener.getsockname()[1]  # the port bound: the system's pick for --port 0
    print(f"hifipose serve: open {config.scheme}://{shown}:{port}/{query}  (Ctrl-C stops)")
    loud = args.debug or args.verbose
    run_server(
        config, log_level="info" if args.debug else "warning", sock=listener, quiet_native=not loud
    )
    return 0


def serve_config(args: argparse.Namespace, token: str | None) -> ServeConfig:
    """``serve``'s flags as the server's configuration, with the ``token`` to require."""
    from hifipose.serve import ServeConfig

    return ServeConfig(
        host=args.host,
        port=args.port,
        token=token,
        max_frame_bytes=args.max_frame_kb * 1024,
        max_upload_bytes=args.max_upload_mb * 1024 * 1024,
        max_sessions=args.max_sessions,
        certfile=args.certfile,
        keyfile=args.keyfile,
        **detector_options(args),
    )


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``serve`` and its flags (the detector's: where every stream and upload starts)."""
    from hifipose.serve.config import SERVE_FIXED_FIELDS

    serve = sub.add_parser("serve", help="live web demo: webcam pose tracking in the browser")
    serve.add_argument("--host", default="127.0.0.1", help="interface (default: loopback only)")
    serve.add_argument("--port", type=bounded_int(0, 65535), default=8000)
    serve.add_argument("--token", help="secret every request must carry (needed off loopback)")
    add_model(serve, default="lite")
    add_runtime(serve, help="the live stream's runtime until the page switches (default litert)")
    add_detector_flag(
        serve,
        "num_poses",
        help="most people tracked per live stream (default 1; the page can change it)",
    )
    serve.add_argument(
        "--max-frame-kb", type=bounded_int(1), default=1024, help="largest frame accepted"
    )
    serve.add_argument(
        "--max-upload-mb", type=bounded_int(1), default=200, help="largest video upload"
    )
    serve.add_argument(
        "--max-sessions",
        type=int,
        default=16,
        help="most live streams at once; one more is told 'too many live streams' (default 16)",
    )
    add_model_dir(serve)
    serve.add_argument(
        "--certfile", type=Path, help="PEM certificate: serve HTTPS (the camera off localhost)"
    )
    serve.add_argument("--keyfile", type=Path, help="PEM private key of --certfile")
    add_detector_flags(serve, leave_out=SERVE_FIXED_FIELDS)
