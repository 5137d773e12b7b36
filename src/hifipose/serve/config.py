"""ServeConfig: the web demo's options and limits, frozen and validated before it starts."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from hifipose.errors import ConfigError
from hifipose.serve.protocol import MAX_NUM_POSES

__all__ = ["LOOPBACK_NAMES", "ServeConfig", "is_loopback_host"]

LOOPBACK_NAMES: Final = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
MIN_TOKEN_CHARS: Final = 16


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a name or an IP, IPv6 possibly in brackets) is this machine only."""
    name = host.strip().lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def _default_workers() -> int:
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServeConfig:
    """Options of ``hifipose serve``.

    Attributes:
        host: Interface to bind. Loopback by default; any other needs ``token``.
        port: TCP port.
        token: A shared secret every request must carry (``?token=`` or the
            ``X-Hifipose-Token`` header). Required unless ``host`` is loopback.
        model_type: The live stream's model until the client switches.
        runtime: The live stream's runtime until the client switches (it must be installed).
        num_poses: Most people tracked per live stream until the client switches (1 to
            :data:`~hifipose.serve.protocol.MAX_NUM_POSES`; over 1 needs a runtime that
            tracks several people).
        max_frame_bytes: Largest encoded frame accepted over the WebSocket.
        max_upload_bytes: Largest video accepted by the upload tab.
        max_sessions: Most live WebSocket streams at once (each holds its own detector, up to
            about 140 MB for the heavy model with segmentation); one more is told
            ``too_many_streams`` in the protocol.
        inference_workers: Threads that run every stream's detector (so the most frames
            processed at once, over all streams).
        max_jobs: Most upload jobs kept (queued, running or finished); the oldest finished
            job and its files are deleted to make room.
        max_job_frames: Upload jobs stop after this many frames.
        work_dir: Parent folder for the temporary upload folder (None: the system's).
        model_dir: Model files folder passed to ``create_detector`` (None: the cache).
        certfile: A PEM certificate (chain) to serve HTTPS and WSS; needs ``keyfile``.
            Browsers give a page the camera only on localhost or over HTTPS.
        keyfile: The certificate's PEM private key.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    model_type: str = "lite"
    runtime: str = "litert"
    num_poses: int = 1
    max_frame_bytes: int = 1 << 20
    max_upload_bytes: int = 200 << 20
    max_sessions: int = 16
    inference_workers: int = field(default_factory=_default_workers)
    max_jobs: int = 8
    max_job_frames: int = 20_000
    work_dir: Path | None = None
    model_dir: Path | None = None
    certfile: Path | None = None
    keyfile: Path | None = None

    @property
    def scheme(self) -> str:
        """``"https"`` with a certificate, else ``"http"``."""
        return "https" if self.certfile is not None else "http"

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be in [0, 65535], got {self.port}")
        if self.token is not None and len(self.token) < MIN_TOKEN_CHARS:
            msg = f"token must have at least {MIN_TOKEN_CHARS} characters, got {len(self.token)}"
            raise ConfigError(msg)
        if self.token is None and not is_loopback_host(self.host):
            msg = (
                f"binding to {self.host!r} exposes the demo (and your webcam frames) to the "
                "network; give a --token"
            )
            raise ConfigError(msg)
        if self.model_type not in ("lite", "full", "heavy"):
            raise ConfigError(f"model_type must be lite, full or heavy, got {self.model_type!r}")
        if (self.certfile is None) != (self.keyfile is None):
            raise ConfigError("HTTPS needs both --certfile and --keyfile")
        if isinstance(self.num_poses, bool) or self.num_poses not in range(1, MAX_NUM_POSES + 1):
            raise ConfigError(f"num_poses must be in [1, {MAX_NUM_POSES}], got {self.num_poses!r}")
        for name in (
            "max_frame_bytes",
            "max_upload_bytes",
            "max_sessions",
            "inference_workers",
            "max_jobs",
            "max_job_frames",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
