"""The issue list at scale: loads issues in bulk, then times the list, search, map, duplicates and
reporting through the real app over HTTP; prints JSON lines.

    .venv/bin/python bench/issues_bench.py --db sqlite --issues 100000
    .venv/bin/python bench/issues_bench.py --db postgres --issues 100000
    .venv/bin/python bench/issues_bench.py --db postgres --issues 1000000 --communities 1000

Setup as in http_bench.py (a new database, ``wugong demo``, a uvicorn subprocess, sign-in by a
one-time code read from the log). Then ``--issues`` rows go in with Core bulk inserts, spread
evenly over ``--communities`` communities (幸福里社区 from the demo, plus made-up ones), with
realistic titles, categories, statuses, supports (a long tail), coordinates and deadlines.
GET targets are driven by http_bench's load generator in its own process (``--concurrency``
connections); "report" is three photo uploads and the POST of an issue, timed as one.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import secrets
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import http_bench as hb  # type: ignore[import-not-found]

CENTRE = (30.5928, 114.3055)  # 武汉洪山
OBJECTS = (  # (category, things that break in it)
    ("照明", ("路灯", "楼道灯", "景观灯", "地下车库灯")),
    ("道路", ("人行道", "路面", "井盖", "减速带")),
    ("排水", ("下水道", "雨水口", "化粪池", "排水沟")),
    ("环境卫生", ("垃圾桶", "垃圾站", "楼道", "公厕")),
    ("绿化", ("树木", "草坪", "花坛", "绿篱")),
    ("停车", ("电动车棚", "停车位", "消防通道", "充电桩")),
    ("安全隐患", ("电线", "外墙瓷砖", "围墙", "电梯")),
    ("违章搭建", ("楼顶", "一楼院子", "阳台", "公共走廊")),
    ("邻里纠纷", ("噪音", "漏水", "宠物", "占道")),
    ("公共服务", ("快递柜", "健身器材", "宣传栏", "活动室")),
    ("其他", ("门禁", "监控", "信箱", "自行车")),
)
PROBLEMS = ("不亮", "坏了", "破损", "堵塞", "漏水", "满了", "有异味", "松动", "倒了", "被占用", "需要清理",
            "一直没人管", "存在隐患", "晚上很吵")
DETAILS = ("老人晚上走路不方便", "已经好几天了", "希望尽快处理", "下雨天更严重", "小孩经常在这里玩",
           "物业说不归他们管", "拍了照片请看", "影响大家出行")
STATUSES = (("reported", 15), ("accepted", 8), ("dispatched", 15), ("in_progress", 10), ("resolved", 10),
            ("reopened", 3), ("closed", 32), ("rejected", 5), ("merged", 2))


def jpeg(seed: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (1280, 960), ((seed * 37) % 255, (seed * 91) % 255, 120)).save(buf, "JPEG", quality=85)
    return buf.getvalue()


async def load_issues(url: str, total: int, communities: int, seed: int) -> dict[str, Any]:
    """Bulk-insert ``total`` issues over ``communities`` communities; returns what was made."""
    from sqlalchemy import func, insert, select

    from app.accounts.models import Person
    from app.communities.models import Community
    from app.core import clock, db
    from app.core.ids import new_id
    from app.issues.models import Category, Issue
    from app.issues.service import DEFAULT_CATEGORIES

    rng = random.Random(seed)
    engine = db.make_engine(url)
    t0 = time.monotonic()
    async with engine.begin() as conn:
        main = (await conn.execute(select(Community.id, Community.region_id).where(Community.name == "幸福里社区"))
                ).one()
        people = list((await conn.execute(select(Person.id).limit(500))).scalars())
        now = clock.now()
        extra = [{"id": new_id(), "region_id": main.region_id, "name": f"压测社区{n:04d}", "kind": "community",
                  "address": "", "description": "", "created_at": now} for n in range(communities - 1)]
        for i in range(0, len(extra), 1000):
            await conn.execute(insert(Community), extra[i:i + 1000])
        cids = [main.id] + [c["id"] for c in extra]
        have = set((await conn.execute(select(Category.community_id).distinct())).scalars())
        cats = [{"id": new_id(), "community_id": c, "name": name, "deadline_days": days, "position": pos,
                 "active": True, "created_at": now}
                for c in cids if c not in have for pos, (name, days) in enumerate(DEFAULT_CATEGORIES)]
        for i in range(0, len(cats), 2000):
            await conn.execute(insert(Category), cats[i:i + 2000])
        by_name: dict[tuple[str, str], str] = {
            (c, n): i for i, c, n in (await conn.execute(select(Category.id, Category.community_id, Category.name)))}
    weights = [w for _, w in STATUSES]
    names = [s for s, _ in STATUSES]
    batch = 5000
    made = 0
    async with engine.connect() as conn:
        while made < total:
            rows = []
            for k in range(min(batch, total - made)):
                n = made + k
                cid = cids[n % len(cids)]
                cat, things = OBJECTS[rng.randrange(len(OBJECTS))]
                thing = things[rng.randrange(len(things))]
                status = rng.choices(names, weights)[0]
                created = now - timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
                has_point = rng.random() < 0.85
                # each community its own patch of the city, about 1 km across
                clat = CENTRE[0] + (hash(cid) % 1000) * 0.001
                clng = CENTRE[1] + (hash(cid) // 1000 % 1000) * 0.001
                rows.append({
                    "id": new_id(), "community_id": cid,
                    "title": f"{rng.randint(1, 40)}栋{thing}{rng.choice(PROBLEMS)}",
                    "description": f"{thing}{rng.choice(PROBLEMS)}，{rng.choice(DETAILS)}。",
                    "category_id": by_name[(cid, cat)], "status": status,
                    "source": rng.choice(("resident", "resident", "resident", "grid_patrol", "hotline")),
                    "staff_only": rng.random() < 0.03, "hide_reporter": rng.random() < 0.1,
                    "reporter_id": people[rng.randrange(len(people))],
                    "lat": clat + rng.uniform(-0.005, 0.005) if has_point else None,
                    "lng": clng + rng.uniform(-0.005, 0.005) if has_point else None,
                    "location_text": "", "deadline_at": created + timedelta(days=rng.choice((2, 3, 5, 7, 15))),
                    "reopen_count": 0, "supports_count": min(500, int(rng.paretovariate(1.2)) - 1),
                    "comments_count": rng.randrange(0, 5), "resolution_note": "", "created_at": created,
                    "updated_at": created, "closed_at": created + timedelta(days=3) if status == "closed" else None,
                })
            await conn.execute(insert(Issue), rows)
            await conn.commit()
            made += len(rows)
        count = int((await conn.execute(select(func.count()).select_from(Issue)
                                        .where(Issue.community_id == main.id))).scalar_one())
        if url.startswith("postgresql"):
            await conn.exec_driver_sql("ANALYZE")
        else:
            await conn.exec_driver_sql("ANALYZE")
            await conn.commit()
    await engine.dispose()
    return {"issues_loaded": made, "communities": len(cids), "issues_in_measured_community": count,
            "load_s": round(time.monotonic() - t0, 1)}


async def drive_reports(base_url: str, token: str, cid: str, category_id: str, concurrency: int,
                        duration: float) -> dict[str, Any]:
    """Three uploads then the report, ``concurrency`` people at once, for ``duration`` seconds."""
    photos = [jpeg(i) for i in range(3)]
    whole: list[float] = []
    post: list[float] = []
    errors: dict[str, int] = {}
    deadline = time.monotonic() + duration
    headers = {"Authorization": f"Bearer {token}"}

    async def worker(i: int) -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=30, headers=headers) as c:
            n = 0
            while time.monotonic() < deadline:
                n += 1
                t0 = time.perf_counter()
                ids = []
                for k, data in enumerate(photos):
                    r = await c.post(f"/api/v1/communities/{cid}/uploads",
                                     files={"file": (f"{k}.jpg", data, "image/jpeg")})
                    if r.status_code != 201:
                        errors[str(r.status_code)] = errors.get(str(r.status_code), 0) + 1
                        break
                    ids.append(r.json()["id"])
                else:
                    t1 = time.perf_counter()
                    r = await c.post(f"/api/v1/communities/{cid}/issues", json={
                        "title": f"{i}号楼路灯不亮{n}", "description": "晚上很黑", "category_id": category_id,
                        "lat": CENTRE[0], "lng": CENTRE[1], "photo_ids": ids})
                    if r.status_code != 201:
                        errors[str(r.status_code)] = errors.get(str(r.status_code), 0) + 1
                        continue
                    done = time.perf_counter()
                    post.append(done - t1)
                    whole.append(done - t0)

    start = time.monotonic()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    elapsed = time.monotonic() - start
    return {"reports": len(whole), "errors": errors, "per_s": round(len(whole) / elapsed, 1),
            "report_with_3_photos_ms": hb._percentiles(sorted(whole)),
            "post_issue_only_ms": hb._percentiles(sorted(post))}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/wugong_issues_bench",
                   help="PostgreSQL database to DROP and create")
    p.add_argument("--issues", type=int, default=100_000)
    p.add_argument("--communities", type=int, default=1)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--seed", type=int, default=20261121)
    args = p.parse_args()
    args.max_requests, args.client = 1_000_000, "raw"

    with tempfile.TemporaryDirectory(prefix="wugong-issues-bench-") as tmp_name:
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
        loaded = asyncio.run(load_issues(url, args.issues, args.communities, args.seed))
        print(json.dumps({"target": "load", "db": args.db, **loaded}, ensure_ascii=False), flush=True)

        server = hb.Server("app.main:create_app", factory=True, workers=args.workers, env=env,
                           log=tmp / "server.log")
        with server:
            tokens, cid = hb.sign_in(server)
            h = {"Authorization": f"Bearer {tokens[1]}"}
            cats = httpx.get(f"{server.base_url}/api/v1/communities/{cid}/categories", headers=h, timeout=30).json()
            lighting = next(c["id"] for c in cats if c["name"] == "照明")
            base = f"/api/v1/communities/{cid}/issues"
            targets = {
                "list_filtered_by_supports": base + "?" + urlencode(
                    {"status": "dispatched,reported", "category_id": lighting, "sort": "-supports"}),
                "list_open_by_supports": base + "?" + urlencode(
                    {"status": "reported,accepted,dispatched,in_progress,reopened", "sort": "-supports"}),
                "search_3plus_chars": base + "?" + urlencode({"q": "路灯不亮", "sort": "-supports"}),
                "search_2_chars": base + "?" + urlencode({"q": "井盖", "sort": "-supports"}),
                "search_rare": base + "?" + urlencode({"q": "地下车库灯晚上很吵"}),
                "map_open": base + "/map?" + urlencode({"status": "reported,accepted,dispatched,in_progress,reopened"}),
                "similar": base + "/similar?" + urlencode(
                    {"category_id": lighting, "lat": CENTRE[0], "lng": CENTRE[1], "title": "3栋路灯不亮"}),
            }
            for name, path in targets.items():
                check = httpx.get(server.base_url + path, headers=h, timeout=60)
                if check.status_code != 200:
                    raise RuntimeError(f"{name}: {check.status_code} {check.text[:300]}")
                body = check.json()
                size = len(body.get("items") or body.get("features") or [])
                if args.warmup:
                    hb.run_client(server.base_url, path, tokens, args, args.warmup)
                out = hb.run_client(server.base_url, path, tokens, args, args.duration)
                lat = out["latency_ms"]
                print(json.dumps({"target": name, "db": args.db, "concurrency": args.concurrency,
                                  "requests": out["requests"], "errors": out["errors"],
                                  "rps": round(out["requests"] / out["elapsed_s"], 1), "p50_ms": lat["p50"],
                                  "p95_ms": lat["p95"], "p99_ms": lat["p99"], "max_ms": lat["max"],
                                  "results": size, "truncated": body.get("truncated"),
                                  "path": path.replace(cid, "{cid}").replace(lighting, "{lighting}")},
                                 ensure_ascii=False), flush=True)
            rep = asyncio.run(drive_reports(server.base_url, tokens[0], cid, lighting, args.concurrency,
                                            args.duration))
            w = rep["report_with_3_photos_ms"]
            print(json.dumps({"target": "report_with_3_photos", "db": args.db, "concurrency": args.concurrency,
                              "reports": rep["reports"], "errors": rep["errors"], "per_s": rep["per_s"],
                              "p50_ms": w["p50"], "p95_ms": w["p95"], "p99_ms": w["p99"], "max_ms": w["max"],
                              "post_issue_only_ms": rep["post_issue_only_ms"]}, ensure_ascii=False), flush=True)
    print(json.dumps({"target": "summary", "db": args.db, "issues": args.issues, "communities": args.communities,
                      "workers": args.workers, "cpus": os.cpu_count(),
                      "loadavg_at_end": hb.loadavg()}),
          flush=True)


if __name__ == "__main__":
    main()
