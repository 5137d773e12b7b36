"""Which detector tile layout finds a small walker anywhere across a 1280×720 frame?

One person of the squat clip walks from x=60 to x=1220 over 55 frames (made with
``../shared/tools/make_composite.py``, cached in the temporary folder), at several heights.
On each frame, from a fresh stream (nobody tracked), the detector's first pass of
``num_poses=3`` runs with each layout; the walker counts as found when a detection's ROI
centre lies within a torso length of their true hip centre:

* ``whole``: the whole frame only (``detector_tiles=1``);
* ``three``: the whole frame and three squares on 16:9 (squares overlapping by
  :data:`~hifipose.blazepose.tiles.TILE_OVERLAP`, the automatic tiles before two);
* ``two``: the whole frame and two squares (:data:`~hifipose.blazepose.tiles.SQUARE_OVERLAP`,
  the automatic tiles now).

  PYTHONPATH=$PWD/src .venv/bin/python benchmarks/tile_sweep.py [--heights 140 180 220]

Prints, per layout and height, the frames found and the walker's x where missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from _common import ROOT

import hifipose
from hifipose.blazepose import tiles
from hifipose.io import open_source

sys.path.insert(0, str(ROOT / "dev"))  # the development package (not in the wheel)
from hifipose_dev.composites import make_clip

LAYOUTS = ("whole", "three", "two")


def walk_clip(height: int) -> tuple[Path, list[dict[str, object]]]:
    """The walker clip of this height (made once) and its ground-truth frames."""
    folder = Path(tempfile.gettempdir()) / "hifipose-tile-sweep"
    folder.mkdir(exist_ok=True)
    clip = folder / f"walk{height}.mp4"
    if not clip.with_suffix(".json").exists():
        spec = {
            "size": [1280, 720],
            "fps": 10,
            "frames": 55,
            "background": "../shared/data/multi/background_building.jpg",
            "persons": [
                {
                    "clip": "../shared/data/tfjs_golden/pose_squats.mp4",
                    "height": height,
                    "mirror": False,
                    "offset": 0,
                    "x": [60, 1220],
                    "y": 650,
                }
            ],
        }
        path = folder / f"walk{height}.spec.json"
        path.write_text(json.dumps(spec))
    return clip, make_clip(folder / f"walk{height}.spec.json", clip)


def found(layout: str, clip: Path, truth: list[dict[str, object]]) -> list[tuple[int, bool]]:
    """Per frame: the walker's hip x and whether the first detector pass found them."""
    overlap = tiles.SQUARE_OVERLAP
    tiles.SQUARE_OVERLAP = tiles.TILE_OVERLAP if layout == "three" else overlap  # type: ignore[misc]
    try:
        with (
            hifipose.create_detector(
                model_type="full", num_poses=3, detector_tiles=1 if layout == "whole" else None
            ) as detector,
            open_source(clip) as source,
        ):
            out = []
            for frame, gt in zip(source, truth, strict=True):
                detector.reset()
                rois = detector._detect(frame.image_rgb, 6)  # type: ignore[attr-defined]
                points = np.array(gt["persons"][0]["keypoints"])  # type: ignore[index]
                hip, shoulders = points[[23, 24]].mean(0), points[[11, 12]].mean(0)
                torso = float(np.linalg.norm(hip - shoulders))
                hit = any(
                    np.hypot(r.center_px[0] - hip[0], r.center_px[1] - hip[1]) < torso for r in rois
                )
                out.append((int(hip[0]), hit))
            return out
    finally:
        tiles.SQUARE_OVERLAP = overlap  # type: ignore[misc]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--heights", nargs="+", type=int, default=[140, 180, 220, 260, 320])
    args = parser.parse_args()
    for height in args.heights:
        clip, truth = walk_clip(height)
        for layout in LAYOUTS:
            result = found(layout, clip, truth)
            missed = [x for x, hit in result if not hit]
            hits = len(result) - len(missed)
            print(
                f"{layout:5s} {height} px: found on {hits} of {len(result)}; missed at x={missed}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
