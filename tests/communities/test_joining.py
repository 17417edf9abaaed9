"""Joining a community: invites, the roster match, join requests and the committee's decision."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.communities.models import Invite, JoinRequest, Membership, RosterEntry
from app.core import clock
from app.core.audit import AuditEntry
from tests import factories as f
from tests.accounts.support import API, count, execute, fetch_one
from tests.factories import assert_problem


@pytest.fixture
async def place(session):
    c = await f.community(session, "幸福里社区")
    boss = await f.member(session, c, "committee", name="书记")
    return c, boss


async def make_invite(client, c, who, **body) -> dict:
    r = await client.post(f"{API}/communities/{c.id}/invites", json=body, headers=f.auth(who))
    assert r.status_code == 201, r.text
    return r.json()


async def join(client, who, code: str, **body):
    return await client.post(f"{API}/join", json={"code": code, **body}, headers=f.auth(who))


async def on_roster(session, c, phone: str, *, owner: bool, room: str = "302"):
    b = await f.building(session, c, "3栋")
    h = await f.household(session, c, b, room)
    session.add(RosterEntry(community_id=c.id, household_id=h.id, name="业主老陈", phone=phone, is_owner=owner))
    await session.commit()
    return h


# --- invites ---

@pytest.mark.parametrize("roles", [("committee",), ("grid_worker",), ("building_leader",)])
async def test_staff_and_building_leaders_create_invites(client, session, place, roles):
    c, _ = place
    who = await f.member(session, c, *roles)
    invite = await make_invite(client, c, who, max_uses=10, note="3栋群")
    assert invite["code"] and invite["url"] == f"http://testserver/s/{invite['code']}"
    assert invite["qr_url"].startswith("http://testserver/s/") and invite["qr_url"].endswith(".svg")
    assert (invite["max_uses"], invite["uses"], invite["revoked"]) == (10, 0, False)
    assert invite["expires_at"] is not None


@pytest.mark.parametrize("roles", [(), ("owner",), ("handler",)])
async def test_residents_cannot_create_invites(client, session, place, roles):
    c, _ = place
    who = await f.member(session, c, *roles)
    body = assert_problem(await client.post(f"{API}/communities/{c.id}/invites", json={}, headers=f.auth(who)),
                          403, "forbidden_role")
    assert body["detail"]
    assert await count(Invite) == 0


async def test_invite_for_a_building_of_another_community_is_refused_naming_the_field(client, session, place):
    c, boss = place
    foreign = await f.building(session, await f.community(session, "别的社区"))
    f.assert_unknown_ref(await client.post(f"{API}/communities/{c.id}/invites", json={"building_id": foreign.id},
                                           headers=f.auth(boss)), "building_not_found", "building_id")
    assert await count(Invite) == 0


@pytest.mark.parametrize(("body", "loc"), [
    ({"max_uses": 0}, ["body", "max_uses"]),
    ({"expires_in_days": 0}, ["body", "expires_in_days"]),
    ({"expires_in_days": 366}, ["body", "expires_in_days"]),
    ({"note": "x" * 101}, ["body", "note"]),
])
async def test_bad_invite_input_is_a_422(client, place, body, loc):
    c, boss = place
    problem = assert_problem(await client.post(f"{API}/communities/{c.id}/invites", json=body,
                                               headers=f.auth(boss)), 422, "invalid")
    assert problem["errors"][0]["loc"] == loc
    assert await count(Invite) == 0


async def test_anyone_may_preview_an_invite(client, session, place):
    c, boss = place
    b = await f.building(session, c, "3栋")
    invite = await make_invite(client, c, boss, building_id=b.id)
    r = await client.get(f"{API}/invites/{invite['code']}")
    assert r.status_code == 200
    assert r.json() == {"code": invite["code"], "community_id": c.id, "community_name": "幸福里社区",
                        "community_kind": "community", "building_id": b.id, "building_name": "3栋",
                        "usable": True, "reason": None}


async def test_preview_says_why_an_invite_is_unusable(client, place):
    c, boss = place
    invite = await make_invite(client, c, boss)
    await client.post(f"{API}/communities/{c.id}/invites/{invite['id']}/revoke", headers=f.auth(boss))
    r = await client.get(f"{API}/invites/{invite['code']}", headers={"Accept-Language": "en"})
    assert r.json()["usable"] is False and "withdrawn" in r.json()["reason"]


async def test_preview_of_an_unknown_code_is_404(client):
    assert_problem(await client.get(f"{API}/invites/nosuchcode"), 404, "invite_not_found")


async def test_invites_are_listed_for_staff(client, session, place):
    c, boss = place
    first = await make_invite(client, c, boss)
    second = await make_invite(client, c, boss)
    listed = (await client.get(f"{API}/communities/{c.id}/invites", headers=f.auth(boss))).json()
    assert [i["id"] for i in listed["items"]] == [second["id"], first["id"]]
    resident = await f.member(session, c)
    assert_problem(await client.get(f"{API}/communities/{c.id}/invites", headers=f.auth(resident)), 403)


# --- joining ---

async def test_a_phone_on_the_roster_joins_at_once_with_household_and_owner_role(client, session, place):
    c, boss = place
    h = await on_roster(session, c, "13800000088", owner=True)
    invite = await make_invite(client, c, boss)
    newcomer = await f.person(session, name="", phone="13800000088")
    r = await join(client, newcomer, invite["code"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "member" and r.json()["community_id"] == c.id
    m = await fetch_one(select(Membership).where(Membership.person_id == newcomer.id))
    assert (m.id, m.household_id, m.building_id, m.roles, m.verified) == (
        r.json()["membership_id"], h.id, h.building_id, ["owner", "resident"], True)
    me = (await client.get(f"{API}/me", headers=f.auth(newcomer))).json()
    assert me["name"] == "业主老陈" and me["current_community_id"] == c.id
    assert [x["community_id"] for x in me["memberships"]] == [c.id]
    assert await count(JoinRequest) == 0


async def test_a_tenant_on_the_roster_joins_as_a_resident(client, session, place):
    c, boss = place
    await on_roster(session, c, "13800000088", owner=False)
    invite = await make_invite(client, c, boss)
    newcomer = await f.person(session, phone="13800000088")
    await join(client, newcomer, invite["code"])
    assert (await fetch_one(select(Membership).where(Membership.person_id == newcomer.id))).roles == ["resident"]


async def test_an_unknown_phone_waits_for_the_committee(client, session, place):
    c, boss = place
    b = await f.building(session, c, "3栋")
    invite = await make_invite(client, c, boss, building_id=b.id)
    newcomer = await f.person(session, name="", phone="13800000077")
    r = await join(client, newcomer, invite["code"], name="新住户", room="3栋302")
    assert r.status_code == 200
    assert r.json()["status"] == "pending" and r.json()["membership_id"] is None
    assert await count(Membership, Membership.person_id == newcomer.id) == 0
    assert_problem(await client.get(f"{API}/communities/{c.id}", headers=f.auth(newcomer)), 403, "join_pending")
    me = (await client.get(f"{API}/me", headers=f.auth(newcomer))).json()
    assert me["pending_joins"] == [{"community_id": c.id, "community_name": "幸福里社区",
                                    "join_request_id": r.json()["join_request_id"]}]
    listed = (await client.get(f"{API}/communities/{c.id}/join-requests", headers=f.auth(boss))).json()["items"]
    assert [(j["name"], j["room"], j["phone"], j["building_id"]) for j in listed] == [
        ("新住户", "3栋302", "13800000077", b.id)]


async def test_an_applicant_awaiting_approval_is_told_so_on_every_community_door(client, session, place):
    # Not "not found / not a member": they asked to join, so say where that stands and what to do.
    c, boss = place
    invite = await make_invite(client, c, boss)
    newcomer = await f.person(session, name="", phone="13800000078")
    stranger = await f.person(session, phone="13800000079")
    jr = (await join(client, newcomer, invite["code"], name="新住户")).json()["join_request_id"]
    for path in ("", "/issues", "/polls", "/buildings", "/issues/map"):
        body = assert_problem(await client.get(f"{API}/communities/{c.id}{path}", headers=f.auth(newcomer)), 403,
                              "join_pending")
        assert "幸福里社区" in body["detail"] and "审核" in body["detail"], body
        english = assert_problem(await client.get(f"{API}/communities/{c.id}{path}",
                                                  headers=f.auth(newcomer, "en")), 403, "join_pending")
        assert "waiting for the committee" in english["detail"]
        assert_problem(await client.get(f"{API}/communities/{c.id}{path}", headers=f.auth(stranger)), 404,
                       "community_not_found")
    r = await client.post(f"{API}/communities/{c.id}/join-requests/{jr}/reject", json={"reason": "不是本小区住户"},
                          headers=f.auth(boss))
    assert r.status_code == 200, r.text
    assert_problem(await client.get(f"{API}/communities/{c.id}", headers=f.auth(newcomer)), 404, "community_not_found")


async def test_committee_approves_a_join_request_into_a_household(client, session, place):
    c, boss = place
    h = await f.household(session, c, await f.building(session, c))
    invite = await make_invite(client, c, boss)
    newcomer = await f.person(session, phone="13800000077")
    jr = (await join(client, newcomer, invite["code"], name="新住户")).json()["join_request_id"]
    r = await client.post(f"{API}/communities/{c.id}/join-requests/{jr}/approve", json={"household_id": h.id},
                          headers=f.auth(boss))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved"
    m = await fetch_one(select(Membership).where(Membership.person_id == newcomer.id))
    assert (m.household_id, m.roles, m.display_name) == (h.id, ["resident"], "新住户")
    assert (await client.get(f"{API}/communities/{c.id}", headers=f.auth(newcomer))).status_code == 200
    entry = await fetch_one(select(AuditEntry).where(AuditEntry.action == "join_request.approve"))
    assert entry.actor_id == boss.id and entry.before == {"status": "pending"}


async def test_approve_needs_no_body(client, session, place):
    c, boss = place
    invite = await make_invite(client, c, boss)
    newcomer = await f.person(session)
    jr = (await join(client, newcomer, invite["code"])).json()["join_request_id"]
    r = await client.post(f"{API}/communities/{c.id}/join-requests/{jr}/approve", headers=f.auth(boss))
    assert r.status_code == 200 and r.json()["status"] == "approved"


async def test_approving_into_another_communitys_household_is_refused_naming_the_field(client, session, place):
    c, boss = place
    other = await f.community(session, "别的社区")
    foreign = await f.household(session, other, await f.building(session, other))
    invite = await make_invite(client, c, boss)
    newcomer = await f.person(session)
    jr = (await join(client, newcomer, invite["code"])).json()["join_request_id"]
    f.assert_unknown_ref(await client.post(f"{API}/communities/{c.id}/join-requests/{jr}/approve",
                                           json={"household_id": foreign.id}, headers=f.auth(boss)),
                         "household_not_found", "household_id")
    assert (await fetch_one(select(JoinRequest))).status == "pending"
    assert await count(Membership, Membership.person_id == newcomer.id) == 0


async def test_rejecting_needs_a_reason(client, session, place):
    c, boss = place
    invite = await make_invite(client, c, boss)
    newcomer = await f.person(session)
    jr = (await join(client, newcomer, invite["code"])).json()["join_request_id"]
    url = f"{API}/communities/{c.id}/join-requests/{jr}/reject"
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        problem = assert_problem(await client.post(url, json=body, headers=f.auth(boss)), 422, "invalid")
        assert problem["errors"][0]["loc"] == ["body", "reason"]
        assert problem["errors"][0]["msg"] in ("必填", "至少 1 个字")
    problem = assert_problem(await client.post(url, json={}, headers=f.auth(boss, "en")), 422)
    assert problem["errors"][0]["msg"] == "Required"
    assert (await fetch_one(select(JoinRequest))).status == "pending"
    r = await client.post(url, json={"reason": "不是本小区住户"}, headers=f.auth(boss))
    assert r.status_code == 200 and (r.json()["status"], r.json()["reason"]) == ("rejected", "不是本小区住户")
    assert await count(Membership, Membership.person_id == newcomer.id) == 0


async def test_deciding_twice_is_409(client, session, place):
    c, boss = place
    invite = await make_invite(client, c, boss)
    newcomer = await f.person(session)
    jr = (await join(client, newcomer, invite["code"])).json()["join_request_id"]
    base = f"{API}/communities/{c.id}/join-requests/{jr}"
    assert (await client.post(f"{base}/approve", headers=f.auth(boss))).status_code == 200
    body = assert_problem(await client.post(f"{base}/approve", headers=f.auth(boss)), 409, "join_request_decided")
    assert "已经处理过" in body["detail"]
    assert_problem(await client.post(f"{base}/reject", json={"reason": "改主意"}, headers=f.auth(boss, "en")), 409,
                   "join_request_decided")
    assert (await fetch_one(select(JoinRequest))).status == "approved"
    assert await count(AuditEntry, AuditEntry.object_type == "join_request") == 1


@pytest.mark.parametrize("roles", [("grid_worker",), ("building_leader",), ()])
async def test_only_the_committee_decides_join_requests(client, session, place, roles):
    c, boss = place
    invite = await make_invite(client, c, boss)
    jr = (await join(client, await f.person(session), invite["code"])).json()["join_request_id"]
    who = await f.member(session, c, *roles)
    assert_problem(await client.post(f"{API}/communities/{c.id}/join-requests/{jr}/approve", headers=f.auth(who)),
                   403, "forbidden_role")
    assert (await fetch_one(select(JoinRequest))).status == "pending"


async def test_join_requests_filter_by_status(client, session, place):
    c, boss = place
    invite = await make_invite(client, c, boss)
    a = (await join(client, await f.person(session, "甲"), invite["code"])).json()["join_request_id"]
    await join(client, await f.person(session, "乙"), invite["code"])
    await client.post(f"{API}/communities/{c.id}/join-requests/{a}/reject", json={"reason": "重复"},
                      headers=f.auth(boss))
    url = f"{API}/communities/{c.id}/join-requests"
    assert [j["name"] for j in (await client.get(url, headers=f.auth(boss))).json()["items"]] == ["乙"]
    rejected = (await client.get(url, params={"status": "rejected"}, headers=f.auth(boss))).json()["items"]
    assert [j["name"] for j in rejected] == ["甲"]
    assert_problem(await client.get(url, params={"status": "maybe"}, headers=f.auth(boss)), 422)


# --- invites that can't be used ---

async def test_expired_invite_is_409(client, session, place):
    c, boss = place
    invite = await make_invite(client, c, boss)
    await execute(update(Invite).values(expires_at=clock.now() - timedelta(seconds=1)))
    body = assert_problem(await join(client, await f.person(session), invite["code"]), 409, "invite_expired")
    assert "过期" in body["detail"]
    assert await count(JoinRequest) + await count(Membership) == 1  # only the committee member
    assert (await fetch_one(select(Invite))).uses == 0


async def test_used_up_invite_is_409(client, session, place):
    c, boss = place
    invite = await make_invite(client, c, boss, max_uses=1)
    assert (await join(client, await f.person(session), invite["code"])).status_code == 200
    late = await f.person(session)
    body = assert_problem(await client.post(f"{API}/join", json={"code": invite["code"]},
                                            headers=f.auth(late, "en")), 409, "invite_used_up")
    assert "used" in body["detail"]
    assert await count(JoinRequest) == 1
    assert (await fetch_one(select(Invite))).uses == 1


async def test_revoked_invite_is_409(client, session, place):
    c, boss = place
    invite = await make_invite(client, c, boss)
    r = await client.post(f"{API}/communities/{c.id}/invites/{invite['id']}/revoke", headers=f.auth(boss))
    assert r.status_code == 200 and r.json()["revoked"] is True
    assert_problem(await join(client, await f.person(session), invite["code"]), 409, "invite_revoked")
    assert await count(JoinRequest) == 0


async def test_unknown_invite_code_is_404(client, session):
    assert_problem(await join(client, await f.person(session), "nosuchcode"), 404, "invite_not_found")
    assert await count(JoinRequest) == 0


async def test_joining_needs_a_signed_in_person(client, place):
    c, boss = place
    invite = await make_invite(client, c, boss)
    assert_problem(await client.post(f"{API}/join", json={"code": invite["code"]}), 401, "token_missing")
    assert await count(JoinRequest) == 0


async def test_bad_join_input_is_a_422(client, session, place):
    who = await f.person(session)
    for body, loc in (({}, ["body", "code"]), ({"code": "ab"}, ["body", "code"]),
                      ({"code": "abcdefgh", "name": "x" * 51}, ["body", "name"])):
        problem = assert_problem(await client.post(f"{API}/join", json=body, headers=f.auth(who)), 422)
        assert problem["errors"][0]["loc"] == loc


async def test_joining_twice_gives_the_same_membership_and_one_use(client, session, place):
    c, boss = place
    await on_roster(session, c, "13800000088", owner=True)
    invite = await make_invite(client, c, boss, max_uses=5)
    newcomer = await f.person(session, phone="13800000088")
    first = (await join(client, newcomer, invite["code"])).json()
    second = (await join(client, newcomer, invite["code"])).json()
    assert first == second
    assert await count(Membership, Membership.person_id == newcomer.id) == 1
    assert (await fetch_one(select(Invite))).uses == 1


async def test_asking_twice_gives_the_same_join_request_and_one_use(client, session, place):
    c, boss = place
    invite = await make_invite(client, c, boss, max_uses=5)
    newcomer = await f.person(session)
    first = (await join(client, newcomer, invite["code"])).json()
    second = (await join(client, newcomer, invite["code"])).json()
    assert first == second and first["status"] == "pending"
    assert await count(JoinRequest) == 1
    assert (await fetch_one(select(Invite))).uses == 1


async def test_a_member_following_a_used_up_invite_is_still_a_member(client, session, place):
    c, boss = place
    invite = await make_invite(client, c, boss, max_uses=1)
    r = await join(client, boss, invite["code"])
    assert r.status_code == 200 and r.json()["status"] == "member"
    assert (await fetch_one(select(Invite))).uses == 0


async def test_twenty_people_racing_for_five_places(client, session, place):
    c, boss = place
    invite = await make_invite(client, c, boss, max_uses=5)
    people = [await f.person(session, name=f"住户{n}") for n in range(20)]
    answers = await asyncio.gather(*[join(client, p, invite["code"]) for p in people])
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] * 5 + [409] * 15, [r.text for r in answers if r.status_code not in (200, 409)]
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"invite_used_up"}
    assert await count(JoinRequest) == 5
    assert (await fetch_one(select(Invite))).uses == 5


async def test_one_person_joining_in_parallel_gets_one_membership(client, session, place):
    c, boss = place
    await on_roster(session, c, "13800000088", owner=True)
    invite = await make_invite(client, c, boss, max_uses=10)
    newcomer = await f.person(session, phone="13800000088")
    answers = await asyncio.gather(*[join(client, newcomer, invite["code"]) for _ in range(5)])
    assert {r.status_code for r in answers} == {200}
    assert len({r.json()["membership_id"] for r in answers}) == 1
    assert (await fetch_one(select(Invite))).uses == 1


# --- several communities ---

async def test_a_person_belongs_to_several_communities_and_switches(client, session, place):
    c, boss = place
    village = await f.community(session, "桃源村", kind="village")
    village_boss = await f.member(session, village, "committee")
    await on_roster(session, c, "13800000088", owner=True)
    person = await f.person(session, phone="13800000088")
    await join(client, person, (await make_invite(client, c, boss))["code"])
    jr = (await join(client, person, (await make_invite(client, village, village_boss))["code"])).json()
    await client.post(f"{API}/communities/{village.id}/join-requests/{jr['join_request_id']}/approve",
                      headers=f.auth(village_boss))
    me = (await client.get(f"{API}/me", headers=f.auth(person))).json()
    assert {m["community_id"] for m in me["memberships"]} == {c.id, village.id}
    assert me["current_community_id"] == c.id  # the first one joined
    r = await client.patch(f"{API}/me", json={"current_community_id": village.id}, headers=f.auth(person))
    assert r.json()["current_community_id"] == village.id
    stranger = await f.community(session, "陌生社区")
    assert_problem(await client.patch(f"{API}/me", json={"current_community_id": stranger.id},
                                      headers=f.auth(person)), 404, "community_not_found")
    assert (await client.get(f"{API}/me", headers=f.auth(person))).json()["current_community_id"] == village.id
