"""Cursor pagination of the community lists: every item exactly once, and bad paging refused."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from app.communities.models import Household, Invite, JoinRequest
from app.core.audit import AuditEntry
from app.core.ids import new_id
from tests import factories as f
from tests.accounts.support import API, execute
from tests.factories import assert_problem

LISTS = ["members", "audit", "households", "join-requests", "invites"]


@pytest.fixture
async def busy(session):
    """A community with 23 of everything each list shows."""
    c = await f.community(session)
    boss = await f.member(session, c, "committee", name="书记")
    for n in range(22):
        await f.member(session, c, name=f"居民{n:02d}")
    b = await f.building(session, c)
    await execute(insert(Household).values([
        {"id": new_id(), "community_id": c.id, "building_id": b.id, "unit": "", "room": f"{n:03d}", "address": ""}
        for n in range(23)]))
    await execute(insert(AuditEntry).values([
        {"id": new_id(), "community_id": c.id, "actor_id": boss.id, "action": f"test.{n}", "object_type": "x"}
        for n in range(23)]))
    people = [await f.person(session, name=f"申请人{n}") for n in range(23)]
    await execute(insert(JoinRequest).values([
        {"id": new_id(), "community_id": c.id, "person_id": p.id, "status": "pending"} for p in people]))
    await execute(insert(Invite).values([
        {"id": new_id(), "community_id": c.id, "code": f"code{n:04d}", "created_by": boss.id, "uses": 0, "note": ""}
        for n in range(23)]))
    return c, boss


async def walk(client, url: str, headers: dict, limit: int) -> list[str]:
    ids: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        r = await client.get(url, params=params, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= limit
        ids += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return ids
        assert len(page["items"]) == limit
        assert pages < 100


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize("limit", [1, 7, 23, 100])
async def test_walking_the_pages_sees_every_item_exactly_once(client, busy, name, limit):
    c, boss = busy
    url = f"{API}/communities/{c.id}/{name}"
    ids = await walk(client, url, f.auth(boss), limit)
    everything = (await client.get(url, params={"limit": 100}, headers=f.auth(boss))).json()
    assert everything["next_cursor"] is None
    assert len(ids) == len(set(ids)) == len(everything["items"]) == 23
    assert ids == [i["id"] for i in everything["items"]]


@pytest.mark.parametrize("name", LISTS)
async def test_default_page_is_twenty(client, busy, name):
    c, boss = busy
    page = (await client.get(f"{API}/communities/{c.id}/{name}", headers=f.auth(boss))).json()
    assert len(page["items"]) == 20 and page["next_cursor"]


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten"])
async def test_bad_limits_are_a_422(client, busy, name, limit):
    c, boss = busy
    r = await client.get(f"{API}/communities/{c.id}/{name}", params={"limit": limit}, headers=f.auth(boss, "en"))
    body = assert_problem(r, 422, "invalid")
    assert body["errors"][0]["loc"] == ["query", "limit"]
    assert body["errors"][0]["msg"]


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize("cursor", ["garbage", "!!!", "W10", "WzEsMl0", "eyJhIjoxfQ", "WzFd", "x" * 301])
async def test_garbage_cursors_are_a_422(client, busy, name, cursor):
    c, boss = busy
    r = await client.get(f"{API}/communities/{c.id}/{name}", params={"cursor": cursor}, headers=f.auth(boss))
    body = assert_problem(r, 422)
    assert body["code"] in {"bad_cursor", "invalid"}
    assert body["detail"]
