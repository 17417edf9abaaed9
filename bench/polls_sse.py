"""Live results to a room: 1,000 Server-Sent-Events watchers of one poll, then votes one per second;
how long until every watcher sees each new count. Prints one JSON line.

    .venv/bin/python bench/polls_sse.py --db sqlite --workers 1
    .venv/bin/python bench/polls_sse.py --db postgres --workers 2 --redis-url redis://127.0.0.1:6379/14 \
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/wugong_polls_bench

Setup as in polls_burst.py (new database, ``--watchers`` + ``--votes`` verified residents, a real
uvicorn server, tokens minted with the server's key, a single-choice poll opened by the committee
over HTTP). ``--clients`` processes (default 2) each hold their share of the watchers, every one a
raw keep-alive socket reading ``GET .../results/stream`` with its own Bearer token. When every
watcher has its first frame, ``--votes`` ballots are cast over HTTP one every ``--interval``
seconds, and each watcher notes the wall-clock time it first receives a frame whose
``voted_count`` has reached each vote's count. Delivery delay = that time minus the moment the
vote's POST was sent (it includes the POST itself). With ``--workers 2`` and ``--redis-url`` the
server processes share changes through Redis; the report says how the watchers' connections
were spread over the worker processes (read with ``ss``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import http_bench as hb
import polls_burst as pb

CLIENT = "--watch-client"  # how this script runs itself as a process of watchers


# --- the watchers (in their own processes) -----------------------------------------------------------

async def _watch(host: str, port: int, path: str, token: str, target: int, deadline: float,
                 seen: dict[int, float], first: asyncio.Event) -> str:
    """Read one SSE stream; note when each voted_count first arrives. Returns how it ended."""
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                     f"Accept: text/event-stream\r\n\r\n".encode())
        status = int((await reader.readline()).split(b" ", 2)[1])
        chunked = False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"transfer-encoding:") and b"chunked" in line.lower():
                chunked = True
        if status != 200:
            return f"status {status}"
        buf = b""
        while time.time() < deadline:
            if chunked:
                size_line = await asyncio.wait_for(reader.readline(), max(0.1, deadline - time.time()))
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    return "ended"
                data = await reader.readexactly(size + 2)
                buf += data[:-2]
            else:
                data = await asyncio.wait_for(reader.read(65536), max(0.1, deadline - time.time()))
                if not data:
                    return "ended"
                buf += data
            now = time.time()
            while b"\n\n" in buf:
                frame, buf = buf.split(b"\n\n", 1)
                if not frame.startswith(b"event: results"):
                    continue
                body = frame.split(b"\ndata: ", 1)[1]
                count = int(json.loads(body)["voted_count"])
                seen.setdefault(count, now)
                first.set()
                if count >= target:
                    return "done"
        return "deadline"
    except TimeoutError:
        return "deadline"
    finally:
        writer.close()


async def _client(cfg: dict[str, Any]) -> dict[str, Any]:
    host, port, path = cfg["host"], cfg["port"], cfg["path"]
    gate = asyncio.Semaphore(50)  # connect at most 50 at a time: a room filling up, not a SYN flood
    seen: list[dict[int, float]] = [{} for _ in cfg["tokens"]]
    firsts = [asyncio.Event() for _ in cfg["tokens"]]
    ends: dict[str, int] = {}
    deadline = time.time() + cfg["max_seconds"]

    async def one(i: int) -> None:
        async with gate:
            task = asyncio.create_task(_watch(host, port, path, cfg["tokens"][i], cfg["target"], deadline,
                                              seen[i], firsts[i]))
            await asyncio.wait({task, asyncio.create_task(firsts[i].wait())},
                               return_when=asyncio.FIRST_COMPLETED, timeout=60)
        try:
            how = await task
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
            how = type(exc).__name__
        ends[how] = ends.get(how, 0) + 1

    async def announce() -> None:
        await asyncio.wait_for(asyncio.gather(*(f.wait() for f in firsts)), 120)
        print(json.dumps({"ready": len(firsts)}), flush=True)

    await asyncio.gather(announce(), *(one(i) for i in range(len(cfg["tokens"]))))
    return {"seen": [{str(k): v for k, v in s.items()} for s in seen], "ends": ends}


def client_main(cfg_file: str) -> None:
    cfg = json.loads(Path(cfg_file).read_text())
    try:
        import uvloop

        out = uvloop.run(_client(cfg))
    except ImportError:
        out = asyncio.run(_client(cfg))
    # Into a file beside the config, not through the pipe: the event loop leaves stdout non-blocking,
    # and a result longer than the pipe holds (64 KB: 500 watchers) was cut short.
    Path(cfg_file + ".out").write_text(json.dumps(out))


# --- the run ------------------------------------------------------------------------------------------

def connections_per_process(server: hb.Server) -> dict[str, int]:
    """Established connections on the server's port, by the process that holds them."""
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{server.port} )"],
                         capture_output=True, text=True, check=False).stdout
    per: dict[str, int] = {}
    for line in out.splitlines():
        for pid in set(re.findall(r"pid=(\d+)", line)):
            per[pid] = per.get(pid, 0) + 1
    return per


