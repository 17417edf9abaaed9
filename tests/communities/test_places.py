"""Grids, buildings and households: the committee keeps them; others see what their role allows."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.communities.models import Building, Grid, Household
from app.core.audit import AuditEntry
from tests import factories as f
from tests.accounts.support import API, count, fetch_one
from tests.factories import assert_problem


@pytest.fixture
async def place(session):
    c = await f.community(session)
    boss = await f.member(session, c, "committee", name="书记")
    return c, boss


async def test_committee_creates_grids_and_lists_them_by_name(client, session, place):
    c, boss = place
    for name in ("西区", "东区"):
        r = await client.post(f"{API}/communities/{c.id}/grids", json={"name": f"  {name} "}, headers=f.auth(boss))
        assert r.status_code == 201, r.text
        assert r.json()["name"] == name and r.json()["community_id"] == c.id
    resident = await f.member(session, c)
    listed = (await client.get(f"{API}/communities/{c.id}/grids", headers=f.auth(resident))).json()
    assert [g["name"] for g in listed] == ["东区", "西区"]


async def test_buildings_and_grids_are_listed_as_people_number_them(client, session, place):
    # Text order puts 10栋 and 11栋 before 1栋; every building list (the pages keep the API's order)
    # and every household roll (a poll's paper roll) comes in one order: 1栋, 2栋, …, 10栋.
    c, boss = place
    for name in ("10栋", "2栋", "11栋", "1栋", "东门岗亭", "3栋"):
        assert (await client.post(f"{API}/communities/{c.id}/buildings", json={"name": name},
                                  headers=f.auth(boss))).status_code == 201
    for name in ("第10网格", "第2网格", "第1网格"):
        await f.grid(session, c, name)
    listed = (await client.get(f"{API}/communities/{c.id}/buildings", headers=f.auth(boss))).json()
    assert [b["name"] for b in listed] == ["1栋", "2栋", "3栋", "10栋", "11栋", "东门岗亭"]
    grids = (await client.get(f"{API}/communities/{c.id}/grids", headers=f.auth(boss))).json()
    assert [g["name"] for g in grids] == ["第1网格", "第2网格", "第10网格"]
    by_name = {b["name"]: b["id"] for b in listed}
    for building, unit, room in (("10栋", "1", "101"), ("1栋", "2单元", "1001"), ("1栋", "2单元", "201"),
                                 ("1栋", "10单元", "101"), ("2栋", "", "101")):
        r = await client.post(f"{API}/communities/{c.id}/households", headers=f.auth(boss),
                              json={"building_id": by_name[building], "unit": unit, "room": room})
        assert r.status_code == 201, r.text
    from app.communities import service

    labels = [service.household_label(h.building_name, h) for h in await service.repo.households_in_scope(
        session, c.id, None, "")]
    assert labels == ["1栋2单元201", "1栋2单元1001", "1栋10单元101", "2栋101", "10栋1单元101"]
    english = [service.household_label(h.building_name, h, "en") for h in await service.repo.households_in_scope(
        session, c.id, None, "")]
    assert english[0] == "1栋, Unit 2, 201" and english[3] == "2栋, 101"


def test_natural_key_orders_numbers_as_numbers():
    from app.core.sorting import natural_key

    names = ["10栋", "1栋", "B2", "b10", "2号楼", "1栋2单元", "", " 3栋 "]
    assert sorted(names, key=natural_key) == ["", "1栋", "1栋2单元", "2号楼", " 3栋 ", "10栋", "B2", "b10"]


async def test_duplicate_grid_name_is_409(client, session, place):
    c, boss = place
    await f.grid(session, c, "东区")
    body = assert_problem(await client.post(f"{API}/communities/{c.id}/grids", json={"name": "东区"},
                                            headers=f.auth(boss)), 409, "name_taken")
    assert body["detail"] == "名称已被使用。"
    assert await count(Grid) == 1


async def test_the_same_grid_name_is_fine_in_another_community(client, session, place):
    c, boss = place
    other = await f.community(session, "别的社区")
    await f.grid(session, other, "东区")
    assert (await client.post(f"{API}/communities/{c.id}/grids", json={"name": "东区"},
                              headers=f.auth(boss))).status_code == 201


async def test_parallel_creation_of_one_grid_name_makes_one_grid(client, session, place):
    c, boss = place
    answers = await asyncio.gather(*[client.post(f"{API}/communities/{c.id}/grids", json={"name": "南区"},
                                                 headers=f.auth(boss)) for _ in range(6)])
    assert sorted(r.status_code for r in answers) == [201] + [409] * 5
    assert await count(Grid) == 1


async def test_committee_creates_buildings_in_its_grids(client, session, place):
    c, boss = place
    g = await f.grid(session, c)
    r = await client.post(f"{API}/communities/{c.id}/buildings", json={"name": "3栋", "grid_id": g.id},
                          headers=f.auth(boss))
    assert r.status_code == 201, r.text
    assert (r.json()["grid_id"], r.json()["kind"]) == (g.id, "building")
    r = await client.post(f"{API}/communities/{c.id}/buildings", json={"name": "一组", "kind": "village_group"},
                          headers=f.auth(boss))
    assert r.json()["kind"] == "village_group"
    listed = (await client.get(f"{API}/communities/{c.id}/buildings", headers=f.auth(boss))).json()
    assert {b["name"] for b in listed} == {"3栋", "一组"}


async def test_building_in_another_communitys_grid_is_refused_naming_the_field(client, session, place):
    c, boss = place
    other = await f.community(session, "别的社区")
    foreign = await f.grid(session, other)
    body = f.assert_unknown_ref(await client.post(f"{API}/communities/{c.id}/buildings",
                                                  json={"name": "3栋", "grid_id": foreign.id},
                                                  headers=f.auth(boss, "en")), "grid_not_found", "grid_id")
    assert body["detail"] == body["errors"][0]["msg"] == "No such grid."
    assert await count(Building) == 0


async def test_duplicate_building_name_is_409(client, session, place):
    c, boss = place
    await f.building(session, c, "3栋")
    assert_problem(await client.post(f"{API}/communities/{c.id}/buildings", json={"name": "3栋"},
                                     headers=f.auth(boss)), 409, "name_taken")
    assert await count(Building) == 1


async def test_committee_creates_households_with_their_area(client, session, place):
    c, boss = place
    b = await f.building(session, c)
    r = await client.post(f"{API}/communities/{c.id}/households",
                          json={"building_id": b.id, "unit": "1单元", "room": "302", "owner_area_m2": "89.55"},
                          headers=f.auth(boss))
    assert r.status_code == 201, r.text
    assert Decimal(r.json()["owner_area_m2"]) == Decimal("89.55")
    stored = await fetch_one(select(Household))
    assert (stored.unit, stored.room, stored.owner_area_m2) == ("1单元", "302", Decimal("89.55"))
    entry = await fetch_one(select(AuditEntry).where(AuditEntry.action == "household.create"))
    assert entry.actor_id == boss.id and entry.after["room"] == "302" and entry.after["owner_area_m2"] == "89.55"


async def test_duplicate_household_is_409(client, session, place):
    c, boss = place
    b = await f.building(session, c)
    await f.household(session, c, b, "302")
    body = assert_problem(await client.post(f"{API}/communities/{c.id}/households",
                                            json={"building_id": b.id, "room": "302"}, headers=f.auth(boss)),
                          409, "household_exists")
    assert body["detail"] == "这一户已经存在。"
    assert await count(Household) == 1


async def test_household_in_another_communitys_building_is_refused_naming_the_field(client, session, place):
    c, boss = place
    other = await f.community(session, "别的社区")
    foreign = await f.building(session, other)
    f.assert_unknown_ref(await client.post(f"{API}/communities/{c.id}/households",
                                           json={"building_id": foreign.id, "room": "101"}, headers=f.auth(boss)),
                         "building_not_found", "building_id")
    assert await count(Household) == 0


@pytest.mark.parametrize(("body", "loc"), [
    ({"room": "101", "owner_area_m2": "-1"}, ["body", "owner_area_m2"]),
    ({"room": "101", "owner_area_m2": "abc"}, ["body", "owner_area_m2"]),
    ({"room": "101", "owner_area_m2": "1.234"}, ["body", "owner_area_m2"]),
    ({"room": "101", "owner_area_m2": 33.335}, ["body", "owner_area_m2"]),
    ({"room": "101", "owner_area_m2": 0}, ["body", "owner_area_m2"]),
    ({"room": "101", "owner_area_m2": "10000.01"}, ["body", "owner_area_m2"]),
    ({"room": "101", "owner_area_m2": True}, ["body", "owner_area_m2"]),
    ({"room": "x" * 51}, ["body", "room"]),
    ({"room": "101", "floor": 3}, ["body", "floor"]),
])
async def test_bad_household_input_is_a_422(client, session, place, body, loc):
    c, boss = place
    problem = assert_problem(await client.post(f"{API}/communities/{c.id}/households", json=body,
                                               headers=f.auth(boss)), 422, "invalid")
    assert problem["errors"][0]["loc"] == loc
    assert problem["errors"][0]["msg"] and not problem["errors"][0]["msg"].isascii()  # said in zh-CN
    assert await count(Household) == 0


@pytest.mark.parametrize("path", ["grids", "buildings", "households"])
async def test_only_the_committee_changes_places(client, session, place, path):
    c, _ = place
    body = {"name": "新的"} if path != "households" else {"room": "101"}
    for roles in ((), ("grid_worker",), ("building_leader",), ("owner",), ("handler",)):
        who = await f.member(session, c, *roles)
        assert_problem(await client.post(f"{API}/communities/{c.id}/{path}", json=body, headers=f.auth(who)),
                       403, "forbidden_role")
    assert await count(Grid) + await count(Building) + await count(Household) == 0


async def test_households_are_for_staff_and_building_leaders(client, session, place):
    c, _ = place
    b = await f.building(session, c)
    await f.household(session, c, b)
    for roles, status in (((), 403), (("owner",), 403), (("handler",), 403), (("grid_worker",), 200),
                          (("building_leader",), 200), (("committee",), 200)):
        who = await f.member(session, c, *roles)
        r = await client.get(f"{API}/communities/{c.id}/households", headers=f.auth(who))
        assert r.status_code == status, (roles, r.text)


async def test_households_filter_by_building(client, session, place):
    c, boss = place
    b1 = await f.building(session, c, "1栋")
    b2 = await f.building(session, c, "2栋")
    await f.household(session, c, b1, "101")
    await f.household(session, c, b2, "201")
    r = await client.get(f"{API}/communities/{c.id}/households", params={"building_id": b2.id}, headers=f.auth(boss))
    assert [h["room"] for h in r.json()["items"]] == ["201"]


async def test_an_outsider_sees_none_of_the_places(client, session, place):
    c, _ = place
    await f.grid(session, c)
    outsider = await f.member(session, await f.community(session, "别的社区"), "committee")
    for path in ("grids", "buildings", "households"):
        assert_problem(await client.get(f"{API}/communities/{c.id}/{path}", headers=f.auth(outsider)), 404,
                       "community_not_found")
