"""``hifipose models list|fetch|verify|path|clean``: the model files in the cache."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from hifipose.cli._common import add_model_dir, add_quiet, plural

if TYPE_CHECKING:
    pass


def run(args: argparse.Namespace) -> int:
    """List, fetch, verify or clean the model files, or print their folder."""
    from hifipose.models import (
        clean_cache,
        derived_status,
        fetch_models,
        model_status,
        models_dir,
    )

    if args.action == "path":
        print(Path(args.model_dir) if args.model_dir else models_dir())
        return 0
    if args.action == "clean":
        removed = clean_cache(Path(args.model_dir) if args.model_dir else None)
        if args.json:
            print(json.dumps([{"path": str(p), "reason": why} for p, why in removed], indent=2))
        else:
            for path, why in removed:
                print(f"removed {path}: {why}")
            print(f"{plural(len(removed), 'file')} removed" if removed else "nothing to clean")
        return 0
    if args.action == "fetch":
        shown: set[str] = set()

        def progress(done: int, total: int, filename: str) -> None:
            if done == total and filename not in shown and not args.quiet:
                shown.add(filename)
                print(f"  {filename}: {total / 1e6:.1f} MB verified")

        paths = fetch_models(_names(args), force=args.force, progress=progress)
        print(f"{len(paths)} model files ready in {paths[0].parent}")
        return 0
    folder = Path(args.model_dir) if args.model_dir else None
    rows = model_status(folder, names=_names(args))
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            name, size, digest = row["name"], row["size_bytes"], row["sha256"]
            print(f"{name:<28} {size:>10} B  sha256 {digest[:12]}…  {row['state']}")
    bad = [r for r in rows if r["state"] != "ok"]
    bad_made = _report_derived(derived_status(folder), table=not args.json)
    if args.action == "verify" and (bad or bad_made):
        if bad:
            print(
                f"{plural(len(bad), 'model file')} missing or corrupt: run `hifipose models fetch`",
                file=sys.stderr,
            )
        if bad_made:
            print(
                f"{plural(bad_made, 'derived file')} (ONNX, int8) not matching their digest "
                "record: run `hifipose models clean` (they are made again when needed)",
                file=sys.stderr,
            )
        return 1
    return 0


def _names(args: argparse.Namespace) -> list[str]:
    """The files an action covers: the BlazePose four, plus the Holistic four if asked."""
    from hifipose.models import HOLISTIC_SPECS, MODEL_SPECS

    return [*MODEL_SPECS, *(HOLISTIC_SPECS if args.holistic else ())]


def _report_derived(made: list[tuple[Path, str | None]], *, table: bool) -> int:
    """Print the derived files' rows (``table``) and one stderr line per bad one; count those."""
    from hifipose.convert.derived import NO_RECORD

    states = {None: "ok", NO_RECORD: "no digest record (made again when next used)"}
    bad = 0
    for path, why in made:
        if table:
            print(f"  derived {path.name}  {states.get(why, 'corrupt')}")
        if why not in states:
            print(f"hifipose: derived file {path} {why}", file=sys.stderr)
            bad += 1
    return bad


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``models`` and its flags."""
    models = sub.add_parser(
        "models",
        help="list, fetch, verify or clean the model files",
        description=(
            "The four BlazePose model files (npm package @mediapipe/pose, pinned by size and "
            "SHA-256) in the per-user cache (HIFIPOSE_CACHE_DIR, else ~/.cache/hifipose)."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "actions:\n"
            "  list    each file's size, SHA-256 and state (ok, missing, corrupt)\n"
            "  fetch   download the missing or corrupt files, verified\n"
            "  verify  as list; exit 1 if a file is missing or corrupt\n"
            "  path    print the cache folder\n"
            "  clean   delete stale partial files and converted ONNX files of old versions"
        ),
    )
    models.add_argument(
        "action", choices=("list", "fetch", "verify", "path", "clean"), help="what to do"
    )
    models.add_argument("--force", action="store_true", help="fetch again even if cached")
    models.add_argument(
        "--holistic",
        action="store_true",
        help="also the Holistic hand, hand-recrop and face models (@mediapipe/holistic, ~10 MB)",
    )
    models.add_argument("--json", action="store_true", help="list/verify/clean as JSON")
    add_model_dir(models, help="use this folder instead of the cache")
    add_quiet(models, help="fetch without per-file lines")
