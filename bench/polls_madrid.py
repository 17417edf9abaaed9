"""Decide Madrid's benchmark for polls: 40,000 participants cast 400,000 ballots over 10 polls
through the real service layer; prints JSON lines.

    .venv/bin/python bench/polls_madrid.py --db sqlite --participants 4000 --polls 10
    .venv/bin/python bench/polls_madrid.py --db sqlite                      # 40,000 × 10
    .venv/bin/python bench/polls_madrid.py --db postgres \
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/wugong_polls_bench

One run: a new database (a temporary SQLite file, or the PostgreSQL database in
``--database-url``, DROPPED and created again), migrated; then one community with
``--participants`` verified residents in households of 1–4 people over buildings of 60 homes,
loaded with Core bulk inserts. ``--polls`` polls of mixed kinds (approval with dots, single
choice, proposals, multiple choice, score, ranked) are built with ``service.create_poll`` and
opened one by one with ``service.open_poll`` (the electorate of every participant is frozen:
timed). Then ``--procs`` processes with ``--concurrency`` requests in flight each cast every
participant's ballot in every poll, in a shuffled order, exactly as the HTTP handler does it
(check the token; the caller, the community and their roles in one statement; ``poll_to_vote``;
``cast_ballot``, whose first votes the process's group committer writes together). Each poll is
then closed with ``service.close_poll`` (verifies the stored chain and
counts every ballot: timed) and its chain download is checked by ``app.polls.verify``. See
bench/README.md. ``--procs 0 --profile`` casts in this process under cProfile and prints where
the time goes.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import cProfile
import io
import json
import os
import platform
import pstats
import random
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import http_bench as hb

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/wugong_polls_bench"
WORKER = "--cast-worker"  # how this script runs itself as a casting process
COMMUNITY = "马德里试点社区"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
# (title, kind, extra PollCreate fields, number of options): the mix of a participatory-budget round
POLLS: tuple[tuple[str, str, dict[str, Any], int], ...] = (
    ("社区微更新项目（每人3票，可叠投）", "approval", {"max_choices": 3, "allow_stacking": True}, 12),
    ("小区东门改造方案", "single", {}, 4),
    ("同意将公共收益用于加装充电桩", "proposal", {"preset": "simple_majority"}, 0),
    ("年度重点事项（最多选3项）", "multiple", {"max_choices": 3}, 8),
    ("物业服务满意度评分", "score", {}, 5),
    ("口袋公园设施（每人5票）", "approval", {"max_choices": 5, "allow_stacking": False}, 10),
    ("垃圾分类投放点位置", "single", {}, 3),
    ("同意延长夜间停车时间", "proposal", {"preset": "simple_majority"}, 0),
    ("社区食堂菜单排序", "ranked", {"ranked_method": "irv"}, 6),
    ("同意设立楼道自治公约", "proposal", {"preset": "simple_majority"}, 0),
)


def rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not getrusage: on Linux a child's ru_maxrss also
    counts the parent's memory at fork, which would credit the casting processes with the parent's."""
    return round(hb._status_kb(os.getpid(), "VmHWM") / 1024, 1)


def percentiles_ms(lat: list[float]) -> dict[str, float | None]:
    lat.sort()
    out = hb._percentiles(lat)
    return {k: out[k] for k in ("p50", "p95", "p99", "max", "mean")}


# --- setup: the community, in bulk -------------------------------------------------------------------

