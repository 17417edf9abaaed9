"""Possible duplicates while reporting: nearby in the same category, or with a similar title."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.issues import duplicates as d
from tests import factories as f
from tests.factories import assert_problem
from tests.issues.support import Place, place, report

LAT, LNG = 30.5928, 114.3055  # 武汉
M_PER_DEG_LAT = 111_195.0

lats = st.floats(min_value=-89.9, max_value=89.9, allow_nan=False)
lngs = st.floats(min_value=-180, max_value=180, allow_nan=False)


@given(lats, lngs, lats, lngs)
def test_distance_is_a_symmetric_non_negative_bounded_metric(lat1, lng1, lat2, lng2):
    a = d.distance_m(lat1, lng1, lat2, lng2)
    assert a >= 0 and math.isclose(a, d.distance_m(lat2, lng2, lat1, lng1), abs_tol=1e-6)
    assert a <= math.pi * d.EARTH_RADIUS_M + 1e-6
    assert d.distance_m(lat1, lng1, lat1, lng1) == 0


@given(lats, lngs, lats, lngs, lats, lngs)
def test_distance_obeys_the_triangle_inequality(la, ga, lb, gb, lc, gc):
    assert d.distance_m(la, ga, lc, gc) <= d.distance_m(la, ga, lb, gb) + d.distance_m(lb, gb, lc, gc) + 1e-6


@given(lats, lngs, st.floats(min_value=0, max_value=1), st.floats(min_value=0, max_value=2 * math.pi))
def test_every_point_within_the_radius_is_inside_the_bounding_box(lat, lng, frac, bearing):
    radius = 100.0
    dist = frac * radius * 0.999
    lat2 = lat + math.degrees(dist * math.cos(bearing) / d.EARTH_RADIUS_M)
    lng2 = lng + math.degrees(dist * math.sin(bearing) / (d.EARTH_RADIUS_M * max(1e-9, math.cos(math.radians(lat)))))
    if not (-90 <= lat2 <= 90 and -180 <= lng2 <= 180) or d.distance_m(lat, lng, lat2, lng2) > radius:
        return
    min_lat, max_lat, min_lng, max_lng = d.bounding_box(lat, lng, radius)
    assert min_lat <= lat2 <= max_lat and min_lng <= lng2 <= max_lng


def test_distance_of_known_points():
    assert math.isclose(d.distance_m(LAT, LNG, LAT + 100 / M_PER_DEG_LAT, LNG), 100, rel_tol=1e-3)
    assert math.isclose(d.distance_m(0, 0, 0, 180), math.pi * d.EARTH_RADIUS_M)


def test_title_similarity_by_character_bigrams():
    assert d.bigrams("路灯不亮") == {"路灯", "灯不", "不亮"}
    assert d.bigrams("LED 灯!") == {"le", "ed", "d灯"}
    assert d.title_similarity("3栋路灯不亮", "3栋路灯不亮") == 1
    assert d.title_similarity("3栋路灯不亮", "路灯不亮") >= d.SIMILAR_TITLE_MIN
    assert d.title_similarity("3栋路灯不亮", "垃圾桶满了") == 0
    assert d.title_similarity("", "路灯") == 0


def test_rank_puts_both_reasons_first_then_nearest():
    cands = [d.Candidate("far-title", "3栋路灯不亮", None, None, "c"),
             d.Candidate("near", "垃圾桶", LAT + 10 / M_PER_DEG_LAT, LNG, "c"),
             d.Candidate("both", "3栋路灯坏了不亮", LAT, LNG, "c"),
             d.Candidate("other-cat", "垃圾桶", LAT, LNG, "x"),
             d.Candidate("too-far", "垃圾桶", LAT + 150 / M_PER_DEG_LAT, LNG, "c")]
    got = d.rank(cands, title="3栋路灯不亮", lat=LAT, lng=LNG, category_id="c")
    assert [m.id for m in got] == ["both", "far-title", "near"]
    assert got[0].reasons == ("nearby", "similar_title") and got[1].reason == "similar_title"
    assert got[2].reason == "nearby" and got[2].distance_m is not None and 9 < got[2].distance_m < 11


async def similar(client: Any, p: Place, who: Any, **params: Any) -> Any:
    return await client.get(f"/api/v1/communities/{p.c.id}/issues/similar", headers=f.auth(who), params=params)


async def test_nearby_open_issues_in_the_same_category_are_offered(client, session):
    p = await place(client, session)
    near = await report(client, p, title="灯坏", lat=LAT + 50 / M_PER_DEG_LAT, lng=LNG)
    await report(client, p, title="灯坏", lat=LAT + 150 / M_PER_DEG_LAT, lng=LNG)
    cats = (await client.get(f"/api/v1/communities/{p.c.id}/categories", headers=f.auth(p.committee))).json()
    roads = next(c["id"] for c in cats if c["name"] == "道路")
    await report(client, p, title="坑", category_id=roads, lat=LAT, lng=LNG)
    r = await similar(client, p, p.neighbour, category_id=p.category_id, lat=LAT, lng=LNG)
    assert r.status_code == 200, r.text
    (item,) = r.json()["items"]
    assert item["id"] == near["id"] and item["reason"] == "nearby" and 49 < item["distance_m"] < 51


async def test_similar_titles_are_offered_for_titles_of_one_two_and_more_characters(client, session):
    p = await place(client, session)
    issue = await report(client, p, title="3栋路灯不亮")
    await report(client, p, title="垃圾桶满了")
    for title in ("3栋路灯又不亮了", "路灯不亮", "路灯"):
        r = await similar(client, p, p.neighbour, title=title)
        assert [(i["id"], i["reason"], i["distance_m"]) for i in r.json()["items"]] == [
            (issue["id"], "similar_title", None)], title
    assert (await similar(client, p, p.neighbour, title="灯")).json()["items"] == []


async def test_closed_and_staff_only_issues_are_not_offered(client, session):
    p = await place(client, session)
    secret = await report(client, p, who=p.committee, title="3栋路灯电缆被盗", staff_only=True, lat=LAT, lng=LNG)
    r = await similar(client, p, p.resident, title="3栋路灯电缆被盗", category_id=p.category_id, lat=LAT, lng=LNG)
    assert r.json()["items"] == []
    staff = await similar(client, p, p.committee, title="3栋路灯电缆被盗", category_id=p.category_id, lat=LAT, lng=LNG)
    assert [i["id"] for i in staff.json()["items"]] == [secret["id"]]
    assert staff.json()["items"][0]["reasons"] == ["nearby", "similar_title"]
    from tests.issues.support import act

    assert (await act(client, p, secret["id"], p.committee, "reject", reason="重复")).status_code == 200
    staff = await similar(client, p, p.committee, title="3栋路灯电缆被盗")
    assert staff.json()["items"] == []


async def test_at_most_ten_are_offered(client, session):
    p = await place(client, session)
    for n in range(12):
        await report(client, p, title=f"路灯不亮{n}", lat=LAT, lng=LNG)
    r = await similar(client, p, p.neighbour, title="路灯不亮", category_id=p.category_id, lat=LAT, lng=LNG)
    assert len(r.json()["items"]) == 10


async def test_bad_input_is_422_and_another_communitys_category_is_404(client, session):
    p = await place(client, session)
    q = await place(client, session, name="隔壁社区")
    await report(client, q, title="3栋路灯不亮", lat=LAT, lng=LNG)
    for params in ({"lat": 91, "lng": LNG}, {"lat": LAT, "lng": -181}, {"title": "长" * 101}, {"lat": LAT}):
        assert_problem(await similar(client, p, p.resident, **params), 422)
    assert_problem(await similar(client, p, p.resident, category_id=q.category_id, lat=LAT, lng=LNG), 404,
                   "category_not_found")
    r = await similar(client, p, p.resident, title="3栋路灯不亮", lat=LAT, lng=LNG)
    assert r.json()["items"] == []
    assert_problem(await similar(client, q, p.resident, title="路灯"), 404)
