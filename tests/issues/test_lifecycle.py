"""The issue lifecycle through the API: every step, who may take it, and what it needs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import func, select

from app.issues.models import Issue, IssueSupport
from tests import factories as f
from tests.factories import assert_problem
from tests.issues.support import act, photo, place, report


async def test_report_support_dispatch_resolve_reopen_resolve_verify_closes(client, session):
    p = await place(client, session)
    issue = await report(client, p, photo_ids=[await photo(client, p.c, p.resident)])
    assert issue["status"] == "reported" and issue["category"] == "照明" and issue["grid_id"] == p.grid.id
    assert len(issue["photos"]) == 1 and issue["photos"][0]["url"].startswith("http")
    iid = issue["id"]

    s = await client.post(f"/api/v1/communities/{p.c.id}/issues/{iid}/support", headers=f.auth(p.neighbour))
    assert s.json() == {"supported": True, "supports_count": 1}

    r = await act(client, p, iid, p.committee, "dispatch", handler_id=p.handler_id)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "dispatched" and r.json()["deadline_at"]
    assert (await act(client, p, iid, p.handler, "start")).json()["status"] == "in_progress"
    after = await photo(client, p.c, p.handler)
    resolved = await act(client, p, iid, p.handler, "resolve", note="换了灯泡", photo_ids=[after])
    assert resolved.json()["status"] == "resolved", resolved.text
    assert resolved.json()["closed_at"] is None  # resolved is not closed

    reopened = await act(client, p, iid, p.resident, "reopen", reason="还是不亮")
    assert reopened.json()["status"] == "reopened" and reopened.json()["reopen_count"] == 1
    fixed = await photo(client, p.c, p.handler)
    again = await act(client, p, iid, p.handler, "resolve", note="换了线路", photo_ids=[fixed])
    assert again.json()["status"] == "resolved"
    closed = await act(client, p, iid, p.resident, "verify")
    assert closed.json()["status"] == "closed" and closed.json()["closed_at"]

    timeline = (await client.get(f"/api/v1/communities/{p.c.id}/issues/{iid}/timeline",
                                 headers=f.auth(p.neighbour))).json()
    assert [e["action"] for e in timeline] == ["report", "dispatch", "start", "resolve", "reopen", "resolve", "verify"]
    assert timeline[1]["actor_name"] == "陈主任"


async def test_a_step_not_allowed_now_is_409_naming_the_allowed_ones(client, session):
    p = await place(client, session)
    issue = await report(client, p)
    r = await act(client, p, issue["id"], p.handler, "resolve", note="x", photo_ids=["x"])
    body = assert_problem(r, 409, "issue_action_not_allowed")
    assert body["allowed"] == ["accept", "reject", "merge", "dispatch", "close_on_spot"]


async def test_the_wrong_actor_is_403_and_nothing_changes(client, session):
    p = await place(client, session)
    issue = await report(client, p)
    assert_problem(await act(client, p, issue["id"], p.resident, "dispatch", handler_id=p.handler_id), 403,
                   "issue_wrong_actor")
    assert_problem(await act(client, p, issue["id"], p.resident, "accept"), 403)
    detail = (await client.get(f"/api/v1/communities/{p.c.id}/issues/{issue['id']}", headers=f.auth(p.resident)))
    assert detail.json()["status"] == "reported"


async def test_only_the_reporter_or_grid_worker_verifies(client, session):
    p = await place(client, session)
    iid = (await report(client, p))["id"]
    await act(client, p, iid, p.committee, "dispatch", handler_id=p.handler_id)
    await act(client, p, iid, p.handler, "resolve", note="ok", photo_ids=[await photo(client, p.c, p.handler)])
    for who in (p.neighbour, p.handler, p.committee):
        assert_problem(await act(client, p, iid, who, "verify"), 403, "issue_wrong_actor")
    assert (await act(client, p, iid, p.grid_worker, "verify")).json()["status"] == "closed"


async def test_a_deadline_without_a_time_zone_is_422_and_nothing_changes(client, session):
    p = await place(client, session)
    iid = (await report(client, p))["id"]
    r = await act(client, p, iid, p.committee, "dispatch", handler_id=p.handler_id, deadline_at="2099-01-01T18:00:00")
    assert assert_problem(r, 422, "invalid")["errors"] == [
        {"loc": ["body", "deadline_at"], "msg": "请带上时区，例如 2026-12-04T18:00:00+08:00", "type": "timezone_aware"}]
    assert (await session.get(Issue, iid, populate_existing=True)).status == "reported"
    r = await act(client, p, iid, p.committee, "dispatch", handler_id=p.handler_id,
                  deadline_at="2099-01-01T18:00:00+08:00")
    assert datetime.fromisoformat(r.json()["deadline_at"]) == datetime(2099, 1, 1, 10, tzinfo=UTC), r.text


async def test_resolving_needs_an_after_photo_and_a_note(client, session):
    p = await place(client, session)
    iid = (await report(client, p))["id"]
    await act(client, p, iid, p.committee, "dispatch", handler_id=p.handler_id)
    body = assert_problem(await act(client, p, iid, p.handler, "resolve"), 422, "issue_action_needs")
    assert {e["loc"][-1] for e in body["errors"]} == {"note", "photo_ids"}
    assert all(e["msg"] and not e["msg"].startswith("issue.") for e in body["errors"])


async def test_rejecting_needs_a_reason_in_the_callers_language(client, session):
    p = await place(client, session)
    iid = (await report(client, p))["id"]
    r = await client.post(f"/api/v1/communities/{p.c.id}/issues/{iid}/transitions",
                          headers={**f.auth(p.committee), "Accept-Language": "en"}, json={"action": "reject"})
    body = assert_problem(r, 422, "issue_action_needs")
    assert body["errors"][0]["msg"] == "Give a reason"
    ok = await act(client, p, iid, p.committee, "reject", reason="不属于社区职责，已转12345")
    assert ok.json()["status"] == "rejected"


async def test_grid_worker_closes_a_micro_event_on_the_spot_with_a_photo(client, session):
    p = await place(client, session)
    iid = (await report(client, p, who=p.grid_worker, source="grid_patrol", title="楼道杂物"))["id"]
    assert_problem(await act(client, p, iid, p.grid_worker, "close_on_spot"), 422)
    r = await act(client, p, iid, p.grid_worker, "close_on_spot", photo_ids=[await photo(client, p.c, p.grid_worker)])
    assert r.json()["status"] == "closed"


async def test_third_reopen_escalates(client, session):
    p = await place(client, session)
    iid = (await report(client, p))["id"]
    await act(client, p, iid, p.committee, "dispatch", handler_id=p.handler_id)
    for n in (1, 2, 3):
        await act(client, p, iid, p.handler, "resolve", note="修好了", photo_ids=[await photo(client, p.c, p.handler)])
        r = await act(client, p, iid, p.resident, "reopen", reason="没修好")
        assert r.json()["escalated"] is (n == 3), n
    timeline = (await client.get(f"/api/v1/communities/{p.c.id}/issues/{iid}/timeline",
                                 headers=f.auth(p.committee))).json()
    assert timeline[-1]["action"] == "escalate"


async def test_reroute_changes_handler_with_a_reason(client, session):
    p = await place(client, session)
    other = await client.post(f"/api/v1/communities/{p.c.id}/handlers", headers=f.auth(p.committee),
                              json={"name": "供电所", "kind": "unit", "member_ids": []})
    iid = (await report(client, p))["id"]
    await act(client, p, iid, p.committee, "dispatch", handler_id=p.handler_id)
    assert_problem(await act(client, p, iid, p.committee, "reroute", handler_id=other.json()["id"]), 422)
    r = await act(client, p, iid, p.committee, "reroute", handler_id=other.json()["id"], reason="线路归供电所")
    assert r.json()["handler_id"] == other.json()["id"] and r.json()["status"] == "dispatched"
    assert_problem(await act(client, p, iid, p.handler, "start"), 403)  # no longer their queue


async def test_merge_moves_supports_to_the_duplicate_and_tells_the_timeline(client, session):
    p = await place(client, session)
    first = (await report(client, p))["id"]
    dup = (await report(client, p, who=p.neighbour, title="路灯坏了"))["id"]
    await client.post(f"/api/v1/communities/{p.c.id}/issues/{dup}/support", headers=f.auth(p.resident))
    r = await act(client, p, dup, p.committee, "merge", into=first, reason="同一盏灯")
    assert r.json()["status"] == "merged" and r.json()["merged_into_id"] == first
    target = (await client.get(f"/api/v1/communities/{p.c.id}/issues/{first}", headers=f.auth(p.resident))).json()
    assert target["supports_count"] == 1
    assert_problem(await act(client, p, first, p.committee, "merge", into=first, reason="x"), 404)


async def test_two_staff_dispatching_at_once_one_wins_the_other_gets_409(client, session):
    p = await place(client, session)
    other = await f.member(session, p.c, "committee", name="副主任")
    iid = (await report(client, p))["id"]
    answers = await asyncio.gather(
        act(client, p, iid, p.committee, "dispatch", handler_id=p.handler_id),
        act(client, p, iid, other, "dispatch", handler_id=p.handler_id),
    )
    assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
    events = (await client.get(f"/api/v1/communities/{p.c.id}/issues/{iid}/timeline",
                               headers=f.auth(p.committee))).json()
    assert [e["action"] for e in events].count("dispatch") == 1


async def test_fifty_concurrent_supports_by_one_person_count_once(client, session):
    p = await place(client, session)
    iid = (await report(client, p))["id"]
    url = f"/api/v1/communities/{p.c.id}/issues/{iid}/support"
    answers = await asyncio.gather(*[client.post(url, headers=f.auth(p.neighbour)) for _ in range(50)])
    assert {r.status_code for r in answers} == {200}
    n = (await session.execute(select(func.count()).select_from(IssueSupport)
                               .where(IssueSupport.issue_id == iid))).scalar()
    stored = (await session.execute(select(Issue.supports_count).where(Issue.id == iid))).scalar()
    assert n == 1 and stored == 1
    off = await client.delete(url, headers=f.auth(p.neighbour))
    assert off.json() == {"supported": False, "supports_count": 0}
