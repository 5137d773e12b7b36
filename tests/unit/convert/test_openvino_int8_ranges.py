"""The committed OpenVINO int8 calibrations (no OpenVINO or NNCF needed: JSON in, checks out).

The replay (:func:`hifipose.convert.openvino_int8.openvino_int8_model`) gives NNCF's
calibrated model only if every range is the float32 NNCF computed, exactly: OpenVINO's int8
transformations compare the ranges of branches that meet, and ranges rounded to 8 digits made
a model that differed from the calibrated one by up to 9 px in a 256 px crop.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from hifipose.convert.openvino_int8 import RANGES_DIR
from hifipose.models import MODEL_SPECS

LANDMARK_SPECS = [spec for name, spec in MODEL_SPECS.items() if name.startswith("pose_landmark")]


@pytest.mark.parametrize("spec", LANDMARK_SPECS, ids=lambda s: s.name)
def test_each_landmark_model_has_a_calibration_for_its_pinned_file(spec) -> None:
    record = json.loads((RANGES_DIR / f"{spec.name}.json").read_text())
    assert record["sha256"] == spec.sha256
    assert record["model"] == spec.filename
    assert record["crops"] >= 50


@pytest.mark.parametrize("spec", LANDMARK_SPECS, ids=lambda s: s.name)
def test_ranges_are_float32_values_exactly(spec) -> None:
    ranges = json.loads((RANGES_DIR / f"{spec.name}.json").read_text())["ranges"]
    assert ranges
    for name, (low, high) in ranges.items():
        assert len(low) == len(high) >= 1, name
        for value in (*low, *high):
            # written with 9 significant digits, which name one float32 exactly
            assert float(f"{np.float32(value):.9g}") == value, (name, value)
        assert all(lo <= hi for lo, hi in zip(low, high, strict=True)), name
