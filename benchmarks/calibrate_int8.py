"""Measure the int8 activation ranges (and input means) of the landmark models on person crops.

Run from the project root (needs ../shared/data and the model cache):

    .venv/bin/python benchmarks/calibrate_int8.py            # lite, full, heavy

The crops are the ones the pipeline itself feeds the landmark model (its ROI crops, made by
the float model's own tracking) on the squat clips and the multi-person photos of
../shared/data. The labelled photos (../shared/data/labelled) are left out: they are the
accuracy test. The ranges go to src/hifipose/convert/int8_ranges/<model file stem>.json with
the source model's SHA-256; :func:`hifipose.convert.int8_model_bytes` refuses other files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

import hifipose
from hifipose.convert.quantize import activation_ranges, input_means
from hifipose.io.sources import open_source
from hifipose.models import ensure_model, landmark_model_name
from hifipose.runtimes.base import Session

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "src" / "hifipose" / "convert" / "int8_ranges"
SOURCES = (  # (input, static image mode, keep every n-th frame)
    (DATA / "tfjs_golden" / "pose_squats.mp4", False, 2),
    (DATA / "multi" / "crossing_squats.mp4", False, 3),
    (DATA / "tfjs_golden" / "pose.jpg", True, 1),
    (DATA / "multi" / "three_people.jpg", True, 1),
    (DATA / "multi" / "bus.jpg", True, 1),
    (DATA / "multi" / "zidane.jpg", True, 1),
)


class _Recorder:
    """A landmark session that keeps a copy of every input crop."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.crops: list[NDArray[np.float32]] = []
        self.input_names = session.input_names
        self.output_names = session.output_names

    def run(
        self, inputs: Mapping[str, NDArray[np.float32]], output_names: Sequence[str] | None = None
    ) -> dict[str, NDArray[np.float32]]:
        self.crops.append(np.array(inputs["input_1"], np.float32))
        return self.session.run(inputs, output_names)

    def close(self) -> None:
        self.session.close()


def person_crops(model_type: str) -> list[NDArray[np.float32]]:
    crops: list[NDArray[np.float32]] = []
    for path, static, every in SOURCES:
        detector = hifipose.create_detector(model_type=model_type, static_image_mode=static)  # type: ignore[arg-type]
        recorder = _Recorder(detector._landmarks)
        detector._landmarks = recorder  # type: ignore[assignment]
        with detector, open_source(path) as source:
            for frame in source:
                detector.estimate_poses(frame.image_rgb, None if static else frame.timestamp_ms)
        crops += recorder.crops[::every]
        print(f"  {path.name}: {len(recorder.crops[::every])} crops", flush=True)
    return crops


def _dumps(record: Mapping[str, object]) -> str:
    """JSON with one line per key (each list of numbers on its line; lists of
    names one name per line), for readable diffs."""
    text = json.dumps(record, indent=1)
    numbers = r"\[\s+([^\[\]{}\"]*?)\s+\]"  # a list without strings or nested lists
    return re.sub(numbers, lambda m: f"[{' '.join(m[1].split())}]", text) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="lite,full,heavy")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    for model_type in args.models.split(","):
        path = ensure_model(landmark_model_name(model_type))  # type: ignore[arg-type]
        data = path.read_bytes()
        print(f"{path.name}:", flush=True)
        crops = person_crops(model_type)
        ranges = activation_ranges(data, ({"input_1": crop} for crop in crops))
        means = input_means(data, ({"input_1": crop} for crop in crops))
        record = {
            "model": path.name,
            "sha256": hashlib.sha256(data).hexdigest(),
            "crops": len(crops),
            "sources": [str(p.relative_to(DATA)) for p, _, _ in SOURCES],
            "method": "min/max over the crops; means: per-channel mean of each convolution input",
            "ranges": {name: [round(lo, 6), round(hi, 6)] for name, (lo, hi) in ranges.items()},
            "means": {name: [float(f"{v:.4g}") for v in values] for name, values in means.items()},
        }
        target = OUT / f"{path.stem}.json"
        old = json.loads(target.read_text()) if target.is_file() else {}
        if old.get("sha256") == record["sha256"]:  # the float ops chosen for this model stay
            record |= {k: old[k] for k in ("float_ops", "float_ops_method") if k in old}
        target.write_text(_dumps(record))
        print(f"  {len(ranges)} ranges from {len(crops)} crops → {target}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
