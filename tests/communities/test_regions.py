"""Regions and communities: platform admins create them, street/district admins below their region."""

from __future__ import annotations

from sqlalchemy import select

from app.communities.models import Community, Region, RegionAdmin
from app.core.audit import AuditEntry
from tests import factories as f
from tests.accounts.support import API, count, fetch_one
from tests.factories import assert_problem


async def platform_admin(session):
    return await f.person(session, name="平台管理员", is_platform_admin=True)


async def region_admin(session, region: Region, name: str = "街道干部"):
    p = await f.person(session, name=name)
    session.add(RegionAdmin(region_id=region.id, person_id=p.id))
    await session.commit()
    return p


async def tree(session):
    """武汉市 → 洪山区 → 花山街道 and 关山街道."""
    city = await f.region(session, "武汉市", "city")
    district = await f.region(session, "洪山区", "district", city.id)
    huashan = await f.region(session, "花山街道", "street", district.id)
    guanshan = await f.region(session, "关山街道", "street", district.id)
    return city, district, huashan, guanshan


async def test_platform_admin_builds_the_region_tree(client, session):
    admin = await platform_admin(session)
    h = f.auth(admin)
    r = await client.post(f"{API}/regions", json={"name": "武汉市", "level": "city"}, headers=h)
    assert r.status_code == 201, r.text
    city = r.json()
    r = await client.post(f"{API}/regions", json={"name": "洪山区", "level": "district", "parent_id": city["id"]},
                          headers=h)
    district = r.json()
    r = await client.post(f"{API}/regions", json={"name": "花山街道", "level": "street",
                                                  "parent_id": district["id"]}, headers=h)
    assert r.status_code == 201 and r.json()["parent_id"] == district["id"]
    assert [x["name"] for x in (await client.get(f"{API}/regions", headers=h)).json()] == ["武汉市"]
    detail = (await client.get(f"{API}/regions/{city['id']}", headers=h)).json()
    assert [c["name"] for c in detail["children"]] == ["洪山区"]
    audit = await fetch_one(select(AuditEntry).where(AuditEntry.object_id == city["id"]))
    assert (audit.action, audit.actor_id, audit.after["name"]) == ("region.create", admin.id, "武汉市")


async def test_a_region_must_sit_below_its_parent(client, session):
    admin = await platform_admin(session)
    _, district, street, _ = await tree(session)
    before = await count(Region)
    for level, parent in (("district", street.id), ("district", district.id), ("city", district.id)):
        body = assert_problem(await client.post(f"{API}/regions", json={"name": "错层", "level": level,
                                                                        "parent_id": parent},
                                                headers=f.auth(admin, "en")), 422, "region_level")
        assert "city → district → street" in body["detail"]
    assert await count(Region) == before


async def test_only_admins_create_regions(client, session):
    c = await f.community(session)
    boss = await f.member(session, c, "committee")
    _, district, street, _ = await tree(session)
    before = await count(Region)
    body = assert_problem(await client.post(f"{API}/regions", json={"name": "新区", "level": "city"},
                                            headers=f.auth(boss)), 403, "forbidden_region")
    assert "管理员" in body["detail"]
    # A street admin may not add a district above or beside them.
    street_admin = await region_admin(session, street)
    assert_problem(await client.post(f"{API}/regions", json={"name": "旁区", "level": "district",
                                                              "parent_id": district.id},
                                     headers=f.auth(street_admin)), 403)
    assert await count(Region) == before


async def test_unknown_parent_region(client, session):
    admin = await platform_admin(session)
    nobody = await f.person(session)
    body = {"name": "某街道", "level": "street", "parent_id": "01h0000000000000000000000"}
    f.assert_unknown_ref(await client.post(f"{API}/regions", json=body, headers=f.auth(admin)), "region_not_found",
                         "parent_id")
    # Someone who may not create regions learns nothing about which ids exist.
    assert_problem(await client.post(f"{API}/regions", json=body, headers=f.auth(nobody)), 403)
    assert await count(Region) == 0


