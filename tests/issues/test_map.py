"""GeoJSON for the map: the list's filters, only issues with a point, staff-only hidden."""

from __future__ import annotations

from typing import Any

from app.issues import listing
from tests import factories as f
from tests.factories import assert_problem
from tests.issues.support import Place, act, place, report

LAT, LNG = 30.5928, 114.3055


async def issue_map(client: Any, p: Place, who: Any, **params: Any) -> Any:
    return await client.get(f"/api/v1/communities/{p.c.id}/issues/map", headers=f.auth(who), params=params)


async def test_map_is_a_feature_collection_of_the_issues_with_a_point(client, session):
    p = await place(client, session)
    a = await report(client, p, lat=LAT, lng=LNG)
    await report(client, p, title="没有位置")
    r = await issue_map(client, p, p.resident)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    body = r.json()
    assert body["type"] == "FeatureCollection" and body["truncated"] is False
    (feature,) = body["features"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [LNG, LAT]}
    assert feature["properties"] | {} == {"id": a["id"], "title": "3栋路灯不亮", "status": "reported",
                                          "category_id": p.category_id, "category": "照明", "supports_count": 0,
                                          "overdue": False}
    assert body["bbox"] == [LNG, LAT, LNG, LAT]


async def test_map_takes_the_lists_filters_and_search(client, session):
    p = await place(client, session)
    a = await report(client, p, lat=LAT, lng=LNG)
    await report(client, p, title="垃圾桶满了", lat=LAT, lng=LNG)
    assert (await act(client, p, a["id"], p.committee, "accept")).status_code == 200
    ids = lambda r: [x["id"] for x in r.json()["features"]]  # noqa: E731
    assert ids(await issue_map(client, p, p.resident, status="accepted")) == [a["id"]]
    assert ids(await issue_map(client, p, p.resident, q="路灯")) == [a["id"]]
    assert len(ids(await issue_map(client, p, p.resident, sort="-supports"))) == 2
    assert_problem(await issue_map(client, p, p.resident, status="bogus"), 422)
    assert_problem(await issue_map(client, p, p.resident, sort="nearest"), 422)


async def test_staff_only_issues_are_not_on_a_residents_map(client, session):
    p = await place(client, session)
    await report(client, p, who=p.committee, title="电缆被盗", staff_only=True, lat=LAT, lng=LNG)
    assert (await issue_map(client, p, p.resident)).json()["features"] == []
    assert len((await issue_map(client, p, p.committee)).json()["features"]) == 1


async def test_map_is_capped_and_says_so(client, session, monkeypatch):
    p = await place(client, session)
    monkeypatch.setattr(listing, "MAP_LIMIT", 2)
    for _ in range(3):
        await report(client, p, lat=LAT, lng=LNG)
    body = (await issue_map(client, p, p.resident)).json()
    assert len(body["features"]) == 2 and body["truncated"] is True


async def test_another_communitys_map_is_404(client, session):
    p = await place(client, session)
    q = await place(client, session, name="隔壁社区")
    await report(client, q, lat=LAT, lng=LNG)
    assert_problem(await issue_map(client, q, p.resident), 404)
    assert (await issue_map(client, p, p.resident, category_id=q.category_id)).json()["features"] == []
