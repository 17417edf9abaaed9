"""Fields that name another row (``app.core.ids.Id``): an empty, malformed, unknown or another
community's id is a 422 naming the field, in the caller's language, and changes nothing; never the
500 of a foreign key refusing it (which also dropped the connection), never a dangling reference."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.communities.models import Membership
from app.models import Base
from tests import factories as f
from tests.factories import assert_problem
from tests.issues.support import place, report

UNKNOWN = "01h0000000000000000000000"  # well formed, names nothing
MALFORMED = ["", "   ", "x" * 27, "../../etc", "01H0000000000000000000000"]


async def _everything(session: Any) -> dict[str, list[Any]]:
    """Every row of every table: what a refused request must leave as it was."""
    await session.commit()  # a fresh snapshot
    out = {}
    for table in Base.metadata.sorted_tables:
        out[table.name] = sorted(map(repr, (await session.execute(table.select())).all()))
    return out


@pytest.fixture
async def world(client, session):  # type: ignore[no-untyped-def]
    """A community with a building, a grid, a category, a handler, a resident's issue, a member to
    edit, a pending join request and a platform admin; and another community's rows to point at."""
    p = await place(client, session)
    theirs = await place(client, session, name="隔壁社区")
    issue = await report(client, p)
    resident_m = (await session.execute(select(Membership.id).where(Membership.person_id == p.resident.id))).scalar()
    await session.commit()  # end the read, so the session's next write does not upgrade a stale one
    code = (await client.post(f"/api/v1/communities/{p.c.id}/invites", json={}, headers=f.auth(p.committee))).json()
    newcomer = await f.person(session, name="新来的")
    joined = await client.post("/api/v1/join", json={"code": code["code"]}, headers=f.auth(newcomer))
    admin = await f.person(session, name="平台管理员", is_platform_admin=True)
    return {"p": p, "theirs": theirs, "issue": issue["id"], "member": resident_m,
            "join_request": joined.json()["join_request_id"], "admin": admin}


def _cases(w: dict[str, Any]) -> list[tuple[Any, str, str, dict[str, Any], str, tuple[Any, ...], str | None]]:
    """(who, method, path, body with ID where the id goes, the id's field path, its location,
    the code for a well-formed id of another community's row, or None where none is checked here)."""
    p, theirs = w["p"], w["theirs"]
    c = f"/api/v1/communities/{p.c.id}"
    issue = f"{c}/issues/{w['issue']}"
    return [
        # any resident
        (p.resident, "POST", f"{c}/issues", {"title": "灯", "category_id": p.category_id, "building_id": "ID"},
         ("building_id",), theirs.building_id, "building_not_found"),
        (p.resident, "POST", f"{c}/issues", {"title": "灯", "category_id": "ID"},
         ("category_id",), theirs.category_id, "category_not_found"),
        (p.resident, "POST", f"{c}/issues", {"title": "灯", "category_id": p.category_id, "photo_ids": ["ID"]},
         ("photo_ids", 0), UNKNOWN, "upload_not_found"),
        (p.resident, "POST", f"{issue}/comments", {"body": "同意", "photo_ids": ["ID"]},
         ("photo_ids", 0), UNKNOWN, "upload_not_found"),
        (p.resident, "POST", "/api/v1/notifications/read", {"ids": ["ID"]}, ("ids", 0), None, None),
        # the committee
        (p.committee, "POST", f"{c}/invites", {"building_id": "ID"}, ("building_id",), theirs.building_id,
         "building_not_found"),
        (p.committee, "PATCH", f"{c}/members/{w['member']}", {"household_id": "ID"}, ("household_id",),
         UNKNOWN, "household_not_found"),
        (p.committee, "PATCH", f"{c}/members/{w['member']}", {"building_id": "ID"}, ("building_id",),
         theirs.building_id, "building_not_found"),
        (p.committee, "PATCH", f"{c}/members/{w['member']}", {"grid_ids": ["ID"]}, ("grid_ids", 0),
         theirs.grid.id, "grid_not_found"),
        (p.committee, "PATCH", c, {"cover_upload_id": "ID"}, ("cover_upload_id",), UNKNOWN, "upload_not_found"),
        (p.committee, "POST", f"{c}/households", {"building_id": "ID", "room": "9"}, ("building_id",),
         theirs.building_id, "building_not_found"),
        (p.committee, "POST", f"{c}/buildings", {"name": "9栋", "grid_id": "ID"}, ("grid_id",), theirs.grid.id,
         "grid_not_found"),
        (p.committee, "POST", f"{c}/join-requests/{w['join_request']}/approve", {"household_id": "ID"},
         ("household_id",), UNKNOWN, "household_not_found"),
        (p.committee, "POST", f"{c}/categories", {"name": "新类", "default_handler_id": "ID"},
         ("default_handler_id",), UNKNOWN, "handler_not_found"),
        (p.committee, "POST", f"{c}/handlers", {"name": "新单位", "member_ids": ["ID"]}, ("member_ids", 0),
         theirs.resident.id, "member_not_found"),
        (p.committee, "POST", f"{issue}/transitions", {"action": "dispatch", "handler_id": "ID"}, ("handler_id",),
         theirs.handler_id, "handler_not_found"),
        (p.committee, "POST", f"{issue}/transitions", {"action": "dispatch", "handler_id": p.handler_id,
                                                       "category_id": "ID"}, ("category_id",),
         theirs.category_id, "category_not_found"),
        (p.committee, "POST", f"{issue}/transitions", {"action": "merge", "into": "ID"}, ("into",), None, None),
        # a platform admin
        (w["admin"], "POST", "/api/v1/regions", {"name": "某街道", "level": "street", "parent_id": "ID"},
         ("parent_id",), UNKNOWN, "region_not_found"),
        (w["admin"], "POST", "/api/v1/communities", {"name": "新社区", "region_id": "ID"}, ("region_id",),
         UNKNOWN, "region_not_found"),
    ]


def _with(body: Any, value: str) -> Any:
    if isinstance(body, dict):
        return {k: _with(v, value) for k, v in body.items()}
    if isinstance(body, list):
        return [_with(v, value) for v in body]
    return value if body == "ID" else body


async def test_a_bad_id_in_any_field_is_a_422_naming_it_and_changes_nothing(client, session, world):
    before = await _everything(session)
    for who, method, path, body, field, theirs, code in _cases(world):
        for bad in MALFORMED:
            r = await client.request(method, path, json=_with(body, bad), headers=f.auth(who, "en"))
            problem = assert_problem(r, 422, "invalid")
            assert [e["loc"] for e in problem["errors"]] == [["body", *field]], (path, bad, problem)
            assert problem["errors"][0]["msg"].isascii(), problem  # in the caller's language
        if code is None:
            continue
        loc = field[:1] if field[0] in ("grid_ids", "member_ids") else field  # checked as a whole
        for ref in {theirs, UNKNOWN}:
            r = await client.request(method, path, json=_with(body, ref), headers=f.auth(who))
            f.assert_unknown_ref(r, code, *loc)
    assert await _everything(session) == before


async def test_an_empty_cover_is_refused_and_none_removes_it(client, session):
    c = await f.community(session)
    boss = await f.member(session, c, "committee")
    r = await client.patch(f"/api/v1/communities/{c.id}", json={"cover_upload_id": ""}, headers=f.auth(boss))
    assert_problem(r, 422, "invalid")
    r = await client.patch(f"/api/v1/communities/{c.id}", json={"cover_upload_id": None}, headers=f.auth(boss))
    assert r.status_code == 200 and r.json()["cover_upload_id"] is None
