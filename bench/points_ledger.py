"""The points ledger at scale: bulk-loads a year of entries, then times my points (balance and the
first history page of a person with 10,000 entries) and the honour board through the real app over
HTTP, and ``wugong verify-ledger`` over the whole ledger; prints JSON lines.

    .venv/bin/python bench/points_ledger.py --db postgres --entries 1000000 --communities 100
    .venv/bin/python bench/points_ledger.py --db sqlite --entries 100000 --communities 10

Setup as in http_bench.py (a new database, ``wugong demo``, a uvicorn subprocess, sign-in of the
demo owner by a one-time code read from the log, and two staff by password). Then ``--entries``
ledger entries go in by bulk insert (PostgreSQL COPY, SQLite executemany), over ``--communities``
communities (幸福里社区 of the demo plus made-up ones) of ``--people`` people each, over the last
365 days with a quarter of them this month; the three signed-in people get ``--own`` entries each
in 幸福里社区. Balances and honour board totals are computed from the same rows and written in bulk,
so ``verify-ledger`` must find nothing: it checks the loader as much as it is timed.

GET targets run in http_bench's load generator (its own process), ``--concurrency`` connections
rotating over the three people's tokens. Thresholds (issue 12): my points p95 < 10 ms, the board
for a month p95 < 100 ms (PostgreSQL), verify-ledger < 60 s over 1,000,000 entries.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import http_bench as hb  # type: ignore[import-not-found]

ENTRY_COLUMNS = ("id", "created_at", "community_id", "person_id", "unit", "kind", "amount", "balance_after",
                 "ref_type", "ref_id", "counterpart_id", "title", "reason", "data", "actor_id", "once_key")
REASONS = ("周六清扫楼道", "垃圾分类督导", "协助组织屋场会", "陪独居老人复诊", "清理小广告", "疏通排水沟",
           "冬季消防排查", "重阳节包饺子", "义务维修门禁", "入户宣传改造意愿")
ITEMS = ("东北大米 5kg", "洗衣液 2L", "保温杯", "义诊体检券", "毛巾")
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
BEIJING = timezone(timedelta(hours=8))


def ulid_at(when: datetime, rng: random.Random) -> str:
    """A time-ordered id (app/core/ids.py's shape) for a row made at ``when``."""
    value = (int(when.timestamp() * 1000) << 80) | rng.getrandbits(80)
    out = []
    for _ in range(26):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


class Book:
    """Generates one person's entries in time order, keeping their balances; sums the board's totals."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng, self.now = rng, now
        self.balances: dict[tuple[str, str, str], int] = defaultdict(int)
        self.totals: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
        self.month_start = now.astimezone(BEIJING).replace(day=1, hour=0, minute=0, second=0, microsecond=0)

    def moments(self, n: int) -> list[datetime]:
        out = []
        for _ in range(n):
            if self.rng.random() < 0.25:  # this month
                span = (self.now - self.month_start).total_seconds()
                out.append(self.now - timedelta(seconds=self.rng.uniform(1, max(span, 2))))
            else:
                out.append(self.now - timedelta(seconds=self.rng.uniform(1, 365 * 86400)))
        return sorted(out)

    def person(self, cid: str, pid: str, n: int, actor: str) -> list[tuple[Any, ...]]:
        rows = []
        rng = self.rng
        for when in self.moments(n):
            roll = rng.random()
            unit = "hours" if roll < 0.12 else "points"
            key = (cid, pid, unit)
            have = self.balances[key]
            if roll > 0.8 and unit == "points" and have >= 10:
                kind, amount, title, reason = "redeemed", -min(have, rng.choice((10, 30, 40, 80, 120))), \
                    rng.choice(ITEMS), ""
                ref_type, ref_id = "order", ulid_at(when, rng)
            else:
                kind = rng.choice(("earned", "bonus"))
                amount = rng.choice((30, 60, 90, 120)) if unit == "hours" else rng.choice((5, 10, 15, 20, 30, 50))
                title, reason = (rng.choice(REASONS), "") if kind == "earned" else ("", rng.choice(REASONS))
                ref_type, ref_id = ("claim", ulid_at(when, rng)) if kind == "earned" else (None, None)
                local = when.astimezone(BEIJING)
                for period in (local.strftime("%Y-%m"), local.strftime("%Y"), "all"):
                    t = self.totals[(cid, pid, unit, period)]
                    t[0] += amount
                    if kind == "earned":
                        t[1] += amount
            self.balances[key] = have + amount
            once = f"{kind}:{ref_type}:{ref_id}" if kind == "earned" else None
            rows.append((ulid_at(when, rng), when, cid, pid, unit, kind, amount, have + amount, ref_type, ref_id,
                         None, title, reason, "{}", actor if kind == "bonus" else None, once))
        return rows


async def load(url: str, total: int, communities: int, people: int, own: int, seed: int) -> dict[str, Any]:
    from sqlalchemy import func, select, text

    from app.accounts.models import Person
    from app.communities.models import Building, Community
    from app.core import db

    rng = random.Random(seed)
    now = datetime.now(UTC)
    engine = db.make_engine(url)
    t0 = time.monotonic()
    async with engine.connect() as conn:
        main = (await conn.execute(select(Community.id, Community.region_id)
                                   .where(Community.name == "幸福里社区"))).one()
        signed = list((await conn.execute(select(Person.id).where(
            (Person.phone == hb.RESIDENT_PHONE) | Person.username.in_(["committee", "grid"])))).scalars())
        committee = (await conn.execute(select(Person.id).where(Person.username == "committee"))).scalar_one()
        buildings = list((await conn.execute(select(Building.id).where(Building.community_id == main.id))).scalars())
        existing = int((await conn.execute(select(func.count()).select_from(text("points_entries")))).scalar_one())
    await engine.dispose()

    cids = [main.id] + [ulid_at(now, rng) for _ in range(communities - 1)]
    community_rows = [(c, main.region_id, f"压测社区{n:03d}", "community", "", "", now)
                      for n, c in enumerate(cids[1:], start=1)]
    person_rows: list[tuple[Any, ...]] = []
    members: list[tuple[Any, ...]] = []
    crowd: dict[str, list[str]] = {}
    for c in cids:
        crowd[c] = [ulid_at(now, rng) for _ in range(people)]
        person_rows += [(p, f"志愿者{i:04d}", False, "zh-CN", now) for i, p in enumerate(crowd[c])]
    for p in crowd[main.id]:  # the compound's crowd are members with a building (the grid board)
        members.append((ulid_at(now, rng), main.id, p, '["resident"]', rng.choice(buildings), "[]", "", True, now))

    book = Book(rng, now)
    per_community = max(1, (total - own * len(signed)) // communities)
    batches: list[list[tuple[Any, ...]]] = []
    made = 0
    for c in cids:
        rows: list[tuple[Any, ...]] = []
        if c == main.id:
            for p in signed:
                rows += book.person(c, p, own, committee)
        share = per_community // people
        for i, p in enumerate(crowd[c]):
            rows += book.person(c, p, share + (1 if i < per_community % people else 0), committee)
        made += len(rows)
        batches.append(rows)

    balances = [(c, p, u, b, now) for (c, p, u), b in book.balances.items()]
    totals = [(c, p, u, period, g, e) for (c, p, u, period), (g, e) in book.totals.items()]
    if url.startswith("postgresql"):
        await _write_pg(url, community_rows, person_rows, members, batches, balances, totals)
    else:
        await asyncio.to_thread(_write_sqlite, url, community_rows, person_rows, members, batches, balances, totals)
    return {"entries_loaded": made, "entries_before": existing, "communities": len(cids),
            "people_per_community": people, "entries_of_each_signed_in_person": own,
            "balances_written": len(balances), "totals_written": len(totals),
            "load_s": round(time.monotonic() - t0, 1)}


BALANCE_UPSERT = ("INSERT INTO points_balances (community_id, person_id, unit, balance, updated_at) "
                  "SELECT community_id, person_id, unit, balance, updated_at FROM {src} "
                  "ON CONFLICT (community_id, person_id, unit) DO UPDATE "
                  "SET balance = points_balances.balance + excluded.balance")
TOTAL_UPSERT = ("INSERT INTO points_totals (community_id, person_id, unit, period, gained, earned) "
                "SELECT community_id, person_id, unit, period, gained, earned FROM {src} "
                "ON CONFLICT (community_id, person_id, unit, period) DO UPDATE "
                "SET gained = points_totals.gained + excluded.gained, earned = points_totals.earned + excluded.earned")


async def _write_pg(url: str, communities: list[Any], people: list[Any], members: list[Any],
                    batches: list[list[Any]], balances: list[Any], totals: list[Any]) -> None:
    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.copy_records_to_table("communities", records=communities, columns=(
                "id", "region_id", "name", "kind", "address", "description", "created_at"))
            await conn.copy_records_to_table("people", records=people, columns=(
                "id", "name", "is_platform_admin", "locale", "created_at"))
            await conn.copy_records_to_table("memberships", records=members, columns=(
                "id", "community_id", "person_id", "roles", "building_id", "grid_ids", "display_name", "verified",
                "created_at"))
            for rows in batches:
                await conn.copy_records_to_table("points_entries", records=rows, columns=ENTRY_COLUMNS)
            await conn.execute("CREATE TEMP TABLE bench_balances (community_id text, person_id text, unit text, "
                               "balance int, updated_at timestamptz) ON COMMIT DROP")
            await conn.copy_records_to_table("bench_balances", records=balances)
            await conn.execute(BALANCE_UPSERT.format(src="bench_balances"))
            await conn.execute("CREATE TEMP TABLE bench_totals (community_id text, person_id text, unit text, "
                               "period text, gained int, earned int) ON COMMIT DROP")
            await conn.copy_records_to_table("bench_totals", records=totals)
            await conn.execute(TOTAL_UPSERT.format(src="bench_totals"))
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def _write_sqlite(url: str, communities: list[Any], people: list[Any], members: list[Any], batches: list[list[Any]],
                  balances: list[Any], totals: list[Any]) -> None:
    path = url.split(":///", 1)[1]

    def iso(v: Any) -> Any:  # as SQLAlchemy stores a UTCDateTime on SQLite
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v

    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.executemany("INSERT INTO communities (id, region_id, name, kind, address, description, created_at) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)", [tuple(map(iso, r)) for r in communities])
            conn.executemany("INSERT INTO people (id, name, is_platform_admin, locale, created_at) "
                             "VALUES (?, ?, ?, ?, ?)", [tuple(map(iso, r)) for r in people])
            conn.executemany("INSERT INTO memberships (id, community_id, person_id, roles, building_id, grid_ids, "
                             "display_name, verified, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             [tuple(map(iso, r)) for r in members])
            marks = ", ".join("?" * len(ENTRY_COLUMNS))
            for rows in batches:
                conn.executemany(f"INSERT INTO points_entries ({', '.join(ENTRY_COLUMNS)}) VALUES ({marks})",
                                 [tuple(map(iso, r)) for r in rows])
            conn.execute("CREATE TEMP TABLE bench_balances (community_id, person_id, unit, balance, updated_at)")
            conn.executemany("INSERT INTO bench_balances VALUES (?, ?, ?, ?, ?)",
                             [tuple(map(iso, r)) for r in balances])
            conn.execute(BALANCE_UPSERT.format(src="bench_balances WHERE true"))
            conn.execute("CREATE TEMP TABLE bench_totals (community_id, person_id, unit, period, gained, earned)")
            conn.executemany("INSERT INTO bench_totals VALUES (?, ?, ?, ?, ?, ?)", totals)
            conn.execute(TOTAL_UPSERT.format(src="bench_totals WHERE true"))
        conn.execute("ANALYZE")
    finally:
        conn.close()


def verify_ledger(env: dict[str, str]) -> dict[str, Any]:
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "app.cli", "verify-ledger"], cwd=hb.ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    elapsed = time.monotonic() - t0
    return {"target": "verify_ledger", "exit_code": proc.returncode, "seconds": round(elapsed, 2),
            "report": proc.stdout.strip().splitlines()[:1] + proc.stdout.strip().splitlines()[-1:],
            "stderr": proc.stderr[-500:] if proc.returncode else ""}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    p.add_argument("--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/wugong_points_bench",
                   help="PostgreSQL database to DROP and create")
    p.add_argument("--entries", type=int, default=1_000_000)
    p.add_argument("--communities", type=int, default=100)
    p.add_argument("--people", type=int, default=1000, help="people with entries in each community")
    p.add_argument("--own", type=int, default=10_000, help="entries of each signed-in person")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--seed", type=int, default=20261205)
    args = p.parse_args()
    args.max_requests, args.client = 1_000_000, "raw"
    with tempfile.TemporaryDirectory(prefix="wugong-points-bench-") as tmp_name:
        tmp = Path(tmp_name)
        url = f"sqlite+aiosqlite:///{tmp / 'data' / 'wugong.db'}" if args.db == "sqlite" else args.database_url
        env = {**os.environ, "WUGONG_ENV": "development", "WUGONG_DATA_DIR": str(tmp / "data"),
               "WUGONG_DATABASE_URL": url, "WUGONG_SECRET_KEY": secrets.token_urlsafe(48),
               "WUGONG_SMS_BACKEND": "console", "WUGONG_ACCESS_TOKEN_MINUTES": "600",
               "WUGONG_SWEEP_SECONDS": "0", "PYTHONPATH": str(hb.ROOT)}
        env.pop("WUGONG_REDIS_URL", None)
        if args.db == "postgres":
            hb.recreate_postgres(url)
        hb.load_demo(env)
        os.environ.update({k: v for k, v in env.items() if k.startswith("WUGONG_")})
        loaded = asyncio.run(load(url, args.entries, args.communities, args.people, args.own, args.seed))
        print(json.dumps({"target": "load", "db": args.db, **loaded}, ensure_ascii=False), flush=True)
        results: dict[str, Any] = {}
        server = hb.Server("app.main:create_app", factory=True, workers=args.workers, env=env,
                           log=tmp / "server.log")
        with server:
            tokens, cid = hb.sign_in(server)
            h = {"Authorization": f"Bearer {tokens[0]}"}
            grids = httpx.get(f"{server.base_url}/api/v1/communities/{cid}/grids", headers=h, timeout=30).json()
            base = f"/api/v1/communities/{cid}/points"
            targets = {
                "my_points": base + "/me",
                "board_month": base + "/board?period=month",
                "board_month_hours": base + "/board?period=month&unit=hours",
                "board_year": base + "/board?period=year",
                "board_all": base + "/board?period=all",
                "board_month_grid": base + f"/board?period=month&grid_id={grids[0]['id']}",
            }
            for name, path in targets.items():
                check = httpx.get(server.base_url + path, headers=h, timeout=60)
                if check.status_code != 200:
                    raise RuntimeError(f"{name}: {check.status_code} {check.text[:300]}")
                body = check.json()
                size = len(body.get("entries") or body.get("rows") or [])
                if args.warmup:
                    hb.run_client(server.base_url, path, tokens, args, args.warmup)
                out = hb.run_client(server.base_url, path, tokens, args, args.duration)
                lat = out["latency_ms"]
                results[name] = lat["p95"]
                print(json.dumps({"target": name, "db": args.db, "concurrency": args.concurrency,
                                  "requests": out["requests"], "errors": out["errors"],
                                  "rps": round(out["requests"] / out["elapsed_s"], 1), "p50_ms": lat["p50"],
                                  "p95_ms": lat["p95"], "p99_ms": lat["p99"], "max_ms": lat["max"],
                                  "results": size, "path": path.replace(cid, "{cid}")},
                                 ensure_ascii=False), flush=True)
        verified = verify_ledger(env)
        print(json.dumps({**verified, "db": args.db}, ensure_ascii=False), flush=True)
    print(json.dumps({
        "target": "summary", "db": args.db, "entries": loaded["entries_loaded"] + loaded["entries_before"],
        "communities": args.communities, "workers": args.workers, "concurrency": args.concurrency,
        "cpus": os.cpu_count(), "loadavg_at_end": hb.loadavg(),
        "my_points_p95_under_10ms": results["my_points"] is not None and results["my_points"] < 10,
        "board_month_p95_under_100ms": results["board_month"] is not None and results["board_month"] < 100,
        "verify_ledger_ok_under_60s": verified["exit_code"] == 0 and verified["seconds"] < 60,
    }), flush=True)


if __name__ == "__main__":
    main()
