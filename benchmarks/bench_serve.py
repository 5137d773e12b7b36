"""Load test of ``hifipose serve``: N WebSocket clients on loopback sending frames for T seconds.

Starts a real server (``python -m hifipose serve``) on a free loopback port, then runs N
clients at once. Each sends the squat clip from ../shared/data as JPEG frames at a fixed
rate, without waiting for answers (so the server must drop, not queue), in its own frame-id
namespace (client k uses ids k * 1_000_000 + n): a result carrying another client's id, or
an id this client never sent, counts as cross-talk. Meanwhile a prober times ``GET
/healthz`` every 200 ms (event-loop responsiveness) and the server's RSS is sampled.

    .venv/bin/python benchmarks/bench_serve.py                     # 20 clients x 30 s
    .venv/bin/python benchmarks/bench_serve.py --clients 5 --seconds 4 --json out.json
    .venv/bin/python benchmarks/bench_serve.py --markdown benchmarks/results/serve.md
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from _common import DATA, clip_jpegs, free_port, get_json, rss_mb, running_server
from websockets.asyncio.client import connect

from hifipose._version import __version__
from hifipose.serve.images import image_size_wh
from hifipose.serve.protocol import encode_frame

CLIP = DATA / "tfjs_golden" / "pose_squats.mp4"
NAMESPACE = 1_000_000


@dataclass
class ClientStats:
    index: int
    sent: int = 0
    answered: int = 0
    with_pose: int = 0
    dropped: int = 0
    errors: int = 0
    crosstalk: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def row(self) -> dict[str, float | int]:
        lat = sorted(self.latencies_ms) or [float("nan")]
        return {
            "client": self.index,
            "sent": self.sent,
            "answered": self.answered,
            "dropped": self.dropped,
            "errors": self.errors,
            "with_pose": self.with_pose,
            "crosstalk": self.crosstalk,
            "p50_ms": percentile(lat, 50),
            "p95_ms": percentile(lat, 95),
        }


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def run_client(
    url: str, jpegs: list[bytes], *, fps: float, seconds: float, stats: ClientStats
) -> None:
    index = stats.index
    sent_at: dict[int, float] = {}
    async with connect(url, max_size=2**22) as ws:
        for _ in range(2):  # hello, then config (the detector is loaded)
            json.loads(await ws.recv())

        async def receive() -> None:
            async for raw in ws:
                message = json.loads(raw)
                kind = message["type"]
                if kind == "result":
                    frame_id = message["frame_id"]
                    if frame_id // NAMESPACE != index or frame_id not in sent_at:
                        stats.crosstalk += 1
                        continue
                    stats.answered += 1
                    stats.with_pose += bool(message["poses"])
                    stats.latencies_ms.append(1e3 * (time.perf_counter() - sent_at[frame_id]))
                elif kind == "dropped":
                    stats.dropped += 1
                elif kind == "error":
                    stats.errors += 1

        receiver = asyncio.create_task(receive())
        started = time.perf_counter()
        n = 0
        while (elapsed := time.perf_counter() - started) < seconds:
            frame_id = index * NAMESPACE + n
            sent_at[frame_id] = time.perf_counter()
            await ws.send(encode_frame(frame_id, 1e3 * elapsed, jpegs[n % len(jpegs)]))
            stats.sent += 1
            n += 1
            await asyncio.sleep(max(0.0, started + n / fps - time.perf_counter()))
        deadline = time.perf_counter() + 5
        while stats.answered + stats.dropped + stats.errors < stats.sent:
            if time.perf_counter() > deadline:
                break
            await asyncio.sleep(0.05)
        receiver.cancel()


async def probe_health(
    port: int, stop: asyncio.Event, out: list[float], failures: list[str]
) -> None:
    request = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    while not stop.is_set():
        started = time.perf_counter()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
            writer.write(request.encode())
            response = await asyncio.wait_for(reader.read(), 10)
            writer.close()
            if b" 200 " not in response.split(b"\r\n", 1)[0]:
                failures.append(response[:40].decode(errors="replace"))
            else:
                out.append(1e3 * (time.perf_counter() - started))
        except (OSError, TimeoutError) as exc:
            failures.append(repr(exc))
        await asyncio.sleep(0.2)


async def sample_rss(pid: int, stop: asyncio.Event, out: list[float]) -> None:
    while not stop.is_set():
        out.append(rss_mb(pid))
        await asyncio.sleep(0.5)


async def run_load(args: argparse.Namespace, port: int, pid: int) -> dict:
    jpegs = clip_jpegs(CLIP, args.width)
    url = f"ws://127.0.0.1:{port}/ws"
    stats = [ClientStats(i + 1) for i in range(args.clients)]
    stop = asyncio.Event()
    health: list[float] = []
    health_failures: list[str] = []
    rss: list[float] = []
    monitors = [
        asyncio.create_task(probe_health(port, stop, health, health_failures)),
        asyncio.create_task(sample_rss(pid, stop, rss)),
    ]
    started = time.perf_counter()
    await asyncio.gather(
        *(run_client(url, jpegs, fps=args.fps, seconds=args.seconds, stats=s) for s in stats)
    )
    wall = time.perf_counter() - started
    stop.set()
    await asyncio.gather(*monitors)
    return {
        "clients": [s.row() for s in stats],
        "latencies": [lat for s in stats for lat in s.latencies_ms],
        "health_ms": health,
        "health_failures": health_failures,
        "rss_samples_mb": rss,
        "wall_s": wall,
        "frame_size": "{}x{}".format(*image_size_wh(jpegs[0])),
        "jpeg_kb": sum(map(len, jpegs)) / len(jpegs) / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--fps", type=float, default=15.0, help="frames/s each client sends")
    parser.add_argument("--width", type=int, default=360, help="frame width (px)")
    parser.add_argument("--model", default="lite", choices=("lite", "full", "heavy"))
    parser.add_argument("--json", type=Path, help="write the summary as JSON here")
    parser.add_argument("--markdown", type=Path, help="write the tables as Markdown here")
    args = parser.parse_args()

    port = free_port()
    command = [sys.executable, "-m", "hifipose", "serve", "--port", str(port)]
    command += ["--model", args.model, "--max-sessions", str(max(16, args.clients))]
    with running_server(command, port, stop_s=15) as server:
        time.sleep(1.0)
        rss_before = rss_mb(server.pid)
        load = asyncio.run(run_load(args, port, server.pid))
        time.sleep(3.0)  # connections closed: detectors freed
        rss_after = rss_mb(server.pid)
        info_after = get_json(f"http://127.0.0.1:{port}/api/info")

    rows = load["clients"]
    total = {
        k: sum(r[k] for r in rows)
        for k in ("sent", "answered", "dropped", "errors", "with_pose", "crosstalk")
    }
    health = load["health_ms"]
    summary = {
        "version": __version__,
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
        ),
        "clients": args.clients,
        "seconds": args.seconds,
        "fps_per_client": args.fps,
        "model": args.model,
        "frame_size": load["frame_size"],
        "jpeg_kb": round(load["jpeg_kb"], 1),
        "wall_s": round(load["wall_s"], 1),
        "per_client": rows,
        "total": total,
        "answered_per_s": round(total["answered"] / args.seconds, 1),
        "latency_p50_ms": percentile(load["latencies"], 50),
        "latency_p95_ms": percentile(load["latencies"], 95),
        "health_checks": len(health),
        "health_failures": load["health_failures"],
        "health_p50_ms": percentile(health, 50),
        "health_p95_ms": percentile(health, 95),
        "health_max_ms": max(health) if health else float("nan"),
        "rss_before_mb": round(rss_before, 1),
        "rss_peak_mb": round(max(load["rss_samples_mb"], default=rss_before), 1),
        "rss_after_mb": round(rss_after, 1),
        "open_detectors_after": info_after["open_detectors"],
        "sessions_after": info_after["sessions"],
    }
    text = render(summary)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    if args.markdown:
        args.markdown.write_text(text)
    return 0


def render(s: dict) -> str:
    t = s["total"]
    header = "| client | sent | answered | dropped | errors | with pose | cross-talk | p50 | p95 |"
    lines = [
        f"# `hifipose serve` load test: {s['clients']} clients x {s['seconds']:.0f} s",
        "",
        f"hifipose {s['version']}; {s['machine']}; model `{s['model']}` (LiteRT, 1 thread per "
        f"stream, 2 inference workers); each client sends {s['fps_per_client']:.0f} frames/s "
        f"({s['frame_size']} JPEG, {s['jpeg_kb']} KiB) over loopback without waiting for "
        "answers. Latency (ms) is from sending a frame to receiving its result. Made by "
        "`.venv/bin/python benchmarks/bench_serve.py --markdown benchmarks/results/serve.md`.",
        "",
        header,
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in [*s["per_client"], {**t, "client": "**all**"}]:
        p50 = r.get("p50_ms", s["latency_p50_ms"])
        p95 = r.get("p95_ms", s["latency_p95_ms"])
        lines.append(
            f"| {r['client']} | {r['sent']} | {r['answered']} | {r['dropped']} | {r['errors']} | "
            f"{r['with_pose']} | {r['crosstalk']} | {p50:.0f} | {p95:.0f} |"
        )
    health = (
        f"{s['health_checks']} ({len(s['health_failures'])} failed), {s['health_p50_ms']:.1f} / "
        f"{s['health_p95_ms']:.1f} / {s['health_max_ms']:.1f} ms"
    )
    rss = f"{s['rss_before_mb']} / {s['rss_peak_mb']} / {s['rss_after_mb']}"
    lines += [
        "",
        "| server | |",
        "|---|---|",
        f"| frames answered / s (all clients) | {s['answered_per_s']} |",
        f"| `GET /healthz` during the load: checks, p50 / p95 / max | {health} |",
        f"| RSS before / peak / after (MiB) | {rss} |",
        "| open detectors / sessions after the clients left | "
        f"{s['open_detectors_after']} / {s['sessions_after']} |",
        f"| cross-talk (results with another client's frame id) | {t['crosstalk']} |",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
