"""How robust are several people's identities to noise a different CPU could cause?

Runs the several-people clips (``../shared/data/multi/crossing_squats.mp4`` and the
composite clips of ``tests/data/multi``) under two kinds of noise, per seed:

* ``grey``: every frame plus a uniform integer in {-1, 0, +1} per pixel and channel
  (clipped to 0..255), what a different decoder or colour conversion may do;
* ``model``: every landmark-model output times (1 + ``--scale`` × N(0, 1)), 1e-6 by
  default: the float32 rounding differences of another CPU's kernels (AVX2 against
  AVX-512, x86-64 against aarch64), through a seam around the runtime's session;
* ``none``: the clip as it is (one run; the seed is ignored).

and prints MOTA, IDF1 and id switches per clip, option set and seed (scores from
``tests/mot_metrics.py``), then the spread. With ``--events`` it also prints, per run,
each id switch (frame, person, track ids).

  PYTHONPATH=$PWD/src .venv/bin/python benchmarks/multi_noise.py --clips crossing_squats \\
      --options defaults readme --noise grey model --seeds 0 1 2 3 4

Option sets: ``defaults`` is ``num_poses=3``; ``readme`` adds the former README small-people
options (``detector_tiles=2, max_lost_ms=3000, detect_every=5``). ``--tasks`` also scores
MediaPipe Tasks (``num_poses=3``) on the same frames.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "dev"))

import hifipose  # noqa: E402
from hifipose.runtimes.base import Session  # noqa: E402
from hifipose_dev.composites import CLIP_OPTIONS, composite  # noqa: E402
from hifipose_dev.data import decode_frames  # noqa: E402
from hifipose_dev.mot_metrics import TrackingScores, score  # noqa: E402

OPTIONS: dict[str, dict[str, Any]] = {"defaults": {}, "readme": dict(CLIP_OPTIONS)}
CLIPS = (
    "crossing_squats",
    "fast_crossing",
    "three_crossing",
    "crouch_crossing",
    "size_crossing",
    "seated_front",
)


class PerturbedSession:
    """A landmark session whose outputs are each multiplied by (1 + scale × N(0, 1))."""

    def __init__(self, inner: Session, rng: np.random.Generator, scale: float) -> None:
        self._inner, self._rng, self._scale = inner, rng, scale
        self.input_names, self.output_names = inner.input_names, inner.output_names

    def run(
        self, inputs: Mapping[str, NDArray[np.float32]], output_names: Sequence[str] | None = None
    ) -> dict[str, NDArray[np.float32]]:
        out = self._inner.run(inputs, output_names)
        return {
            name: (value * (1.0 + self._scale * self._rng.standard_normal(value.shape))).astype(
                np.float32
            )
            for name, value in out.items()
        }

    def close(self) -> None:
        self._inner.close()


def clip(name: str) -> tuple[list[np.ndarray], list[dict]]:
    """RGB frames and ground-truth frames of a clip."""
    if name == "crossing_squats":
        path = ROOT.parent / "shared" / "data" / "multi" / "crossing_squats.mp4"
        gt = json.loads(path.with_suffix(".json").read_text())["frames"]
    else:
        path, gt = composite(name)
    return decode_frames(path), gt


def grey_noise(frames: list[np.ndarray], seed: int) -> list[np.ndarray]:
    """Every frame plus ±1 grey level (uniform in {-1, 0, 1} per value)."""
    rng = np.random.default_rng(seed)
    return [
        np.clip(f.astype(np.int16) + rng.integers(-1, 2, f.shape), 0, 255).astype(np.uint8)
        for f in frames
    ]


def run(
    frames: list[np.ndarray],
    options: dict[str, Any],
    *,
    runtime: str = "litert",
    perturb: tuple[int, float] | None = None,
) -> list[list[tuple[int, np.ndarray]]]:
    """Per frame (track_id, image keypoints) as the tests score them (10 fps clips)."""
    out = []
    with hifipose.create_detector(
        model_type="full", runtime=runtime, num_poses=3, **options
    ) as detector:
        if perturb is not None:
            seed, scale = perturb
            detector._landmarks = PerturbedSession(  # type: ignore[attr-defined]
                detector._landmarks,  # type: ignore[attr-defined]
                np.random.default_rng(seed),
                scale,
            )
        for i, frame in enumerate(frames):
            poses = detector.estimate_poses(frame, timestamp_ms=i * 100.0)
            out.append(
                [
                    (k + 1 if p.track_id is None else p.track_id, np.asarray(p.image_array))
                    for k, p in enumerate(poses)
                ]
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="+", default=["crossing_squats"], choices=CLIPS)
    parser.add_argument("--options", nargs="+", default=list(OPTIONS), choices=list(OPTIONS))
    parser.add_argument("--noise", nargs="+", default=["grey"], choices=["grey", "model", "none"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--scale", type=float, default=1e-6, help="model noise, relative")
    parser.add_argument("--runtime", default="litert")
    parser.add_argument("--tasks", action="store_true", help="also score MediaPipe Tasks")
    parser.add_argument("--events", action="store_true", help="print each id change")
    args = parser.parse_args()
    for name in args.clips:
        frames, gt = clip(name)
        for opt in args.options:
            for noise in args.noise:
                rows: list[TrackingScores] = []
                for seed in [0] if noise == "none" else args.seeds:
                    start = time.perf_counter()
                    noisy = grey_noise(frames, seed) if noise == "grey" else frames
                    perturb = (seed, args.scale) if noise == "model" else None
                    predictions = run(noisy, OPTIONS[opt], runtime=args.runtime, perturb=perturb)
                    scores = score(gt, predictions)
                    rows.append(scores)
                    line = (
                        f"{name:16} {opt:8} {noise:5} seed {seed}: MOTA {scores.mota:.3f} "
                        f"IDF1 {scores.idf1:.3f} switches {scores.id_switches:2d} "
                        f"misses {scores.misses} fp {scores.false_positives} "
                        f"({time.perf_counter() - start:.0f} s)"
                    )
                    if args.tasks:
                        tasks = score(gt, run(noisy, {}, runtime="mediapipe"))
                        line += (
                            f" | Tasks MOTA {tasks.mota:.3f} IDF1 {tasks.idf1:.3f} "
                            f"switches {tasks.id_switches}"
                        )
                    print(line, flush=True)
                    if args.events and scores.switches:
                        print("    " + "; ".join(scores.switches), flush=True)
                if len(rows) > 1:
                    print(
                        f"{name:16} {opt:8} {noise:5} spread: MOTA "
                        f"{min(r.mota for r in rows):.3f}-{max(r.mota for r in rows):.3f} "
                        f"(mean {statistics.mean(r.mota for r in rows):.3f}), IDF1 "
                        f"{min(r.idf1 for r in rows):.3f}-{max(r.idf1 for r in rows):.3f}, "
                        f"switches {[r.id_switches for r in rows]}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
