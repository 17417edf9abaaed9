"""Small helpers for issue tests: a community with categories, a handler unit, photos."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Person
from app.communities.models import Community, Grid, Membership
from tests import factories as f


@dataclass
class Place:
    c: Community
    grid: Grid
    building_id: str
    committee: Person
    grid_worker: Person
    handler: Person
    resident: Person
    neighbour: Person
    category_id: str
    handler_id: str


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(buf, "JPEG")
    return buf.getvalue()


async def photo(client: Any, c: Community, who: Person) -> str:
    r = await client.post(f"/api/v1/communities/{c.id}/uploads", headers=f.auth(who),
                          files={"file": ("p.jpg", jpeg(), "image/jpeg")})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def place(client: Any, session: AsyncSession, name: str = "幸福里社区") -> Place:
    c = await f.community(session, name=name)
    grid = await f.grid(session, c)
    b = await f.building(session, c, grid=grid)
    committee = await f.member(session, c, "committee", name="陈主任")
    gw = await f.member(session, c, "grid_worker", name="刘网格")
    m = (await session.execute(Membership.__table__.select().where(Membership.person_id == gw.id))).first()
    assert m is not None
    await session.execute(Membership.__table__.update().where(Membership.person_id == gw.id).values(grid_ids=[grid.id]))
    await session.commit()
    handler = await f.member(session, c, "handler", name="王师傅")
    resident = await f.member(session, c, name="李明")
    neighbour = await f.member(session, c, name="赵敏")
    cats = (await client.get(f"/api/v1/communities/{c.id}/categories", headers=f.auth(committee))).json()
    lighting = next(x for x in cats if x["name"] == "照明")
    h = await client.post(f"/api/v1/communities/{c.id}/handlers", headers=f.auth(committee),
                          json={"name": "幸福里物业", "kind": "unit", "member_ids": [handler.id]})
    assert h.status_code == 201, h.text
    return Place(c, grid, b.id, committee, gw, handler, resident, neighbour, lighting["id"], h.json()["id"])


async def report(client: Any, p: Place, who: Person | None = None, **over: Any) -> dict[str, Any]:
    body = {"title": "3栋路灯不亮", "description": "晚上很黑，老人走路不方便", "category_id": p.category_id,
            "building_id": p.building_id, **over}
    r = await client.post(f"/api/v1/communities/{p.c.id}/issues", headers=f.auth(who or p.resident), json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def act(client: Any, p: Place, issue_id: str, who: Person, action: str, **body: Any) -> Any:
    return await client.post(f"/api/v1/communities/{p.c.id}/issues/{issue_id}/transitions",
                             headers=f.auth(who), json={"action": action, **body})