async def load_people(url: str, participants: int, seed: int) -> dict[str, Any]:
    from decimal import Decimal

    from sqlalchemy import insert

    from app.accounts.models import Person
    from app.communities.models import Building, Community, Household, Membership
    from app.core import clock, db
    from app.core.ids import new_id

    rng = random.Random(seed)
    engine = db.make_engine(url)
    now = clock.now()
    t0 = time.monotonic()
    cid = new_id()
    buildings: list[dict[str, Any]] = []
    households: list[dict[str, Any]] = []
    people: list[dict[str, Any]] = []
    members: list[dict[str, Any]] = []
    n = 0
    while n < participants:
        if not households or len(households) % 60 == 0:
            buildings.append({"id": new_id(), "community_id": cid, "name": f"{len(buildings) + 1}栋",
                              "kind": "building", "created_at": now})
        b = buildings[-1]
        k = len(households) % 60
        h = {"id": new_id(), "community_id": cid, "building_id": b["id"], "unit": f"{k // 20 + 1}",
             "room": f"{k % 20 // 2 + 1}0{k % 2 + 1}", "address": "",
             "owner_area_m2": Decimal(rng.randrange(4500, 14000)) / 100, "created_at": now}
        households.append(h)
        for _ in range(min(rng.choice((1, 2, 2, 3, 3, 4)), participants - n)):
            pid = new_id()
            people.append({"id": pid, "phone": f"17{n:09d}", "name": rng.choice(SURNAMES) + "居民" + str(n),
                           "locale": "zh-CN", "is_platform_admin": False, "created_at": now})
            members.append({"id": new_id(), "community_id": cid, "person_id": pid, "roles": ["resident"],
                            "household_id": h["id"], "grid_ids": [], "display_name": "", "verified": True,
                            "created_at": now})
            n += 1
    committee = new_id()
    people.append({"id": committee, "phone": "16600000000", "name": "陈主任", "locale": "zh-CN",
                   "is_platform_admin": False, "created_at": now})
    # Not verified: staff, not in the electorate, so every elector is a participant.
    members.append({"id": new_id(), "community_id": cid, "person_id": committee, "roles": ["committee", "resident"],
                    "household_id": None, "grid_ids": [], "display_name": "", "verified": False, "created_at": now})
    async with engine.begin() as conn:
        await conn.execute(insert(Community), [{"id": cid, "region_id": None, "name": COMMUNITY,
                                                "kind": "community", "address": "", "description": "",
                                                "created_at": now}])
        for model, rows in ((Building, buildings), (Household, households), (Person, people),
                            (Membership, members)):
            for i in range(0, len(rows), 5000):
                await conn.execute(insert(model), rows[i:i + 5000])
    async with engine.connect() as conn:
        await conn.exec_driver_sql("ANALYZE")
        await conn.commit()
    await engine.dispose()
    return {"community_id": cid, "committee_id": committee, "people": participants, "households": len(households),
            "buildings": len(buildings), "load_s": round(time.monotonic() - t0, 2)}


async def committee_scope(session: Any, cid: str, committee_id: str) -> Any:
    from app.accounts.models import Person
    from app.communities import service as communities
    from app.communities.deps import CommunityScope

    person = await session.get(Person, committee_id)
    community = await communities.get_community(session, cid)
    assert person is not None and community is not None
    membership, roles = await communities.roles_in(session, person, community)
    return CommunityScope(community=community, person=person, membership=membership, roles=roles)


async def make_polls(cid: str, committee_id: str, count: int) -> dict[str, Any]:
    """Build the polls with the service, then open each in its own transaction (timed)."""
    from app.core import clock, db
    from app.polls import service
    from app.polls.schemas import OptionIn, PollCreate

    ids: list[str] = []
    async with db.sessionmaker()() as session:
        scope = await committee_scope(session, cid, committee_id)
        for i in range(count):
            title, kind, extra, n_opt = POLLS[i % len(POLLS)]
            data = PollCreate(title=f"{title}（{i + 1}）", kind=kind, electorate="residents",
                              options=[OptionIn(label=f"方案{k + 1}") for k in range(n_opt)],
                              closes_at=clock.now() + timedelta(days=14), notice_days=7, **extra)
            ids.append((await service.create_poll(session, scope, data)).id)
        await session.commit()
    open_s: list[float] = []
    for pid in ids:
        t0 = time.perf_counter()
        async with db.sessionmaker()() as session:
            scope = await committee_scope(session, cid, committee_id)
            poll = await service.visible_poll(session, scope, pid)
            await service.open_poll(session, committee_id, poll, at_once=True)
            await session.commit()
        open_s.append(time.perf_counter() - t0)
    return {"poll_ids": ids, "open_s": open_s}


