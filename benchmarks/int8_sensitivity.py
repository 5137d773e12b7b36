"""Per-op int8 sensitivity of a landmark model, measured on the calibration crops.

Run from the project root (needs ../shared/data and the model cache):

    .venv/bin/python benchmarks/int8_sensitivity.py --model heavy --json /tmp/sens_heavy.json

The crops are calibrate_int8's (the pipeline's own ROI crops on the squat clips and the
multi-person photos; the labelled photos, the accuracy test, are not among them). Even crops
measure, odd ones check. Each op of the trunk (the ops the float heatmap and segmentation
branches do not own) is quantised alone, every other op float, and the error it causes at
the outputs is measured against fp32: the landmark deviation (mean distance of the 33 body
landmarks, % of the fp32 landmarks' extent) and the pose flag's (|Δ score|). ``--eval``
instead measures given float-op sets (stem/tail counts or a sensitivity ranking's top K),
``--rank`` ranks the measured ops per unit of cost, ``--write`` stores a set as the model's
recipe (its "float_ops" in convert/int8_ranges/). Heavy's recipe (quantiser v4):

    .venv/bin/python benchmarks/int8_sensitivity.py --model heavy --json sens.json
    .venv/bin/python benchmarks/int8_sensitivity.py --model heavy --json sens.json --rank rank.json
    .venv/bin/python benchmarks/int8_sensitivity.py --model heavy --json x.json \\
        --write mix:12:165:rank.json

(~25 min for the first step on 2 shared cores; the others take seconds.)
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import time
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from bench_int8 import model_ms
from calibrate_int8 import OUT, _dumps, person_crops
from numpy.typing import NDArray

from hifipose.convert.prune import prune_tflite
from hifipose.convert.quantize import _Graph, float_ops, quantize_tflite
from hifipose.detector import landmark_outputs
from hifipose.models import ensure_model, landmark_model_name

_LANDMARKS, _FLAG = "Identity", "Identity_1"


def _interpreter(data: bytes, threads: int) -> Any:  # noqa: ANN401
    module = importlib.import_module("ai_edge_litert.interpreter")
    interpreter = module.Interpreter(model_content=data, num_threads=threads)
    interpreter.allocate_tensors()
    return interpreter


def outputs(
    data: bytes, crops: Sequence[NDArray[np.float32]], threads: int = 1
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Landmarks (n, 33, 2) and pose flags (n,) of the model on the crops."""
    interpreter = _interpreter(data, threads)
    (source,) = interpreter.get_input_details()
    index = {d["name"]: d["index"] for d in interpreter.get_output_details()}
    landmarks, flags = [], []
    for crop in crops:
        interpreter.set_tensor(source["index"], crop)
        interpreter.invoke()
        landmarks.append(interpreter.get_tensor(index[_LANDMARKS]).reshape(-1, 5)[:33, :2].copy())
        flags.append(float(interpreter.get_tensor(index[_FLAG]).reshape(-1)[0]))
    return np.array(landmarks), np.array(flags)


def errors(
    reference: tuple[NDArray[np.float32], NDArray[np.float32]],
    other: tuple[NDArray[np.float32], NDArray[np.float32]],
) -> dict[str, float]:
    """Landmark deviation (% of the fp32 landmarks' extent) and flag error against fp32."""
    ref_lm, ref_flag = reference
    lm, flag = other
    extent = np.linalg.norm(ref_lm.max(axis=1) - ref_lm.min(axis=1), axis=1)
    per_crop = 100 * np.linalg.norm(lm - ref_lm, axis=2).mean(axis=1) / extent
    flag_error = np.abs(flag - ref_flag)
    logit_error = np.abs(_logit(flag) - _logit(ref_flag))
    return {
        "dev_mean": float(per_crop.mean()),
        "dev_p95": float(np.percentile(per_crop, 95)),
        "flag_mean": float(flag_error.mean()),
        "flag_max": float(flag_error.max()),
        "logit_mean": float(logit_error.mean()),
        "logit_max": float(logit_error.max()),
    }


def _logit(p: NDArray[np.float32]) -> NDArray[np.float64]:
    q = np.clip(p.astype(np.float64), 1e-6, 1 - 1e-6)
    return np.log(q / (1 - q))


