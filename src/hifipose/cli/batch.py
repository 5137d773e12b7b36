"""``hifipose batch``: many videos into one Parquet file each, resumably (local or Ray)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from hifipose.cli._common import (
    add_camera,
    add_detector_flag,
    add_detector_flags,
    add_field_flag,
    add_model,
    add_model_dir,
    add_quiet,
    add_runtime,
    detector_options,
    given_camera,
)
from hifipose.errors import ConfigError

if TYPE_CHECKING:
    from hifipose.batch import BatchOptions


def run(args: argparse.Namespace) -> int:
    """``hifipose batch``: many videos into OUTDIR/poses/, resumably; exit 0, 3 or 130."""
    from hifipose.batch import run

    if not args.inputs and args.list is None:
        msg = "batch: give videos, folders, globs or --list FILE"
        raise ConfigError(msg)  # one line, exit 1 (bad arguments), as README says
    options = batch_options(args)
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


def batch_options(args: argparse.Namespace) -> BatchOptions:
    """``batch``'s flags as the job options (validated: ConfigError)."""
    from hifipose.batch import BatchOptions

    return BatchOptions(
        **detector_options(args), smoothing=args.smoothing, camera=given_camera(args)
    )


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``batch`` and its flags."""
    from hifipose.batch.options import BATCH_FIXED_FIELDS
    from hifipose.stream import RunOptions

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
    add_detector_flag(batch, "device", help=None)
    add_detector_flag(batch, "num_poses", help="people per frame at most")
    add_detector_flag(batch, "enable_segmentation", help="run the mask head")
    add_field_flag(
        batch,
        RunOptions,
        "smoothing",
        help="online: MediaPipe's live filters (default); offline: track, then smooth each "
        "whole track without lag; none: raw landmarks",
    )
    add_camera(
        batch, fov_help="camera's horizontal field of view: adds camera-space columns (metres)"
    )
    add_detector_flag(batch, "min_detection_confidence", help=None)
    add_detector_flag(batch, "min_tracking_confidence", help=None)
    add_model_dir(batch)
    add_detector_flags(batch, leave_out=BATCH_FIXED_FIELDS)
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
