"""Property-based fuzzing of batch inputs → videos → output files (discovery, ids, the store).

Each example builds a small tree of files, folders and links (unicode and odd names, every
video suffix and others, ``..`` and ``.`` names, links to files, to folders, to their own
folder, dangling and leading outside the tree), names some of it as inputs (relative paths
with ``..`` hops, globs, missing files, a list file) from a working folder inside the tree,
and then does what ``batch`` does before and after tracking: discover the videos, check
OUTDIR, and publish a pose table and a failure record for each.

Passing means 0 crashes, 0 errors outside hifipose.errors (a refused input is a
:class:`~hifipose.errors.ConfigError`), no id with a ``..``, nothing written or resolved
outside OUTDIR, and OUTDIR's listing (what ``read_poses(OUTDIR)`` and a rerun read) holds
exactly one table and one record per video. Bounded in CI (HIFIPOSE_FUZZ_EXAMPLES, default
200); run it long with ``bash scripts/fuzz 10000``.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hifipose.batch import discover
from hifipose.batch.discovery import check_outdir
from hifipose.batch.store import FAILED, POSES, OutputStore
from hifipose.errors import ConfigError
from hifipose.io.sources import VIDEO_SUFFIXES
from hifipose.io.table import build_table

EXAMPLES = int(os.environ.get("HIFIPOSE_FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written into the repository
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_STEMS = st.one_of(
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from(["a", "b", "..", ".", "...", "._x", ".hidden", "a.parquet", "x" * 240, "~"]),
)
_SUFFIXES = st.one_of(
    st.sampled_from(VIDEO_SUFFIXES),
    st.sampled_from(["", ".MP4", ".Mts", ".txt", ".jpg", ".parquet", ".json", ".partial", "."]),
)
_NAMES = st.builds(lambda stem, suffix: stem + suffix, _STEMS, _SUFFIXES).filter(
    lambda name: name not in {".", ".."} and len(name.encode(errors="surrogateescape")) <= 255
)
_FOLDERS = st.lists(st.sampled_from(["d", "e", "ünï", "x y", "..d", "[g]", "*"]), max_size=3)


@st.composite
def _trees(draw: st.DrawFn) -> tuple[list[tuple[list[str], str]], list[tuple[str, str]]]:
    """Files (folder parts, name) and links (relative path, target spec)."""
    files = draw(st.lists(st.tuples(_FOLDERS, _NAMES), min_size=1, max_size=8))
    links = draw(
        st.lists(
            st.tuples(
                st.builds(lambda f, n: "/".join([*f, n]), _FOLDERS, _NAMES),
                st.sampled_from(["file", "dir", "self", "dangling", "outside", "parent"]),
            ),
            max_size=3,
        )
    )
    return files, links


def _spec(draw: st.DrawFn, made: list[str]) -> str:
    """An input as a user might spell it, from the working folder ``tree/cwd``."""
    kind = draw(st.sampled_from(["file", "folder", "glob", "missing", "absolute", "hops"]))
    target = draw(st.sampled_from(made))
    if kind == "folder":
        return "../" + (target.rsplit("/", 1)[0] if "/" in target else ".")
    if kind == "glob":
        return draw(st.sampled_from(["../*", "../*/*", "../**/*", "../d/*.mp4", "../**/*.MTS"]))
    if kind == "missing":
        return "../no/such" + draw(_SUFFIXES)
    if kind == "absolute":
        return "ABS/" + target
    if kind == "hops":
        hops = draw(st.sampled_from(["../cwd/../", "./../", "../d/../", "../../tree/", "../*/../"]))
        return hops + target
    return "../" + target


@st.composite
def _cases(draw: st.DrawFn) -> tuple[object, list[str], list[str] | None, str]:
    tree = draw(_trees())
    paths = ["/".join([*folders, name]) for folders, name in tree[0]]
    specs = [_spec(draw, paths) for _ in range(draw(st.integers(1, 4)))]
    listed = [_spec(draw, paths) for _ in range(draw(st.integers(0, 3)))] or None
    outdir = draw(st.sampled_from(["out", "../out", "../d/out", "./out/../out2", "../cwd/o"]))
    return tree, specs, listed, outdir


def _build(top: Path, tree: tuple[list[tuple[list[str], str]], list[tuple[str, str]]]) -> None:
    files, links = tree
    for folders, name in files:
        folder = top.joinpath(*folders)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(b"not a video")
        except OSError:  # a name taken by a folder (or a file where a folder must go)
            continue
    targets = {
        "file": top / "d",
        "dir": top,
        "self": Path(),
        "dangling": top / "gone.mp4",
        "outside": top.parent / "outside",
        "parent": Path(".."),
    }
    for path, kind in links:
        link = top / path
        try:
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(targets[kind])
        except OSError:
            continue


def _snapshot(folder: Path, skip: Path) -> set[tuple[str, int]]:
    """Every entry under ``folder`` but ``skip`` (as names and sizes), links not followed."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(folder):
        if Path(dirpath) == skip or Path(dirpath).is_relative_to(skip):
            continue
        for name in dirnames + filenames:
            entry = Path(dirpath) / name
            if skip.is_relative_to(entry):  # OUTDIR, or a folder made to hold it
                continue
            info = entry.lstat()
            found.add((str(entry), -1 if stat.S_ISDIR(info.st_mode) else info.st_size))
    return found


