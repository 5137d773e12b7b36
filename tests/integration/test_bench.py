"""``hifipose bench``: a short real run against MediaPipe; the report's shape, not its speed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hifipose import bench
from hifipose.cli import main
from hifipose.io.sample import sample_frames


def test_bench_command_writes_tables_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("mediapipe")
    out_json, out_md = tmp_path / "bench.json", tmp_path / "bench.md"
    status = main(
        [
            "bench",
            "--models", "lite",
            "--frames", "6",
            "--rounds", "1",
            "--threads", "default,1",
            "--size", "320x240",
            "--vs-mediapipe",
            "--cold-start",
            "--memory-frames", "24",
            "--json", str(out_json),
            "--markdown", str(out_md),
            "--quiet",
        ]
    )  # fmt: skip
    assert status == 0
    report = json.loads(out_json.read_text())
    assert report["frames"] == 6
    assert report["size_wh"] == [320, 240]
    assert [(r["model"], r["threads"]) for r in report["speed"]] == [("lite", None), ("lite", 1)]
    for row in report["speed"]:
        assert row["tracking_ms"] > 0
        assert row["static_ms"] > 0
        assert row["tasks_ms"] > 0
        assert row["solution_ms"] > 0
        assert set(row["stages_ms"]) == {"preprocess", "inference", "postprocess", "smoothing"}
        assert row["stages_ms"]["inference"] > 0
        # the stages are laps of one clock inside the timed loop: they cannot exceed it
        assert sum(row["stages_ms"].values()) <= row["tracking_ms"]
    sizes = {(tuple(r["size_wh"]), r["segmentation"]) for r in report["overhead"]}
    assert sizes == {
        ((320, 240), False),
        ((320, 240), True),
        ((1920, 1080), False),
        ((1920, 1080), True),
    }
    assert {c["engine"] for c in report["cold"]} == {
        "hifipose",
        "mediapipe-tasks",
        "mediapipe-solution",
    }
    assert all(c["import_s"] > 0 and c["first_frame_s"] > 0 for c in report["cold"])
    modes = {r["mode"]: r for r in report["modes"]}
    assert list(modes) == [
        "default",
        "compat=mediapipe-python",
        "refine_passes=2",
        "flip_tta",
        "refine_passes=2 + flip_tta",
    ]
    assert all(r["model"] == "lite" and r["static_ms"] > 0 for r in modes.values())
    assert modes["default"]["extra_ms"] == 0
    text = out_md.read_text()
    assert "| lite | flip_tta |" in text
    assert "| lite | litert | float32 | default |" in text
    assert "RSS over 24 tracking frames" in text
    assert text in capsys.readouterr().out


def _process_rss_mb() -> float:
    """This process's resident set size in MB, read another way than bench does."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e6  # the line is in KiB
    raise AssertionError("no VmRSS in /proc/self/status")


def test_rss_samples_start_after_one_pass() -> None:
    frames = sample_frames(5, (256, 192))
    points = bench.rss_growth_mb(frames, 20, samples=4)
    assert [n for n, _ in points] == [5, 10, 15, 20]
    # the samples are this process's RSS in MB (not pages, KiB or bytes): within a factor of
    # two of what the kernel reports just after (the detector was freed in between)
    now = _process_rss_mb()
    assert all(now / 2 < mb < now * 2 for _, mb in points), (points, now)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bench", "--size", "640by480"], "WIDTHxHEIGHT"),
        (["bench", "--threads", "two"], "thread counts"),
    ],
)
def test_bench_rejects_bad_options(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 1
    assert message in capsys.readouterr().err


def test_bench_times_openvino_and_its_fast_modes_with_gflop() -> None:
    import openvino

    options = bench.BenchOptions(
        models=("lite",),
        runtimes=("litert", "openvino"),
        precisions=("bf16",),  # openvino only: no litert row
        threads=(None,),
        rounds=1,
        overhead_sizes=(),
        accuracy_modes=False,
    )
    frames = sample_frames(3, (320, 240))
    said: list[str] = []
    report = bench.run_bench(frames, options, said.append)
    # the results name the machine: the fast modes' rows depend on its instructions
    assert f"Machine: {report.machine}." in bench.markdown(report)
    assert f"{os.cpu_count()} cores" in report.machine
    if "BF16" not in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
        # a mode this CPU cannot run is left out and said so; the other rows go on
        assert report.speed == []
        assert any("lite openvino bf16: not on this machine" in line for line in said), said
        return
    assert [(r.runtime, r.precision) for r in report.speed] == [("openvino", "bf16")]
    # lite's convolutions, pruned as tracking runs it: 0.33 GFLOP (README "Speed")
    assert all(0.30 < r.gflop < 0.36 and r.gflop_per_s > 0 for r in report.speed)
    assert "| lite | openvino | bf16 | default |" in bench.markdown(report)