def summarise(delays: list[float]) -> dict[str, Any]:
    delays.sort()
    pct = hb._percentiles(delays)
    return {"p50_ms": pct["p50"], "p95_ms": pct["p95"], "p99_ms": pct["p99"], "max_ms": pct["max"],
            "within_1s": round(sum(1 for d in delays if d <= 1.0) / len(delays), 4) if delays else None}


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == CLIENT:
        client_main(sys.argv[2])
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--database-url", default=pb.DEFAULT_PG, help="PostgreSQL database to DROP and create")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--redis-url", default=None, help="e.g. redis://127.0.0.1:6379/14 (needed with --workers 2)")
    p.add_argument("--watchers", type=int, default=1000)
    p.add_argument("--votes", type=int, default=20)
    p.add_argument("--interval", type=float, default=1.0, help="seconds between votes")
    p.add_argument("--clients", type=int, default=2, help="watcher processes")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="wugong-sse-") as tmp_name:
        tmp = Path(tmp_name)
        with pb.prepared(args.db, args.database_url, args.watchers + args.votes, args.workers, tmp,
                         redis_url=args.redis_url) as env:
            server: hb.Server = env["server"]
            cid = env["cid"]
            poll = pb.open_poll(server.base_url, cid, env["committee"])
            option = poll["options"][0]["id"]
            base = f"/api/v1/communities/{cid}/polls/{poll['id']}"
            watchers, voters = env["tokens"][:args.watchers], env["tokens"][args.watchers:]
            url = httpx.URL(server.base_url)
            procs = []
            t_connect = time.time()
            for k in range(args.clients):
                cfg = {"host": url.host, "port": url.port, "path": base + "/results/stream",
                       "tokens": watchers[k::args.clients], "target": args.votes,
                       "max_seconds": 150 + args.votes * args.interval}
                f = tmp / f"client{k}.json"
                f.write_text(json.dumps(cfg))
                procs.append(subprocess.Popen([sys.executable, __file__, CLIENT, str(f)], stdout=subprocess.PIPE,
                                              stderr=subprocess.PIPE, text=True))
            for proc in procs:
                line = proc.stdout.readline() if proc.stdout else ""
                if '"ready"' not in line:
                    err = proc.stderr.read()[-3000:] if proc.stderr else ""
                    raise RuntimeError(f"watcher process not ready: {line!r}\n{err}")
            all_connected_s = time.time() - t_connect
            spread = connections_per_process(server)
            load0 = hb.loadavg()
            cpu0 = server.cpu_seconds()
            sent: list[tuple[float, float]] = []
            with httpx.Client(base_url=server.base_url, timeout=30) as c:
                for i in range(args.votes):
                    t_next = time.time() + args.interval
                    t0 = time.time()
                    r = c.post(base + "/ballots", json={"choices": [option]},
                               headers={"Authorization": f"Bearer {voters[i]}"})
                    r.raise_for_status()
                    sent.append((t0, time.time()))
                    time.sleep(max(0.0, t_next - time.time()))
            for proc in procs:
                _, stderr = proc.communicate(timeout=300)
                if proc.returncode != 0:
                    raise RuntimeError(f"watcher process failed:\n{stderr[-3000:]}")
            outs = [json.loads((tmp / f"client{k}.json.out").read_text()) for k in range(args.clients)]
            server_cpu = server.cpu_seconds() - cpu0
            rss = server.peak_rss()
    delays: list[float] = []
    after_commit: list[float] = []
    missed = 0
    per_vote = []
    for k, (t_send, t_done) in enumerate(sent, start=1):
        mine = []
        for out in outs:
            for s in out["seen"]:
                arrived = min((t for c, t in s.items() if int(c) >= k), default=None)
                if arrived is None:
                    missed += 1
                else:
                    mine.append(arrived - t_send)
                    after_commit.append(arrived - t_done)
        delays.extend(mine)
        per_vote.append(round(max(mine) * 1000, 1) if mine else None)
    ends: dict[str, int] = {}
    for out in outs:
        for key, v in out["ends"].items():
            ends[key] = ends.get(key, 0) + v
    post_ms = sorted((d - s) * 1000 for s, d in sent)
    print(json.dumps({
        "bench": "polls_sse", "db": args.db, "workers": args.workers, "redis": bool(args.redis_url),
        "watchers": args.watchers, "votes": args.votes, "interval_s": args.interval, "client_processes": args.clients,
        "deliveries": len(delays), "missed": missed, **summarise(delays),
        "after_post_returned": summarise(after_commit), "slowest_watcher_ms_per_vote": per_vote,
        "post_ms": {"p50": round(post_ms[len(post_ms) // 2], 1), "max": round(post_ms[-1], 1)},
        "all_watchers_connected_s": round(all_connected_s, 1), "connections_per_server_process": spread,
        "watcher_endings": ends, **rss, "server_cpu_s": round(server_cpu, 1),
        "loadavg_before": load0, "loadavg_after": hb.loadavg(), "cpus": os.cpu_count(),
    }, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
