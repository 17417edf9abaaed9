"""Helpers for poll tests: an estate of owners with floor areas, and the API calls of a poll's life."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Person
from app.communities.models import Building, Community, Household
from app.core import clock
from tests import factories as f


@dataclass
class Estate:
    c: Community
    building: Building
    committee: Person
    grid_worker: Person
    owners: list[Person] = field(default_factory=list)  # owners[i] owns households[i]
    households: list[Household] = field(default_factory=list)
    family: list[Person] = field(default_factory=list)  # a second, non-owner member of households[0]
    outsider: Person | None = None  # a member with no household


async def estate(session: AsyncSession, areas: list[str] | None = None, name: str = "幸福里社区") -> Estate:
    """A community with one building, a household per area, each with a verified owner member."""
    c = await f.community(session, name=name)
    b = await f.building(session, c, name="3栋")
    e = Estate(c=c, building=b, committee=await f.member(session, c, "committee", name="陈主任"),
               grid_worker=await f.member(session, c, "grid_worker", name="刘网格"))
    for i, area in enumerate(areas or ["89.50", "120.00", "65.25", "100.00"]):
        h = await f.household(session, c, b, room=f"{101 + i}", area=area)
        e.households.append(h)
        e.owners.append(await f.member(session, c, "owner", name=f"业主{i + 1}", household_id=h.id))
    e.family.append(await f.member(session, c, name="家属", household_id=e.households[0].id))
    e.outsider = await f.member(session, c, name="路人")
    return e


def poll_body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "是否加装电梯", "kind": "single", "electorate": "residents",
        "options": [{"label": "加装"}, {"label": "不加装"}],
        "closes_at": (clock.now() + timedelta(days=3)).isoformat(),
    }
    body.update(over)
    return body


async def create(client: Any, c: Community, who: Person, **over: Any) -> dict[str, Any]:
    r = await client.post(f"/api/v1/communities/{c.id}/polls", headers=f.auth(who), json=poll_body(**over))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def open_now(client: Any, c: Community, who: Person, poll_id: str) -> dict[str, Any]:
    r = await client.post(f"/api/v1/communities/{c.id}/polls/{poll_id}/open", headers=f.auth(who), json={"now": True})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def opened(client: Any, c: Community, who: Person, **over: Any) -> dict[str, Any]:
    poll = await create(client, c, who, **over)
    return await open_now(client, c, who, poll["id"])


async def vote(client: Any, c: Community, who: Person, poll_id: str, *, expect: int = 201,
               **body: Any) -> dict[str, Any]:
    r = await client.post(f"/api/v1/communities/{c.id}/polls/{poll_id}/ballots", headers=f.auth(who), json=body)
    assert r.status_code == expect, r.text
    return dict(r.json())


async def close(client: Any, c: Community, who: Person, poll_id: str) -> dict[str, Any]:
    r = await client.post(f"/api/v1/communities/{c.id}/polls/{poll_id}/close", headers=f.auth(who))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def results(client: Any, c: Community, who: Person, poll_id: str) -> dict[str, Any]:
    r = await client.get(f"/api/v1/communities/{c.id}/polls/{poll_id}/results", headers=f.auth(who))
    assert r.status_code == 200, r.text
    return dict(r.json())


def option_ids(poll: dict[str, Any]) -> list[str]:
    return [o["id"] for o in poll["options"]]


D = Decimal


def url(c: Community, poll_id: str | None = None, tail: str = "") -> str:
    base = f"/api/v1/communities/{c.id}/polls"
    return f"{base}/{poll_id}{tail}" if poll_id else base + tail


async def get_poll(client: Any, c: Community, who: Person, poll_id: str) -> dict[str, Any]:
    r = await client.get(url(c, poll_id), headers=f.auth(who))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def paper(client: Any, c: Community, who: Person, poll_id: str, *, expect: int = 201,
                **body: Any) -> dict[str, Any]:
    body.setdefault("witness", "王阿姨")
    r = await client.post(url(c, poll_id, "/paper-ballots"), headers=f.auth(who), json=body)
    assert r.status_code == expect, r.text
    return dict(r.json())


async def electors(client: Any, c: Community, who: Person, poll_id: str, **params: Any) -> list[dict[str, Any]]:
    r = await client.get(url(c, poll_id, "/electors"), headers=f.auth(who), params={"limit": 100, **params})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])
