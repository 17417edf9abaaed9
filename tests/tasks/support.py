"""Helpers for task tests: a neighbourhood with two grids, people in every role (and an elderly
resident without a phone), and the API calls of a task's life."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Person
from app.communities.models import Building, Community, Grid, Membership
from app.core import clock
from app.points import service as points
from tests import factories as f
from tests.issues.support import photo

API = "/api/v1"


@dataclass
class Town:
    c: Community
    grid: Grid
    other_grid: Grid
    building: Building  # in grid
    far_building: Building  # in other_grid
    committee: Person
    grid_worker: Person  # looks after grid
    leader: Person  # building leader of building
    residents: list[Person] = field(default_factory=list)  # live in building
    elder: Person | None = None  # lives in building, has no phone
    far: Person | None = None  # lives in far_building
    handler: Person | None = None


async def place_person(session: AsyncSession, c: Community, p: Person, **values: Any) -> None:
    await session.execute(update(Membership).where(Membership.community_id == c.id, Membership.person_id == p.id)
                          .values(**values))
    await session.commit()


async def town(session: AsyncSession, residents: int = 3, name: str = "幸福里社区") -> Town:
    c = await f.community(session, name=name)
    grid, other = await f.grid(session, c, "第一网格"), await f.grid(session, c, "第二网格")
    b = await f.building(session, c, "1栋", grid=grid)
    far = await f.building(session, c, "9栋", grid=other)
    t = Town(c=c, grid=grid, other_grid=other, building=b, far_building=far,
             committee=await f.member(session, c, "committee", name="陈书记"),
             grid_worker=await f.member(session, c, "grid_worker", name="刘网格"),
             leader=await f.member(session, c, "building_leader", name="王楼长"))
    await place_person(session, c, t.grid_worker, grid_ids=[grid.id])
    await place_person(session, c, t.leader, building_id=b.id)
    for i in range(residents):
        r = await f.member(session, c, name=f"居民{i + 1}")
        await place_person(session, c, r, building_id=b.id)
        t.residents.append(r)
    t.elder = await f.member(session, c, name="张奶奶")
    await place_person(session, c, t.elder, building_id=b.id)
    t.far = await f.member(session, c, name="远方邻居")
    await place_person(session, c, t.far, building_id=far.id)
    t.handler = await f.member(session, c, "handler", name="物业小王")
    return t


def iso(when: datetime) -> str:
    return when.isoformat()


def body(kind: str = "volunteer", **over: Any) -> dict[str, Any]:
    now = clock.now()
    b: dict[str, Any] = {"kind": kind, "title": "周六小区大扫除", "description": "清理楼道和绿化带",
                         "location_text": "小区广场集合"}
    if kind in ("volunteer", "timebank"):
        b.update(starts_at=iso(now + timedelta(days=2)), ends_at=iso(now + timedelta(days=2, hours=3)))
    if kind == "volunteer":
        b.update(people_needed=5)
    if kind == "adoption":
        b.update(title="认领3号绿地", starts_at=iso(now - timedelta(hours=1)), ends_at=iso(now + timedelta(days=90)),
                 checkin_every_days=7)
    if kind == "wish":
        b.update(title="想要一副老花镜", ends_at=iso(now + timedelta(days=30)))
    if kind == "timebank":
        b.update(title="帮忙去医院取药", reward={"unit": "hours", "amount": 90})
    b.update(over)
    return b


def url(t: Town, rest: str = "") -> str:
    return f"{API}/communities/{t.c.id}{rest}"


async def create(client: Any, t: Town, who: Person, expect: int = 201, lang: str = "zh-CN",
                 **over: Any) -> dict[str, Any]:
    r = await client.post(url(t, "/tasks"), headers=f.auth(who, lang), json=body(**over))
    assert r.status_code == expect, r.text
    return dict(r.json())


async def act_task(client: Any, t: Town, who: Person, task_id: str, action: str, expect: int = 200,
                   **extra: Any) -> dict[str, Any]:
    r = await client.post(url(t, f"/tasks/{task_id}/transitions"), headers=f.auth(who),
                          json={"action": action, **extra})
    assert r.status_code == expect, r.text
    return dict(r.json())


async def published(client: Any, t: Town, who: Person | None = None, **over: Any) -> dict[str, Any]:
    return await create(client, t, who or t.committee, publish=True, **over)


async def get(client: Any, t: Town, who: Person, task_id: str) -> dict[str, Any]:
    r = await client.get(url(t, f"/tasks/{task_id}"), headers=f.auth(who))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def claim(client: Any, t: Town, who: Person, task_id: str, expect: int = 201, lang: str = "zh-CN",
                **extra: Any) -> dict[str, Any]:
    r = await client.post(url(t, f"/tasks/{task_id}/claims"), headers=f.auth(who, lang), json=extra)
    assert r.status_code == expect, r.text
    return dict(r.json())


async def act(client: Any, t: Town, who: Person, task_id: str, claim_id: str, action: str, expect: int = 200,
              lang: str = "zh-CN", **extra: Any) -> dict[str, Any]:
    r = await client.post(url(t, f"/tasks/{task_id}/claims/{claim_id}/transitions"), headers=f.auth(who, lang),
                          json={"action": action, **extra})
    assert r.status_code == expect, r.text
    return dict(r.json())


async def code(client: Any, t: Town, organiser: Person, task_id: str) -> str:
    r = await client.get(url(t, f"/tasks/{task_id}/checkin-code"), headers=f.auth(organiser))
    assert r.status_code == 200, r.text
    return str(r.json()["code"])


async def soon(client: Any, t: Town, **over: Any) -> dict[str, Any]:
    """A published job starting in ten minutes: claims still open, check-in already open."""
    now = clock.now()
    return await published(client, t, starts_at=iso(now + timedelta(minutes=10)),
                           ends_at=iso(now + timedelta(hours=3)), **over)


async def balance(session: AsyncSession, t: Town, who: Person) -> dict[str, int]:
    b = await points.balance(session, t.c.id, who.id)
    await session.commit()
    return {str(k): v for k, v in b.items()}


async def notifications(client: Any, who: Person) -> list[dict[str, Any]]:
    r = await client.get(f"{API}/notifications", headers=f.auth(who), params={"limit": 100})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


__all__ = ["photo"]


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)