async def test_bad_region_input_is_a_422(client, session):
    admin = await platform_admin(session)
    for body, loc in (({"name": "", "level": "city"}, ["body", "name"]),
                      ({"name": "市", "level": "province"}, ["body", "level"]),
                      ({"level": "city"}, ["body", "name"]),
                      ({"name": "市", "level": "city", "extra": 1}, ["body", "extra"])):
        problem = assert_problem(await client.post(f"{API}/regions", json=body, headers=f.auth(admin)), 422)
        assert problem["errors"][0]["loc"] == loc
    assert await count(Region) == 0


async def test_platform_admin_creates_communities_anywhere(client, session):
    admin = await platform_admin(session)
    _, _, street, _ = await tree(session)
    r = await client.post(f"{API}/communities", json={"name": "幸福里社区", "region_id": street.id,
                                                      "address": "花山大道1号"}, headers=f.auth(admin))
    assert r.status_code == 201, r.text
    assert (r.json()["region_id"], r.json()["kind"]) == (street.id, "community")
    r = await client.post(f"{API}/communities", json={"name": "无区域村", "kind": "village"}, headers=f.auth(admin))
    assert r.status_code == 201 and r.json()["region_id"] is None


async def test_street_admin_creates_communities_under_their_street_only(client, session):
    _, district, huashan, guanshan = await tree(session)
    admin = await region_admin(session, huashan)
    h = f.auth(admin)
    r = await client.post(f"{API}/communities", json={"name": "花山社区", "region_id": huashan.id}, headers=h)
    assert r.status_code == 201, r.text
    for region_id in (guanshan.id, district.id, None):
        body = {"name": "别处社区"} | ({"region_id": region_id} if region_id else {})
        assert_problem(await client.post(f"{API}/communities", json=body, headers=h), 403, "forbidden_region")
    en = assert_problem(await client.post(f"{API}/communities", json={"name": "别处", "region_id": guanshan.id},
                                          headers=f.auth(admin, "en")), 403)
    assert "admin" in en["detail"].lower()
    assert await count(Community) == 1


async def test_district_admin_creates_communities_in_any_street_below(client, session):
    _, district, huashan, guanshan = await tree(session)
    admin = await region_admin(session, district, "区干部")
    for street in (huashan, guanshan):
        r = await client.post(f"{API}/communities", json={"name": f"{street.name}社区", "region_id": street.id},
                              headers=f.auth(admin))
        assert r.status_code == 201


async def test_a_resident_cannot_create_communities(client, session):
    _, _, street, _ = await tree(session)
    c = await f.community(session, region_id=street.id)
    resident = await f.member(session, c)
    boss = await f.member(session, c, "committee", name="书记")
    for who in (resident, boss):
        assert_problem(await client.post(f"{API}/communities", json={"name": "新社区", "region_id": street.id},
                                         headers=f.auth(who)), 403, "forbidden_region")
    assert await count(Community) == 1


async def test_street_admin_sees_the_communities_below_them(client, session):
    _, district, huashan, guanshan = await tree(session)
    mine = await f.community(session, "花山社区", huashan.id)
    theirs = await f.community(session, "关山社区", guanshan.id)
    admin = await region_admin(session, huashan)
    listed = (await client.get(f"{API}/communities", headers=f.auth(admin))).json()
    assert [(c["community_id"], c["via"], c["roles"]) for c in listed] == [(mine.id, "region_admin", ["committee"])]
    assert (await client.get(f"{API}/communities/{mine.id}", headers=f.auth(admin))).status_code == 200
    assert_problem(await client.get(f"{API}/communities/{theirs.id}", headers=f.auth(admin)), 404,
                   "community_not_found")
    district_admin = await region_admin(session, district, "区干部")
    listed = (await client.get(f"{API}/communities", headers=f.auth(district_admin))).json()
    assert {c["community_id"] for c in listed} == {mine.id, theirs.id}


