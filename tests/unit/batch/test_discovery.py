import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hifipose.batch import BatchOptions, discover, plan
from hifipose.batch.discovery import check_outdir, read_list_file, source_identity
from hifipose.batch.store import OutputStore
from hifipose.camera import CameraSpec, Intrinsics
from hifipose.errors import ConfigError, OutputBusyError, OutputError
from hifipose.io.sources import IMAGE_SUFFIXES, VIDEO_SUFFIXES
from hifipose.io.table import build_table
from tests.conftest import ROOT


def _touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_folders_files_and_globs_get_ids_relative_to_the_common_root(tmp_path: Path) -> None:
    _touch(tmp_path / "in" / "a" / "one.mp4")
    _touch(tmp_path / "in" / "a" / "b" / "two.MOV")
    _touch(tmp_path / "in" / "notes.txt")
    _touch(tmp_path / "in" / "c" / "three.webm")
    jobs = discover([str(tmp_path / "in")])
    assert [j.video_id for j in jobs] == ["a/b/two", "a/one", "c/three"]
    assert all(Path(j.path).is_absolute() for j in jobs)
    jobs = discover([str(tmp_path / "in" / "a" / "*.mp4"), str(tmp_path / "in" / "c")])
    assert [j.video_id for j in jobs] == ["a/one", "c/three"]
    (missing,) = discover([str(tmp_path / "gone.mp4")])  # kept: it fails and is recorded
    assert missing.video_id == "gone"


def test_list_files_lines_or_csv(tmp_path: Path) -> None:
    _touch(tmp_path / "v" / "x.mp4")
    lines = _touch(tmp_path / "list.txt", b"# my videos\nv/x.mp4\n\n")
    assert read_list_file(lines) == [tmp_path / "v" / "x.mp4"]
    table = _touch(tmp_path / "list.csv", b"id,path\n1,v/x.mp4\n")
    assert [j.video_id for j in discover([], table)] == ["x"]


def test_bad_inputs_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no inputs"):
        discover([])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no videos in"):
        discover([str(tmp_path / "empty")])
    with pytest.raises(ConfigError, match="no videos match"):
        discover([str(tmp_path / "*.mp4")])
    _touch(tmp_path / "d" / "clip.mp4")
    _touch(tmp_path / "d" / "clip.avi")
    with pytest.raises(ConfigError, match=r"both be written to poses/clip\.parquet"):
        discover([str(tmp_path / "d")])


def test_outdir_overlapping_the_inputs_is_refused(tmp_path: Path) -> None:
    video = _touch(tmp_path / "in" / "clip.mp4")
    jobs = discover([str(tmp_path / "in")])
    for outdir in (tmp_path / "in", tmp_path / "in" / "out", video):
        with pytest.raises(ConfigError, match="inside the input"):
            check_outdir(str(outdir), [str(tmp_path / "in")], jobs)
    with pytest.raises(ConfigError, match="inside the output folder"):
        check_outdir(str(tmp_path), [str(video)], discover([str(video)]))
    check_outdir(str(tmp_path / "out"), [str(tmp_path / "in")], jobs)


