"""Load: live WebSocket clients and upload analyses at the same time, on loopback, for a bounded time.

In:  a real clip for the live clients (default ../shared/footage/tby66_0016r_1.mp4, looped) and
     clips to upload (default two short bichraix clips, uploaded again as each finishes); a local server is started on a
     free loopback port (two analysis workers) unless --url is given.
Out: printed per live client (a new connection each round): frames sent, answered, dropped by the server, unanswered, and
     round-trip p50/p95/max; per upload: analysis duration and outcome; every error seen; the
     server's memory (RSS of the server process and of its analysis workers) over time.

    python benchmarks/load.py                 # 4 clients at 15 fps + 2 uploads, 60 s, 2 rounds
    python benchmarks/load.py --seconds 20 --clients 2
It stops by itself: frames stop at --seconds, then unfinished analyses get a short grace period
and are reported as unfinished. Targets: 0 errors and no unbounded memory growth.
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
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
FOOTAGE = REPO / ".." / "shared" / "footage"
LIVE_CLIP = FOOTAGE / "tby66_0016r_1.mp4"
UPLOAD_CLIPS = (FOOTAGE / "bichraix_bad005.mp4", FOOTAGE / "bichraix_good004.mp4")
sys.path.insert(0, str(REPO))


@dataclass
class ClientResult:
    sent: int = 0
    answered: int = 0
    dropped: int | None = None
    rtt_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class JobResult:
    clip: str
    status: str = "uploading"
    seconds: float | None = None
    error: str | None = None


def jpeg_frames(clip: Path, fps: float) -> list[bytes]:
    """The clip's frames resampled to `fps`, as JPEG (640 px long side, quality 80)."""
    from formcheck.video import VideoSource

    out: list[bytes] = []
    next_t = 0.0
    for frame in VideoSource(clip, max_side=640):
        if frame.t + 1e-6 < next_t:
            continue
        next_t += 1.0 / fps
        bgr = cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR)
        out.append(cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    return out


async def live_client(
    url: str, headers: dict, frames: list[bytes], fps: float, start: float, end: float
) -> ClientResult:
    """Send frames at `fps` (looping the clip) until `end`, never waiting for answers."""
    import websockets

    result = ClientResult()
    sent_at: dict[float, float] = {}
    try:
        async with websockets.connect(url, max_size=2**24, additional_headers=headers) as ws:
            await ws.send(json.dumps({"exercise": "deadlift"}))
            final: dict = {}

            async def receive() -> None:
                nonlocal final
                async for message in ws:
                    doc = json.loads(message)
                    if "summary" in doc:
                        final = doc
                        return
                    if "error" in doc:
                        result.errors.append(str(doc["error"]))
                    elif doc.get("t") in sent_at:
                        result.answered += 1
                        result.rtt_ms.append((time.perf_counter() - sent_at[doc["t"]]) * 1000)

            receiver = asyncio.create_task(receive())
            index = 0
            while True:
                due = start + index / fps
                if due >= end:
                    break
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                key = round(due - start, 4)
                sent_at[key] = time.perf_counter()
                await ws.send(struct.pack(">d", key) + frames[index % len(frames)])
                result.sent += 1
                index += 1
            await asyncio.sleep(0.5)
            await ws.send(json.dumps({"stop": True}))
            await asyncio.wait_for(receiver, 60)
            result.dropped = final.get("stats", {}).get("frames_dropped")
    except Exception as exc:  # reported, not raised: the other clients go on
        result.errors.append(f"{type(exc).__name__}: {exc}")
    return result


async def uploader(
    base: str, headers: dict, clip: Path, end: float, grace: float, jobs: list[JobResult]
) -> None:
    """Keep one analysis of `clip` going until `end`; each finished one is recorded."""
    import httpx

    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        while time.perf_counter() < end:
            job = JobResult(clip.name)
            jobs.append(job)
            t0 = time.perf_counter()
            try:
                with clip.open("rb") as fh:
                    files = {"video": (clip.name, fh.read(), "video/mp4")}
                response = await client.post("/api/analyses", files=files)
                if response.status_code != 202:
                    job.status, job.error = "refused", f"{response.status_code} {response.text}"
                    return
                analysis_id = response.json()["id"]
                job.status = "queued"
                while time.perf_counter() < end + grace:
                    state = (await client.get(f"/api/analyses/{analysis_id}")).json()
                    job.status, job.error = state["status"], state.get("error")
                    if job.status in ("done", "failed"):
                        job.seconds = time.perf_counter() - t0
                        break
                    await asyncio.sleep(0.5)
                if job.status not in ("done", "failed"):
                    await client.delete(f"/api/analyses/{analysis_id}")
                    job.status = "unfinished (deleted at the end)"
            except Exception as exc:
                job.status, job.error = "error", f"{type(exc).__name__}: {exc}"
                return


def rss_mb(pid: int) -> float:
    """Resident memory of one process in MB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


async def memory_sampler(pid: int | None, end: float, every: float, out: list[tuple]) -> None:
    t0 = time.perf_counter()
    while time.perf_counter() < end and pid is not None:
        kids = children(pid)
        out.append((time.perf_counter() - t0, rss_mb(pid), sum(rss_mb(k) for k in kids), len(kids)))
        await asyncio.sleep(every)


def pct(values: list[float]) -> str:
    if not values:
        return "n/a"
    a = np.array(values)
    return f"p50 {np.percentile(a, 50):6.1f}  p95 {np.percentile(a, 95):6.1f}  max {a.max():7.1f}"


async def run(args, base: str, headers: dict, server_pid: int | None) -> int:
    frames = jpeg_frames(args.live_clip, args.fps)
    began = time.perf_counter()
    # Each round: clients connect, load their models (3 s), stream, stop and disconnect.
    per_round = args.seconds / args.rounds
    rounds = [(began + k * (per_round + 5.0) + 3.0, per_round) for k in range(args.rounds)]
    end = rounds[-1][0] + per_round
    jobs: list[JobResult] = []
    memory: list[tuple] = []
    ws_url = base.replace("http", "ws", 1) + "/api/live"
    round_ends: list[float] = []

    async def live_rounds() -> list[ClientResult]:
        out: list[ClientResult] = []
        for start, seconds in rounds:
            await asyncio.sleep(max(0.0, start - 3.0 - time.perf_counter()))
            clients = [
                live_client(ws_url, headers, frames, args.fps, start, start + seconds)
                for _ in range(args.clients)
            ]
            out += await asyncio.gather(*clients)
            round_ends.append(time.perf_counter() - began)
        return out

    uploads = [
        uploader(base, headers, UPLOAD_CLIPS[i % len(UPLOAD_CLIPS)], end, args.grace, jobs)
        for i in range(args.uploads)
    ]
    sampler = memory_sampler(server_pid, end + args.grace, 5.0, memory)
    results, *_ = await asyncio.gather(live_rounds(), *uploads, sampler)

    errors = [f"client {i}: {e}" for i, r in enumerate(results, 1) for e in r.errors]
    errors += [f"upload {j.clip}: {j.status} {j.error}" for j in jobs if j.status != "done"]
    print(
        f"\n{args.clients} live client(s) x {args.fps:g} fps + {args.uploads} upload(s), "
        f"{args.seconds:g} s in {args.rounds} round(s) of live clients ({os.cpu_count()} cores)"
    )
    for i, r in enumerate(results, 1):
        unanswered = r.sent - r.answered
        print(
            f"  client {i}: sent {r.sent}, answered {r.answered}, dropped by server {r.dropped}, "
            f"unanswered {unanswered}; round trip ms {pct(r.rtt_ms)}"
        )
    print(f"  all clients round trip ms: {pct([v for r in results for v in r.rtt_ms])}")
    for j in jobs:
        took = f"{j.seconds:.1f} s" if j.seconds is not None else "-"
        print(f"  upload {j.clip}: {j.status}, {took}")
    done = [j.seconds for j in jobs if j.status == "done" and j.seconds]
    if done:
        print(
            f"  analyses done: {len(done)}, duration mean {np.mean(done):.1f} s, max {max(done):.1f} s"
        )
    print("  memory (s, server RSS MB, child processes RSS MB, child processes):")
    for t, server, workers, count in memory:
        print(f"    {t:5.0f}  {server:7.1f}  {workers:7.1f}  {count}")
    if memory:
        first, last = memory[0][1], memory[-1][1]
        print(
            f"  server RSS: {first:.0f} MB at start, {max(m[1] for m in memory):.0f} MB peak, "
            f"{last:.0f} MB at end"
        )
        t_begin = 0.0
        for k, t_end in enumerate(round_ends, 1):
            during = [m[1] for m in memory if t_begin <= m[0] <= t_end] or [float("nan")]
            print(
                f"  server RSS peak in live round {k} ({t_begin:.0f}-{t_end:.0f} s): {max(during):.0f} MB"
            )
            t_begin = t_end
    print(f"  errors: {len(errors)}")
    for line in errors:
        print(f"    {line}")
    return 1 if errors else 0


def start_server(data_dir: Path, workers: int) -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "server", "--port", str(port), "--data-dir", str(data_dir)]
    command += ["--workers", str(workers)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    import httpx

    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(f"{base}/api/config", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("the server did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long frames are sent")
    parser.add_argument(
        "--rounds", type=int, default=2, help="rounds of live clients (connect, stream, leave)"
    )
    parser.add_argument("--clients", type=int, default=4, help="live WebSocket clients")
    parser.add_argument("--fps", type=float, default=15.0, help="frames per second per client")
    parser.add_argument("--uploads", type=int, default=2, help="analyses kept running")
    parser.add_argument("--grace", type=float, default=60.0, help="seconds to let analyses end")
    parser.add_argument("--live-clip", type=Path, default=LIVE_CLIP)
    parser.add_argument("--url", help="http://host:port of a running server (else one is started)")
    parser.add_argument("--token", help="access token of a server started with --allow-remote")
    args = parser.parse_args()
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = (None, args.url) if args.url else start_server(Path(tmp) / "data", 2)
        try:
            return asyncio.run(run(args, base, headers, proc.pid if proc else None))
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