def trunk_ops(data: bytes) -> list[str]:
    """The compute ops outside the float branches, in execution order (first output names)."""
    graph = _Graph(data)
    branches = float_ops(data, stem_ops=0, tail_ops=0)
    names = [
        graph.tensor_name(op.outputs[0])
        for op in graph.sg.operators
        if graph.op_name(op) != "DEQUANTIZE"
    ]
    return [n for n in names if n not in branches]


def macs(data: bytes) -> dict[str, float]:
    """Multiply-accumulates of each convolution (by first output name); other ops 0."""
    graph = _Graph(data)
    out: dict[str, float] = {}
    tensors = graph.sg.tensors
    for op in graph.sg.operators:
        name = graph.op_name(op)
        if name == "DEQUANTIZE":
            continue
        shape = [int(v) for v in tensors[op.outputs[0]].shape]
        weights = [int(v) for v in tensors[op.inputs[1]].shape] if len(op.inputs) > 1 else []
        if name == "CONV_2D":
            value = float(np.prod(shape) * np.prod(weights[1:]))
        elif name == "DEPTHWISE_CONV_2D":
            value = float(np.prod(shape) * weights[1] * weights[2])
        else:
            value = 0.0
        out[graph.tensor_name(op.outputs[0])] = value
    return out


def load(model: str, cache: Path) -> tuple[bytes, dict[str, Any], list[NDArray[np.float32]]]:
    path = ensure_model(landmark_model_name(model))  # type: ignore[arg-type]
    data = path.read_bytes()
    record = json.loads((OUT / f"{path.stem}.json").read_text())
    crops_file = cache / f"int8_crops_{model}.npy"
    if crops_file.is_file():
        crops = list(np.load(crops_file))
    else:
        crops = person_crops(model)
        np.save(crops_file, np.array(crops))
    return data, record, crops


def quantized(data: bytes, record: dict[str, Any], keep_float: Collection[str]) -> bytes:
    ranges = {k: (float(lo), float(hi)) for k, (lo, hi) in record["ranges"].items()}
    return quantize_tflite(data, ranges, keep_float=keep_float, means=record["means"])


def efficiency_ranking(data: bytes, deviation: dict[str, float]) -> list[str]:
    """Trunk ops by landmark deviation per unit of cost, most deviation per cost first.

    The cost of an op is its multiply-accumulates plus 4 per output value (the
    QUANTIZE / DEQUANTIZE pair a float op among int8 ones may need), so the ADDs and cheap
    low-resolution ops come first and the big full-resolution convolutions last.
    """
    graph = _Graph(data)
    counts = macs(data)
    values = {
        graph.tensor_name(op.outputs[0]): float(np.prod(graph.sg.tensors[op.outputs[0]].shape))
        for op in graph.sg.operators
    }
    return sorted(deviation, key=lambda n: -deviation[n] / (counts[n] + 4 * values[n]))


def float_set(data: bytes, spec: str) -> frozenset[str]:
    """The float ops of a set spec.

    ``STEM:TAIL`` (:func:`float_ops`'s stem and tail), ``top:K:RANKING`` (the branches and the
    first K ops of a ranking file's list), ``mix:TAIL:K:RANKING`` (no stem, the tail, and the
    first K ranked ops), ``dw:TAIL`` / ``conv:TAIL`` / ``add:TAIL`` (the tail and every op of
    that kind).
    """
    kind, *rest = spec.split(":")
    if kind == "top":
        ranking = json.loads(Path(rest[1]).read_text())["ranking"]
        return float_ops(data, stem_ops=0, tail_ops=0) | set(ranking[: int(rest[0])])
    if kind == "mix":
        ranking = json.loads(Path(rest[2]).read_text())["ranking"]
        return float_ops(data, stem_ops=0, tail_ops=int(rest[0])) | set(ranking[: int(rest[1])])
    if kind in _KINDS:  # every op of that kind float, plus the tail
        graph = _Graph(data)
        chosen = {
            graph.tensor_name(op.outputs[0])
            for op in graph.sg.operators
            if graph.op_name(op) == _KINDS[kind]
        }
        return float_ops(data, stem_ops=0, tail_ops=int(rest[0])) | chosen
    return float_ops(data, stem_ops=int(kind), tail_ops=int(rest[0]))


_KINDS = {"dw": "DEPTHWISE_CONV_2D", "conv": "CONV_2D", "add": "ADD"}


