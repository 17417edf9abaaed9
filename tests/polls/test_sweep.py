"""Time moves polls without anyone watching: a scheduled poll opens at its time and freezes its
electorate then, an open poll closes and is counted at its time, and a poll nobody may vote in
stays scheduled for the committee to see."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.core import clock
from app.polls.scheduled import sweep
from tests import factories as f
from tests.factories import assert_problem
from tests.polls import support as s


async def test_a_scheduled_poll_opens_at_its_time_with_the_electorate_of_that_moment(client: Any,
                                                                                      session: Any) -> None:
    e = await s.estate(session)
    opens = clock.now() + timedelta(hours=1)
    poll = await s.create(client, e.c, e.committee, opens_at=opens.isoformat())
    r = await client.post(s.url(e.c, poll["id"], "/open"), headers=f.auth(e.committee), json={})
    assert r.json()["status"] == "scheduled" and r.json()["electorate_size"] == 0
    joined_before_opening = await f.member(session, e.c, name="开始前入住")
    early = await sweep(session, opens - timedelta(minutes=5), holder="test")
    assert early.opened == []
    assert (await s.get_poll(client, e.c, e.committee, poll["id"]))["status"] == "scheduled"
    due = await sweep(session, opens + timedelta(seconds=1), holder="test")
    assert due.opened == [poll["id"]]
    opened = await s.get_poll(client, e.c, e.committee, poll["id"])
    assert opened["status"] == "open" and opened["electorate_size"] == 9 and opened["chain_head"]
    await s.vote(client, e.c, joined_before_opening, poll["id"], choices=[s.option_ids(poll)[0]])
    joined_after_opening = await f.member(session, e.c, name="开始后入住")
    r = await client.post(s.url(e.c, poll["id"], "/ballots"), headers=f.auth(joined_after_opening),
                          json={"choices": [s.option_ids(poll)[0]]})
    assert_problem(r, 403, "poll_not_eligible")
    again = await sweep(session, opens + timedelta(minutes=1), holder="test")
    assert again.opened == []  # opened once


async def test_an_open_poll_closes_at_its_time_without_a_watcher(client: Any, session: Any) -> None:
    e = await s.estate(session, areas=["90.00", "90.00", "90.00", "30.00"])
    poll = await s.opened(client, e.c, e.committee, kind="proposal", electorate="owners", options=[],
                          matter="rebuild", hide_results=True)
    for owner in e.owners[:3]:
        await s.vote(client, e.c, owner, poll["id"], choices=["yes"])
    closes = clock.now() + timedelta(days=3)
    before = await sweep(session, closes - timedelta(minutes=1), holder="test")
    assert before.closed == []
    assert (await s.results(client, e.c, e.owners[3], poll["id"]))["visible"] is False
    result = await sweep(session, closes + timedelta(minutes=1), holder="test")
    assert result.closed == [poll["id"]]
    closed = await s.get_poll(client, e.c, e.owners[3], poll["id"])
    assert closed["status"] == "closed" and closed["passed"] is True and closed["closed_at"]
    res = (await s.results(client, e.c, e.owners[3], poll["id"]))["result"]
    assert res["yes"] == 3 and res["yes_area"] == "270.00" and res["chain"]["ok"] is True
    r = await client.post(s.url(e.c, poll["id"], "/ballots"), headers=f.auth(e.owners[3]), json={"choices": ["no"]})
    assert_problem(r, 409, "poll_vote_not_now")
    assert (await sweep(session, closes + timedelta(hours=1), holder="test")).closed == []


async def test_a_scheduled_poll_with_nobody_to_vote_stays_scheduled(client: Any, session: Any) -> None:
    e = await s.estate(session)
    empty = await f.building(session, e.c, name="新建8栋")
    opens = clock.now() + timedelta(hours=1)
    poll = await s.create(client, e.c, e.committee, electorate="owners", kind="proposal", options=[],
                          scope_building_id=empty.id, opens_at=opens.isoformat())
    r = await client.post(s.url(e.c, poll["id"], "/open"), headers=f.auth(e.committee), json={})
    assert r.json()["status"] == "scheduled"
    result = await sweep(session, opens + timedelta(minutes=1), holder="test")
    assert result.ran is True and result.opened == []
    for row in (e.c, e.committee, empty):  # the refused step rolled the sweep's session back
        await session.refresh(row)
    still = await s.get_poll(client, e.c, e.committee, poll["id"])
    assert still["status"] == "scheduled" and still["electorate_size"] == 0 and still["opened_at"] is None
    # once somebody owns a home there, the next sweep opens it
    home = await f.household(session, e.c, empty, room="801", area="101.25")
    await f.member(session, e.c, "owner", name="八栋业主", household_id=home.id)
    result = await sweep(session, opens + timedelta(minutes=2), holder="test")
    assert result.opened == [poll["id"]]
    opened = await s.get_poll(client, e.c, e.committee, poll["id"])
    assert opened["status"] == "open" and opened["electorate_area"] == "101.25"
