"""Reporting, seeing and finding issues; every bad input refused with nothing changed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.issues.models import Issue
from tests import factories as f
from tests.factories import assert_problem
from tests.issues.support import act, photo, place, report


async def count_issues(session) -> int:
    return int((await session.execute(select(func.count()).select_from(Issue))).scalar_one())


@pytest.mark.parametrize("change,field", [
    ({"title": ""}, "title"),
    ({"title": "长" * 101}, "title"),
    ({"description": "字" * 4001}, "description"),
    ({"lat": 91, "lng": 114.3}, "lat"),
    ({"lat": 30.5, "lng": -181}, "lng"),
    ({"category_id": None}, "category_id"),
    ({"photo_ids": [f"p{i}" for i in range(10)]}, "photo_ids"),
    ({"source": "gossip"}, "source"),
    ({"surprise": 1}, "surprise"),
])
async def test_bad_reports_are_422_and_store_nothing(client, session, change, field):
    p = await place(client, session)
    body = {"title": "路灯不亮", "category_id": p.category_id, **change}
    r = await client.post(f"/api/v1/communities/{p.c.id}/issues", headers=f.auth(p.resident), json=body)
    problem = assert_problem(r, 422, "invalid")
    assert field in {str(x) for e in problem["errors"] for x in e["loc"]}
    assert await count_issues(session) == 0


async def test_another_communitys_category_building_or_photo_is_refused_naming_the_field(client, session):
    p = await place(client, session)
    q = await place(client, session, name="隔壁社区")
    theirs = await photo(client, q.c, q.resident)
    for change, code, loc in (({"category_id": q.category_id}, "category_not_found", ["category_id"]),
                              ({"building_id": q.building_id}, "building_not_found", ["building_id"]),
                              ({"photo_ids": [theirs]}, "upload_not_found", ["photo_ids", 0])):
        r = await client.post(f"/api/v1/communities/{p.c.id}/issues", headers=f.auth(p.resident),
                              json={"title": "路灯", "category_id": p.category_id, **change})
        f.assert_unknown_ref(r, code, *loc)
    assert await count_issues(session) == 0
    theirs_issue = await report(client, q)
    assert_problem(await client.get(f"/api/v1/communities/{p.c.id}/issues/{theirs_issue['id']}",
                                    headers=f.auth(p.committee)), 404, "issue_not_found")
    assert_problem(await act(client, p, theirs_issue["id"], p.committee, "accept"), 404)
    assert_problem(await client.get(f"/api/v1/communities/{q.c.id}/issues", headers=f.auth(p.resident)), 404)


async def test_residents_cannot_make_staff_only_reports_or_claim_another_source(client, session):
    p = await place(client, session)
    for change in ({"staff_only": True}, {"source": "hotline"}):
        r = await client.post(f"/api/v1/communities/{p.c.id}/issues", headers=f.auth(p.resident),
                              json={"title": "纠纷", "category_id": p.category_id, **change})
        assert_problem(r, 403, "issue_staff_fields")


async def test_a_staff_only_issue_is_invisible_to_residents_everywhere(client, session):
    p = await place(client, session)
    secret = await report(client, p, who=p.grid_worker, title="邻里纠纷调解", staff_only=True, source="grid_patrol")
    public = await report(client, p, title="路灯不亮")
    base = f"/api/v1/communities/{p.c.id}/issues"
    resident = f.auth(p.resident)
    listed = (await client.get(base, headers=resident)).json()["items"]
    assert [i["id"] for i in listed] == [public["id"]]
    assert (await client.get(base, params={"q": "纠纷"}, headers=resident)).json()["items"] == []
    for path in ("", "/timeline", "/comments"):
        assert_problem(await client.get(f"{base}/{secret['id']}{path}", headers=resident), 404, "issue_not_found")
    assert_problem(await client.post(f"{base}/{secret['id']}/support", headers=resident), 404)
    staff = (await client.get(base, headers=f.auth(p.committee))).json()["items"]
    assert {i["id"] for i in staff} == {public["id"], secret["id"]}


async def test_hidden_reporter_name_is_shown_to_staff_only(client, session):
    p = await place(client, session)
    issue = await report(client, p, hide_reporter=True)
    url = f"/api/v1/communities/{p.c.id}/issues/{issue['id']}"
    seen_by_neighbour = (await client.get(url, headers=f.auth(p.neighbour))).json()
    assert seen_by_neighbour["reporter_name"] is None and seen_by_neighbour["reporter_id"] is None
    assert (await client.get(url, headers=f.auth(p.committee))).json()["reporter_name"] == "李明"
    timeline = (await client.get(url + "/timeline", headers=f.auth(p.neighbour))).json()
    assert timeline[0]["actor_name"] is None


async def test_filters_sorts_and_cursor_walk_every_issue_once(client, session):
    p = await place(client, session)
    ids = [(await report(client, p, title=f"问题{i}"))["id"] for i in range(7)]
    for n, iid in enumerate(ids[:3]):
        for who in (p.neighbour, p.committee, p.grid_worker)[: n + 1]:
            await client.post(f"/api/v1/communities/{p.c.id}/issues/{iid}/support", headers=f.auth(who))
    await act(client, p, ids[4], p.committee, "dispatch", handler_id=p.handler_id)
    base = f"/api/v1/communities/{p.c.id}/issues"
    for sort in ("-created", "-supports", "deadline"):
        seen, cursor = [], None
        while True:
            params = {"limit": 2, "sort": sort, **({"cursor": cursor} if cursor else {})}
            page = (await client.get(base, params=params, headers=f.auth(p.resident))).json()
            seen += [i["id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert sorted(seen) == sorted(ids), sort
        if sort == "-supports":
            assert seen[:3] == [ids[2], ids[1], ids[0]]
        if sort == "deadline":
            assert seen[0] == ids[4]
    dispatched = (await client.get(base, params={"status": "dispatched"}, headers=f.auth(p.resident))).json()
    assert [i["id"] for i in dispatched["items"]] == [ids[4]]
    handling = (await client.get(base, params={"mine": "handling"}, headers=f.auth(p.handler))).json()
    assert [i["id"] for i in handling["items"]] == [ids[4]]
    assert_problem(await client.get(base, params={"status": "lost"}, headers=f.auth(p.resident)), 422)
    assert_problem(await client.get(base, params={"sort": "random"}, headers=f.auth(p.resident)), 422)
    assert_problem(await client.get(base, params={"cursor": "!!"}, headers=f.auth(p.resident)), 422)


async def test_comments_with_photos_and_the_count(client, session):
    p = await place(client, session)
    iid = (await report(client, p))["id"]
    url = f"/api/v1/communities/{p.c.id}/issues/{iid}/comments"
    r = await client.post(url, headers=f.auth(p.neighbour),
                          json={"body": "我家门口也是", "photo_ids": [await photo(client, p.c, p.neighbour)]})
    assert r.status_code == 201 and r.json()["author_name"] == "赵敏" and len(r.json()["photos"]) == 1
    assert_problem(await client.post(url, headers=f.auth(p.neighbour), json={"body": ""}), 422)
    assert_problem(await client.post(url, headers=f.auth(p.neighbour), json={"body": "x" * 2001}), 422)
    listed = (await client.get(url, headers=f.auth(p.resident))).json()
    assert len(listed["items"]) == 1
    detail = (await client.get(f"/api/v1/communities/{p.c.id}/issues/{iid}", headers=f.auth(p.resident))).json()
    assert detail["comments_count"] == 1


async def test_categories_and_handlers_are_configured_by_the_committee(client, session):
    p = await place(client, session)
    base = f"/api/v1/communities/{p.c.id}"
    assert_problem(await client.post(f"{base}/categories", headers=f.auth(p.resident),
                                     json={"name": "电梯", "deadline_days": 2}), 403)
    r = await client.post(f"{base}/categories", headers=f.auth(p.committee),
                          json={"name": "电梯", "deadline_days": 2, "default_handler_id": p.handler_id})
    assert r.status_code == 201
    assert_problem(await client.post(f"{base}/categories", headers=f.auth(p.committee), json={"name": "电梯"}),
                   409, "name_taken")
    outsider = await f.person(session)
    assert_problem(await client.post(f"{base}/handlers", headers=f.auth(p.committee),
                                     json={"name": "水务", "member_ids": [outsider.id]}), 422, "member_not_found")
    names = [c["name"] for c in (await client.get(f"{base}/categories", headers=f.auth(p.resident))).json()]
    assert names[0] == "环境卫生" and "电梯" in names and len(names) == 12


async def test_a_grid_worker_sees_the_issues_of_their_own_grids(client, session):
    p = await place(client, session)
    other_grid = await f.grid(session, p.c, name="第二网格")
    elsewhere = await f.building(session, p.c, name="9栋", grid=other_grid)
    mine = await report(client, p)
    await report(client, p, building_id=elsewhere.id, title="9栋井盖松动")
    base = f"/api/v1/communities/{p.c.id}/issues"
    patrol = (await client.get(base, params={"mine": "grid"}, headers=f.auth(p.grid_worker))).json()["items"]
    assert [i["id"] for i in patrol] == [mine["id"]]
    assert (await client.get(base, params={"mine": "grid"}, headers=f.auth(p.resident))).json()["items"] == []
