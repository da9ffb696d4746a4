"""Live latency: stream a real clip over the `/api/live` WebSocket in real time and measure.

In:  a clip (default ../shared/footage/tby66_0016r_1.mp4), scenarios of clients x frame rate.
Out: printed per scenario: server-side processing time per frame and round-trip time per
     answered frame (p50 / p95 / max, ms), frames sent, answered and dropped, and the load.
     A local server is started on a free loopback port unless --url is given.

    python benchmarks/live_latency.py                       # 1 client at 30 fps, 2 at 15 fps
    python benchmarks/live_latency.py --scenario 1x30 --seconds 10
    python benchmarks/live_latency.py --scenario 1x30 --model lite   # the server's pose model
Targets (2-core machine): server p95 <= 60 ms and round-trip p95 <= 100 ms at 30 fps with one
client; round-trip p95 <= 150 ms with two clients at 15 fps each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CLIP = REPO / ".." / "shared" / "footage" / "tby66_0016r_1.mp4"
sys.path.insert(0, str(REPO))


def encode(clip: Path, fps: float, seconds: float | None) -> list[tuple[float, bytes]]:
    """JPEG frames (640 px long side, quality 80) of the clip resampled to `fps`."""
    from formcheck.video import VideoSource

    out: list[tuple[float, bytes]] = []
    next_t = 0.0
    for frame in VideoSource(clip, max_side=640):
        if seconds is not None and frame.t > seconds:
            break
        if frame.t + 1e-6 < next_t:
            continue
        next_t += 1.0 / fps
        bgr = cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR)
        ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 80])
        out.append((frame.t, jpeg.tobytes()))
    return out


async def client(url: str, frames: list[tuple[float, bytes]], start: float) -> dict:
    """Send frames at their own times (never waiting for answers); time every answer."""
    import websockets

    sent: dict[float, float] = {}
    rtts: list[float] = []
    async with websockets.connect(url, max_size=2**24) as ws:
        await ws.send(json.dumps({"exercise": "deadlift"}))
        final: dict = {}

        async def receive() -> None:
            nonlocal final
            async for message in ws:
                doc = json.loads(message)
                if "summary" in doc:
                    final = doc
                    return
                if "t" in doc and doc["t"] in sent:
                    rtts.append((time.perf_counter() - sent[doc["t"]]) * 1000.0)

        receiver = asyncio.create_task(receive())
        for t, jpeg in frames:
            delay = start + t - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            key = round(t, 4)
            sent[key] = time.perf_counter()
            await ws.send(struct.pack(">d", key) + jpeg)
        await asyncio.sleep(0.5)
        await ws.send(json.dumps({"stop": True}))
        await asyncio.wait_for(receiver, 60)
    stats = final.get("stats", {})
    return {
        "sent": len(frames),
        "answered": len(rtts),
        "dropped": stats.get("frames_dropped"),
        "rtt": rtts,
        "process": stats.get("process_ms_all", []),
        "reps": final.get("summary", {}).get("rep_count"),
    }


def pct(values: list[float]) -> str:
    if not values:
        return "n/a"
    a = np.array(values)
    return f"p50 {np.percentile(a, 50):5.1f}  p95 {np.percentile(a, 95):5.1f}  max {a.max():6.1f}"


async def scenario(url: str, clip: Path, clients: int, fps: float, seconds: float | None) -> None:
    frames = encode(clip, fps, seconds)
    start = time.perf_counter() + 2.0  # sessions start (MediaPipe graphs load) before frame 0
    load_before = os.getloadavg()
    results = await asyncio.gather(*(client(url, frames, start) for _ in range(clients)))
    load_after = os.getloadavg()
    process = [v for r in results for v in r["process"]]
    rtt = [v for r in results for v in r["rtt"]]
    print(f"\n{clients} client(s) x {fps:g} fps, {len(frames)} frames each ({clip.name})")
    print(f"  server processing ms : {pct(process)}")
    print(f"  round trip ms        : {pct(rtt)}")
    for i, r in enumerate(results, 1):
        print(
            f"  client {i}: sent {r['sent']}, answered {r['answered']}, "
            f"dropped by the server {r['dropped']}, reps {r['reps']}"
        )
    print(f"  load average (1 min) : {load_before[0]:.2f} before, {load_after[0]:.2f} after")


def start_server(data_dir: Path, model: str) -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "server", "--port", str(port), "--data-dir", str(data_dir)]
    command += ["--workers", "1", "--model", model]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    import httpx

    for _ in range(150):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/config", timeout=1).status_code == 200:
                return proc, f"ws://127.0.0.1:{port}/api/live"
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("the server did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    parser.add_argument(
        "--scenario", action="append", help="CLIENTSxFPS, e.g. 1x30 (repeatable; default 1x30 2x15)"
    )
    parser.add_argument("--seconds", type=float, default=None, help="only the clip's first seconds")
    parser.add_argument("--url", help="ws://host:port/api/live of a running server")
    parser.add_argument(
        "--model", default="auto", choices=("lite", "full", "heavy", "auto"), help="pose model"
    )
    args = parser.parse_args()
    scenarios = [tuple(s.lower().split("x")) for s in (args.scenario or ["1x30", "2x15"])]
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = (None, args.url) if args.url else start_server(Path(tmp) / "data", args.model)
        try:
            for clients, fps in scenarios:
                asyncio.run(scenario(url, args.clip, int(clients), float(fps), args.seconds))
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