# --- casting ------------------------------------------------------------------------------------------

def ballot_for(kind: str, options: list[str], max_choices: int | None, stacking: bool,
               rng: random.Random) -> dict[str, Any]:
    """A plausible ballot: popularity falls off along the option list."""
    weights = [1.0 / (1 + 0.3 * i) for i in range(len(options))]
    if kind == "proposal":
        return {"choices": [rng.choices(("yes", "no", "abstain"), (6, 3, 1))[0]]}
    if kind == "single":
        return {"choices": [rng.choices(options, weights)[0]]}
    if kind == "score":
        return {"scores": {o: rng.randint(1, 5) for o in options if rng.random() < 0.8} or {options[0]: 3}}
    k = max_choices or len(options)
    if kind == "approval" and stacking:
        return {"choices": rng.choices(options, weights, k=rng.randint(1, k))}
    if kind == "ranked":
        k = rng.randint(1, len(options))
    picked: list[str] = []
    pool, w = list(options), list(weights)
    for _ in range(rng.randint(1, k) if kind != "ranked" else k):
        j = rng.choices(range(len(pool)), w)[0]
        picked.append(pool.pop(j))
        w.pop(j)
    return {"choices": picked}


async def cast_all(cfg: dict[str, Any]) -> dict[str, Any]:
    """Cast this process's share of (participant, poll) ballots, ``concurrency`` sessions at once."""
    from sqlalchemy import select

    from app.accounts import service as accounts
    from app.communities import service as communities
    from app.communities.deps import CommunityScope
    from app.communities.models import Membership
    from app.core import db, policy, security
    from app.core.errors import AppError
    from app.polls import repository as repo
    from app.polls import service
    from app.polls.appender import appender
    from app.polls.models import Poll
    from app.polls.schemas import BallotIn

    cid: str = cfg["community_id"]
    async with db.sessionmaker()() as session:
        people = list((await session.execute(
            select(Membership.person_id).where(Membership.community_id == cid, Membership.verified.is_(True))
            .order_by(Membership.person_id))).scalars())
        polls = {p.id: p for p in (await session.execute(select(Poll).where(Poll.id.in_(cfg["poll_ids"])))).scalars()}
        opts = await repo.options_of(session, list(polls))
    tokens = [security.create_access_token(p, minutes=600)[0] for p in people]  # what signing in hands out
    jobs = [(i, k) for i in range(len(people)) for k in range(len(cfg["poll_ids"]))]
    random.Random(cfg["seed"]).shuffle(jobs)
    if cfg["max_ballots"]:
        jobs = jobs[:cfg["max_ballots"]]
    mine = jobs[cfg["index"]::cfg["procs"]]
    rng = random.Random(cfg["seed"] * 1000 + cfg["index"])
    shapes = []
    for pid in cfg["poll_ids"]:
        p = polls[pid]
        shapes.append((pid, p.kind, [o.id for o in opts[pid]], p.max_choices, p.allow_stacking))
    latencies = array.array("d")
    errors: dict[str, int] = {}
    next_job = iter(mine)

    async def one(token: str, poll_id: str, body: dict[str, Any]) -> None:
        # What the handler does for POST .../ballots: check the bearer token, load the caller and
        # their standing (app/communities/deps.py), the poll, cast, commit.
        async with db.sessionmaker()() as session:
            try:
                await db.begin_reading(session, autocommit=True)  # as the route does (@db.reads_first)
                claims = accounts.token_claims(token)
                person, community, membership, roles = await communities.caller_scope(session, claims, cid)
                assert community is not None and policy.allowed("polls.vote", roles)
                scope = CommunityScope(community=community, person=person, membership=membership, roles=roles)
                poll = await service.poll_to_vote(session, scope, poll_id)
                await service.cast_ballot(session, scope, poll, BallotIn(**body))
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def worker() -> None:
        for i, k in next_job:
            pid, kind, options, max_choices, stacking = shapes[k]
            body = ballot_for(kind, options, max_choices, stacking, rng)
            t0 = time.perf_counter()
            try:
                await one(tokens[i], pid, body)
            except AppError as e:
                errors[e.code] = errors.get(e.code, 0) + 1
            except Exception as e:  # a database error: count it, keep going
                errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
            latencies.append(time.perf_counter() - t0)

    cpu0 = os.times()
    t0 = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(cfg["concurrency"])))
    elapsed = time.monotonic() - t0
    cpu1 = os.times()
    return {"index": cfg["index"], "latencies": latencies, "ballots": len(latencies), "errors": errors,
            "group_commits": appender.batches, "votes_per_commit": round(appender.items / max(appender.batches, 1), 1),
            "elapsed_s": elapsed,
            "cpu_s": round((cpu1.user - cpu0.user) + (cpu1.system - cpu0.system), 1), "peak_rss_mb": rss_mb()}


