"""Members: who sees them (phones masked for all but the committee), roles, removal, the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.accounts.models import Person
from app.communities.models import Membership
from app.core.audit import AuditEntry
from tests import factories as f
from tests.accounts.support import API, count, fetch_all, fetch_one
from tests.factories import assert_problem


@pytest.fixture
async def team(session):
    c = await f.community(session)
    boss = await f.member(session, c, "committee", name="书记", phone="13800000001")
    worker = await f.member(session, c, "grid_worker", name="网格员小李", phone="13800000002")
    leader = await f.member(session, c, "building_leader", name="楼长老王", phone="13800000003")
    resident = await f.member(session, c, name="居民小张", phone="13800000004")
    return c, boss, worker, leader, resident


async def membership_of(c, p) -> Membership:
    return await fetch_one(select(Membership).where(Membership.community_id == c.id, Membership.person_id == p.id))


async def members(client, c, who, **params):
    r = await client.get(f"{API}/communities/{c.id}/members", params=params, headers=f.auth(who))
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_committee_sees_full_phone_numbers(client, team):
    c, boss, *_ = team
    phones = {m["name"]: m["phone"] for m in await members(client, c, boss)}
    assert phones == {"书记": "13800000001", "网格员小李": "13800000002", "楼长老王": "13800000003",
                      "居民小张": "13800000004"}


@pytest.mark.parametrize("who", ["worker", "leader"])
async def test_grid_workers_and_building_leaders_see_masked_phones(client, team, who):
    c, _, worker, leader, _ = team
    listed = await members(client, c, worker if who == "worker" else leader)
    assert {m["phone"] for m in listed} == {"138****0001", "138****0002", "138****0003", "138****0004"}


async def test_residents_cannot_list_members(client, team):
    c, *_, resident = team
    body = assert_problem(await client.get(f"{API}/communities/{c.id}/members", headers=f.auth(resident)), 403,
                          "forbidden_role")
    assert body["detail"]


async def test_members_filter_by_role(client, team):
    c, boss, *_ = team
    assert [m["name"] for m in await members(client, c, boss, role="grid_worker")] == ["网格员小李"]
    assert [m["name"] for m in await members(client, c, boss, role="committee")] == ["书记"]
    assert len(await members(client, c, boss, role="resident")) == 4


async def test_role_filter_keeps_pages_full(client, session, team):
    c, boss, *_ = team
    for n in range(5):
        await f.member(session, c, name=f"居民{n}")
        await f.member(session, c, "owner", name=f"业主{n}")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"role": "owner", "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(f"{API}/communities/{c.id}/members", params=params, headers=f.auth(boss))).json()
        assert len(page["items"]) == 2 or page["next_cursor"] is None
        seen += [m["name"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == [f"业主{n}" for n in range(5)]


async def test_unknown_role_filter_is_a_422(client, team):
    c, boss, *_ = team
    body = assert_problem(await client.get(f"{API}/communities/{c.id}/members", params={"role": "mayor"},
                                           headers=f.auth(boss, "en")), 422, "invalid")
    assert body["errors"][0]["loc"] == ["query", "role"]
    assert body["errors"][0]["msg"] == "Not one of the allowed choices"


async def test_members_search_by_name(client, team):
    c, boss, *_ = team
    assert [m["name"] for m in await members(client, c, boss, q="小李")] == ["网格员小李"]
    assert await members(client, c, boss, q="%") == []


async def test_only_the_committee_finds_members_by_phone_digits(client, team):
    c, boss, worker, *_ = team
    assert [m["name"] for m in await members(client, c, boss, q="0000004")] == ["居民小张"]
    # Someone who sees masked phones must not uncover them by searching digit by digit.
    assert await members(client, c, worker, q="0000004") == []


async def test_committee_changes_a_members_roles(client, team):
    c, boss, _, _, resident = team
    m = await membership_of(c, resident)
    r = await client.patch(f"{API}/communities/{c.id}/members/{m.id}", json={"roles": ["grid_worker", "owner"]},
                           headers=f.auth(boss))
    assert r.status_code == 200, r.text
    assert r.json()["roles"] == ["grid_worker", "owner", "resident"]
    assert r.json()["phone"] == "13800000004"
    assert (await membership_of(c, resident)).roles == ["grid_worker", "owner", "resident"]
    entry = await fetch_one(select(AuditEntry).where(AuditEntry.action == "member.update"))
    assert entry.actor_id == boss.id and entry.object_id == m.id
    assert entry.before == {"roles": ["resident"]}
    assert entry.after == {"roles": ["grid_worker", "owner", "resident"]}


async def test_grid_worker_is_assigned_grids_of_this_community_only(client, session, team):
    c, boss, worker, *_ = team
    g = await f.grid(session, c)
    foreign = await f.grid(session, await f.community(session, "别的社区"))
    m = await membership_of(c, worker)
    r = await client.patch(f"{API}/communities/{c.id}/members/{m.id}", json={"grid_ids": [g.id, g.id]},
                           headers=f.auth(boss))
    assert r.status_code == 200 and r.json()["grid_ids"] == [g.id]
    f.assert_unknown_ref(await client.patch(f"{API}/communities/{c.id}/members/{m.id}",
                                            json={"grid_ids": [foreign.id]}, headers=f.auth(boss)),
                         "grid_not_found", "grid_ids")
    assert (await membership_of(c, worker)).grid_ids == [g.id]


async def test_member_is_placed_in_a_household_of_this_community_only(client, session, team):
    c, boss, _, _, resident = team
    b = await f.building(session, c)
    h = await f.household(session, c, b)
    other = await f.community(session, "别的社区")
    foreign = await f.household(session, other, await f.building(session, other))
    m = await membership_of(c, resident)
    f.assert_unknown_ref(await client.patch(f"{API}/communities/{c.id}/members/{m.id}",
                                            json={"household_id": foreign.id}, headers=f.auth(boss)),
                         "household_not_found", "household_id")
    r = await client.patch(f"{API}/communities/{c.id}/members/{m.id}", json={"household_id": h.id},
                           headers=f.auth(boss))
    assert r.json()["household_id"] == h.id
    r = await client.patch(f"{API}/communities/{c.id}/members/{m.id}", json={"household_id": None},
                           headers=f.auth(boss))
    assert r.json()["household_id"] is None


@pytest.mark.parametrize("who", ["worker", "leader", "resident"])
async def test_only_the_committee_changes_roles(client, team, who):
    c, _, worker, leader, resident = team
    caller = {"worker": worker, "leader": leader, "resident": resident}[who]
    m = await membership_of(c, resident)
    assert_problem(await client.patch(f"{API}/communities/{c.id}/members/{m.id}", json={"roles": ["committee"]},
                                      headers=f.auth(caller)), 403, "forbidden_role")
    assert (await membership_of(c, resident)).roles == ["resident"]
    assert await count(AuditEntry) == 0


@pytest.mark.parametrize(("body", "loc"), [
    ({"roles": ["mayor"]}, ["body", "roles", 0]),
    ({"roles": "committee"}, ["body", "roles"]),
    ({"roles": None}, ["body", "roles"]),
    ({"grid_ids": None}, ["body", "grid_ids"]),
    ({"display_name": None}, ["body", "display_name"]),
    ({"roles": ["owner"] * 7}, ["body", "roles"]),
    ({"person_id": "x"}, ["body", "person_id"]),
])
async def test_bad_member_updates_are_a_422(client, team, body, loc):
    c, boss, _, _, resident = team
    m = await membership_of(c, resident)
    problem = assert_problem(await client.patch(f"{API}/communities/{c.id}/members/{m.id}", json=body,
                                                headers=f.auth(boss)), 422, "invalid")
    assert problem["errors"][0]["loc"] == loc
    assert (await membership_of(c, resident)).roles == ["resident"]


async def test_the_last_committee_member_cannot_step_down(client, team):
    c, boss, *_ = team
    m = await membership_of(c, boss)
    body = assert_problem(await client.patch(f"{API}/communities/{c.id}/members/{m.id}", json={"roles": []},
                                             headers=f.auth(boss)), 409, "last_committee")
    assert body["detail"] == "社区至少要保留一位两委成员。"
    assert_problem(await client.delete(f"{API}/communities/{c.id}/members/{m.id}", headers=f.auth(boss, "en")),
                   409, "last_committee")
    assert (await membership_of(c, boss)).roles == ["committee", "resident"]


async def test_with_two_on_the_committee_one_may_step_down(client, session, team):
    c, boss, *_ = team
    second = await f.member(session, c, "committee", name="主任")
    m = await membership_of(c, boss)
    r = await client.patch(f"{API}/communities/{c.id}/members/{m.id}", json={"roles": ["owner"]},
                           headers=f.auth(second))
    assert r.status_code == 200 and r.json()["roles"] == ["owner", "resident"]
    m2 = await membership_of(c, second)
    assert_problem(await client.patch(f"{API}/communities/{c.id}/members/{m2.id}", json={"roles": []},
                                      headers=f.auth(second)), 409, "last_committee")


async def test_committee_removes_a_member(client, team):
    c, boss, _, _, resident = team
    m = await membership_of(c, resident)
    r = await client.delete(f"{API}/communities/{c.id}/members/{m.id}", headers=f.auth(boss))
    assert r.status_code == 204
    assert await count(Membership, Membership.id == m.id) == 0
    assert_problem(await client.get(f"{API}/communities/{c.id}", headers=f.auth(resident)), 404)
    entry = await fetch_one(select(AuditEntry).where(AuditEntry.action == "member.remove"))
    assert entry.actor_id == boss.id and entry.before["person_id"] == resident.id and entry.after is None
    assert_problem(await client.delete(f"{API}/communities/{c.id}/members/{m.id}", headers=f.auth(boss)), 404,
                   "member_not_found")


async def test_a_removed_member_is_no_longer_looking_at_that_community(client, team):
    c, boss, _, _, resident = team
    await client.patch(f"{API}/me", json={"current_community_id": c.id}, headers=f.auth(resident))
    m = await membership_of(c, resident)
    await client.delete(f"{API}/communities/{c.id}/members/{m.id}", headers=f.auth(boss))
    assert (await fetch_one(select(Person).where(Person.id == resident.id))).current_community_id is None


async def test_only_the_committee_removes_members(client, team):
    c, _, worker, _, resident = team
    m = await membership_of(c, resident)
    assert_problem(await client.delete(f"{API}/communities/{c.id}/members/{m.id}", headers=f.auth(worker)), 403)
    assert await count(Membership) == 4


# --- audit log ---

async def test_audit_log_records_every_staff_write(client, session, team):
    c, boss, _, _, resident = team
    h = f.auth(boss)
    g = (await client.post(f"{API}/communities/{c.id}/grids", json={"name": "东区"}, headers=h)).json()
    b = (await client.post(f"{API}/communities/{c.id}/buildings", json={"name": "1栋", "grid_id": g["id"]},
                           headers=h)).json()
    await client.post(f"{API}/communities/{c.id}/households", json={"building_id": b["id"], "room": "101"}, headers=h)
    await client.patch(f"{API}/communities/{c.id}", json={"address": "新地址"}, headers=h)
    m = await membership_of(c, resident)
    await client.patch(f"{API}/communities/{c.id}/members/{m.id}", json={"roles": ["owner"]}, headers=h)
    await client.post(f"{API}/communities/{c.id}/invites", json={}, headers=h)
    r = await client.get(f"{API}/communities/{c.id}/audit", headers=h)
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["action"] for i in items] == ["invite.create", "member.update", "community.update",
                                            "household.create", "building.create", "grid.create"]
    assert {(i["actor_id"], i["actor_name"]) for i in items} == {(boss.id, "书记")}
    update = items[1]
    assert update["before"] == {"roles": ["resident"]} and update["after"] == {"roles": ["owner", "resident"]}
    assert items[2]["before"] == {"address": ""} and items[2]["after"] == {"address": "新地址"}


@pytest.mark.parametrize("who", ["worker", "leader", "resident"])
async def test_only_the_committee_reads_the_audit_log(client, team, who):
    c, _, worker, leader, resident = team
    caller = {"worker": worker, "leader": leader, "resident": resident}[who]
    assert_problem(await client.get(f"{API}/communities/{c.id}/audit", headers=f.auth(caller)), 403,
                   "forbidden_role")


async def test_audit_log_is_per_community(client, session, team):
    c, boss, *_ = team
    other = await f.community(session, "别的社区")
    other_boss = await f.member(session, other, "committee")
    await client.post(f"{API}/communities/{other.id}/grids", json={"name": "东区"}, headers=f.auth(other_boss))
    assert (await client.get(f"{API}/communities/{c.id}/audit", headers=f.auth(boss))).json()["items"] == []
    assert len(await fetch_all(select(AuditEntry))) == 1


async def test_two_committee_members_stepping_down_at_once_leave_one(client, session, team):
    import asyncio

    c, boss, *_ = team
    second = await f.member(session, c, "committee", name="主任")
    first_m, second_m = await membership_of(c, boss), await membership_of(c, second)
    answers = await asyncio.gather(
        client.patch(f"{API}/communities/{c.id}/members/{first_m.id}", json={"roles": []}, headers=f.auth(boss)),
        client.patch(f"{API}/communities/{c.id}/members/{second_m.id}", json={"roles": []}, headers=f.auth(second)))
    assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
    committee = [m for m in await fetch_all(select(Membership)) if "committee" in m.roles]
    assert len(committee) == 1
