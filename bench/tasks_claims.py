"""A claims burst: 1,000 neighbours claim one 50-person clean-up over HTTP; prints JSON lines.

    .venv/bin/python bench/tasks_claims.py --db sqlite --workers 1
    .venv/bin/python bench/tasks_claims.py --db postgres --workers 2 \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/wugong_tasks_bench

The database is new (a temporary SQLite file, or the PostgreSQL database in ``--database-url``,
DROPPED and created again), migrated and loaded in bulk with ``--people`` verified residents
(bench/polls_madrid.py's loader); a real server starts (uvicorn, ``--workers``), as in
bench/polls_burst.py. The committee posts and publishes a volunteer task for ``--places`` people
over HTTP. Then every resident posts one claim, ``POST .../tasks/{id}/claims``, each on a
connection of its own (a phone), with an ``Idempotency-Key`` as the phone's offline queue sends it:
the task's link is shared into WeChat groups ``--waves`` times over ``--seconds`` and people tap
within a second or two of each share (exponential delays, mean ``--tap-mean``). The first
``--places`` claims are taken (201) and every later one is refused (409 task_full) — the same
latency target for both: p99 < 200 ms. Afterwards the task must hold exactly ``--places`` claims.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import http_bench as hb
import polls_burst as pb

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/wugong_tasks_bench"


def post_task(base_url: str, cid: str, committee: str, places: int) -> dict[str, Any]:
    from app.core import clock

    starts = clock.now() + timedelta(days=2)
    body = {"kind": "volunteer", "title": "周六小区大扫除", "description": "清理楼道和绿化带",
            "location_text": "小区广场集合", "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=3)).isoformat(), "people_needed": places,
            "reward": {"unit": "points", "amount": 20}, "publish": True}
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {committee}"}, timeout=120) as c:
        r = c.post(f"/api/v1/communities/{cid}/tasks", json=body)
        r.raise_for_status()
        task: dict[str, Any] = r.json()
    return task


async def burst(base_url: str, path: str, tokens: list[str], times: list[float],
                idempotency: bool) -> dict[str, Any]:
    url = httpx.URL(base_url)
    host, port = url.host, url.port or 80
    results: list[tuple[str, float]] = []
    flight = {"now": 0, "max": 0}
    start = time.perf_counter() + 0.2

    async def neighbour(i: int) -> None:
        await asyncio.sleep(max(0.0, start + times[i] - time.perf_counter()))
        raw = hb._Raw(host, port)
        flight["now"] += 1
        flight["max"] = max(flight["max"], flight["now"])
        t0 = time.perf_counter()
        try:
            code = await asyncio.wait_for(raw.get(pb.post_bytes(host, port, path, tokens[i], {}, idempotency)), 30)
            key = str(code)
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError, TimeoutError) as exc:
            key = type(exc).__name__
        results.append((key, time.perf_counter() - t0))
        flight["now"] -= 1
        await raw.aclose()

    await asyncio.gather(*(neighbour(i) for i in range(len(tokens))))
    return {"results": results, "max_in_flight": flight["max"], "elapsed_s": time.perf_counter() - start}


def _ms(values: list[float]) -> dict[str, Any]:
    pct = hb._percentiles(sorted(values))
    return {"p50_ms": pct["p50"], "p95_ms": pct["p95"], "p99_ms": pct["p99"], "max_ms": pct["max"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--database-url", default=DEFAULT_PG, help="PostgreSQL database to DROP and create")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--people", type=int, default=1000)
    p.add_argument("--places", type=int, default=50)
    p.add_argument("--seconds", type=float, default=60.0, help="all claims arrive within this many seconds")
    p.add_argument("--waves", type=int, default=10, help="times the link is shared into a group")
    p.add_argument("--tap-mean", type=float, default=0.6, help="mean delay (s) between a share and a tap")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--no-idempotency-key", action="store_true")
    p.add_argument("--warmup", type=int, default=0,
                   help="first let this many other residents claim another task, unmeasured (a server that "
                        "has been running a while); 0: the burst meets a server that just started")
    args = p.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="wugong-claims-") as tmp_name, \
            pb.prepared(args.db, args.database_url, args.people + args.warmup, args.workers, Path(tmp_name),
                        args.seed) as env:
        server: hb.Server = env["server"]
        cid = env["cid"]
        tokens = env["tokens"][:args.people + args.warmup]
        rng.shuffle(tokens)
        tokens, warm = tokens[:args.people], tokens[args.people:]
        if warm:
            other = post_task(server.base_url, cid, env["committee"], len(warm) // 2 or 1)
            warm_path = f"/api/v1/communities/{cid}/tasks/{other['id']}/claims"
            asyncio.run(burst(server.base_url, warm_path, warm, pb.arrivals(len(warm), 2.0, 1, 0.3, rng), True))
            time.sleep(1)
        task = post_task(server.base_url, cid, env["committee"], args.places)
        times = pb.arrivals(len(tokens), args.seconds, args.waves, args.tap_mean, rng)
        path = f"/api/v1/communities/{cid}/tasks/{task['id']}/claims"
        load0 = hb.loadavg()
        cpu0 = server.cpu_seconds()
        out = asyncio.run(burst(server.base_url, path, tokens, times, not args.no_idempotency_key))
        server_cpu = server.cpu_seconds() - cpu0
        rss = server.peak_rss()
        with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {env['committee']}"},
                          timeout=120) as c:
            after = c.get(f"/api/v1/communities/{cid}/tasks/{task['id']}").json()
            listed = c.get(f"{path}", params={"limit": 100}).json()["items"]
    statuses: dict[str, int] = {}
    for key, _ in out["results"]:
        statuses[key] = statuses.get(key, 0) + 1
    every = [lat for _, lat in out["results"]]
    taken = [lat for key, lat in out["results"] if key == "201"]
    refused = [lat for key, lat in out["results"] if key == "409"]
    per_second: dict[int, int] = {}
    for t in times:
        per_second[int(t)] = per_second.get(int(t), 0) + 1
    overall = _ms(every)
    exact = statuses.get("201") == args.places and after["claimed_count"] == args.places and len(listed) == args.places
    print(json.dumps({
        "bench": "tasks_claims", "db": args.db, "workers": args.workers, "people": len(tokens), "places": args.places,
        "warmup": args.warmup,
        "idempotency_key": not args.no_idempotency_key, "statuses": statuses,
        "claimed_count": after["claimed_count"], "task_status": after["status"], "claims_stored": len(listed),
        "exactly_the_places": exact, "elapsed_s": round(out["elapsed_s"], 1),
        "peak_arrivals_per_s": max(per_second.values()), "max_in_flight": out["max_in_flight"],
        **overall, "taken": _ms(taken), "refused": _ms(refused),
        "target_p99_ms": 200, "meets_target": overall["p99_ms"] is not None and overall["p99_ms"] < 200 and exact,
        **rss, "server_cpu_s": round(server_cpu, 1),
        "server_cpu_ms_per_claim": round(server_cpu * 1000 / len(tokens), 2),
        "loadavg_before": load0, "loadavg_after": hb.loadavg(), "cpus": os.cpu_count(),
    }, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
