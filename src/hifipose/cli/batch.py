"""``hifipose batch``: many videos into one Parquet file each, resumably (local or Ray)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hifipose.cli._common import (
    add_camera,
    add_model,
    add_model_dir,
    add_quiet,
    add_runtime,
    given_camera,
)
from hifipose.errors import ConfigError


def run(args: argparse.Namespace) -> int:
    """``hifipose batch``: many videos into OUTDIR/poses/, resumably; exit 0, 3 or 130."""
    from hifipose.batch import BatchOptions, run

    if not args.inputs and args.list is None:
        msg = "batch: give videos, folders, globs or --list FILE"
        raise ConfigError(msg)  # one line, exit 1 (bad arguments), as README says
    options = BatchOptions(
        model=args.model,
        runtime=args.runtime,
        device=args.device,
        num_poses=args.num_poses,
        segmentation=args.segmentation,
        smoothing=args.smoothing,
        min_detection_confidence=args.min_detection_confidence,
        min_tracking_confidence=args.min_tracking_confidence,
        camera=given_camera(args),
        model_dir=args.model_dir,
    )
    try:
        summary = run(
            args.inputs,
            args.output,
            options=options,
            list_file=args.list,
            engine=args.engine,
            workers=args.workers,
            threads_per_worker=args.threads_per_worker,
            recycle_after=args.recycle_after,
            timeout_per_video=args.timeout_per_video,
            retry_failed=args.retry_failed,
            overwrite=args.overwrite,
            keep_partial=args.keep_partial,
            dry_run=args.dry_run,
            ray_address=args.ray_address,
            progress=not args.quiet,
            native_logs=args.verbose or args.debug,
        )
    except KeyboardInterrupt:
        print(
            "\ninterrupted: finished videos are kept; run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    if summary.dry_run:
        for planned in summary.plan:
            print(f"{planned.action:<4}  {planned.job.video_id}  ({planned.reason})")
        runs = sum(p.action == "run" for p in summary.plan)
        print(f"{runs} of {summary.total} videos would run")
        return 0
    print(summary.table())
    print(f"poses: {args.output}/poses/")
    return summary.exit_code


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``batch`` and its flags."""
    from hifipose.batch import SMOOTHING_MODES

    batch = sub.add_parser(
        "batch",
        help="track many videos into one Parquet file each (resumable; local or Ray)",
        description=(
            "Track every video of the inputs into OUTDIR/poses/<video_id>.parquet. Rerun the "
            "same command to resume. Exit status: 0 all done, 3 done with failures (recorded "
            "in OUTDIR/_hifipose/failed/), 1 fatal error, 130 interrupted."
        ),
    )
    batch.add_argument("inputs", nargs="*", help="video files, folders (recursive), globs")
    batch.add_argument("-o", "--output", required=True, help="output folder or pyarrow.fs URI")
    batch.add_argument("--list", type=Path, help="file of paths: one per line, or a CSV 'path'")
    batch.add_argument("--engine", choices=("local", "ray"), default="local")
    batch.add_argument("--workers", type=int, help="worker processes / actors (default: CPUs/T)")
    batch.add_argument("--threads-per-worker", type=int, default=1, help="inference threads")
    batch.add_argument("--recycle-after", type=int, default=200, help="videos per worker")
    batch.add_argument(
        "--timeout-per-video", type=float, help="seconds (default: max(120, 10 x duration))"
    )
    add_model(batch)
    add_runtime(batch)
    batch.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu")
    batch.add_argument("--num-poses", type=int, default=1, help="people per frame at most")
    batch.add_argument("--segmentation", action="store_true", help="run the mask head")
    batch.add_argument(
        "--smoothing",
        choices=SMOOTHING_MODES,
        default="online",
        help="online: MediaPipe's live filters (default); offline: track, then smooth each "
        "whole track without lag; none: raw landmarks",
    )
    add_camera(
        batch, fov_help="camera's horizontal field of view: adds camera-space columns (metres)"
    )
    batch.add_argument("--min-detection-confidence", type=float, default=0.5)
    batch.add_argument("--min-tracking-confidence", type=float, default=0.5)
    add_model_dir(batch)
    batch.add_argument("--retry-failed", action="store_true", help="retry recorded failures")
    batch.add_argument(
        "--overwrite", action="store_true", help="redo videos done with other options"
    )
    batch.add_argument(
        "--keep-partial", action="store_true", help="publish truncated videos (complete=false)"
    )
    batch.add_argument("--dry-run", action="store_true", help="say what would run, and why")
    batch.add_argument("--ray-address", help="Ray cluster to join (default: start a local one)")
    add_quiet(batch)
