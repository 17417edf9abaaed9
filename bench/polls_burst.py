"""A meeting burst: 1,000 voters each cast one ballot over HTTP within a minute; prints JSON lines.

    .venv/bin/python bench/polls_burst.py --db sqlite --workers 1
    .venv/bin/python bench/polls_burst.py --db postgres --workers 2 \
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/wugong_polls_bench

The database is new (a temporary SQLite file, or the PostgreSQL database in ``--database-url``,
DROPPED and created again), migrated, and loaded in bulk with ``--voters`` verified residents
(bench/polls_madrid.py's loader). A real server starts (uvicorn, ``--workers``, as in
http_bench.py). The committee builds and opens a single-choice poll over HTTP. Then every voter
casts one ballot, ``POST .../ballots``, each on a connection of its own (a phone), arriving in
``--waves`` waves over ``--seconds``: when the chair says "vote now", people tap within a second or
two (exponential delays, mean ``--tap-mean``), which puts bursts of about 50 requests in flight.
Each POST carries an ``Idempotency-Key`` as the phone's offline queue does (``--no-idempotency-key``
to leave it out). Tokens are minted with the server's secret key (what ``POST /auth/token`` would
hand out), so the burst measures voting, not signing in. Latency is from opening the connection to the full answer;
the target is p99 < 200 ms. Finally the poll is closed over HTTP and its chain must verify.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import http_bench as hb
import polls_madrid as pm

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/wugong_polls_bench"


@contextmanager
def prepared(db: str, database_url: str, people: int, workers: int, tmp: Path, seed: int = 7,
             redis_url: str | None = None) -> Iterator[dict[str, Any]]:
    """A migrated database with ``people`` verified residents, a running server, tokens for everyone."""
    url = f"sqlite+aiosqlite:///{tmp / 'data' / 'wugong.db'}" if db == "sqlite" else database_url
    (tmp / "data").mkdir(exist_ok=True)
    env = {**os.environ, "WUGONG_ENV": "development", "WUGONG_DATA_DIR": str(tmp / "data"),
           "WUGONG_DATABASE_URL": url, "WUGONG_SECRET_KEY": secrets.token_urlsafe(48),
           "WUGONG_SMS_BACKEND": "console", "WUGONG_ACCESS_TOKEN_MINUTES": "600", "PYTHONPATH": str(hb.ROOT)}
    env.pop("WUGONG_REDIS_URL", None)
    if redis_url:
        env["WUGONG_REDIS_URL"] = redis_url
    os.environ.update({k: v for k, v in env.items() if k.startswith("WUGONG_")})
    if db == "postgres":
        hb.recreate_postgres(url)
    from app.core.migrate import upgrade

    upgrade(url)
    setup = asyncio.run(pm.load_people(url, people, seed))
    tokens = asyncio.run(_tokens(url, setup["community_id"]))
    from app.core.security import create_access_token

    committee = create_access_token(setup["committee_id"])[0]
    server = hb.Server("app.main:create_app", factory=True, workers=workers, env=env, log=tmp / "server.log")
    with server:
        yield {"server": server, "url": url, "cid": setup["community_id"], "tokens": tokens, "committee": committee,
               "setup": setup}


async def _tokens(url: str, cid: str) -> list[str]:
    from sqlalchemy import select

    from app.communities.models import Membership
    from app.core import db
    from app.core.security import create_access_token

    engine = db.make_engine(url)
    async with engine.connect() as conn:
        ids = list((await conn.execute(select(Membership.person_id).where(
            Membership.community_id == cid, Membership.verified.is_(True)).order_by(Membership.person_id))).scalars())
    await engine.dispose()
    return [create_access_token(pid)[0] for pid in ids]


def open_poll(base_url: str, cid: str, committee: str, **over: Any) -> dict[str, Any]:
    from app.core import clock

    body = {"title": "是否同意在3栋加装电梯", "kind": "single", "electorate": "residents",
            "options": [{"label": "同意加装"}, {"label": "暂不加装"}, {"label": "再议"}],
            "closes_at": (clock.now() + timedelta(days=1)).isoformat(), **over}
    h = {"Authorization": f"Bearer {committee}"}
    with httpx.Client(base_url=base_url, headers=h, timeout=120) as c:
        r = c.post(f"/api/v1/communities/{cid}/polls", json=body)
        r.raise_for_status()
        r = c.post(f"/api/v1/communities/{cid}/polls/{r.json()['id']}/open", json={"now": True})
        r.raise_for_status()
        poll: dict[str, Any] = r.json()
    return poll


def post_bytes(host: str, port: int, path: str, token: str, body: dict[str, Any], idempotency: bool = False) -> bytes:
    data = json.dumps(body).encode()
    key = f"Idempotency-Key: {secrets.token_urlsafe(16)}\r\n" if idempotency else ""
    return (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n{key}"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n"
            ).encode() + data


def arrivals(n: int, seconds: float, waves: int, tap_mean: float, rng: random.Random) -> list[float]:
    """When each voter taps "vote": ``waves`` calls to vote spread over ``seconds``, each answered
    by its share of voters after an exponential delay (mean ``tap_mean``, at most 5 s)."""
    gap = seconds / waves
    out = []
    for i in range(n):
        wave = i % waves
        out.append(min(wave * gap + min(rng.expovariate(1 / tap_mean), 5.0), seconds - 0.01))
    return sorted(out)


async def burst(base_url: str, path: str, tokens: list[str], bodies: list[dict[str, Any]],
                times: list[float], idempotency: bool) -> dict[str, Any]:
    url = httpx.URL(base_url)
    host, port = url.host, url.port or 80
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    flight = {"now": 0, "max": 0}
    start = time.perf_counter() + 0.2

    async def voter(i: int) -> None:
        await asyncio.sleep(max(0.0, start + times[i] - time.perf_counter()))
        raw = hb._Raw(host, port)
        flight["now"] += 1
        flight["max"] = max(flight["max"], flight["now"])
        t0 = time.perf_counter()
        try:
            code = await asyncio.wait_for(raw.get(post_bytes(host, port, path, tokens[i], bodies[i], idempotency)), 30)
            key = str(code)
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError, TimeoutError) as exc:
            key = type(exc).__name__
        latencies.append(time.perf_counter() - t0)
        flight["now"] -= 1
        statuses[key] = statuses.get(key, 0) + 1
        await raw.aclose()

    await asyncio.gather(*(voter(i) for i in range(len(tokens))))
    elapsed = time.perf_counter() - start
    return {"latencies": latencies, "statuses": statuses, "max_in_flight": flight["max"], "elapsed_s": elapsed}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--database-url", default=DEFAULT_PG, help="PostgreSQL database to DROP and create")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--voters", type=int, default=1000)
    p.add_argument("--seconds", type=float, default=60.0, help="all ballots arrive within this many seconds")
    p.add_argument("--waves", type=int, default=10, help="calls to vote during the meeting")
    p.add_argument("--tap-mean", type=float, default=0.6, help="mean delay (s) between a call and a voter's tap")
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--no-idempotency-key", action="store_true",
                   help="post without the Idempotency-Key header the phone's offline queue always sends")
    args = p.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="wugong-burst-") as tmp_name, \
            prepared(args.db, args.database_url, args.voters, args.workers, Path(tmp_name), args.seed) as env:
        server: hb.Server = env["server"]
        cid = env["cid"]
        poll = open_poll(server.base_url, cid, env["committee"])
        options = [o["id"] for o in poll["options"]]
        path = f"/api/v1/communities/{cid}/polls/{poll['id']}/ballots"
        bodies = [{"choices": [rng.choices(options, (5, 3, 1))[0]]} for _ in env["tokens"]]
        times = arrivals(len(env["tokens"]), args.seconds, args.waves, args.tap_mean, rng)
        load0 = hb.loadavg()
        cpu0 = server.cpu_seconds()
        out = asyncio.run(burst(server.base_url, path, env["tokens"], bodies, times, not args.no_idempotency_key))
        server_cpu = server.cpu_seconds() - cpu0
        rss = server.peak_rss()
        h = {"Authorization": f"Bearer {env['committee']}"}
        with httpx.Client(base_url=server.base_url, headers=h, timeout=120) as c:
            voted = c.get(f"/api/v1/communities/{cid}/polls/{poll['id']}").json()["voted_count"]
            t0 = time.perf_counter()
            closed = c.post(f"/api/v1/communities/{cid}/polls/{poll['id']}/close")
            close_ms = round((time.perf_counter() - t0) * 1000, 1)
            closed.raise_for_status()
            res = c.get(f"/api/v1/communities/{cid}/polls/{poll['id']}/results").json()
            chain_ok = bool(((res.get("result") or {}).get("chain") or {}).get("ok"))
    lat = sorted(out["latencies"])
    pct = hb._percentiles(lat)
    # the busiest second: how many ballots arrived in it
    per_second: dict[int, int] = {}
    for t in times:
        per_second[int(t)] = per_second.get(int(t), 0) + 1
    print(json.dumps({
        "bench": "polls_burst", "db": args.db, "workers": args.workers, "voters": args.voters,
        "idempotency_key": not args.no_idempotency_key,
        "ok_201": out["statuses"].get("201", 0), "statuses": out["statuses"], "voted_count": voted,
        "elapsed_s": round(out["elapsed_s"], 1), "peak_arrivals_per_s": max(per_second.values()),
        "max_in_flight": out["max_in_flight"],
        "p50_ms": pct["p50"], "p95_ms": pct["p95"], "p99_ms": pct["p99"], "max_ms": pct["max"], "mean_ms": pct["mean"],
        "target_p99_ms": 200, "meets_target": pct["p99"] is not None and pct["p99"] < 200,
        "close_ms": close_ms, "chain_ok": chain_ok, **rss,
        "server_cpu_s": round(server_cpu, 1), "loadavg_before": load0, "loadavg_after": hb.loadavg(),
        "cpus": os.cpu_count(),
    }, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
