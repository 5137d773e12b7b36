"""enable_segmentation at 1080p: the person mask's cost per frame, frame space against crop space.

Tracks the squat clip from ../shared/data letterboxed into 1920×1080 (full model, LiteRT,
video mode, smoothing on) and times, in interleaved rounds (median ms per frame):

* segmentation off (the landmark model pruned of its mask head: the baseline);
* the frame-space path as it was: the detector makes the crop mask, then every frame pays
  the old stage on top: the warp of the 256×256 mask onto the 1920×1080 frame, its support
  box and the frame-sized blend with the previous frame mask (the old functions, copied
  below; the pipeline runs with ``smooth_segmentation=False`` so nothing is blended twice);
* the crop-space path (now): the mask blended in its crop and never read;
* the crop-space path read every frame at 1920×1080 (``pose.segmentation``);
* the crop-space path read every frame at 160×90 (``pose.segmentation_at``, serve's preview);
* MediaPipe's Pose graph (mediapipe 0.10.14 ``solutions.pose``) with and without its mask,
  for the ratio (``--no-mediapipe`` skips it).

The overhead of a row is its ms per frame minus the baseline's in the same round. The
machine is shared: the table states the load average before and after.

    .venv/bin/python benchmarks/bench_segmentation.py --rounds 7 \
        --markdown benchmarks/results/segmentation.md
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
from _common import DATA, read_frames
from numpy.typing import NDArray

import hifipose
from hifipose.bench import letterbox
from hifipose.blazepose.segmentation import CropMask
from hifipose.filters.segmentation import _blend

CLIP = DATA / "tfjs_golden" / "pose_squats.mp4"
SIZE_WH = (1920, 1080)
PREVIEW_WH = (160, 90)
FRAME_MS = 1000.0 / 30.0

Frames = Sequence[NDArray[np.uint8]]


# --- the frame-space stage as it was (src/hifipose at the parent of this change) ------------


def old_mask_to_frame(
    probabilities: NDArray[np.float32],
    crop_from_image: NDArray[np.float64],
    size_wh: tuple[int, int],
) -> NDArray[np.float32]:
    """The old ``mask_to_image`` after its sigmoid (the pipeline still runs the sigmoid)."""
    return np.asarray(
        cv2.warpAffine(
            probabilities,
            np.ascontiguousarray(crop_from_image[:2]),
            size_wh,
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0.0,
        ),
        dtype=np.float32,
    )


def old_mask_support(
    crop_from_image: NDArray[np.float64], mask_side: int, size_wh: tuple[int, int]
) -> tuple[int, int, int, int]:
    """The old ``mask_support``: the frame box outside which the frame mask is 0."""
    image_from_crop = np.linalg.inv(crop_from_image)
    lo, hi = -1.0, float(mask_side)
    corners = np.array([[lo, lo, 1.0], [hi, lo, 1.0], [lo, hi, 1.0], [hi, hi, 1.0]])
    points = corners @ image_from_crop.T
    xy = points[:, :2] / points[:, 2:]
    width, height = size_wh
    x0, y0 = np.floor(xy.min(axis=0)).astype(int) - 1
    x1, y1 = np.ceil(xy.max(axis=0)).astype(int) + 2
    return (
        int(np.clip(x0, 0, width)),
        int(np.clip(y0, 0, height)),
        int(np.clip(x1, 0, width)),
        int(np.clip(y1, 0, height)),
    )


def old_smooth(
    current: NDArray[np.float32],
    previous: NDArray[np.float32] | None,
    support: tuple[int, int, int, int],
    ratio: float = 0.7,
) -> NDArray[np.float32]:
    """The old frame-sized ``smooth_segmentation`` with its support box."""
    if previous is None or previous.shape != current.shape:
        return current
    zero = np.zeros((1, 1), np.float32)
    factor = _blend(zero, np.ones_like(zero), ratio)[0, 0]
    out = previous * factor
    x0, y0, x1, y1 = support
    if x1 > x0 and y1 > y0:
        out[y0:y1, x0:x1] = _blend(current[y0:y1, x0:x1], previous[y0:y1, x0:x1], ratio)
    return out


# --- the timed passes ------------------------------------------------------------------------


def _pass(
    detector: hifipose.PoseDetector, frames: Frames, after: Callable[[list], None] | None
) -> tuple[float, float]:
    """(ms per frame, inference ms per frame) for one pass over ``frames``."""
    detector.reset()
    stages = detector.stage_times
    stages.enabled = True
    stages.seconds = dict.fromkeys(stages.seconds, 0.0)
    started = time.perf_counter()
    for index, frame in enumerate(frames):
        poses = detector.estimate_poses(frame, timestamp_ms=index * FRAME_MS)
        if after is not None:
            after(poses)
    elapsed = time.perf_counter() - started
    return 1e3 * elapsed / len(frames), 1e3 * stages.seconds["inference"] / len(frames)


def _old_stage() -> Callable[[list], None]:
    state: dict[str, NDArray[np.float32] | None] = {"previous": None}

    def after(poses: list) -> None:
        if not poses:
            state["previous"] = None
            return
        source = poses[0]._mask_source  # the crop mask the pipeline made (not read yet)
        assert isinstance(source, CropMask)
        frame = old_mask_to_frame(source.probabilities, source.crop_from_image, SIZE_WH)
        support = old_mask_support(source.crop_from_image, 256, SIZE_WH)
        state["previous"] = old_smooth(frame, state["previous"], support)

    return after


def _read(size_wh: tuple[int, int] | None) -> Callable[[list], None]:
    def after(poses: list) -> None:
        for pose in poses:
            mask = pose.segmentation if size_wh is None else pose.segmentation_at(size_wh)
            assert mask is not None

    return after


def _solution_pass(solution: object, frames: Frames) -> tuple[float, float]:
    solution.reset()  # type: ignore[attr-defined]
    started = time.perf_counter()
    for frame in frames:
        solution.process(frame)  # type: ignore[attr-defined]
    return 1e3 * (time.perf_counter() - started) / len(frames), float("nan")


def _frames(count: int) -> list[NDArray[np.uint8]]:
    frames = list(read_frames(CLIP, count, rgb=True))
    if not frames:
        sys.exit(f"cannot read {CLIP}")
    return letterbox(frames, SIZE_WH)


def _report(
    times: dict[str, list[tuple[float, float]]],
    args: argparse.Namespace,
    frame_count: int,
    load: tuple[float, float],
) -> str:
    """The markdown report: the table, the ratios and the machine's load."""
    base_rounds = times["segmentation off (baseline)"]
    mp_rounds = times.get("MediaPipe solutions.pose, mask off", [])
    table = [
        "| path | ms per frame | outside inference ms | mask overhead outside inference ms "
        "| mask overhead, all ms |",
        "|---|---:|---:|---:|---:|",
    ]
    outside_over: dict[str, float] = {}
    total_over: dict[str, float] = {}
    for name, measured in times.items():
        base = mp_rounds if name.startswith("MediaPipe") else base_rounds
        pairs = list(zip(measured, base, strict=True))
        total = statistics.median(t for t, _ in measured)
        total_over[name] = statistics.median(t - b for (t, _), (b, _) in pairs)
        cells = [f"{total:.2f}", "–", "–", f"{total_over[name]:+.2f}"]
        if not name.startswith("MediaPipe"):  # Tasks/solutions report no stage times
            outside_over[name] = statistics.median((t - i) - (b - j) for (t, i), (b, j) in pairs)
            cells[1] = f"{statistics.median(t - i for t, i in measured):.2f}"
            cells[2] = f"{outside_over[name]:+.2f}"
        table.append(f"| {name} | {' | '.join(cells)} |")
    old_name = "frame-space (old): warp + blend at 1920×1080"

    def ratios(over: dict[str, float]) -> str:
        return ", ".join(
            f"{name.split(', ', 1)[1]} {over[old_name] / over[name]:.1f}×"
            if over[name] > 0
            else f"{name.split(', ', 1)[1]} (no measurable overhead)"
            for name in over
            if name.startswith("crop-space")
        )

    lines = [
        "# Segmentation at 1080p: frame space against crop space",
        "",
        f"`benchmarks/bench_segmentation.py --rounds {args.rounds} --frames {args.frames}`: "
        f"the squat clip letterboxed into {SIZE_WH[0]}×{SIZE_WH[1]}, {frame_count} frames a "
        "pass, tracking, full model, LiteRT "
        f"({'default' if args.threads is None else args.threads} threads), smoothing on; "
        f"median of {args.rounds} interleaved rounds (order rotated each round). A mask "
        "overhead is the row's time minus its baseline's in the same round (median over "
        "rounds); 'outside inference' leaves out the model runs, so it is the mask's own "
        "work without the landmark model's mask head, which the baseline prunes.",
        "",
        *table,
        "",
        "Old frame-space overhead over the new one, outside inference: "
        + ratios(outside_over)
        + "; all included: "
        + ratios(total_over)
        + ".",
    ]
    if "MediaPipe solutions.pose, mask on" in times:
        lines += [
            "",
            "MediaPipe's own graph pays "
            f"{total_over['MediaPipe solutions.pose, mask on']:.2f} ms per frame for its mask "
            "in the same run, mask head included (it makes and smooths the mask at the "
            "frame's size, as the old path did).",
        ]
    lines += [
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, shared "
        f"with other work: load average {load[0]:.2f} before, {load[1]:.2f} after "
        f"(1 min). Python {platform.python_version()}, numpy {np.__version__}, "
        f"OpenCV {cv2.__version__}, hifipose {hifipose.__version__}. Absolute figures move "
        "with the load; the ratios less so.",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--frames", type=int, default=60, help="frames of the clip per pass")
    parser.add_argument("--threads", type=int, default=None, help="LiteRT threads (default)")
    parser.add_argument("--no-mediapipe", action="store_true")
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args(argv)

    frames = _frames(args.frames)
    load_before = os.getloadavg()

    def detector(*, segmentation: bool, smooth: bool = True) -> hifipose.PoseDetector:
        return hifipose.create_detector(
            model_type="full",
            runtime="litert",
            num_threads=args.threads,
            enable_segmentation=segmentation,
            smooth_segmentation=smooth,
        )

    off, raw, new = (
        detector(segmentation=False),
        detector(segmentation=True, smooth=False),
        detector(segmentation=True),
    )
    rows: dict[str, Callable[[], tuple[float, float]]] = {
        "segmentation off (baseline)": lambda: _pass(off, frames, None),
        "frame-space (old): warp + blend at 1920×1080": lambda: _pass(raw, frames, _old_stage()),
        "crop-space (new), mask not read": lambda: _pass(new, frames, None),
        "crop-space (new), read at 1920×1080": lambda: _pass(new, frames, _read(None)),
        "crop-space (new), read at 160×90": lambda: _pass(new, frames, _read(PREVIEW_WH)),
    }
    solutions = []
    if not args.no_mediapipe:
        from mediapipe.python.solutions import pose as mp_pose

        solutions = [mp_pose.Pose(model_complexity=1, enable_segmentation=s) for s in (False, True)]
        rows["MediaPipe solutions.pose, mask off"] = lambda: _solution_pass(solutions[0], frames)
        rows["MediaPipe solutions.pose, mask on"] = lambda: _solution_pass(solutions[1], frames)
    for measure in rows.values():  # warm-up: allocations, first detections
        measure()
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in rows}
    names = list(rows)
    for round_index in range(args.rounds):
        shift = round_index % len(names)  # rotate the order: no row always runs first
        for name in names[shift:] + names[:shift]:
            times[name].append(rows[name]())
        print(f"round {round_index + 1}/{args.rounds} done", file=sys.stderr)
    for handle in (off, raw, new, *solutions):
        handle.close()
    load_after = os.getloadavg()

    text = _report(times, args, len(frames), (load_before[0], load_after[0]))
    print(text)
    if args.markdown is not None:
        args.markdown.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
