"""Getting model files: ``model_dir``, then the cache, then the npm package, then a mirror.

Nothing here runs unless asked: ``create_detector`` calls :func:`ensure_model`, and the CLI's
``hifipose models fetch`` calls :func:`fetch_models`; no other code path downloads. Each
source is tried once, in order. Every write goes to a ``<filename>.<unique>.partial`` file in
the target folder, hashed while written, and is renamed into place with ``os.replace`` only
when its size and SHA-256 match the pins; a partial file never sits at the final path.

Environment:
    ``HIFIPOSE_CACHE_DIR``: the cache folder (see :func:`~hifipose.models.cache.cache_dir`).
    ``HIFIPOSE_NPM``: the npm executable (default ``npm``).
    ``HIFIPOSE_MODEL_MIRROR``: a base URL (``https://…``, ``http://…`` or ``file://…``) or a
    local folder serving the files by name, tried after the npm package.
    ``HIFIPOSE_OFFLINE=1``: never fetch; only ``model_dir`` and the cache are used.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
import urllib.parse
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final, Literal, Protocol, TypedDict

from hifipose._publish import Publication, partial_owner
from hifipose.errors import ConfigError, ModelIntegrityError, ModelNotFoundError
from hifipose.models.cache import models_dir, verify_file
from hifipose.models.registry import HOLISTIC_SPECS, MODEL_SPECS, ModelSpec

__all__ = [
    "ModelState",
    "ModelStatus",
    "ProgressCallback",
    "ensure_model",
    "fetch_models",
    "model_status",
    "verify_models",
]

logger = logging.getLogger(__name__)

#: Called as ``progress(bytes_done, bytes_total, filename)`` while a file is written, and
#: once with ``bytes_done == bytes_total`` for a file already cached and valid.
ProgressCallback = Callable[[int, int, str], None]

#: What ``model_status`` says about one file.
ModelState = Literal["ok", "missing", "corrupt"]

NPM_TIMEOUT_S: Final = 300
MIRROR_TIMEOUT_S: Final = 60
_CHUNK_BYTES: Final = 1 << 20
_STALE_PARTIAL_S: Final = 24 * 3600
_NOT_OFFLINE: Final = frozenset({"", "0", "false", "no", "off"})
_FIX_HINT: Final = (
    "To fix: run `hifipose models fetch` where the npm client can reach its registry; or set "
    "HIFIPOSE_MODEL_MIRROR to an https:// or file:// base URL (or a folder) serving the files "
    "by name; or pass model_dir= a folder that holds them."
)


class ModelStatus(TypedDict):
    """One row of :func:`model_status`."""

    name: str
    filename: str
    size_bytes: int
    sha256: str  # the pinned digest, 64 hex digits
    path: str
    state: ModelState
    detail: str  # why a file is missing or corrupt; "" when ok


class _ByteStream(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


_Failures = dict[ModelSpec, list[str]]


class _SourceError(Exception):
    """One source could not provide a file; the message says why (never leaves this module)."""


def _resolve(model: str | ModelSpec) -> ModelSpec:
    if isinstance(model, ModelSpec):
        return model
    known = {**MODEL_SPECS, **HOLISTIC_SPECS}
    if model not in known:
        msg = f"unknown model {model!r}; choose one of: {', '.join(known)}"
        raise ConfigError(msg)
    return known[model]


def _resolve_all(models: Iterable[str | ModelSpec] | None) -> list[ModelSpec]:
    if isinstance(models, str | ModelSpec):
        models = [models]  # one name where a list was meant: accept it rather than iterate chars
    return [_resolve(m) for m in (MODEL_SPECS.values() if models is None else models)]


def _offline() -> bool:
    return os.environ.get("HIFIPOSE_OFFLINE", "").strip().lower() not in _NOT_OFFLINE


def ensure_model(
    name: str | ModelSpec,
    *,
    model_dir: str | os.PathLike[str] | None = None,
    fetch: bool = True,
    mirror: str | None = None,
) -> Path:
    """Return the verified path of one model file, fetching it into the cache if allowed.

    With ``model_dir``, only that folder is used: nothing is fetched into it, and a missing
    or corrupt file there is an error. Otherwise the cache is used; a cached file that fails
    verification is deleted (with a warning) and, if ``fetch``, fetched again. Fetching
    tries the npm package, then the mirror, once each.

    Args:
        name: A key of :data:`MODEL_SPECS`, e.g. ``"pose_landmark_full"``, or a
            :class:`ModelSpec` for a file outside the table.
        model_dir: A folder that holds the files; the cache is then not used.
        fetch: Whether a file missing from the cache may be fetched. ``HIFIPOSE_OFFLINE=1``
            forbids it too.
        mirror: A mirror base URL or folder, overriding ``HIFIPOSE_MODEL_MIRROR``.

    Returns:
        The path of a file whose size and SHA-256 match the pins.

    Raises:
        ConfigError: ``name`` is not a known model.
        ModelNotFoundError: The file is not in ``model_dir``, or not in the cache and could
            not be fetched; the message says what was tried and what to run.
        ModelIntegrityError: The file in ``model_dir`` is corrupt (it is left as it is), or
            the cached file is corrupt and the cache folder is read-only.
    """
    spec = _resolve(name)
    if model_dir is not None:
        path = Path(model_dir).expanduser() / spec.filename
        if not path.exists():
            msg = (
                f"{spec.filename} is not in model_dir: {path} does not exist. hifipose never "
                "fetches into a model_dir; copy the file there, or leave model_dir unset to "
                "use the cache (filled by `hifipose models fetch`)."
            )
            raise ModelNotFoundError(msg)
        return verify_file(path, spec)
    path = models_dir() / spec.filename
    if path.exists():
        try:
            return verify_file(path, spec)
        except ModelIntegrityError as exc:
            if not _writable(path.parent):
                raise ModelIntegrityError(f"{exc}. {_read_only_hint(path.parent)}") from exc
            logger.warning("%s; deleting the cached file", exc)
            _discard(path)
    if not fetch:
        msg = f"{spec.filename} is not in the cache {path.parent} and fetch=False. {_FIX_HINT}"
        raise ModelNotFoundError(msg)
    (fetched,) = fetch_models([spec], mirror=mirror)
    return fetched


def fetch_models(
    names: Iterable[str | ModelSpec] | None = None,
    *,
    force: bool = False,
    mirror: str | None = None,
    progress: ProgressCallback | None = None,
) -> list[Path]:
    """Fetch model files into the cache, verified; files already cached and valid are kept.

    All files one npm package holds come from one ``npm pack`` call (the Holistic files are
    cut from the package's packed-assets file at their pinned offsets). Files still missing
    after it are taken from the mirror (``mirror`` or ``HIFIPOSE_MODEL_MIRROR``), if set.
    A cached file that fails verification is deleted (with a warning) and fetched again.

    Args:
        names: Keys of :data:`MODEL_SPECS` or
            :data:`~hifipose.models.registry.HOLISTIC_SPECS`, or :class:`ModelSpec`
            objects; None means the four BlazePose files.
        force: Fetch again even files that are cached and valid.
        mirror: A mirror base URL or folder, overriding ``HIFIPOSE_MODEL_MIRROR``.
        progress: Called as ``progress(bytes_done, bytes_total, filename)`` while writing.

    Returns:
        The verified paths, in the order of ``names``.

    Raises:
        ConfigError: A name is not a known model.
        ModelNotFoundError: The cache folder cannot be created, or a file could not be had
            from any source (or ``HIFIPOSE_OFFLINE`` is set); the message lists each source
            tried, why it failed, and what to run.
    """
    specs = _resolve_all(names)
    target = models_dir()
    pending: list[ModelSpec] = []
    for spec in dict.fromkeys(specs):
        path = target / spec.filename
        if not force and _cached_and_valid(path, spec):
            if progress is not None:
                progress(spec.size_bytes, spec.size_bytes, spec.filename)
            continue
        pending.append(spec)
    if pending:
        failures: dict[ModelSpec, list[str]] = {spec: [] for spec in pending}
        if _offline():
            for spec in pending:
                failures[spec].append("fetching is off (HIFIPOSE_OFFLINE is set; unset it)")
        else:
            _prepare(target)
            if not _writable(target):
                msg = f"cannot fetch {', '.join(s.filename for s in pending)}: " + _read_only_hint(
                    target
                )
                raise ModelNotFoundError(msg)
            pending = _fetch_from_npm(pending, target, failures, progress)
            base = mirror or os.environ.get("HIFIPOSE_MODEL_MIRROR")
            if pending and base:
                pending = _fetch_from_mirror(pending, base, target, failures, progress)
            elif pending:
                for spec in pending:
                    failures[spec].append("mirror: none set (HIFIPOSE_MODEL_MIRROR)")
        if pending:
            tried = "; ".join(f"{s.filename}: {' | '.join(failures[s])}" for s in pending)
            msg = f"could not get model files into {target} ({tried}). {_FIX_HINT}"
            raise ModelNotFoundError(msg)
    return [target / spec.filename for spec in specs]


def _writable(folder: Path) -> bool:
    return os.access(folder, os.W_OK | os.X_OK)


def _read_only_hint(folder: Path) -> str:
    return (
        f"The cache folder {folder} is read-only, so nothing can be fetched into it: make it "
        "writable and run `hifipose models fetch`, or set HIFIPOSE_CACHE_DIR to a writable "
        "folder, or pass model_dir= a folder that holds good copies."
    )


def _prepare(target: Path) -> None:
    """Create the cache folder and clear stale partial files from it."""
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create the model cache {target}: {exc}; set HIFIPOSE_CACHE_DIR"
        raise ModelNotFoundError(msg) from exc
    _remove_stale_partials(target)


def _cached_and_valid(path: Path, spec: ModelSpec) -> bool:
    if not path.exists():
        return False
    try:
        verify_file(path, spec)
    except ModelIntegrityError as exc:
        logger.warning("%s; deleting the cached file to fetch it again", exc)
        _discard(path)
        return False
    except ModelNotFoundError:
        return False
    return True


def _discard(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:  # the atomic replace that follows still overwrites it
        logger.warning("cannot delete %s: %s", path, exc)


def _remove_stale_partials(target: Path) -> None:
    """Delete ``*.partial`` files a killed process left behind more than a day ago."""
    cutoff = time.time() - _STALE_PARTIAL_S
    for partial in target.glob("*.partial*"):
        if partial_owner(partial.name) is None and not partial.name.endswith(".partial"):
            continue
        try:
            if partial.stat().st_mtime < cutoff:
                partial.unlink()
        except OSError:  # another process removed or renamed it first
            continue


def _install(
    stream: _ByteStream,
    spec: ModelSpec,
    target: Path,
    progress: ProgressCallback | None,
    *,
    source: str,
) -> Path:
    """Copy ``stream`` to ``target / spec.filename`` atomically, checking size and SHA-256.

    The bytes go to a uniquely named ``.partial`` file in ``target`` (so concurrent fetches
    cannot mix), hashed while written, and are renamed into place only if they match.

    Raises:
        ModelIntegrityError: The bytes do not match the pins; nothing was installed and the
            partial file is gone.
        OSError: Reading or writing failed; the partial file is gone.
    """
    final = target / spec.filename
    publication = Publication(final, unique=True)  # concurrent fetches cannot mix
    partial = publication.partial
    digest = hashlib.sha256()
    done = 0
    try:
        with partial.open("xb") as out:
            while chunk := stream.read(_CHUNK_BYTES):
                done += len(chunk)
                if done > spec.size_bytes:
                    msg = (
                        f"{spec.filename} from {source} is larger than the pinned "
                        f"{spec.size_bytes} bytes; it was not installed"
                    )
                    raise ModelIntegrityError(msg)
                digest.update(chunk)
                out.write(chunk)
                if progress is not None:
                    progress(done, spec.size_bytes, spec.filename)
            out.flush()
            os.fsync(out.fileno())
        got = digest.hexdigest()
        if done != spec.size_bytes or got != spec.sha256:
            msg = (
                f"{spec.filename} from {source} does not match its pin: expected "
                f"{spec.size_bytes} bytes with sha256 {spec.sha256}, got {done} bytes with "
                f"sha256 {got}; it was not installed"
            )
            raise ModelIntegrityError(msg)
        publication.publish()
    except BaseException:
        publication.discard()
        raise
    logger.info("installed %s from %s", final, source)
    return final


def _npm_executable() -> tuple[str, str | None]:
    npm = os.environ.get("HIFIPOSE_NPM") or "npm"
    return npm, shutil.which(npm)


def _npm_pack(executable: str, destination: Path, package: str) -> Path:
    """Run ``npm pack`` for the pinned ``package`` into ``destination``; return the tarball."""
    command = [executable, "pack", package, "--pack-destination", str(destination)]
    command += ["--ignore-scripts"]
    # No update checks, funding or audit requests: one package download, nothing else.
    environment = os.environ | {
        "npm_config_update_notifier": "false",
        "npm_config_fund": "false",
        "npm_config_audit": "false",
    }
    logger.info("fetching %s with %s", package, " ".join(command[:3]))
    try:
        subprocess.run(
            command,
            cwd=destination,
            env=environment,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=True,
            timeout=NPM_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        msg = f"`npm pack {package}` timed out after {NPM_TIMEOUT_S} s"
        raise _SourceError(msg) from exc
    except subprocess.CalledProcessError as exc:
        lines = exc.stderr.decode(errors="replace").strip().splitlines()
        errors = [line for line in lines if "error" in line.lower()] or lines
        why = errors[-1].strip() if errors else "no message"
        msg = f"`npm pack {package}` failed with exit status {exc.returncode}: {why}"
        raise _SourceError(msg) from exc
    except OSError as exc:
        msg = f"cannot run {executable}: {exc}"
        raise _SourceError(msg) from exc
    tarballs = sorted(destination.glob("*.tgz"))
    if len(tarballs) != 1:
        msg = f"`npm pack {package}` wrote {len(tarballs)} tarballs, expected 1"
        raise _SourceError(msg)
    return tarballs[0]


def _fetch_from_npm(
    specs: list[ModelSpec],
    target: Path,
    failures: dict[ModelSpec, list[str]],
    progress: ProgressCallback | None,
) -> list[ModelSpec]:
    """Install what the npm packages hold, one ``npm pack`` each; return the specs still missing."""
    npm, executable = _npm_executable()
    if executable is None:
        for spec in specs:
            failures[spec].append(f"npm: client {npm!r} not found (set HIFIPOSE_NPM)")
        return specs
    missing: list[ModelSpec] = []
    for package in dict.fromkeys(spec.npm_package for spec in specs):
        group = [spec for spec in specs if spec.npm_package == package]
        with tempfile.TemporaryDirectory(prefix="hifipose-npm-") as tmp:
            try:
                tarball = _npm_pack(executable, Path(tmp), package)
            except _SourceError as exc:
                logger.info("npm source failed: %s", exc)
                for spec in group:
                    failures[spec].append(f"npm: {exc}")
                missing += group
                continue
            missing += _install_from_tarball(tarball, group, target, failures, progress)
    return [spec for spec in specs if spec in missing]


class _Cursor:
    """A forward-only stream that counts the bytes read from it."""

    def __init__(self, stream: _ByteStream) -> None:
        self.stream, self.position = stream, 0

    def read(self, size: int) -> bytes:
        chunk = self.stream.read(size)
        self.position += len(chunk)
        return chunk


class _Slice:
    """The bytes ``[offset, offset + size)`` of a forward-only stream (at or before offset)."""

    def __init__(self, cursor: _Cursor, offset: int, size: int) -> None:
        self._cursor, self._offset, self._end = cursor, offset, offset + size

    def read(self, size: int = -1, /) -> bytes:
        cursor = self._cursor
        while cursor.position < self._offset:
            if not cursor.read(min(self._offset - cursor.position, _CHUNK_BYTES)):
                return b""
        left = self._end - cursor.position
        want = left if size < 0 else min(size, left)
        return cursor.read(want) if want > 0 else b""


def _install_from_tarball(
    tarball: Path,
    specs: list[ModelSpec],
    target: Path,
    failures: dict[ModelSpec, list[str]],
    progress: ProgressCallback | None,
) -> list[ModelSpec]:
    """Read only the named regular-file members, in one streaming pass; never extract.

    A spec with an ``npm_offset`` is the byte range ``[offset, offset + size_bytes)`` of its
    member; several specs may share one member, which is then read once, front to back.
    """
    by_member: dict[str, list[ModelSpec]] = {}
    for spec in specs:
        by_member.setdefault(spec.npm_member, []).append(spec)
    installed: set[ModelSpec] = set()
    package = specs[0].npm_package if specs else ""
    source = f"the npm package {package}"
    try:
        with tarfile.open(tarball, mode="r|gz") as archive:
            for member in archive:
                group = by_member.get(member.name.removeprefix("./"), [])
                wanted = [spec for spec in group if _member_fits(member, spec, failures)]
                if not wanted:
                    continue
                stream = archive.extractfile(member)
                if stream is None:  # unreachable for a regular file; keeps the types honest
                    continue
                cursor = _Cursor(stream)
                # in offset order: the member is read once, front to back
                for spec in sorted(wanted, key=lambda spec: spec.npm_offset or 0):
                    offset = spec.npm_offset or 0
                    if cursor.position > offset:
                        failures[spec].append(f"npm: {spec.filename} overlaps another file")
                        continue
                    try:
                        _install(
                            _Slice(cursor, offset, spec.size_bytes),
                            spec,
                            target,
                            progress,
                            source=source,
                        )
                    except ModelIntegrityError as exc:
                        failures[spec].append(f"npm: {exc}")
                        continue
                    installed.add(spec)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        for spec in specs:
            if spec not in installed:
                failures[spec].append(f"npm: cannot read {tarball.name}: {exc}")
        return [spec for spec in specs if spec not in installed]
    missing = [spec for spec in specs if spec not in installed]
    for spec in missing:
        if not failures[spec] or not failures[spec][-1].startswith("npm:"):
            failures[spec].append(f"npm: {spec.npm_member} is not in {spec.npm_package}")
    return missing


def _member_fits(member: tarfile.TarInfo, spec: ModelSpec, failures: _Failures) -> bool:
    """Whether ``member`` can hold ``spec``'s bytes; if not, say why in ``failures``."""
    if not member.isreg():
        failures[spec].append(f"npm: {member.name} is not a regular file")
        return False
    if spec.npm_offset is None and member.size != spec.size_bytes:
        failures[spec].append(
            f"npm: {member.name} has {member.size} bytes, expected {spec.size_bytes}"
        )
        return False
    offset = spec.npm_offset or 0
    if member.size < offset + spec.size_bytes:
        failures[spec].append(
            f"npm: {member.name} has {member.size} bytes, too few for {spec.size_bytes} "
            f"bytes at offset {offset}"
        )
        return False
    return True


def _mirror_base_url(base: str) -> str:
    """``base`` as a URL: a local folder becomes a ``file://`` URL.

    Raises:
        _SourceError: The URL scheme is not https, http or file.
    """
    if "://" not in base:
        return Path(base).expanduser().resolve().as_uri()
    scheme = urllib.parse.urlsplit(base).scheme.lower()
    if scheme not in {"https", "http", "file"}:
        msg = f"{base!r} is not an https://, http:// or file:// URL or a folder"
        raise _SourceError(msg)
    return base


def _fetch_from_mirror(
    specs: list[ModelSpec],
    base: str,
    target: Path,
    failures: dict[ModelSpec, list[str]],
    progress: ProgressCallback | None,
) -> list[ModelSpec]:
    """Install ``<base>/<filename>`` for each spec, one attempt each; return those missing."""
    import http.client  # imported here: they cost ~15 ms, and most runs never use a mirror
    import urllib.request

    try:
        base_url = _mirror_base_url(base).rstrip("/")
    except _SourceError as exc:
        for spec in specs:
            failures[spec].append(f"mirror: {exc}")
        return specs
    missing = []
    for spec in specs:
        url = f"{base_url}/{urllib.parse.quote(spec.filename)}"
        request = urllib.request.Request(url, headers={"User-Agent": "hifipose"})  # noqa: S310 - scheme checked in _mirror_base_url
        try:
            with urllib.request.urlopen(request, timeout=MIRROR_TIMEOUT_S) as response:  # noqa: S310 - scheme checked in _mirror_base_url
                length = response.headers.get("Content-Length")
                if length is not None and length.isdigit() and int(length) != spec.size_bytes:
                    failures[spec].append(
                        f"mirror: {url} serves {length} bytes, expected {spec.size_bytes}"
                    )
                    missing.append(spec)
                    continue
                _install(response, spec, target, progress, source=url)
        except (OSError, http.client.HTTPException, ValueError, ModelIntegrityError) as exc:
            failures[spec].append(f"mirror: {url}: {exc}")
            missing.append(spec)
    return missing


def model_status(
    model_dir: str | os.PathLike[str] | None = None,
    *,
    names: Iterable[str | ModelSpec] | None = None,
) -> list[ModelStatus]:
    """Describe each model file, for ``hifipose models list`` and ``verify``.

    Read-only: it never fetches, and never deletes a corrupt file.

    Args:
        model_dir: The folder to check; None means the cache.
        names: Keys of :data:`MODEL_SPECS` or :class:`ModelSpec` objects; None means all.

    Returns:
        One row per model, in table order: name, filename, size_bytes, sha256 (the pinned
        digest, all 64 hex digits), path, state (``"ok"``, ``"missing"`` or
        ``"corrupt"``) and detail (why, or ``""``).

    Raises:
        ConfigError: A name is not a known model.
    """
    folder = Path(model_dir).expanduser() if model_dir is not None else models_dir()
    rows: list[ModelStatus] = []
    for spec in _resolve_all(names):
        path = folder / spec.filename
        state: ModelState = "ok"
        detail = ""
        try:
            verify_file(path, spec)
        except ModelNotFoundError as exc:
            state, detail = "missing", str(exc)
        except ModelIntegrityError as exc:
            state, detail = "corrupt", str(exc)
        rows.append(
            ModelStatus(
                name=spec.name,
                filename=spec.filename,
                size_bytes=spec.size_bytes,
                sha256=spec.sha256,
                path=str(path),
                state=state,
                detail=detail,
            )
        )
    return rows


def verify_models(
    model_dir: str | os.PathLike[str] | None = None,
    *,
    names: Iterable[str | ModelSpec] | None = None,
) -> dict[str, ModelState]:
    """Check every model file's size and SHA-256 without fetching or deleting anything.

    Args:
        model_dir: The folder to check; None means the cache.
        names: Keys of :data:`MODEL_SPECS` or :class:`ModelSpec` objects; None means all.

    Returns:
        ``{name: "ok" | "missing" | "corrupt"}`` in table order.

    Raises:
        ConfigError: A name is not a known model.
    """
    return {row["name"]: row["state"] for row in model_status(model_dir, names=names)}
