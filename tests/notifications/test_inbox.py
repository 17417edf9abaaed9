"""The inbox through the API: who hears of what, unread counts, marking read, the caller's language."""

from __future__ import annotations

from typing import Any

from app.accounts.models import Person
from app.issues.models import IssueFollower
from tests import factories as f
from tests.factories import assert_problem
from tests.issues.support import Place, act, photo, place, report


async def inbox(client: Any, who: Person, lang: str = "zh-CN", **params: Any) -> dict[str, Any]:
    r = await client.get("/api/v1/notifications", headers=f.auth(who, lang), params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def kinds(client: Any, who: Person) -> list[str]:
    return [n["kind"] for n in (await inbox(client, who))["items"]]


async def unread(client: Any, who: Person) -> int:
    r = await client.get("/api/v1/notifications/unread-count", headers=f.auth(who))
    assert r.status_code == 200, r.text
    return int(r.json()["unread"])


async def dispatched_issue(client: Any, p: Place) -> str:
    issue = await report(client, p)
    s = await client.post(f"/api/v1/communities/{p.c.id}/issues/{issue['id']}/support", headers=f.auth(p.neighbour))
    assert s.status_code == 200, s.text  # 我也关注 follows the issue
    r = await act(client, p, issue["id"], p.committee, "dispatch", handler_id=p.handler_id)
    assert r.status_code == 200, r.text
    return str(issue["id"])


async def test_reporter_and_followers_hear_of_every_status_change_and_the_handler_of_dispatch(client, session):
    p = await place(client, session)
    iid = await dispatched_issue(client, p)

    assert await kinds(client, p.resident) == ["issue.status_changed"]
    assert await kinds(client, p.neighbour) == ["issue.status_changed"]
    assert await kinds(client, p.handler) == ["issue.assigned"]
    # The committee hears of the new report, but never of its own dispatch.
    assert await kinds(client, p.committee) == ["issue.reported"]
    (n,) = (await inbox(client, p.resident))["items"]
    assert n["data"]["issue_id"] == iid and n["data"]["status"] == "dispatched" and n["read"] is False
    assert n["community_id"] == p.c.id and n["created_at"]
    assert n["text"] == "你关注的问题「3栋路灯不亮」已派单处置"

    assert (await act(client, p, iid, p.handler, "start")).status_code == 200
    after = await photo(client, p.c, p.handler)
    assert (await act(client, p, iid, p.handler, "resolve", note="换了灯泡", photo_ids=[after])).status_code == 200
    assert (await act(client, p, iid, p.resident, "verify")).status_code == 200

    statuses = [n["data"]["status"] for n in (await inbox(client, p.neighbour))["items"]]
    assert statuses == ["closed", "resolved", "in_progress", "dispatched"]  # newest first
    # The reporter closed it themself: told of the others, not of their own verification.
    assert [n["data"]["status"] for n in (await inbox(client, p.resident))["items"]] == \
        ["resolved", "in_progress", "dispatched"]
    assert await kinds(client, p.handler) == ["issue.assigned"]  # not a follower: only their queue


async def test_the_text_is_in_the_callers_language(client, session):
    p = await place(client, session)
    await dispatched_issue(client, p)
    (n,) = (await inbox(client, p.resident, "en"))["items"]
    assert n["text"] == "“3栋路灯不亮”, which you follow: dispatched to a handler"
    (h,) = (await inbox(client, p.handler, "en"))["items"]
    assert h["text"].startswith("“3栋路灯不亮” has been assigned to you")


async def test_unread_count_and_marking_read(client, session):
    p = await place(client, session)
    iid = await dispatched_issue(client, p)
    assert (await act(client, p, iid, p.handler, "start")).status_code == 200
    assert await unread(client, p.resident) == 2
    first, second = (await inbox(client, p.resident))["items"]

    r = await client.post("/api/v1/notifications/read", headers=f.auth(p.resident), json={"ids": [first["id"]]})
    assert r.status_code == 200, r.text
    assert r.json() == {"marked": 1, "unread": 1}
    assert [n["id"] for n in (await inbox(client, p.resident, unread="true"))["items"]] == [second["id"]]
    assert [n["read"] for n in (await inbox(client, p.resident))["items"]] == [True, False]

    r = await client.post("/api/v1/notifications/read", headers=f.auth(p.resident), json={"all": True})
    assert r.json() == {"marked": 1, "unread": 0}
    assert (await inbox(client, p.resident, unread="true"))["items"] == []


async def test_another_persons_ids_change_nothing(client, session):
    p = await place(client, session)
    await dispatched_issue(client, p)
    theirs = [n["id"] for n in (await inbox(client, p.resident))["items"]]
    before = await unread(client, p.neighbour)

    r = await client.post("/api/v1/notifications/read", headers=f.auth(p.neighbour), json={"ids": theirs})
    assert r.status_code == 200 and r.json() == {"marked": 0, "unread": before}
    assert await unread(client, p.resident) == 1
    # Nor can anyone read another's inbox: each sees only their own.
    assert all(n["id"] not in theirs for n in (await inbox(client, p.neighbour))["items"])


async def test_marking_read_needs_ids_or_all_and_a_sign_in(client, session):
    p = await place(client, session)
    for body in ({}, {"ids": ["x"], "all": True}):
        assert_problem(await client.post("/api/v1/notifications/read", headers=f.auth(p.resident), json=body),
                       422, "notifications_read_target")
    assert_problem(await client.get("/api/v1/notifications"), 401)
    assert_problem(await client.get("/api/v1/notifications/unread-count"), 401)


async def test_the_inbox_pages_by_cursor(client, session):
    p = await place(client, session)
    iid = await dispatched_issue(client, p)
    assert (await act(client, p, iid, p.handler, "start")).status_code == 200
    after = await photo(client, p.c, p.handler)
    assert (await act(client, p, iid, p.handler, "resolve", note="修好了", photo_ids=[after])).status_code == 200

    page1 = await inbox(client, p.resident, limit=2)
    assert len(page1["items"]) == 2 and page1["next_cursor"]
    page2 = await inbox(client, p.resident, limit=2, cursor=page1["next_cursor"])
    assert len(page2["items"]) == 1 and page2["next_cursor"] is None
    seen = [n["data"]["status"] for n in page1["items"] + page2["items"]]
    assert seen == ["resolved", "in_progress", "dispatched"]


async def test_residents_following_a_staff_only_issue_hear_nothing(client, session):
    p = await place(client, session)
    issue = await report(client, p, who=p.grid_worker, title="邻里纠纷调解", source="grid_patrol", staff_only=True)
    # Followers who cannot (or can no longer) see it: a resident, and one who left the community.
    outsider = await f.person(session, name="外人")
    session.add_all([IssueFollower(issue_id=issue["id"], person_id=p.resident.id),
                     IssueFollower(issue_id=issue["id"], person_id=outsider.id),
                     IssueFollower(issue_id=issue["id"], person_id=p.handler.id)])
    await session.commit()
    r = await act(client, p, issue["id"], p.committee, "dispatch", handler_id=p.handler_id)
    assert r.status_code == 200, r.text

    assert await unread(client, p.resident) == 0
    assert await unread(client, outsider) == 0
    assert await kinds(client, p.grid_worker) == ["issue.status_changed"]  # the staff reporter
    assert await kinds(client, p.handler) == ["issue.assigned"]  # once, though also a follower


async def test_the_reporter_of_a_merged_issue_is_told(client, session):
    p = await place(client, session)
    kept = await report(client, p, who=p.neighbour)
    dup = await report(client, p, title="3栋门口路灯坏了")
    r = await act(client, p, dup["id"], p.committee, "merge", into=kept["id"], reason="同一盏灯")
    assert r.status_code == 200, r.text

    (n,) = (await inbox(client, p.resident))["items"]
    assert n["kind"] == "issue.merged" and n["data"]["into_id"] == kept["id"]
    assert "已合并" in n["text"]