async def test_region_detail_rolls_up_the_communities_below(client, session):
    _, district, huashan, guanshan = await tree(session)
    a = await f.community(session, "花山社区", huashan.id)
    b = await f.community(session, "关山社区", guanshan.id)
    await f.member(session, a, "committee")
    await f.member(session, a)
    await f.member(session, b)
    b1 = await f.building(session, a)
    await f.household(session, a, b1, "101")
    await f.household(session, a, b1, "102")
    from app.communities.models import JoinRequest

    applicant = await f.person(session)
    session.add(JoinRequest(community_id=b.id, person_id=applicant.id))
    await session.commit()
    admin = await region_admin(session, district, "区干部")
    detail = (await client.get(f"{API}/regions/{district.id}", headers=f.auth(admin))).json()
    assert detail["totals"] == {"communities": 2, "members": 3, "households": 2, "pending_joins": 1}
    rollups = {c["name"]: (c["members"], c["households"], c["pending_joins"]) for c in detail["communities"]}
    assert rollups == {"花山社区": (2, 2, 0), "关山社区": (1, 0, 1)}
    assert {c["name"] for c in detail["children"]} == {"花山街道", "关山街道"}

    street_admin = await region_admin(session, huashan)
    detail = (await client.get(f"{API}/regions/{huashan.id}", headers=f.auth(street_admin))).json()
    assert detail["totals"]["communities"] == 1


async def test_region_detail_is_hidden_from_those_outside_it(client, session):
    _, district, huashan, guanshan = await tree(session)
    c = await f.community(session, "花山社区", huashan.id)
    resident = await f.member(session, c)
    admin = await region_admin(session, guanshan)
    for who, rid in ((resident, huashan.id), (admin, huashan.id), (admin, district.id)):
        assert_problem(await client.get(f"{API}/regions/{rid}", headers=f.auth(who)), 404, "region_not_found")
    assert (await client.get(f"{API}/regions", headers=f.auth(resident))).json() == []
    assert [r["id"] for r in (await client.get(f"{API}/regions", headers=f.auth(admin))).json()] == [guanshan.id]


# --- the community itself ---

async def test_community_detail_shows_path_stats_and_my_roles(client, session):
    city, district, street, _ = await tree(session)
    c = await f.community(session, region_id=street.id)
    boss = await f.member(session, c, "committee")
    await f.grid(session, c)
    await f.building(session, c)
    d = (await client.get(f"{API}/communities/{c.id}", headers=f.auth(boss))).json()
    assert [r["id"] for r in d["region_path"]] == [city.id, district.id, street.id]
    assert d["stats"] == {"grids": 1, "buildings": 1, "households": 0, "members": 1, "pending_joins": 0}
    assert d["my_roles"] == ["committee", "resident"]


async def test_committee_edits_the_community_and_it_is_audited(client, session):
    c = await f.community(session, "旧名社区")
    boss = await f.member(session, c, "committee")
    r = await client.patch(f"{API}/communities/{c.id}", json={"name": "新名社区", "description": "介绍"},
                           headers=f.auth(boss))
    assert r.status_code == 200 and r.json()["name"] == "新名社区"
    entry = await fetch_one(select(AuditEntry).where(AuditEntry.action == "community.update"))
    assert entry.actor_id == boss.id
    assert entry.before == {"name": "旧名社区", "description": ""}
    assert entry.after == {"name": "新名社区", "description": "介绍"}


async def test_residents_cannot_edit_the_community(client, session):
    c = await f.community(session, "旧名社区")
    resident = await f.member(session, c, "grid_worker")
    body = assert_problem(await client.patch(f"{API}/communities/{c.id}", json={"name": "改名"},
                                             headers=f.auth(resident)), 403, "forbidden_role")
    assert body["detail"] == "您在本社区的身份不能进行此操作。"
    body = assert_problem(await client.patch(f"{API}/communities/{c.id}", json={"name": "改名"},
                                             headers=f.auth(resident, "en")), 403, "forbidden_role")
    assert "role" in body["detail"]
    assert (await fetch_one(select(Community))).name == "旧名社区"
    assert await count(AuditEntry) == 0


async def test_blanking_a_community_field_is_refused(client, session):
    c = await f.community(session, "旧名社区")
    boss = await f.member(session, c, "committee")
    for body in ({"name": None}, {"address": None}, {"name": ""}, {"kind": "village"}):
        problem = assert_problem(await client.patch(f"{API}/communities/{c.id}", json=body, headers=f.auth(boss)),
                                 422, "invalid")
        assert problem["errors"][0]["loc"] == ["body", next(iter(body))]
    assert (await fetch_one(select(Community))).name == "旧名社区"
