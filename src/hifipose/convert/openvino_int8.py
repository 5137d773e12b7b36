"""int8 landmark models for OpenVINO: NNCF's post-training quantisation, replayed from ranges.

NNCF (``nncf.quantize``) inserts FakeQuantize ops in OpenVINO's own reading of the .tflite:
weights per output channel (their ranges come from the weights), activations per tensor
(their ranges come from data). ``benchmarks/calibrate_openvino_int8.py`` runs it on the
pipeline's own person crops of the shared clips and commits each activation FakeQuantize's
ranges to ``openvino_int8_ranges/<model stem>.json``, with the model's SHA-256 and the NNCF
and OpenVINO versions. On a user's machine :func:`openvino_int8_model` runs the same
quantisation on one grey crop (no data, no network) and sets every activation range to the
committed one, so the model is the calibrated one; it is cached next to the model file as
one file (OpenVINO IR: XML and weights) with its digest record, and checked before each load.

Bias correction (NNCF's default) is off: it changes the biases from the data, which a
replay without the data cannot do.
"""

from __future__ import annotations

import hashlib
import json
import logging
import struct
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from hifipose._optional import require
from hifipose.convert import derived
from hifipose.errors import ConfigError, ModelIntegrityError

__all__ = [
    "OPENVINO_INT8_VERSION",
    "RANGES_DIR",
    "activation_ranges",
    "openvino_int8_model",
    "quantize",
    "ranges_path",
]

logger = logging.getLogger(__name__)

# Bump whenever the quantisation recipe below changes, so stale cached models are never used.
OPENVINO_INT8_VERSION: Final = 1
#: Where the committed activation ranges lie, one JSON file per landmark model.
RANGES_DIR: Final = Path(__file__).parent / "openvino_int8_ranges"
_MAGIC: Final = b"hifipose-openvino-ir 1\n"
_INPUT: Final = "input_1"
_CROP: Final = (1, 256, 256, 3)


def quantize(model: Any, crops: Iterable[Mapping[str, NDArray[np.float32]]], size: int) -> Any:  # noqa: ANN401 - openvino.Model
    """Quantise an OpenVINO model of a landmark .tflite with NNCF on ``crops``.

    Args:
        model: ``openvino.Core().read_model(<landmark .tflite>)``.
        crops: Model feeds, ``{"input_1": (1, 256, 256, 3) float32 in [0, 1]}``.
        size: How many of ``crops`` NNCF reads (its ``subset_size``).

    Returns:
        The model with FakeQuantize ops (mixed preset: symmetric weights per channel,
        asymmetric activations; no bias correction).

    Raises:
        RuntimeUnavailableError: nncf is not installed (``hifipose[openvino-int8]``).
    """
    nncf = require("nncf", extra="openvino-int8")
    return nncf.quantize(
        model,
        nncf.Dataset(list(crops)),
        preset=nncf.QuantizationPreset.MIXED,
        subset_size=size,
        advanced_parameters=nncf.AdvancedQuantizationParameters(disable_bias_correction=True),
    )


def _is_weights(node: Any) -> bool:  # noqa: ANN401 - openvino.Node
    """Whether a FakeQuantize's data input is a constant (weights), not an activation."""
    while node.get_type_name() == "Convert":
        node = node.input_value(0).get_node()
    return bool(node.get_type_name() == "Constant")


def _activation_fqs(model: Any) -> dict[str, Any]:  # noqa: ANN401
    """The activation FakeQuantize ops in topological order, by a name stable across runs.

    OpenVINO's node names count the nodes made so far in the process, so they differ from
    run to run; the name here is the op's place among them, what it quantises and its shape,
    e.g. ``"017 Clamp 1x64x64x48"``.
    """
    found = [
        op
        for op in model.get_ordered_ops()
        if op.get_type_name() == "FakeQuantize" and not _is_weights(op.input_value(0).get_node())
    ]
    return {
        f"{index:03d} {op.input_value(0).get_node().get_type_name()} "
        + "x".join(map(str, op.get_output_partial_shape(0).to_shape())): op
        for index, op in enumerate(found)
    }


def activation_ranges(model: Any) -> dict[str, list[list[float]]]:  # noqa: ANN401
    """The range of every activation FakeQuantize of a quantised model, by its name.

    Returns:
        ``{name: [low, high]}``, each a flat list: one value (per tensor) or one per channel.
        NNCF gives an activation the same input and output range; that is checked.

    Raises:
        ValueError: A FakeQuantize whose output range is not its input range.
    """
    ranges: dict[str, list[list[float]]] = {}
    for name, op in _activation_fqs(model).items():
        low, high, out_low, out_high = (
            np.asarray(op.input_value(i).get_node().get_data(), np.float64).ravel()
            for i in range(1, 5)
        )
        if not (np.array_equal(low, out_low) and np.array_equal(high, out_high)):
            msg = f"{name}: output range differs from input range; not an NNCF activation"
            raise ValueError(msg)
        ranges[name] = [low.tolist(), high.tolist()]
    return ranges


