"""Following an issue: idempotent on and off, one row however often it is pressed, invisible
issues stay invisible, and a follower hears of every status change."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from app.accounts.models import Person
from app.issues.models import IssueFollower
from tests import factories as f
from tests.factories import assert_problem
from tests.issues.support import Place, act, place, report


def follow_url(p: Place, issue_id: str) -> str:
    return f"/api/v1/communities/{p.c.id}/issues/{issue_id}/follow"


async def followers(session: Any, issue_id: str, person: Person) -> int:
    q = select(func.count()).select_from(IssueFollower).where(
        IssueFollower.issue_id == issue_id, IssueFollower.person_id == person.id)
    n = int((await session.execute(q)).scalar_one())
    await session.commit()  # end the read, so the next one sees the server's later writes
    return n


async def detail(client: Any, p: Place, issue_id: str, who: Person) -> dict[str, Any]:
    r = await client.get(f"/api/v1/communities/{p.c.id}/issues/{issue_id}", headers=f.auth(who))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_following_and_unfollowing_are_idempotent_and_shown_on_the_detail(client, session):
    p = await place(client, session)
    iid = (await report(client, p))["id"]
    url = follow_url(p, iid)
    assert (await detail(client, p, iid, p.neighbour))["following"] is False

    for _ in range(2):
        r = await client.post(url, headers=f.auth(p.neighbour))
        assert r.status_code == 200 and r.json() == {"following": True}
    assert (await detail(client, p, iid, p.neighbour))["following"] is True
    assert await followers(session, iid, p.neighbour) == 1

    for _ in range(2):
        r = await client.delete(url, headers=f.auth(p.neighbour))
        assert r.status_code == 200 and r.json() == {"following": False}
    assert (await detail(client, p, iid, p.neighbour))["following"] is False
    assert await followers(session, iid, p.neighbour) == 0


async def test_a_follower_hears_of_status_changes_and_stops_hearing_after_unfollowing(client, session):
    p = await place(client, session)
    iid = (await report(client, p))["id"]
    assert (await client.post(follow_url(p, iid), headers=f.auth(p.neighbour))).status_code == 200
    assert (await act(client, p, iid, p.committee, "dispatch", handler_id=p.handler_id)).status_code == 200

    r = await client.get("/api/v1/notifications", headers=f.auth(p.neighbour))
    (n,) = r.json()["items"]
    assert n["kind"] == "issue.status_changed" and n["data"]["issue_id"] == iid and n["read"] is False

    assert (await client.delete(follow_url(p, iid), headers=f.auth(p.neighbour))).status_code == 200
    assert (await act(client, p, iid, p.handler, "start")).status_code == 200
    r = await client.get("/api/v1/notifications", headers=f.auth(p.neighbour))
    assert len(r.json()["items"]) == 1


async def test_twenty_concurrent_follows_by_one_person_make_one_row(client, session):
    p = await place(client, session)
    iid = (await report(client, p))["id"]
    url = follow_url(p, iid)
    answers = await asyncio.gather(*[client.post(url, headers=f.auth(p.neighbour)) for _ in range(20)])
    assert {r.status_code for r in answers} == {200}, [r.text for r in answers if r.status_code != 200]
    assert {r.json()["following"] for r in answers} == {True}
    assert await followers(session, iid, p.neighbour) == 1


async def test_a_staff_only_issue_or_another_communitys_cannot_be_followed(client, session):
    p = await place(client, session)
    hidden = (await report(client, p, who=p.committee, staff_only=True))["id"]
    for method in ("POST", "DELETE"):
        r = await client.request(method, follow_url(p, hidden), headers=f.auth(p.neighbour))
        assert_problem(r, 404)
        assert_problem(await client.request(method, follow_url(p, "01HZXNOSUCHISSUE0000000000"),
                                            headers=f.auth(p.neighbour)), 404)
    assert await followers(session, hidden, p.neighbour) == 0
    # Staff who may see it may follow it.
    r = await client.post(follow_url(p, hidden), headers=f.auth(p.grid_worker))
    assert r.status_code == 200 and r.json() == {"following": True}

    other = await place(client, session, name="阳光里社区")
    theirs = (await report(client, other))["id"]
    assert_problem(await client.post(follow_url(p, theirs), headers=f.auth(p.neighbour)), 404)
    outsider = await f.person(session, name="外人")
    mine = (await report(client, p))["id"]
    r = await client.post(follow_url(p, mine), headers=f.auth(outsider))
    assert r.status_code in (403, 404), r.text
    assert_problem(await client.post(follow_url(p, mine)), 401)