def worker_main(cfg_json: str) -> None:
    cfg = json.loads(cfg_json)
    from app.core import db

    async def go() -> dict[str, Any]:
        db.init_engine(cfg["url"])
        try:
            return await cast_all(cfg)
        finally:
            await db.dispose_engine()

    out = asyncio.run(go())
    Path(cfg["latency_file"]).write_bytes(out.pop("latencies").tobytes())
    json.dump(out, sys.stdout)


def cast_in_processes(base: dict[str, Any], procs: int, tmp: Path) -> tuple[list[dict[str, Any]], list[float]]:
    running = []
    for i in range(procs):
        cfg = {**base, "index": i, "procs": procs, "latency_file": str(tmp / f"lat{i}.bin")}
        running.append((cfg, subprocess.Popen([sys.executable, __file__, WORKER, json.dumps(cfg)],
                                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    outs = []
    for cfg, proc in running:
        stdout, stderr = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"cast worker {cfg['index']} failed:\n{stderr[-4000:]}")
        outs.append(json.loads(stdout))
    lat: list[float] = []
    for cfg, _ in running:
        a = array.array("d")
        data = Path(cfg["latency_file"]).read_bytes()
        a.frombytes(data)
        lat.extend(a)
    return outs, lat


# --- closing and verifying ------------------------------------------------------------------------------

async def close_and_verify(cid: str, committee_id: str, poll_ids: list[str]) -> dict[str, Any]:
    from app.core import db
    from app.polls import service, verify

    close_s, verify_s, checks = [], [], []
    for pid in poll_ids:
        t0 = time.perf_counter()
        error = None
        async with db.sessionmaker()() as session:
            scope = await committee_scope(session, cid, committee_id)
            poll = await service.visible_poll(session, scope, pid)
            try:
                poll = await service.close_poll(session, committee_id, poll)
                await session.commit()
            except Exception as e:  # a poll that cannot be counted is a finding, not the end of the run
                await session.rollback()
                error = f"{type(e).__name__}: {e}"
                await session.refresh(poll)
            result = poll.result or {}
            voted = poll.voted_count
        close_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        async with db.read_session() as session:
            download = await verify.download_from_db(session, pid)
        report = verify.verify_download(download)
        verify_s.append(time.perf_counter() - t0)
        chain_check: dict[str, Any] = result.get("chain") or {}  # type: ignore[assignment]
        checks.append({"poll": pid, "kind": result.get("kind"), "ballots": result.get("ballots"),
                       "voted_count": voted, "chain_ok": chain_check.get("ok"),
                       "verify_ok": report.ok, "entries": len(download["entries"]),
                       "explanation": result.get("explanation_zh"),
                       "problems": [ln for ln in report.lines if ln.startswith("✗")][:3], "close_error": error})
    return {"close_s": close_s, "verify_s": verify_s, "checks": checks}


# --- the run --------------------------------------------------------------------------------------------

def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == WORKER:
        worker_main(sys.argv[2])
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--database-url", default=DEFAULT_PG, help="PostgreSQL database to DROP and create")
    p.add_argument("--participants", type=int, default=40_000)
    p.add_argument("--polls", type=int, default=10)
    p.add_argument("--procs", type=int, default=2, help="casting processes (0: in this process)")
    p.add_argument("--concurrency", type=int, default=32, help="requests in flight per casting process")
    p.add_argument("--seed", type=int, default=2016)
    p.add_argument("--max-ballots", type=int, default=0,
                   help="cast only the first N ballots of the shuffled order (all polls still open and close)")
    p.add_argument("--profile", action="store_true", help="with --procs 0: cProfile the casting, print the top")
    p.add_argument("--profile-out", default=None, help="with --profile: also save the raw stats here")
    args = p.parse_args()
    if not (1 <= args.polls <= 100 and args.participants >= 1 and 0 <= args.procs <= 16):
        p.error("polls 1–100, participants ≥ 1, procs 0–16")

    with tempfile.TemporaryDirectory(prefix="wugong-madrid-") as tmp_name:
        tmp = Path(tmp_name)
        url = f"sqlite+aiosqlite:///{tmp / 'data' / 'wugong.db'}" if args.db == "sqlite" else args.database_url
        (tmp / "data").mkdir()
        os.environ.update({"WUGONG_ENV": "development", "WUGONG_DATA_DIR": str(tmp / "data"),
                           "WUGONG_DATABASE_URL": url, "WUGONG_SECRET_KEY": secrets.token_urlsafe(48)})
        os.environ.pop("WUGONG_REDIS_URL", None)
        if args.db == "postgres":
            hb.recreate_postgres(url)
        from app.core import db
        from app.core.migrate import upgrade

        upgrade(url)
        setup = asyncio.run(load_people(url, args.participants, args.seed))
        print(json.dumps({"phase": "setup", "db": args.db, **setup}, ensure_ascii=False), flush=True)

        async def opening() -> dict[str, Any]:
            db.init_engine(url)
            try:
                return await make_polls(setup["community_id"], setup["committee_id"], args.polls)
            finally:
                await db.dispose_engine()

        opened = asyncio.run(opening())
        print(json.dumps({"phase": "open", "polls": args.polls, "electorate": args.participants,
                          "open_s_each": [round(x, 2) for x in opened["open_s"]],
                          "open_s_total": round(sum(opened["open_s"]), 2)}), flush=True)

        base = {"url": url, "community_id": setup["community_id"], "poll_ids": opened["poll_ids"], "seed": args.seed,
                "concurrency": args.concurrency, "max_ballots": args.max_ballots}
        load0 = hb.loadavg()
        db_cpu0 = hb.postgres_cpu_seconds()
        t0 = time.monotonic()
        if args.procs == 0:
            cfg = {**base, "index": 0, "procs": 1, "latency_file": str(tmp / "lat0.bin")}
            prof = cProfile.Profile() if args.profile else None

            async def cast_here() -> dict[str, Any]:
                db.init_engine(url)
                try:
                    if prof is not None:
                        prof.enable()
                    try:
                        return await cast_all(cfg)
                    finally:
                        if prof is not None:
                            prof.disable()
                finally:
                    await db.dispose_engine()

            outs = [asyncio.run(cast_here())]
            lat = list(outs[0].pop("latencies"))
            if prof is not None:
                if args.profile_out:
                    prof.dump_stats(args.profile_out)
                by_package: dict[str, float] = {}
                raw = pstats.Stats(prof).stats  # type: ignore[attr-defined]
                packages = ("sqlalchemy", "asyncpg", "aiosqlite", "pydantic", "asyncio", "greenlet", "/app/", "bench/")
                for (filename, _, _), (_, _, tottime, _, _) in raw.items():
                    key = next((k for k in packages if k in filename), filename if "<" in filename else "other")
                    by_package[key] = by_package.get(key, 0.0) + tottime
                total = sum(by_package.values()) or 1.0
                print(json.dumps({"phase": "profile", "own_time_share_by_package": {
                    k: round(v / total, 3) for k, v in sorted(by_package.items(), key=lambda kv: -kv[1])[:14]}},
                    ensure_ascii=False), flush=True)
                for order in ("tottime", "cumulative"):
                    buf = io.StringIO()
                    pstats.Stats(prof, stream=buf).sort_stats(order).print_stats(45)
                    print(buf.getvalue(), file=sys.stderr)
        else:
            outs, lat = cast_in_processes(base, args.procs, tmp)
        cast_s = time.monotonic() - t0
        db_cpu = hb.postgres_cpu_seconds() - db_cpu0
        client_cpu = sum(o["cpu_s"] for o in outs)
        errors: dict[str, int] = {}
        for o in outs:
            for k, v in o["errors"].items():
                errors[k] = errors.get(k, 0) + v
        n = len(lat)
        print(json.dumps({"phase": "cast", "db": args.db, "ballots": n, "errors": errors,
                          "procs": args.procs, "concurrency_per_proc": args.concurrency,
                          "cast_s": round(cast_s, 1), "ballots_per_s": round(n / cast_s, 1),
                          "latency_ms": percentiles_ms(lat),
                          "worker_cpu_s": [o["cpu_s"] for o in outs],
                          "python_cpu_ms_per_ballot": round(1000 * client_cpu / max(n, 1), 2),
                          "postgres_cpu_ms_per_ballot":
                              round(1000 * db_cpu / max(n, 1), 2) if args.db == "postgres" else None,
                          "worker_peak_rss_mb": [o["peak_rss_mb"] for o in outs],
                          "group_commits": sum(o["group_commits"] for o in outs),
                          "votes_per_commit": [o["votes_per_commit"] for o in outs],
                          "loadavg_before": load0, "loadavg_after": hb.loadavg()}), flush=True)

        async def closing() -> dict[str, Any]:
            db.init_engine(url)
            try:
                return await close_and_verify(setup["community_id"], setup["committee_id"], opened["poll_ids"])
            finally:
                await db.dispose_engine()

        closed = asyncio.run(closing())
        ok = all(c["chain_ok"] and c["verify_ok"] and c["ballots"] == c["entries"] == c["voted_count"]
                 for c in closed["checks"]) and sum(c["entries"] for c in closed["checks"]) == n - sum(errors.values())
        if not args.max_ballots:
            ok = ok and all(c["entries"] == args.participants for c in closed["checks"])
        for c in closed["checks"]:
            print(json.dumps({"phase": "poll", **c}, ensure_ascii=False), flush=True)
        total = sum(opened["open_s"]) + cast_s + sum(closed["close_s"]) + sum(closed["verify_s"])
        children = max(o["peak_rss_mb"] for o in outs)
        print(json.dumps({
            "phase": "summary", "db": args.db, "participants": args.participants, "polls": args.polls,
            "ballots": n, "errors": sum(errors.values()), "all_chains_verified": ok,
            "total_s": round(total, 1), "open_s": round(sum(opened["open_s"]), 1), "cast_s": round(cast_s, 1),
            "ballots_per_s": round(n / cast_s, 1), "latency_ms": {k: v for k, v in percentiles_ms(lat).items()},
            "close_s": round(sum(closed["close_s"]), 1),
            "close_s_max": round(max(closed["close_s"]), 2), "verify_s": round(sum(closed["verify_s"]), 1),
            "verify_s_max": round(max(closed["verify_s"]), 2),
            "peak_rss_mb": {"main": rss_mb(), "cast_workers_max": round(children, 1)},
            "target_s": 600, "meets_target": None if args.max_ballots else total < 600,
            # the whole round at the measured rate, when --max-ballots cut the casting short
            "projected_full_s": round(sum(opened["open_s"]) + args.participants * args.polls * cast_s / max(n, 1)
                                      + (sum(closed["close_s"]) + sum(closed["verify_s"]))
                                      * args.participants * args.polls / max(n, 1), 1),
            "procs": args.procs,
            "concurrency_per_proc": args.concurrency, "cpus": os.cpu_count(), "python": platform.python_version(),
        }), flush=True)


if __name__ == "__main__":
    main()
