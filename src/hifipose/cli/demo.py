"""``hifipose demo``: write the built-in sample clip, then track it as ``track`` does."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from hifipose.cli import track
from hifipose.cli._common import add_model, add_model_dir, add_quiet

if TYPE_CHECKING:
    pass


DEMO_DIR = Path("hifipose-demo")


def run(args: argparse.Namespace) -> int:
    """Write the demo clip, then track it into ``args.output``."""
    from hifipose.io.render import OverlayVideoWriter
    from hifipose.io.sample import sample_frames

    folder = Path(args.output)
    clip_path = folder / "sample.mp4"
    frames = sample_frames()
    with OverlayVideoWriter(clip_path, 15.0, (frames[0].shape[1], frames[0].shape[0])) as writer:
        for frame in frames:
            writer.write(frame)
    # The demo is `track` with its defaults: parse a track command line, so every option
    # `track` gains is there with its default value.
    argv = ["track", str(clip_path), "-o", str(folder / "keypoints.jsonl")]
    argv += ["--render", str(folder / "overlay.mp4"), "--model", args.model_type]
    argv += ["--quiet"] * args.quiet + ["--debug"] * args.debug + ["--verbose"] * args.verbose
    if args.model_dir is not None:
        argv += ["--model-dir", str(args.model_dir)]
    from hifipose.cli import build_parser

    track_args = build_parser().parse_args(argv)
    summary = track.run_track(track_args)
    print(f"demo: tracked {clip_path.resolve()} (scikit-image's astronaut, moving camera)")
    return track.print_summary(summary, track_args)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``demo`` and its flags."""
    demo = sub.add_parser(
        "demo",
        help="track the built-in sample clip into ./hifipose-demo/",
        description=(
            "Write a short sample clip (scikit-image's astronaut photo, with a moving camera) "
            "into the output folder, then track it as `hifipose track` does: sample.mp4, "
            "keypoints.jsonl and overlay.mp4 (LiteRT runtime)."
        ),
    )
    demo.add_argument("--output", type=Path, default=DEMO_DIR, help="output folder")
    add_model(demo, help="landmark model")
    add_quiet(demo)
    add_model_dir(demo)
