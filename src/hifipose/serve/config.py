"""ServeConfig: the web demo's options and limits, frozen and validated before it starts."""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from dataclasses import MISSING, dataclass, field
from pathlib import Path
from typing import Any, Final

from hifipose.config import DetectorConfig
from hifipose.errors import ConfigError
from hifipose.serve.protocol import MAX_NUM_POSES

__all__ = ["LOOPBACK_NAMES", "SERVE_FIXED_FIELDS", "ServeConfig", "is_loopback_host"]

LOOPBACK_NAMES: Final = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
MIN_TOKEN_CHARS: Final = 16
#: The ``DetectorConfig`` fields the server sets itself (per stream or job), and why.
SERVE_FIXED_FIELDS: Final = {
    "static_image_mode": "live streams and uploads are videos",
    "num_threads": "the server sizes its own inference pool (one thread per detector)",
    "strict_timestamps": "the server repairs the browser's timestamps",
    "enable_smoothing": "the page switches it per live stream or upload",
    "enable_segmentation": "the page switches it per live stream or upload",
    "holistic": "the page switches it per live stream or upload",
    "refine_face_landmarks": "the page draws a light face (dots): the 468-point mesh is enough",
}
#: The detector the live streams and uploads start from until the page switches.
_DETECTOR: Final = DetectorConfig(model_type="lite")
_DETECTOR_FIELDS: Final = frozenset(f.name for f in dataclasses.fields(DetectorConfig))


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


@dataclass(frozen=True, slots=True, init=False)
class ServeConfig:
    """Options of ``hifipose serve``.

    Keywords: the attributes below, and any :class:`~hifipose.config.DetectorConfig` field
    (but :data:`SERVE_FIXED_FIELDS`) by name, e.g. ``ServeConfig(model_type="full",
    detector_tiles=2)``: they change :attr:`detector`.

    Attributes:
        host: Interface to bind. Loopback by default; any other needs ``token``.
        port: TCP port.
        token: A shared secret every request must carry (``?token=`` or the
            ``X-Hifipose-Token`` header). Required unless ``host`` is loopback.
        detector: The options every live stream and upload starts from (the lite model by
            default); the page switches ``model_type``, ``runtime`` (an installed one),
            ``num_poses`` (1 to :data:`~hifipose.serve.protocol.MAX_NUM_POSES`), smoothing
            and the mask per stream or upload.
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
        certfile: A PEM certificate (chain) to serve HTTPS and WSS; needs ``keyfile``.
            Browsers give a page the camera only on localhost or over HTTPS.
        keyfile: The certificate's PEM private key.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    detector: DetectorConfig = _DETECTOR
    max_frame_bytes: int = 1 << 20
    max_upload_bytes: int = 200 << 20
    max_sessions: int = 16
    inference_workers: int = field(default_factory=_default_workers)
    max_jobs: int = 8
    max_job_frames: int = 20_000
    work_dir: Path | None = None
    certfile: Path | None = None
    keyfile: Path | None = None

    def __init__(self, *, detector: DetectorConfig | None = None, **options: Any) -> None:  # noqa: ANN401 - each field is typed above
        own = {f.name: f for f in dataclasses.fields(ServeConfig) if f.name != "detector"}
        unknown = sorted(set(options) - set(own) - _DETECTOR_FIELDS)
        fixed = sorted(set(options) & set(SERVE_FIXED_FIELDS))
        if unknown or fixed:
            msg = f"serve has no option {', '.join(unknown + fixed)}"
            msg += f" (the server sets {', '.join(fixed)} itself)" if fixed else ""
            raise ConfigError(msg)
        for name, spec in own.items():
            if name in options:
                value = options[name]
            else:
                value = spec.default if spec.default_factory is MISSING else spec.default_factory()
            object.__setattr__(self, name, value)
        changes = {k: v for k, v in options.items() if k in _DETECTOR_FIELDS}
        num_poses = changes.get("num_poses", 1)
        if isinstance(num_poses, bool) or num_poses not in range(1, MAX_NUM_POSES + 1):
            raise ConfigError(f"num_poses must be in [1, {MAX_NUM_POSES}], got {num_poses!r}")
        object.__setattr__(self, "detector", dataclasses.replace(detector or _DETECTOR, **changes))
        self.__post_init__()

    @property
    def model_type(self) -> str:
        """The live streams' and uploads' model until the page switches."""
        return self.detector.model_type

    @property
    def runtime(self) -> str:
        """The live streams' and uploads' runtime until the page switches."""
        return self.detector.runtime

    @property
    def num_poses(self) -> int:
        """Most people per live stream or upload until the page switches."""
        return self.detector.num_poses

    @property
    def model_dir(self) -> Path | None:
        """The model files' folder (None: the cache)."""
        return self.detector.model_dir

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
