"""``hifipose analyze``: joint angles and repetition counts per person from keypoints."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hifipose.cli._common import refuse_overwrites

if TYPE_CHECKING:
    pass


def _check_analyze(args: argparse.Namespace) -> list[str]:
    """Check every ``analyze`` argument and output before any work; return the angle names.

    Raises:
        ConfigError: An unknown exercise or angle, a ``--min-visibility`` outside [0, 1], an
            output of the wrong kind, or one that would overwrite the keypoints or the other.
        VideoReadError: The keypoints do not exist (or a folder holds none).
        RuntimeUnavailableError: pyarrow (``-o``) or matplotlib (``--plot``) is missing.
    """
    from hifipose.analysis import get_preset
    from hifipose.analysis.angles import check_min_visibility, normalize_angle_name
    from hifipose.analysis.report import DEFAULT_ANGLES, check_table_path
    from hifipose.analysis.tracks import keypoint_files

    preset = get_preset(args.count) if args.count else None
    if args.angles:
        names = [n for n in args.angles.split(",") if n.strip()]
    else:
        names = list(preset.angles if preset is not None else DEFAULT_ANGLES)
    for name in names:
        normalize_angle_name(name)
    check_min_visibility(args.min_visibility)
    outputs: list[tuple[str, Path, str | None]] = []
    if args.output:
        outputs.append(("-o", check_table_path(args.output), "angles.parquet"))
    if args.plot:
        from hifipose.io.plot_angles import check_plot_path

        outputs.append(("--plot", check_plot_path(args.plot), "angles.png"))
    refuse_overwrites(outputs, keypoint_files(args.keypoints))
    return names


def _unseen_hints(analyses: Sequence[Any], args: argparse.Namespace) -> None:
    """Warn about angles and counts that no frame of a track could give (on stderr)."""
    why = (
        f"their points are missing, not finite, or less visible than --min-visibility "
        f"{args.min_visibility:g} in every frame"
    )
    for a in analyses:
        unseen = [name for name, values in a.angles.items() if not np.isfinite(values).any()]
        if unseen:
            shown = ", ".join(unseen)
            print(f"hifipose analyze: warning: {a.track.label}: no {shown}: {why}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """``hifipose analyze``: angles (and repetitions) per track from a keypoint file or folder."""
    from hifipose.analysis import get_preset, read_tracks
    from hifipose.analysis.report import analysis_table, analyze_tracks, write_table

    names = _check_analyze(args)
    preset = get_preset(args.count) if args.count else None
    tracks = read_tracks(args.keypoints)
    if not tracks:
        print(f"hifipose analyze: no poses in {args.keypoints}", file=sys.stderr)
        return 1
    analyses = analyze_tracks(
        tracks, names, space=args.space, preset=preset, min_visibility=args.min_visibility
    )
    print(f"{'track':<14}{'frames':>7}{'seconds':>9}  {'angle':<16}{'min':>8}{'mean':>8}{'max':>8}")
    for a in analyses:
        t = a.track
        span = (t.timestamps_ms[-1] - t.timestamps_ms[0]) / 1000.0
        for i, (name, values) in enumerate(a.angles.items()):
            head = f"{t.label:<14}{len(t):>7}{span:>9.1f}" if i == 0 else " " * 30
            seen = values[np.isfinite(values)]
            stats = (
                f"{seen.min():>8.1f}{seen.mean():>8.1f}{seen.max():>8.1f}"
                if seen.size
                else f"{'—':>8}{'—':>8}{'—':>8}"
            )
            print(f"{head}  {name:<16}{stats}")
    _unseen_hints(analyses, args)
    if preset is not None:
        for a in analyses:
            if a.reps is not None:
                note = " (ended inside a repetition)" if a.reps.in_rep else ""
                if a.signal is not None and not np.isfinite(a.signal).any():
                    note = (
                        f" (no frame gives the {preset.label} signal: the world keypoints of "
                        f"{', '.join(preset.angles)} are missing, not finite or not visible)"
                    )
                print(f"{preset.name}: {a.track.label}: {a.reps.count} repetitions{note}")
    if args.output:
        write_table(analysis_table(analyses, preset), args.output)
        print(f"angles: {Path(args.output).resolve()}")
    if args.plot:
        from hifipose.io.plot_angles import AnglePanel, plot_angle_panels

        panels = []
        for a in analyses:
            seconds = a.track.timestamps_ms / 1000.0
            series = dict(a.angles)
            reps: list[float] = []
            if preset is not None and a.signal is not None and a.reps is not None:
                series[f"{preset.name} signal"] = a.signal
                reps = [float(seconds[e.end]) for e in a.reps.events]
            panels.append(AnglePanel(a.track.label, seconds, series, reps))
        print(f"plot: {plot_angle_panels(args.plot, panels).resolve()}")
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``analyze`` and its flags."""
    analyze = sub.add_parser(
        "analyze", help="joint angles and repetition counts per person from a keypoint file"
    )
    analyze.add_argument(
        "keypoints",
        help="keypoints from `track -o` (.jsonl, .csv or .parquet) or a `batch` OUTDIR",
    )
    analyze.add_argument(
        "--angles", help="comma-separated angle names (Sports2D's), e.g. left_knee,right_knee"
    )
    analyze.add_argument(
        "--space",
        choices=("image", "world"),
        default="image",
        help="image: signed 2D angles (Sports2D's); world: 3D angles from world keypoints",
    )
    analyze.add_argument(
        "--count", metavar="EXERCISE", help="count repetitions: squat, push-up, curl, jumping-jack"
    )
    analyze.add_argument(
        "--min-visibility", type=float, default=0.5, help="angles NaN below this (0 to 1)"
    )
    analyze.add_argument("-o", "--output", help="angles per frame and track: .parquet or .csv")
    analyze.add_argument("--plot", help="a picture of the angles over time (.png, .svg, .pdf)")