def _share(data: bytes, keep: Collection[str]) -> float:
    counts = macs(data)
    return sum(v for k, v in counts.items() if k in keep) / sum(counts.values())


class _Timed:
    """A model pruned to the outputs tracking reads, run by LiteRT."""

    def __init__(self, data: bytes, threads: int) -> None:
        self.interpreter = _interpreter(
            prune_tflite(data, landmark_outputs(enable_segmentation=False)), threads
        )
        (self.source,) = self.interpreter.get_input_details()

    def run(self, feed: dict[str, NDArray[np.float32]]) -> None:
        self.interpreter.set_tensor(self.source["index"], feed["input_1"])
        self.interpreter.invoke()


def evaluate(
    args: argparse.Namespace,
    data: bytes,
    record: dict[str, Any],
    crops: Sequence[NDArray[np.float32]],
) -> dict[str, Any]:
    """The error (and with ``--time`` the speed) of each ``--eval`` set against fp32."""
    branches = float_ops(data, stem_ops=0, tail_ops=0)
    reference = outputs(data, crops)
    results: dict[str, Any] = {}
    models = {}
    for spec in args.eval:
        keep = float_set(data, spec)
        models[spec] = quantized(data, record, keep)
        result = errors(reference, outputs(models[spec], crops))
        result["float_trunk_ops"] = len(keep - branches)
        result["float_share_of_macs"] = _share(data, keep)
        results[spec] = result
        print(spec, json.dumps(result), flush=True)
    if args.time:
        n = args.threads
        sessions = {"fp32": _Timed(data, n), **{k: _Timed(v, n) for k, v in models.items()}}
        for spec, ms in model_ms(sessions, crops[0], args.time).items():
            results.setdefault(spec, {})["ms"] = ms
            print(f"{spec}: {ms:.2f} ms", flush=True)
    return results


def sweep(
    args: argparse.Namespace,
    data: bytes,
    record: dict[str, Any],
    crops: Sequence[NDArray[np.float32]],
) -> dict[str, Any]:
    """Each trunk op quantised alone, every other op float: its error against fp32."""
    reference = outputs(data, crops)
    trunk = trunk_ops(data)
    results: dict[str, Any] = {}
    start = time.perf_counter()
    all_float = set(trunk) | float_ops(data, stem_ops=0, tail_ops=0)
    for number, name in enumerate(trunk):
        keep = all_float - {name}
        results[name] = errors(reference, outputs(quantized(data, record, keep), crops))
        print(number, f"{time.perf_counter() - start:.0f}s", results[name], flush=True)
        if number % 10 == 9:
            args.json.write_text(json.dumps({"crops": len(crops), "ops": results}, indent=1))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="heavy")
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--eval", nargs="*", help="float-op sets to measure (see float_set)")
    parser.add_argument("--half", choices=("even", "odd", "all"), default="even")
    parser.add_argument("--time", type=int, default=0, help="also time each set: this many runs")
    parser.add_argument("--threads", type=int, default=2, help="threads when timing")
    parser.add_argument("--write", metavar="SPEC", help="store this set's trunk ops as the recipe")
    parser.add_argument(
        "--rank", type=Path, help="write --json's sensitivity ranked per unit of cost here"
    )
    args = parser.parse_args()
    data, record, crops = load(args.model, args.cache)
    crops = {"even": crops[::2], "odd": crops[1::2], "all": crops}[args.half]
    if args.rank:
        sensitivity = json.loads(args.json.read_text())["ops"]
        ranking = efficiency_ranking(data, {k: v["dev_mean"] for k, v in sensitivity.items()})
        args.rank.write_text(json.dumps({"ranking": ranking}, indent=1))
        return 0
    if args.write:
        chosen = float_set(data, args.write) - float_ops(data, stem_ops=0, tail_ops=0)
        target = OUT / f"{ensure_model(landmark_model_name(args.model)).stem}.json"
        record["float_ops"] = [name for name in trunk_ops(data) if name in chosen]
        record["float_ops_method"] = f"int8_sensitivity.py set {args.write.split('/')[0]}"
        target.write_text(_dumps(record))
        print(f"{len(chosen)} float trunk ops → {target}")
        return 0
    run = sweep if args.eval is None else evaluate
    results = run(args, data, record, crops)
    args.json.write_text(json.dumps({"crops": len(crops), "ops": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
