"""Memory of ``hifipose serve`` as live streams open and close: RSS per round.

Starts a real server (``python -m hifipose serve``) on a free loopback port, then, round
after round, opens N WebSocket streams at once (each switches to segmentation and tracks a
few frames of the squat clip, so its detector is loaded and has run), closes them all, and
reads the server's resident memory (``VmRSS``) with every stream open and again once all
are closed. A first round opens ``--peak`` streams at once. Memory must come back near the
baseline when the streams close: what stays is what the server keeps for nothing.

    .venv/bin/python benchmarks/bench_serve_memory.py                   # heavy + seg, 12 x 8
    .venv/bin/python benchmarks/bench_serve_memory.py --model lite --rounds 3 --sessions 3 \\
        --peak 3 --json out.json                                         # the CI test's run
    .venv/bin/python benchmarks/bench_serve_memory.py --src /tmp/old/src # another version
    .venv/bin/python benchmarks/bench_serve_memory.py --markdown benchmarks/results/serve_memory.md
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from pathlib import Path

from _common import DATA, clip_jpegs, free_port, get_json, rss_mb, running_server
from websockets.asyncio.client import connect

CLIP = DATA / "tfjs_golden" / "pose_squats.mp4"


def encode_frame(frame_id: int, timestamp_ms: float, image: bytes) -> bytes:
    """The protocol's binary frame (magic, uint32 id, float64 ms), written out here so that
    this script can measure any server version (``--src``)."""
    import struct

    return struct.pack("<4sId", b"HPF1", frame_id, timestamp_ms) + image


async def open_stream(
    url: str, jpegs: list[bytes], *, segmentation: bool, ready: asyncio.Event, done: asyncio.Event
) -> int:
    """One stream: load the detector, track the frames, stay open until ``done``.

    Returns:
        The frames answered with a pose.
    """
    with_pose = 0
    async with connect(url, max_size=2**24, open_timeout=120) as ws:
        hello = json.loads(await ws.recv())
        if hello["type"] != "hello":
            raise RuntimeError(f"refused: {hello}")
        json.loads(await ws.recv())  # config: the first detector is loaded
        if segmentation:
            await ws.send(json.dumps({"type": "config", "segmentation": True}))
            while json.loads(await ws.recv())["type"] != "config":
                pass
        for i, jpeg in enumerate(jpegs):
            await ws.send(encode_frame(i, 100.0 * i, jpeg))
            while True:
                message = json.loads(await ws.recv())
                if message["type"] == "result":
                    with_pose += bool(message["poses"])
                    break
                if message["type"] == "error":
                    raise RuntimeError(f"frame refused: {message}")
        ready.set()
        await done.wait()
    return with_pose


async def run_round(
    url: str, jpegs: list[bytes], sessions: int, *, segmentation: bool, pid: int
) -> tuple[float, int]:
    """Open ``sessions`` streams, read the RSS with all open, close them; (RSS, poses)."""
    done = asyncio.Event()
    ready = [asyncio.Event() for _ in range(sessions)]
    tasks = [
        asyncio.create_task(open_stream(url, jpegs, segmentation=segmentation, ready=r, done=done))
        for r in ready
    ]
    all_ready = asyncio.ensure_future(asyncio.gather(*(r.wait() for r in ready)))
    await asyncio.wait([all_ready, *tasks], return_when=asyncio.FIRST_COMPLETED)
    if not all_ready.done():  # a stream ended before the others were ready: its error
        all_ready.cancel()
        failed = next(task for task in tasks if task.done())
        failed.result()
        raise RuntimeError("a stream closed early")
    rss_open = rss_mb(pid)
    done.set()
    poses = sum(await asyncio.gather(*tasks))
    return rss_open, poses


def wait_closed(base_url: str, pid: int, settle_s: float) -> float:
    """Wait until the server has no stream or detector left, then read the RSS."""
    deadline = time.monotonic() + 60
    while True:
        info = get_json(f"{base_url}/api/info")
        if info["sessions"] == 0 and info["open_detectors"] == 0:
            break
        if time.monotonic() > deadline:
            sys.exit(f"streams still open after 60 s: {info}")
        time.sleep(0.1)
    time.sleep(settle_s)
    return rss_mb(pid)


def run_rounds(args: argparse.Namespace, port: int, pid: int) -> list[dict]:
    """The first round with ``--peak`` streams, then ``--rounds`` of ``--sessions``."""
    jpegs = clip_jpegs(CLIP, args.width, args.frames)
    rows = []
    for index, sessions in enumerate([args.peak] + [args.sessions] * args.rounds):
        started = time.perf_counter()
        rss_open, poses = asyncio.run(
            run_round(
                f"ws://127.0.0.1:{port}/ws",
                jpegs,
                sessions,
                segmentation=not args.no_segmentation,
                pid=pid,
            )
        )
        rss_closed = wait_closed(f"http://127.0.0.1:{port}", pid, args.settle)
        row = {
            "round": index,
            "sessions": sessions,
            "rss_open_mb": round(rss_open, 1),
            "rss_closed_mb": round(rss_closed, 1),
            "frames_with_pose": poses,
            "frames": sessions * len(jpegs),
            "seconds": round(time.perf_counter() - started, 1),
        }
        rows.append(row)
        print(
            f"round {index:2d}: {sessions:2d} streams, RSS open {rss_open:7.1f} MiB, "
            f"closed {rss_closed:7.1f} MiB ({row['seconds']} s)",
            flush=True,
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="heavy", choices=("lite", "full", "heavy"))
    parser.add_argument("--no-segmentation", action="store_true", help="streams without masks")
    parser.add_argument("--rounds", type=int, default=12, help="rounds of open-then-close")
    parser.add_argument("--sessions", type=int, default=8, help="streams open at once per round")
    parser.add_argument("--peak", type=int, default=16, help="streams in the first round")
    parser.add_argument("--frames", type=int, default=2, help="frames each stream tracks")
    parser.add_argument("--width", type=int, default=360, help="frame width (px)")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds after closing")
    parser.add_argument("--src", type=Path, help="run the server from this source folder")
    parser.add_argument("--malloc-arena-max", type=int, help="set MALLOC_ARENA_MAX for it")
    parser.add_argument("--label", default="this version", help="names the run in the table")
    parser.add_argument("--json", type=Path, help="write the figures as JSON here")
    parser.add_argument("--markdown", type=Path, help="append the table (Markdown) here")
    parser.add_argument(
        "server_args", nargs="*", help="more `hifipose serve` options (after --)", default=[]
    )
    args = parser.parse_args()
    for name in ("rounds", "sessions", "peak", "frames"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")

    port = free_port()
    command = [sys.executable, "-m", "hifipose", "serve", "--port", str(port)]
    command += ["--model", args.model, *args.server_args]
    env = dict(os.environ)
    if args.src is not None:
        env["PYTHONPATH"] = str(args.src.resolve())
    if args.malloc_arena_max is not None:
        env["MALLOC_ARENA_MAX"] = str(args.malloc_arena_max)
    with running_server(command, port, env=env, stop_s=30) as server:
        time.sleep(args.settle)
        baseline = rss_mb(server.pid)
        rows = run_rounds(args, port, server.pid)

    summary = {
        "label": args.label,
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"glibc {platform.libc_ver()[1] or '?'}"
        ),
        "model": args.model,
        "segmentation": not args.no_segmentation,
        "malloc_arena_max": args.malloc_arena_max,
        "baseline_mb": round(baseline, 1),
        "rounds": rows,
        "peak_open_mb": max(r["rss_open_mb"] for r in rows),
        "last_closed_mb": rows[-1]["rss_closed_mb"],
        "max_closed_mb": max(r["rss_closed_mb"] for r in rows),
    }
    text = render(summary)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    if args.markdown:
        with args.markdown.open("a") as out:
            out.write(text)
    return 0


def render(s: dict) -> str:
    arena = "" if s["malloc_arena_max"] is None else f", MALLOC_ARENA_MAX={s['malloc_arena_max']}"
    seg = " with segmentation" if s["segmentation"] else ""
    lines = [
        f"## {s['label']}: `{s['model']}`{seg}{arena}",
        "",
        f"{s['machine']}. Baseline RSS {s['baseline_mb']} MiB (server started, no stream).",
        "",
        "| round | streams | RSS all open (MiB) | RSS all closed (MiB) | frames with a pose |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in s["rounds"]:
        lines.append(
            f"| {r['round']} | {r['sessions']} | {r['rss_open_mb']} | {r['rss_closed_mb']} | "
            f"{r['frames_with_pose']}/{r['frames']} |"
        )
    lines += [
        "",
        f"Peak {s['peak_open_mb']} MiB; after the last round {s['last_closed_mb']} MiB "
        f"(+{s['last_closed_mb'] - s['baseline_mb']:.0f} MiB over the baseline; "
        f"at most {s['max_closed_mb']} MiB after any round).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
