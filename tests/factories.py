"""Small factories that build real rows through the domain services, and sign people in."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Person
from app.communities.models import Building, Community, Grid, Household, Membership, Region
from app.core.security import create_access_token

_phones = itertools.count(13900000000)


def next_phone() -> str:
    return str(next(_phones))


async def person(session: AsyncSession, name: str = "张三", phone: str | None = None, **kw: Any) -> Person:
    p = Person(name=name, phone=phone or next_phone(), **kw)
    session.add(p)
    await session.commit()
    return p


def auth(p: Person, lang: str = "zh-CN") -> dict[str, str]:
    token, _ = create_access_token(p.id)
    return {"Authorization": f"Bearer {token}", "Accept-Language": lang}


async def region(session: AsyncSession, name: str = "花山街道", level: str = "street",
                 parent_id: str | None = None) -> Region:
    r = Region(name=name, level=level, parent_id=parent_id)
    session.add(r)
    await session.commit()
    return r


async def community(session: AsyncSession, name: str = "幸福里社区", region_id: str | None = None,
                    kind: str = "community") -> Community:
    c = Community(name=name, region_id=region_id, kind=kind)
    session.add(c)
    await session.commit()
    return c


async def member(session: AsyncSession, c: Community, *roles: str, name: str = "李四",
                 phone: str | None = None, household_id: str | None = None) -> Person:
    p = await person(session, name=name, phone=phone)
    session.add(Membership(community_id=c.id, person_id=p.id, roles=sorted({*roles, "resident"}),
                           verified=True, household_id=household_id, grid_ids=[]))
    await session.commit()
    return p


async def building(session: AsyncSession, c: Community, name: str = "1栋", grid: Grid | None = None) -> Building:
    b = Building(community_id=c.id, name=name, grid_id=grid.id if grid else None)
    session.add(b)
    await session.commit()
    return b


async def grid(session: AsyncSession, c: Community, name: str = "第一网格") -> Grid:
    g = Grid(community_id=c.id, name=name)
    session.add(g)
    await session.commit()
    return g


async def household(session: AsyncSession, c: Community, b: Building, room: str = "101",
                    area: str | None = "89.50") -> Household:
    h = Household(community_id=c.id, building_id=b.id, room=room, unit="",
                  owner_area_m2=Decimal(area) if area else None)
    session.add(h)
    await session.commit()
    return h


def assert_problem(resp: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.headers["content-type"]
    body: dict[str, Any] = resp.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    if code:
        assert body["code"] == code, body
    return body


def assert_unknown_ref(resp: Any, code: str, *loc: str | int) -> dict[str, Any]:
    """A field naming a row that is not there (unknown, or another community's): 422 naming the field."""
    body = assert_problem(resp, 422, code)
    assert [e["loc"] for e in body["errors"]] == [["body", *loc]] and body["errors"][0]["msg"], body
    return body
