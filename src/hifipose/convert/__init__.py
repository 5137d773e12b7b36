"""tflite → ONNX / torch / int8 tflite: rebuild a .tflite model's graph for other runtimes.

:func:`read_tflite` parses the flatbuffer (no TensorFlow needed) and folds the weight-decoding
ops (DENSIFY of sparse weights, DEQUANTIZE of float16 weights); :func:`onnx_model_bytes` and
:func:`torch_module` emit the graph for onnxruntime and torch. Both keep the .tflite's tensor
names and NHWC shapes at the boundary and run NCHW inside. Converted ONNX files are cached next
to the model file, named by the source's SHA-256 and :data:`CONVERTER_VERSION`.
:func:`int8_model_bytes` quantises a landmark model to int8 (:mod:`hifipose.convert.quantize`)
with the activation ranges committed under ``int8_ranges/``; it is cached the same way, named
by :data:`~hifipose.convert.quantize.QUANTIZER_VERSION`.

Only numpy is imported here; onnx and torch are imported when a converter runs.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

from hifipose._optional import require
from hifipose.convert import derived
from hifipose.convert.graph import SUPPORTED_OPS, Graph, read_tflite
from hifipose.convert.prune import prune_onnx, prune_tflite
from hifipose.errors import ConfigError

if TYPE_CHECKING:
    from hifipose.convert.torch_export import TFLiteModule

__all__ = [
    "CONVERTER_VERSION",
    "SUPPORTED_OPS",
    "Graph",
    "converted_path",
    "int8_model_bytes",
    "onnx_model_bytes",
    "prune_onnx",
    "prune_tflite",
    "read_tflite",
    "torch_module",
]

logger = logging.getLogger(__name__)

# Bump whenever the emitted graphs change, so stale cached conversions are never reused.
CONVERTER_VERSION: Final = 2


def converted_path(model_path: Path, sha256: str, suffix: str) -> Path:
    """Return where the conversion of ``model_path`` is cached.

    Args:
        model_path: The source .tflite file.
        sha256: The source's SHA-256 (hex).
        suffix: The converted file's suffix, e.g. ``".onnx"``.

    Returns:
        ``<folder of model_path>/<stem>.<first 16 hex digits>.hifipose-c<version><suffix>``.
    """
    name = f"{model_path.stem}.{sha256[:16]}.hifipose-c{CONVERTER_VERSION}{suffix}"
    return model_path.parent / name


def onnx_model_bytes(model_path: Path, *, refresh: bool = False) -> bytes:
    """Return the ONNX conversion of a .tflite file, from the cache or converted now.

    A new conversion is written to :func:`converted_path` (atomically) with its digest record
    (:mod:`hifipose.convert.derived`); a cached one is used only if it matches its record,
    else it is made again (with a one-line warning if it was damaged). A folder that cannot
    be written is logged and skipped, never an error.

    Args:
        model_path: A verified .tflite file.
        refresh: Convert again even if a cached file exists (e.g. it failed to load).

    Returns:
        The serialized ``onnx.ModelProto`` (see :func:`hifipose.convert.onnx_export.to_onnx`).

    Raises:
        RuntimeUnavailableError: The ``onnx`` package is not installed (only when converting).
        UnsupportedOperatorError: The model uses an op the converter does not handle.
        ModelIntegrityError: The file is not a well-formed .tflite flatbuffer.
    """
    data = model_path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    target = converted_path(model_path, sha256, ".onnx")
    tool = f"converter {CONVERTER_VERSION}"
    if not refresh:
        cached = _load_derived(target, "ONNX conversion", sha256, tool)
        if cached is not None:
            return cached
    require("onnx", extra="onnx")
    from hifipose.convert.onnx_export import to_onnx

    blob: bytes = to_onnx(read_tflite(data), model_name=model_path.stem).SerializeToString()
    try:
        derived.write(target, blob, source_sha256=sha256, tool=tool)
    except OSError as exc:
        logger.warning("cannot cache the ONNX conversion at %s (%s); continuing", target, exc)
    else:
        logger.info("converted %s to ONNX: %s", model_path.name, target)
        derived.remove_older(target, f"{model_path.stem}.*.hifipose-c*{target.suffix}")
    return blob


def int8_model_bytes(model_path: Path, *, refresh: bool = False) -> bytes:
    """Return the int8 quantisation of a landmark model, from the cache or quantised now.

    The activation ranges (and the convolutions' input means, for bias correction) come from
    ``int8_ranges/<model stem>.json`` in this package, measured on real person crops by
    ``benchmarks/calibrate_int8.py``; they belong to one model file, named by its SHA-256.
    The same file may list the ops that stay float (heavy's, chosen by measured sensitivity:
    :func:`~hifipose.convert.quantize.recipe_float_ops`).
    A new quantisation is cached next to the model as
    ``<stem>.<first 16 hex digits of the SHA-256>.hifipose-q<quantiser version>.int8.tflite``
    (atomically) with its digest record; a cached one is used only if it matches its record,
    else it is quantised again (with a one-line warning if it was damaged). A folder that
    cannot be written is logged and skipped.

    Args:
        model_path: A verified .tflite landmark model.
        refresh: Quantise again even if a cached file exists.

    Returns:
        The int8 .tflite model (float32 inputs and outputs, as the source's).

    Raises:
        ConfigError: There are no int8 ranges for this model file (int8 exists only for the
            pinned BlazePose landmark models).
        RuntimeUnavailableError: ai-edge-litert is not installed.
        ModelIntegrityError: The file is not a well-formed .tflite flatbuffer.
    """
    from hifipose.convert.quantize import QUANTIZER_VERSION, quantize_tflite, recipe_float_ops

    data = model_path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    name = f"{model_path.stem}.{sha256[:16]}.hifipose-q{QUANTIZER_VERSION}.int8.tflite"
    target = model_path.parent / name
    tool = f"quantiser {QUANTIZER_VERSION}"
    if not refresh:
        cached = _load_derived(target, "int8 model", sha256, tool)
        if cached is not None:
            return cached
    ranges_file = Path(__file__).parent / "int8_ranges" / f"{model_path.stem}.json"
    record = json.loads(ranges_file.read_text()) if ranges_file.is_file() else {}
    if record.get("sha256") != sha256:
        msg = (
            f"precision='int8' has no calibration for {model_path.name} (SHA-256 {sha256[:16]}…): "
            "it exists for the pinned BlazePose landmark models only"
        )
        raise ConfigError(msg)
    ranges = {key: (float(lo), float(hi)) for key, (lo, hi) in record["ranges"].items()}
    means = record.get("means")  # bias correction; absent from older calibration files
    blob = quantize_tflite(data, ranges, keep_float=recipe_float_ops(data, record), means=means)
    try:
        derived.write(target, blob, source_sha256=sha256, tool=tool)
    except OSError as exc:
        logger.warning("cannot cache the int8 model at %s (%s); continuing", target, exc)
    else:
        logger.info("quantised %s to int8: %s", model_path.name, target)
        derived.remove_older(target, f"{model_path.stem}.*.hifipose-q*.int8.tflite")
    return blob


def _load_derived(target: Path, what: str, source_sha256: str, tool: str) -> bytes | None:
    """The cached derived file if it matches its digest record; else None, said in one line.

    A file without a record (made before records existed, or whose record could not be
    written) is made again quietly; a file that contradicts its record, with a warning.
    """
    blob, why = derived.load(target, source_sha256=source_sha256, tool=tool)
    if blob is None and why:
        log = logger.info if why == derived.NO_RECORD else logger.warning
        log("the cached %s %s %s; making it again", what, target, why)
    return blob


def torch_module(model_path: Path, outputs: Sequence[str] | None = None) -> TFLiteModule:
    """Build the torch module of a .tflite file (float32, CPU, eval mode).

    The module is rebuilt from the flatbuffer each time (0.05–0.3 s for the BlazePose models);
    no file is cached.

    Args:
        model_path: A verified .tflite file.
        outputs: Build only what these outputs need (see :func:`prune_tflite`); None: all.

    Returns:
        A :class:`~hifipose.convert.torch_export.TFLiteModule`: NHWC tensors in, a tuple of
        NHWC tensors out, in the .tflite's output order.

    Raises:
        RuntimeUnavailableError: torch is not installed.
        UnsupportedOperatorError: The model uses an op the converter does not handle.
        ModelIntegrityError: The file is not a well-formed .tflite flatbuffer.
    """
    require("torch", extra="torch")
    from hifipose.convert.torch_export import to_torch

    if outputs is None:
        return to_torch(read_tflite(model_path))
    return to_torch(read_tflite(prune_tflite(model_path.read_bytes(), outputs)))
