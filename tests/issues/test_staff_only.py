"""Staff-only issues (disputes 纠纷) and handlers: the committee and grid workers see them all; a
handler sees one only once it is dispatched to their unit (or they reported it) — its page, list,
search, map, duplicates, comments, timeline, photos, following and support alike. Everyone else
gets 404, as if it did not exist."""

from __future__ import annotations

from typing import Any

from app.accounts.models import Person
from tests import factories as f
from tests.factories import assert_problem
from tests.issues.support import Place, act, photo, place, report

LAT, LNG = 31.2304, 121.4737


async def second_unit(client: Any, session: Any, p: Place) -> tuple[Person, str]:
    """Another handler unit, with its own member."""
    plumber = await f.member(session, p.c, "handler", name="孙师傅")
    r = await client.post(f"/api/v1/communities/{p.c.id}/handlers", headers=f.auth(p.committee),
                          json={"name": "幸福里水务", "kind": "unit", "member_ids": [plumber.id]})
    assert r.status_code == 201, r.text
    return plumber, str(r.json()["id"])


async def dispute(client: Any, p: Place) -> dict[str, Any]:
    pic = await photo(client, p.c, p.grid_worker)
    return await report(client, p, who=p.grid_worker, title="楼上漏水邻里纠纷", staff_only=True, source="grid_patrol",
                        lat=LAT, lng=LNG, photo_ids=[pic])


async def sight(client: Any, p: Place, issue_id: str, who: Person) -> dict[str, bool]:
    """Where this person finds the issue: each way in, True if it is there."""
    base, h = f"/api/v1/communities/{p.c.id}/issues", f.auth(who)
    listed = (await client.get(base, headers=h)).json()["items"]
    found = (await client.get(base, headers=h, params={"q": "漏水"})).json()["items"]
    mapped = (await client.get(f"{base}/map", headers=h)).json()["features"]
    similar = (await client.get(f"{base}/similar", headers=h, params={"title": "楼上漏水邻里纠纷"})).json()["items"]
    out = {"list": issue_id in [i["id"] for i in listed], "search": issue_id in [i["id"] for i in found],
           "map": issue_id in [x["id"] for x in mapped], "similar": issue_id in [i["id"] for i in similar]}
    for name, method, path, body in (
        ("page", "GET", "", None), ("timeline", "GET", "/timeline", None), ("comments", "GET", "/comments", None),
        ("comment", "POST", "/comments", {"body": "我来看看"}), ("follow", "POST", "/follow", None),
        ("support", "POST", "/support", None),
    ):
        r = await client.request(method, f"{base}/{issue_id}{path}", headers=h, json=body)
        if r.status_code == 404:
            assert_problem(r, 404, "issue_not_found")
        else:
            assert r.status_code in (200, 201), (name, r.text)
        out[name] = r.status_code != 404
    return out


def everywhere(seen: dict[str, bool]) -> bool:
    return all(seen.values())


def nowhere(seen: dict[str, bool]) -> bool:
    return not any(seen.values())


async def test_a_handler_sees_a_staff_only_issue_only_once_it_is_dispatched_to_their_unit(client, session):
    p = await place(client, session)
    plumber, _ = await second_unit(client, session, p)
    issue = await dispute(client, p)

    assert nowhere(await sight(client, p, issue["id"], p.handler))
    assert_problem(await act(client, p, issue["id"], p.handler, "start"), 404, "issue_not_found")
    assert (await act(client, p, issue["id"], p.committee, "dispatch", handler_id=p.handler_id)).status_code == 200

    assert everywhere(await sight(client, p, issue["id"], p.handler))
    assert (await act(client, p, issue["id"], p.handler, "start")).status_code == 200
    assert nowhere(await sight(client, p, issue["id"], plumber))  # another unit's handler
    assert nowhere(await sight(client, p, issue["id"], p.resident))
    for staff in (p.committee, p.grid_worker):
        assert everywhere(await sight(client, p, issue["id"], staff))


async def test_rerouting_a_staff_only_issue_takes_it_out_of_the_first_units_sight(client, session):
    p = await place(client, session)
    plumber, water = await second_unit(client, session, p)
    issue = await dispute(client, p)
    assert (await act(client, p, issue["id"], p.committee, "dispatch", handler_id=p.handler_id)).status_code == 200

    r = await act(client, p, issue["id"], p.committee, "reroute", handler_id=water, reason="是水管问题")
    assert r.status_code == 200, r.text

    assert nowhere(await sight(client, p, issue["id"], p.handler))
    assert everywhere(await sight(client, p, issue["id"], plumber))


async def test_a_handler_sees_the_staff_only_issues_they_reported(client, session):
    p = await place(client, session)
    plumber, _ = await second_unit(client, session, p)
    pic = await photo(client, p.c, plumber)
    issue = await report(client, p, who=plumber, title="楼上漏水邻里纠纷", staff_only=True, source="grid_patrol",
                         lat=LAT, lng=LNG, photo_ids=[pic])

    assert everywhere(await sight(client, p, issue["id"], plumber))
    assert nowhere(await sight(client, p, issue["id"], p.handler))


async def test_the_handler_a_staff_only_issue_is_dispatched_to_is_told_of_it_and_no_other_handler(client, session):
    p = await place(client, session)
    plumber, _ = await second_unit(client, session, p)
    issue = await dispute(client, p)
    assert (await act(client, p, issue["id"], p.committee, "dispatch", handler_id=p.handler_id)).status_code == 200
    assert (await act(client, p, issue["id"], p.handler, "start")).status_code == 200

    told = (await client.get("/api/v1/notifications", headers=f.auth(p.handler))).json()["items"]
    assert [n["kind"] for n in told] == ["issue.assigned"]
    assert (await client.get("/api/v1/notifications", headers=f.auth(plumber))).json()["items"] == []
