"""Helpers for points and store tests: an estate with a committee, residents in a grid, points given
through the API, items stocked, and a fingerprint of everything the ledger and the store hold."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Person
from app.communities.models import Community, Grid
from app.points.models import Balance, Entry, Hold, Profile, Rules, StoreItem, StoreOrder, StoreTake, Total
from tests import factories as f

API = "/api/v1"


@dataclass
class Estate:
    c: Community
    grid: Grid
    other_grid: Grid
    committee: Person
    grid_worker: Person
    residents: list[Person]  # the first two live in ``grid``, the others in ``other_grid``

    def url(self, rest: str) -> str:
        return f"{API}/communities/{self.c.id}{rest}"

    @property
    def resident(self) -> Person:
        return self.residents[0]

    @property
    def neighbour(self) -> Person:
        return self.residents[1]


async def estate(session: AsyncSession, name: str = "幸福里社区", residents: int = 4) -> Estate:
    c = await f.community(session, name=name)
    grid = await f.grid(session, c, "第一网格")
    other = await f.grid(session, c, "第二网格")
    b1 = await f.building(session, c, "1栋", grid=grid)
    b2 = await f.building(session, c, "2栋", grid=other)
    committee = await f.member(session, c, "committee", name="陈主任")
    gw = await f.member(session, c, "grid_worker", name="刘网格")
    people = []
    for i in range(residents):
        h = await f.household(session, c, b1 if i < 2 else b2, room=f"{i + 1}01")
        people.append(await f.member(session, c, name=["李明", "赵敏", "王芳", "孙强", "周杰", "吴静"][i % 6],
                                     household_id=h.id))
    return Estate(c, grid, other, committee, gw, people)


async def bonus(client: Any, e: Estate, who: Person | list[Person], amount: int, unit: str = "points",
                reason: str = "清扫楼道") -> list[dict[str, Any]]:
    people = who if isinstance(who, list) else [who]
    r = await client.post(e.url("/points/bonuses"), headers=f.auth(e.committee),
                          json={"person_ids": [p.id for p in people], "amount": amount, "unit": unit,
                                "reason": reason})
    assert r.status_code == 201, r.text
    return list(r.json()["entries"])


async def item(client: Any, e: Estate, **over: Any) -> dict[str, Any]:
    body = {"name": "洗衣液", "price": 10, "stock": 5, **over}
    r = await client.post(e.url("/store/items"), headers=f.auth(e.committee), json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def redeem(client: Any, e: Estate, who: Person, item_id: str, quantity: int = 1) -> Any:
    return await client.post(e.url("/store/orders"), headers=f.auth(who),
                             json={"item_id": item_id, "quantity": quantity})


async def my_points(client: Any, e: Estate, who: Person, lang: str = "zh-CN") -> dict[str, Any]:
    r = await client.get(e.url("/points/me"), headers=f.auth(who, lang))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def balance(client: Any, e: Estate, who: Person) -> tuple[int, int]:
    b = (await my_points(client, e, who))["balances"]
    return b["points"], b["hours"]


async def fingerprint(session: AsyncSession) -> str:
    """Every row the ledger and the store hold: equal fingerprints, nothing changed."""
    h = hashlib.sha256()
    for model in (Entry, Balance, Total, Hold, Profile, Rules, StoreItem, StoreOrder, StoreTake):
        rows = (await session.execute(select(model.__table__))).all()
        h.update(repr(sorted(tuple(map(str, r)) for r in rows)).encode())
    await session.commit()
    return h.hexdigest()
