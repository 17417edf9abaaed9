"""Tenancy: a community the caller can't see is 404, exactly like one that doesn't exist, and
objects of community B can't be reached through community A's paths."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.communities.models import Invite, JoinRequest, Membership
from app.core.audit import AuditEntry
from tests import factories as f
from tests.accounts.support import API, count, fetch_one
from tests.factories import assert_problem

FAKE_ID = "01h0000000000000000000000"


def community_routes(app) -> list[tuple[str, str]]:
    """Every operation under /communities/{cid}, from the OpenAPI description (so new ones are covered)."""
    paths = app.openapi()["paths"]
    return [(method.upper(), path) for path, ops in paths.items() if "{cid}" in path for method in ops]


async def test_every_community_endpoint_hides_other_communities(app, client, session):
    mine = await f.community(session, "我的社区")
    theirs = await f.community(session, "别人的社区")
    boss = await f.member(session, mine, "committee")
    await f.member(session, theirs, "committee", name="别人的书记")
    routes = community_routes(app)
    assert len(routes) >= 20, routes
    before = await count(AuditEntry)
    for method, path in routes:
        for cid in (theirs.id, FAKE_ID):
            url = re.sub(r"\{[a-z_]+\}", FAKE_ID, path.replace("{cid}", cid))
            r = await client.request(method, url, json={}, headers=f.auth(boss))
            body = assert_problem(r, 404)
            assert body["code"] == "community_not_found", (method, path, body)
    assert await count(AuditEntry) == before


async def test_not_found_and_not_visible_read_the_same(client, session):
    theirs = await f.community(session, "别人的社区")
    outsider = await f.person(session)
    hidden = (await client.get(f"{API}/communities/{theirs.id}", headers=f.auth(outsider))).json()
    missing = (await client.get(f"{API}/communities/{FAKE_ID}", headers=f.auth(outsider))).json()
    assert hidden == missing


@pytest.fixture
async def two(session):
    a = await f.community(session, "A社区")
    b = await f.community(session, "B社区")
    boss_a = await f.member(session, a, "committee", name="A书记")
    boss_b = await f.member(session, b, "committee", name="B书记")
    resident_b = await f.member(session, b, name="B居民")
    return a, b, boss_a, boss_b, resident_b


async def membership_id(c, p) -> str:
    m = await fetch_one(select(Membership).where(Membership.community_id == c.id, Membership.person_id == p.id))
    return str(m.id)


async def test_another_communitys_member_is_404_under_my_path(client, two):
    a, b, boss_a, _, resident_b = two
    mid = await membership_id(b, resident_b)
    assert_problem(await client.patch(f"{API}/communities/{a.id}/members/{mid}", json={"roles": ["committee"]},
                                      headers=f.auth(boss_a)), 404, "member_not_found")
    assert_problem(await client.delete(f"{API}/communities/{a.id}/members/{mid}", headers=f.auth(boss_a)), 404,
                   "member_not_found")
    assert (await fetch_one(select(Membership).where(Membership.id == mid))).roles == ["resident"]


async def test_another_communitys_invite_is_404_under_my_path(client, two):
    a, b, boss_a, boss_b, _ = two
    invite = (await client.post(f"{API}/communities/{b.id}/invites", json={}, headers=f.auth(boss_b))).json()
    assert_problem(await client.post(f"{API}/communities/{a.id}/invites/{invite['id']}/revoke",
                                     headers=f.auth(boss_a)), 404, "invite_not_found")
    assert (await fetch_one(select(Invite))).revoked_at is None


async def test_another_communitys_join_request_is_404_under_my_path(client, session, two):
    a, b, boss_a, boss_b, _ = two
    invite = (await client.post(f"{API}/communities/{b.id}/invites", json={}, headers=f.auth(boss_b))).json()
    jr = (await client.post(f"{API}/join", json={"code": invite["code"]},
                            headers=f.auth(await f.person(session)))).json()["join_request_id"]
    for action, body in (("approve", {}), ("reject", {"reason": "不认识"})):
        assert_problem(await client.post(f"{API}/communities/{a.id}/join-requests/{jr}/{action}", json=body,
                                         headers=f.auth(boss_a)), 404, "join_request_not_found")
    assert (await fetch_one(select(JoinRequest))).status == "pending"
    listed = (await client.get(f"{API}/communities/{a.id}/join-requests", headers=f.auth(boss_a))).json()
    assert listed["items"] == []


async def test_another_communitys_places_cannot_be_referred_to(client, session, two):
    a, b, boss_a, _, _ = two
    grid_b = await f.grid(session, b)
    building_b = await f.building(session, b)
    household_b = await f.household(session, b, building_b)
    h = f.auth(boss_a)
    mid = await membership_id(a, boss_a)
    cases = [
        (f"communities/{a.id}/buildings", {"name": "1栋", "grid_id": grid_b.id}, "grid_not_found"),
        (f"communities/{a.id}/households", {"building_id": building_b.id, "room": "1"}, "building_not_found"),
        (f"communities/{a.id}/invites", {"building_id": building_b.id}, "building_not_found"),
    ]
    for path, body, code in cases:
        field = next(k for k in body if k.endswith("_id"))
        f.assert_unknown_ref(await client.post(f"{API}/{path}", json=body, headers=h), code, field)
    for body, code in (({"household_id": household_b.id}, "household_not_found"),
                       ({"building_id": building_b.id}, "building_not_found"),
                       ({"grid_ids": [grid_b.id]}, "grid_not_found")):
        f.assert_unknown_ref(await client.patch(f"{API}/communities/{a.id}/members/{mid}", json=body, headers=h),
                             code, *body)
    r = await client.get(f"{API}/communities/{a.id}/households", params={"building_id": building_b.id}, headers=h)
    assert r.json()["items"] == []
    assert await count(AuditEntry) == 0


async def test_lists_never_show_another_communitys_rows(client, session, two):
    a, b, boss_a, boss_b, _ = two
    await f.grid(session, b, "B网格")
    await f.household(session, b, await f.building(session, b, "B楼"))
    await client.post(f"{API}/communities/{b.id}/invites", json={}, headers=f.auth(boss_b))
    h = f.auth(boss_a)
    assert (await client.get(f"{API}/communities/{a.id}/grids", headers=h)).json() == []
    assert (await client.get(f"{API}/communities/{a.id}/buildings", headers=h)).json() == []
    assert (await client.get(f"{API}/communities/{a.id}/households", headers=h)).json()["items"] == []
    assert (await client.get(f"{API}/communities/{a.id}/invites", headers=h)).json()["items"] == []
    members = (await client.get(f"{API}/communities/{a.id}/members", headers=h)).json()["items"]
    assert [m["name"] for m in members] == ["A书记"]


async def test_platform_admin_acts_as_committee_everywhere(client, session, two):
    a, *_ = two
    admin = await f.person(session, is_platform_admin=True)
    assert (await client.get(f"{API}/communities/{a.id}/audit", headers=f.auth(admin))).status_code == 200
    r = await client.post(f"{API}/communities/{a.id}/grids", json={"name": "平台建的"}, headers=f.auth(admin))
    assert r.status_code == 201