def test_source_identity_notices_a_changed_middle(tmp_path: Path) -> None:
    data = bytearray(5 << 20)
    path = _touch(tmp_path / "big.mp4", bytes(data))
    before = source_identity(str(path))
    data[len(data) // 2] = 1
    path.write_bytes(bytes(data))
    after = source_identity(str(path))
    assert before["size"] == after["size"]
    assert before["sha256_sample"] != after["sha256_sample"]


def test_fingerprint_holds_every_result_affecting_option() -> None:
    options = BatchOptions(model="lite", smoothing="none", min_tracking_confidence=0.7)
    fingerprint = options.fingerprint()
    assert fingerprint["options"] == {
        "model": "lite",
        "runtime": "litert",
        "device": "cpu",
        "num_poses": 1,
        "segmentation": False,
        "smoothing": "none",
        "min_detection_confidence": 0.5,
        "min_tracking_confidence": 0.7,
        "camera": None,
    }
    assert set(fingerprint["models"]) == {"pose_detection", "pose_landmark_lite"}
    with pytest.raises(ConfigError, match="smoothing"):
        BatchOptions(smoothing="sometimes")  # type: ignore[arg-type]
    # The camera is result-affecting; its fingerprint is JSON and round-trips.
    camera = BatchOptions(smoothing="offline", camera=CameraSpec(hfov_deg=60.0)).fingerprint()
    assert camera["options"]["smoothing"] == "offline"
    assert camera["options"]["camera"] == {"hfov_deg": 60.0, "focal_35mm": None, "intrinsics": None}
    matrix = CameraSpec(intrinsics=Intrinsics(900.0, 900.0, 320.0, 240.0, 640, 480))
    fixed = BatchOptions(camera=matrix).fingerprint()
    assert json.loads(json.dumps(fixed)) == fixed
    assert fixed["options"]["camera"]["intrinsics"]["fx"] == 900.0
    with pytest.raises(ConfigError, match="field of view"):
        BatchOptions(camera=CameraSpec(hfov_deg=190.0))


def test_inputs_with_dot_dot_get_ids_inside_outdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``batch clips/a.mp4 ../other/b.mp4``: ids from resolved paths, never a ``..``."""
    work = tmp_path / "w"
    _touch(work / "clips" / "a.mp4")
    _touch(tmp_path / "other" / "b.mp4")
    _touch(tmp_path / "d" / "v.mp4")
    monkeypatch.chdir(work)
    jobs = discover(["clips/a.mp4", "../other/b.mp4"])
    assert [j.video_id for j in jobs] == ["other/b", "w/clips/a"]
    assert [j.path for j in jobs] == [str(tmp_path / "other/b.mp4"), str(work / "clips/a.mp4")]
    deep = discover(["clips/a.mp4", "clips/../../d/v.mp4"])
    assert [j.video_id for j in deep] == ["d/v", "w/clips/a"]
    # One file spelt two ways is one video.
    assert [j.video_id for j in discover(["clips/a.mp4", "../w/clips/./a.mp4"])] == ["a"]
    # A folder above the current one, and a glob with a '..' in it.
    assert [j.video_id for j in discover(["..", "clips"])] == ["d/v", "other/b", "w/clips/a"]
    assert [j.video_id for j in discover(["../*/b.mp4", "clips/a.mp4"])] == ["other/b", "w/clips/a"]
    store = OutputStore(str(tmp_path / "out"))
    for job in deep:
        for relative in (store.pose_file(job.video_id), store.failure_file(job.video_id)):
            full = Path(os.path.normpath(store.path(relative)))
            assert full.is_relative_to(tmp_path / "out"), full


def test_links_resolve_folders_but_keep_a_video_links_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _touch(tmp_path / "raw" / "0042.mp4")
    _touch(tmp_path / "elsewhere" / "deep" / "x.mp4")
    _touch(tmp_path / "elsewhere" / "y.mp4")
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "best.mp4").symlink_to(tmp_path / "raw" / "0042.mp4")
    (tmp_path / "clips" / "deep").symlink_to(tmp_path / "elsewhere" / "deep")
    monkeypatch.chdir(tmp_path / "clips")
    (best,) = discover(["best.mp4"])
    assert (best.video_id, best.path) == ("best", str(tmp_path / "clips" / "best.mp4"))
    # deep/.. is elsewhere/, not clips/: the kernel's '..', not the spelling's.
    (y,) = discover(["deep/../y.mp4"])
    assert y.path == str(tmp_path / "elsewhere" / "y.mp4")
    jobs = discover(["deep/x.mp4", "best.mp4"])
    assert [j.video_id for j in jobs] == ["clips/best", "elsewhere/deep/x"]


def test_hand_made_ids_that_leave_outdir_are_refused(tmp_path: Path) -> None:
    store = OutputStore(str(tmp_path / "out"))
    for bad in ("../x", "a/../../x", "/etc/x", "a//b", "./a", "a/."):
        with pytest.raises(ConfigError, match="outside OUTDIR"):
            store.pose_file(bad)
        with pytest.raises(ConfigError, match="outside OUTDIR"):
            store.failure_file(bad)
    assert store.pose_file("a/..b") == "poses/a/..b.parquet"  # a name, not a step up


def test_folders_take_every_video_suffix_track_reads(tmp_path: Path) -> None:
    """``.mts .3gp .mpg .wmv .flv .ts`` were skipped in folders although ``track`` reads them."""
    names = ["a.mts", "b.3gp", "c.mpg", "d.wmv", "e.flv", "f.ts", "g.M2TS", "h.mpeg", "i.mp4"]
    for name in names:
        _touch(tmp_path / "in" / name)
    _touch(tmp_path / "in" / "notes.txt")
    _touch(tmp_path / "in" / "photo.jpg")
    jobs = discover([str(tmp_path / "in")])
    assert [Path(j.path).name for j in jobs] == names
    assert [j.video_id for j in discover([str(tmp_path / "in" / "*")])] == list("abcdefghi")
    assert {".mts", ".3gp", ".mpg", ".wmv", ".flv", ".ts"} <= set(VIDEO_SUFFIXES)
    assert not set(VIDEO_SUFFIXES) & set(IMAGE_SUFFIXES)


def test_names_that_cannot_name_an_output_are_refused(tmp_path: Path) -> None:
    _touch(tmp_path / "in" / "a.mp4")
    _touch(tmp_path / "in" / "a.parquet" / "b.mp4")  # poses/a.parquet: a file and a folder
    with pytest.raises(ConfigError, match="would clash"):
        discover([str(tmp_path / "in")])
    long = "x" * 245 + ".mp4"  # a legal name whose output name is not
    _touch(tmp_path / "long" / long)
    with pytest.raises(ConfigError, match="too long"):
        discover([str(tmp_path / "long")])
    with pytest.raises(ConfigError, match="NUL"):
        discover(["a\x00.mp4"])


def test_a_binary_or_broken_list_file_is_a_clear_error(tmp_path: Path) -> None:
    binary = _touch(tmp_path / "list.bin", bytes(range(256)) * 4)
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        discover([], binary)
    nul = _touch(tmp_path / "list.txt", b"a.mp4\n\x00b.mp4\n")
    with pytest.raises(ConfigError, match="NUL"):
        discover([], nul)


def test_one_run_per_outdir_and_a_dead_holder_never_keeps_the_lock(tmp_path: Path) -> None:
    out = str(tmp_path / "out")
    busy = pytest.raises(OutputBusyError, match=rf"process {os.getpid()}\) is using")
    with OutputStore(out).lock(), busy, OutputStore(out).lock():
        pass
    with OutputStore(out).lock():  # released when the holder's block ends
        pass
    # A holder killed with SIGKILL in the middle of its run.
    code = (
        "import sys, time\n"
        "from hifipose.batch.store import OutputStore\n"
        "with OutputStore(sys.argv[1]).lock():\n"
        "    print('locked', flush=True)\n"
        "    time.sleep(600)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, out],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == b"locked\n"
        with (
            pytest.raises(OutputBusyError, match=rf"process {holder.pid}\)"),
            OutputStore(out).lock(),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()
    with OutputStore(out).lock():
        assert (tmp_path / "out" / "_hifipose" / "lock").read_text() == f"{os.getpid()}\n"


def test_a_failed_write_is_an_output_error_and_leaves_no_partial(tmp_path: Path) -> None:
    store = OutputStore(str(tmp_path / "out"))
    store.check_writable()
    (tmp_path / "out" / "_hifipose" / "failed" / "full.json.partial").symlink_to("/dev/full")
    with pytest.raises(OutputError, match="No space left on device"):
        store.write_json(store.failure_file("full"), {"a": 1})
    assert not (tmp_path / "out" / "_hifipose" / "failed" / "full.json").exists()
    assert store.files("", ".partial") == []
    _touch(tmp_path / "out" / "poses" / "sub")  # a file where a folder must go
    with pytest.raises(OutputError, match="cannot write"):
        store.write_json(store.pose_file("sub/clip"), {"a": 1})


@pytest.mark.parametrize(
    ("uri", "error"),
    [("bogus://x", ConfigError), ("hdfs://localhost:9/x", OutputError)],
)
def test_unusable_output_uris_are_one_line_errors(uri: str, error: type[Exception]) -> None:
    with pytest.raises(error, match=f"the output '{uri}'") as caught:
        OutputStore(uri)
    assert "\n" not in str(caught.value)  # hdfs:// without Java: no line per place it looked


def _published(store: OutputStore, video: Path, options: BatchOptions) -> None:
    """A pose table as a worker publishes it (no frames: the plan reads only its metadata)."""
    identity = source_identity(str(video))
    metadata = {**options.producer(), "source": {"path": str(video), **identity}}
    store.write_table(store.pose_file(video.stem), build_table([], video.stem, metadata))


def test_resume_retracks_a_file_changed_in_place_with_the_same_size(tmp_path: Path) -> None:
    video = _touch(tmp_path / "in" / "clip.mp4", b"a" * 4096)
    store, options = OutputStore(str(tmp_path / "out")), BatchOptions(model="lite")
    _published(store, video, options)
    (job,) = discover([str(video)])
    assert [(p.action, p.reason) for p in plan([job], store, options)] == [("skip", "done")]
    stat = video.stat()
    os.utime(video, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # touched, same bytes
    assert [(p.action, p.reason) for p in plan([job], store, options)] == [("skip", "done")]
    video.write_bytes(b"b" * 4096)  # new content, same size
    assert video.stat().st_size == stat.st_size
    assert [p.reason for p in plan([job], store, options)] == ["source changed"]
    video.write_bytes(b"a" * 4097)  # another size
    assert [p.reason for p in plan([job], store, options)] == ["source changed"]


def test_a_recursive_glob_does_not_follow_a_link_loop(tmp_path: Path) -> None:
    """``glob.glob('**')`` followed ``videos/again -> .`` 40 links deep (two such links:
    2**40 paths, and the run never started): each video is found once."""
    _touch(tmp_path / "videos" / "a.mp4")
    _touch(tmp_path / "videos" / "sub" / "b.mp4")
    (tmp_path / "videos" / "again").symlink_to(".")
    jobs = discover([str(tmp_path / "videos" / "**" / "*.mp4")])
    assert [j.video_id for j in jobs] == ["a", "sub/b"]
    with pytest.raises(ConfigError, match="invalid glob pattern"):
        discover([str(tmp_path / "videos" / "a**" / "*.mp4")])