def _set_ranges(model: Any, ranges: Mapping[str, list[list[float]]], source: str) -> None:  # noqa: ANN401
    """Set every activation FakeQuantize's input and output range to ``ranges[its name]``."""
    ops = require("openvino.opset13", extra="openvino")
    found = _activation_fqs(model)
    if set(found) != set(ranges):
        msg = (
            f"the int8 calibration {source} does not fit this NNCF/OpenVINO "
            f"({len(set(found) ^ set(ranges))} of {len(found)} FakeQuantize ops differ); "
            "run benchmarks/calibrate_openvino_int8.py with these versions"
        )
        raise ConfigError(msg)
    for name, op in found.items():
        low, high = ranges[name]
        for port, values in enumerate((low, high, low, high), start=1):
            old = op.input_value(port).get_node()
            shape = tuple(old.get_output_shape(0))
            data = np.asarray(values, np.float32).reshape(shape)
            op.input(port).replace_source_output(ops.constant(data).output(0))


def _pack(model: Any) -> bytes:  # noqa: ANN401
    """One file for OpenVINO's IR: a header, the XML's length, the XML, the weights."""
    ov = require("openvino", extra="openvino")
    with tempfile.TemporaryDirectory(prefix="hifipose-ov-") as folder:
        xml = Path(folder) / "model.xml"
        ov.save_model(model, xml, compress_to_fp16=False)
        text, weights = xml.read_bytes(), xml.with_suffix(".bin").read_bytes()
    return _MAGIC + struct.pack("<Q", len(text)) + text + weights


def _unpack(blob: bytes, where: Path) -> Any:  # noqa: ANN401
    ov = require("openvino", extra="openvino")
    start = len(_MAGIC) + 8
    if not blob.startswith(_MAGIC) or len(blob) < start:
        msg = f"{where} is not a hifipose OpenVINO model"
        raise ModelIntegrityError(msg)
    (length,) = struct.unpack("<Q", blob[len(_MAGIC) : start])
    text, weights = blob[start : start + length], blob[start + length :]
    weights_tensor = ov.Tensor(np.frombuffer(weights, np.uint8).copy())
    return ov.Core().read_model(model=text.decode(), weights=weights_tensor)


def ranges_path(model_path: Path) -> Path:
    """Where the committed activation ranges of ``model_path``'s int8 model lie."""
    return RANGES_DIR / f"{model_path.stem}.json"


def openvino_int8_model(model_path: Path, *, refresh: bool = False) -> Any:  # noqa: ANN401
    """Return the int8 OpenVINO model of a landmark .tflite, from the cache or built now.

    Building it needs nncf (``pip install 'hifipose[openvino-int8]'``) and takes a few
    seconds, once: it is cached next to the model as
    ``<stem>.<16 hex digits of the SHA-256>.hifipose-qov<version>.int8.ovir`` with its digest
    record (which names the calibration it was built from), and used again only if it
    matches that record.

    Args:
        model_path: A verified .tflite landmark model.
        refresh: Build it again even if a cached file exists.

    Returns:
        An ``openvino.Model`` (float32 inputs and outputs, the .tflite's names).

    Raises:
        ConfigError: No calibration for this model file (int8 exists for the pinned BlazePose
            landmark models only), or one made with an NNCF/OpenVINO that quantises otherwise.
        RuntimeUnavailableError: openvino, or (to build it) nncf, is not installed.
        ModelIntegrityError: OpenVINO cannot read the file.
    """
    ov = require("openvino", extra="openvino")
    data = model_path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    source = ranges_path(model_path)
    record = json.loads(source.read_text()) if source.is_file() else {}
    if record.get("sha256") != sha256:
        msg = (
            f"precision='int8' on openvino has no calibration for {model_path.name} "
            f"(SHA-256 {sha256[:16]}…): it exists for the pinned BlazePose landmark models only"
        )
        raise ConfigError(msg)
    calibration = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    tool = f"openvino int8 {OPENVINO_INT8_VERSION}, calibration {calibration}"
    name = f"{model_path.stem}.{sha256[:16]}.hifipose-qov{OPENVINO_INT8_VERSION}.int8.ovir"
    target = model_path.parent / name
    if not refresh:
        blob, why = derived.load(target, source_sha256=sha256, tool=tool)
        if blob is not None:
            return _unpack(blob, target)
        if why:
            logger.warning("the cached int8 model %s %s; making it again", target, why)
    try:
        model = ov.Core().read_model(model_path)
    except RuntimeError as exc:
        msg = f"OpenVINO cannot read {model_path}: {exc}"
        raise ModelIntegrityError(msg) from exc
    grey = np.full(_CROP, 0.5, np.float32)
    quantized = quantize(model, [{_INPUT: grey}], 1)
    _set_ranges(quantized, record["ranges"], source.name)
    blob = _pack(quantized)
    try:
        derived.write(target, blob, source_sha256=sha256, tool=tool)
    except OSError as exc:
        logger.warning("cannot cache the int8 model at %s (%s); continuing", target, exc)
    else:
        logger.info("quantised %s to int8 for openvino: %s", model_path.name, target)
        derived.remove_older(target, f"{model_path.stem}.*.hifipose-qov*.int8.ovir")
    return _unpack(blob, target)
