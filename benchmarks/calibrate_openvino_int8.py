"""Calibrate OpenVINO's int8 landmark models (NNCF) on person crops; commit the ranges.

Run from the project root (needs ../shared/data, the model cache and hifipose[openvino-int8]):

    .venv/bin/python benchmarks/calibrate_openvino_int8.py            # lite, full, heavy

The crops are those of benchmarks/calibrate_int8.py (the pipeline's own ROI crops on the
squat clips and the multi-person photos; the labelled photos, the accuracy test, are left
out). NNCF quantises OpenVINO's reading of each .tflite on them
(:func:`hifipose.convert.openvino_int8.quantize`); every activation FakeQuantize's ranges go
to src/hifipose/convert/openvino_int8_ranges/<model file stem>.json with the model's SHA-256
and the NNCF and OpenVINO versions. :func:`hifipose.convert.openvino_int8.openvino_int8_model`
replays them on a user's machine without the crops.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import sys
import time
from pathlib import Path

import numpy as np
import openvino as ov
from calibrate_int8 import DATA, SOURCES, _dumps, person_crops
from numpy.typing import NDArray

from hifipose.convert.openvino_int8 import (
    RANGES_DIR,
    activation_ranges,
    openvino_int8_model,
    quantize,
)
from hifipose.models import ensure_model, landmark_model_name


def _check_replay(path: Path, calibrated: ov.Model, crops: list[NDArray[np.float32]]) -> None:
    """The model replayed from the committed ranges must be the calibrated one, exactly."""
    replayed = openvino_int8_model(path, refresh=True)
    config = {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": 2}
    core = ov.Core()
    ours, theirs = (core.compile_model(m, "CPU", config) for m in (replayed, calibrated))
    for crop in crops:
        got, want = ours({0: crop}), theirs({0: crop})
        for a, b in zip(got.values(), want.values(), strict=True):
            if not np.array_equal(a, b):
                msg = f"{path.name}: the replayed int8 model differs from the calibrated one"
                raise SystemExit(msg)
    print(f"  replay equals the calibrated model on {len(crops)} crops")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="lite,full,heavy")
    args = parser.parse_args()
    RANGES_DIR.mkdir(exist_ok=True)
    for model_type in args.models.split(","):
        path = ensure_model(landmark_model_name(model_type))  # type: ignore[arg-type]
        print(f"{path.name}:", flush=True)
        crops = person_crops(model_type)
        started = time.perf_counter()
        model = quantize(ov.Core().read_model(path), ({"input_1": c} for c in crops), len(crops))
        ranges = activation_ranges(model)
        record = {
            "model": path.name,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "nncf": importlib.metadata.version("nncf"),
            "openvino": importlib.metadata.version("openvino"),
            "crops": len(crops),
            "sources": [str(p.relative_to(DATA)) for p, _, _ in SOURCES],
            "method": "nncf.quantize, mixed preset, no bias correction; each activation "
            "FakeQuantize's [low, high] (its input and output range)",
            "ranges": {
                name: [[float(f"{v:.9g}") for v in values] for values in pair]  # float32 exactly
                for name, pair in ranges.items()
            },
        }
        target = RANGES_DIR / f"{path.stem}.json"
        # one line per FakeQuantize
        text = _dumps({**record, "ranges": {}}).replace('"ranges": {}', '"ranges": {\n%s\n }')
        lines = [
            f"  {json.dumps(name)}: {json.dumps(pair)}" for name, pair in record["ranges"].items()
        ]
        target.write_text(text % ",\n".join(lines))
        json.loads(target.read_text())  # still JSON
        _check_replay(path, model, crops[:: max(1, len(crops) // 4)])
        took = time.perf_counter() - started
        print(f"  {len(ranges)} ranges from {len(crops)} crops in {took:.0f} s → {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