@FUZZ
@given(case=_cases())
def test_batch_paths_never_leave_outdir(
    case: tuple[object, list[str], list[str] | None, str],
) -> None:
    tree, specs, listed, outdir = case
    base = Path(tempfile.mkdtemp(prefix="hifipose-fuzz-"))
    here = Path.cwd()
    try:
        top = base / "tree"
        (top / "cwd").mkdir(parents=True)
        (base / "outside").mkdir()
        (base / "outside" / "far.mp4").write_bytes(b"far")
        _build(top, tree)  # type: ignore[arg-type]
        os.chdir(top / "cwd")
        inputs = [s.replace("ABS/", f"{top}/", 1) for s in specs]
        list_file = None
        if listed is not None:
            list_file = top / "cwd" / "list.txt"
            list_file.write_text("\n".join(s.replace("ABS/", f"{top}/", 1) for s in listed))
        out = Path(os.path.realpath(outdir))
        before = _snapshot(base, out)
        try:
            jobs = discover(inputs, list_file)
            check_outdir(outdir, inputs, jobs)
        except ConfigError as exc:
            event("refused: " + ("no videos" if "no videos" in str(exc) else "a name or OUTDIR"))
            return  # refused, with a typed one-line reason
        event(f"{min(len(jobs), 5)}+ videos" if len(jobs) >= 5 else f"{len(jobs)} videos")
        store = OutputStore(outdir)
        assert store.root == str(out)
        for job in jobs:
            parts = job.video_id.split("/")
            assert job.video_id and not {"", ".", ".."} & set(parts), job.video_id
            assert Path(job.path).is_absolute()
            metadata = {"video_id": job.video_id}
            store.write_table(
                store.pose_file(job.video_id), build_table([], job.video_id, metadata)
            )
            store.write_json(store.failure_file(job.video_id), metadata)
        for relative in [store.pose_file(j.video_id) for j in jobs] + [
            store.failure_file(j.video_id) for j in jobs
        ]:
            written = Path(os.path.realpath(store.path(relative)))
            assert written.is_relative_to(out) and written.is_file(), written
        assert _snapshot(base, out) == before  # nothing written anywhere else
        assert store.files(POSES, ".parquet") == sorted(store.pose_file(j.video_id) for j in jobs)
        assert store.files(FAILED, ".json") == sorted(store.failure_file(j.video_id) for j in jobs)
    finally:
        os.chdir(here)
        shutil.rmtree(base, ignore_errors=True)
