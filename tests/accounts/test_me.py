"""GET/PATCH /me: the person, their communities, and which community they are looking at."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import Person
from app.communities.models import Membership, RegionAdmin
from tests import factories as f
from tests.accounts.support import API, EN, fetch_one
from tests.factories import assert_problem


async def test_me_lists_every_community_and_the_roles_there(client, session):
    a = await f.community(session, "幸福里社区")
    b = await f.community(session, "桃源村", kind="village")
    p = await f.member(session, a, "grid_worker", phone="13800000001")
    session.add(Membership(community_id=b.id, person_id=p.id, roles=["owner", "resident"], grid_ids=[]))
    await session.commit()
    me = (await client.get(f"{API}/me", headers=f.auth(p))).json()
    got = {m["community_name"]: (m["roles"], m["via"]) for m in me["memberships"]}
    assert got == {"幸福里社区": (["grid_worker", "resident"], "member"), "桃源村": (["owner", "resident"], "member")}


async def test_region_admin_sees_the_communities_below_in_me(client, session):
    street = await f.region(session)
    c = await f.community(session, region_id=street.id)
    admin = await f.person(session)
    session.add(RegionAdmin(region_id=street.id, person_id=admin.id))
    await session.commit()
    me = (await client.get(f"{API}/me", headers=f.auth(admin))).json()
    assert [(m["community_id"], m["via"]) for m in me["memberships"]] == [(c.id, "region_admin")]
    assert [r["id"] for r in me["region_admin_of"]] == [street.id]


async def test_person_switches_between_their_communities(client, session):
    a = await f.community(session, "A社区")
    b = await f.community(session, "B社区")
    p = await f.member(session, a)
    session.add(Membership(community_id=b.id, person_id=p.id, roles=["resident"], grid_ids=[]))
    await session.commit()
    for cid in (b.id, a.id):
        r = await client.patch(f"{API}/me", json={"current_community_id": cid}, headers=f.auth(p))
        assert r.status_code == 200, r.text
        assert r.json()["current_community_id"] == cid
        assert (await fetch_one(select(Person).where(Person.id == p.id))).current_community_id == cid


async def test_switching_to_a_community_one_cannot_see_is_404(client, session):
    a = await f.community(session, "A社区")
    other = await f.community(session, "B社区")
    p = await f.member(session, a)
    await client.patch(f"{API}/me", json={"current_community_id": a.id}, headers=f.auth(p))
    for cid in (other.id, "01h0000000000000000000000"):
        assert_problem(await client.patch(f"{API}/me", json={"current_community_id": cid}, headers=f.auth(p)),
                       404, "community_not_found")
    me = (await client.get(f"{API}/me", headers=f.auth(p))).json()
    assert me["current_community_id"] == a.id


async def test_name_and_language_can_be_changed(client, session):
    p = await f.person(session, name="")
    r = await client.patch(f"{API}/me", json={"name": "赵六", "locale": "en"}, headers=f.auth(p))
    assert r.status_code == 200
    assert (r.json()["name"], r.json()["locale"]) == ("赵六", "en")


async def test_bad_me_updates_are_refused_and_change_nothing(client, session):
    p = await f.person(session, name="赵六")
    for body, loc in (({"name": None}, ["body", "name"]), ({"locale": "fr"}, ["body", "locale"]),
                      ({"locale": None}, ["body", "locale"]), ({"name": ""}, ["body", "name"]),
                      ({"phone": "13800000009"}, ["body", "phone"]), ({"name": "x" * 51}, ["body", "name"])):
        problem = assert_problem(await client.patch(f"{API}/me", json=body, headers=f.auth(p, "en")), 422, "invalid")
        assert problem["errors"][0]["loc"] == loc, problem
    problem = assert_problem(await client.patch(f"{API}/me", json={"name": None}, headers=f.auth(p)), 422)
    assert problem["errors"][0]["msg"].startswith("不能为空")
    me = (await client.get(f"{API}/me", headers=f.auth(p))).json()
    assert (me["name"], me["locale"], me["phone"]) == ("赵六", "zh-CN", p.phone)


async def test_a_person_changes_their_display_name_trimmed_and_everyone_sees_it(client, session):
    c = await f.community(session)
    p = await f.member(session, c, name="赵六")
    committee = await f.member(session, c, "committee")
    r = await client.patch(f"{API}/me", json={"name": "  赵  小六\n"}, headers=f.auth(p))
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "赵 小六"
    assert (await fetch_one(select(Person).where(Person.id == p.id))).name == "赵 小六"
    members = (await client.get(f"{API}/communities/{c.id}/members", headers=f.auth(committee))).json()["items"]
    assert "赵 小六" in {m["name"] for m in members}
    fifty = "长" * 50  # the limit counts characters, after trimming
    r = await client.patch(f"{API}/me", json={"name": f" {fifty} "}, headers=f.auth(p))
    assert r.status_code == 200 and r.json()["name"] == fifty


async def test_a_blank_or_broken_display_name_is_refused_in_the_callers_language(client, session):
    p = await f.person(session, name="赵六")
    for body, zh, en in (({"name": "   "}, "请填写名字", "Please enter a name"),
                         ({"name": "\n\t"}, "请填写名字", "Please enter a name"),
                         ({"name": "赵\x07六"}, "名字里有无法显示的字符",
                          "The name has characters that cannot be shown"),
                         ({"name": "长" * 51}, "最多 50 个字", None), ({"name": 7}, "应为文字", None)):
        for lang, words in (("zh-CN", zh), ("en", en)):
            r = await client.patch(f"{API}/me", json=body, headers=f.auth(p, lang))
            problem = assert_problem(r, 422, "invalid")
            assert problem["errors"][0]["loc"] == ["body", "name"], problem
            if words:
                assert problem["errors"][0]["msg"] == words, problem
    me = (await client.get(f"{API}/me", headers=f.auth(p))).json()
    assert me["name"] == "赵六"


async def test_me_in_english_refuses_in_english(client):
    body = assert_problem(await client.get(f"{API}/me", headers=EN), 401)
    assert body["detail"] == "Please sign in."
