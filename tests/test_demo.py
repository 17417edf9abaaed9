"""The demo a newcomer can act in (app/demo.py), loaded on the test database (SQLite or PostgreSQL):
the printed voters can vote where they are promised, every role finds work on their home, and the
history reads like two months of real life."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import demo
from app.accounts.sms import memory_outbox
from app.communities.models import JoinRequest
from app.core import clock, lease
from app.core.audit import AuditEntry
from app.issues import scheduled as issues_scheduled
from app.issues.models import Issue, IssueComment, IssueEvent
from app.notifications.models import Notification
from app.polls import scheduled as polls_scheduled
from app.polls.models import Poll


async def loaded(session: AsyncSession) -> demo.DemoResult:
    result = await demo.load(session)
    await session.commit()
    return result


async def signed_in(client: Any, phone: str) -> dict[str, str]:
    """As the README says: a demo phone, and the one-time code the server sends."""
    r = await client.post("/api/v1/auth/otp", json={"phone": phone})
    assert r.status_code == 202, r.text
    r = await client.post("/api/v1/auth/token", json={"phone": phone, "code": memory_outbox().last_code(phone)})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def home_cards(client: Any, cid: str, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    r = await client.get(f"/api/v1/communities/{cid}/home", headers=headers)
    assert r.status_code == 200, r.text
    return {c["key"]: c for c in r.json()["cards"]}


def ballot(poll: dict[str, Any], second: bool = False) -> dict[str, Any]:
    """A valid ballot for the poll; ``second``: another one, to change the vote to."""
    if poll["kind"] == "proposal":
        return {"choices": ["no" if second else "yes"]}
    options = [o["id"] for o in poll["options"]]
    return {"choices": options[1:4] if second else options[:3]}


async def test_the_printed_owner_and_resident_can_vote_in_each_open_poll_they_are_promised(
        client: Any, session: AsyncSession) -> None:
    result = await loaded(session)
    cid = result.communities[demo.COMPOUND]
    table = demo.accounts_table(result).splitlines()
    for account in (demo.OWNER, demo.RESIDENT):
        promised = demo.VOTES_FOR[account.phone]
        assert promised
        at = next(i for i, line in enumerate(table) if line.startswith(account.phone))
        assert all(title in table[at + 1] for title in promised), table[at + 1]  # printed under the account

        headers = await signed_in(client, account.phone)
        vote = (await home_cards(client, cid, headers))["polls.vote"]
        assert vote["count"] == len(promised)
        assert {i["title"] for i in vote["items"]} == set(promised)
        for item in vote["items"]:
            path = f"/api/v1/communities/{cid}/polls/{item['href'].rsplit('/', 1)[1]}"
            poll = (await client.get(path, headers=headers)).json()
            assert poll["status"] == "open" and poll["allow_change"]
            assert poll["me"]["eligible"] and not poll["me"]["voted"] and "vote" in poll["actions"], poll["me"]
            first = await client.post(f"{path}/ballots", headers=headers, json=ballot(poll))
            assert first.status_code == 201, (poll["title"], first.text)
            again = await client.post(f"{path}/ballots", headers=headers,
                                      json={**ballot(poll, second=True), "receipt": first.json()["receipt"]})
            assert again.status_code == 201, (poll["title"], again.text)
            assert again.json()["changed"] is True
        vote = (await home_cards(client, cid, headers))["polls.vote"]
        assert vote["count"] == 0 and len(vote["items"]) == len(promised)  # voted, and may still change


async def test_every_printed_role_finds_work_on_their_home(client: Any, session: AsyncSession) -> None:
    result = await loaded(session)
    cid = result.communities[demo.COMPOUND]
    committee = await home_cards(client, cid, await signed_in(client, demo.COMMITTEE.phone))
    assert committee["issues.triage"]["count"] >= 5 and committee["communities.join_requests"]["count"] == 3
    assert "超期 1" in committee["issues.triage"]["summary"]
    grid = await home_cards(client, cid, await signed_in(client, demo.GRID_WORKER.phone))
    assert grid["issues.patrol"]["count"] >= 3 and "超期 1" in grid["issues.patrol"]["summary"]
    handler = await home_cards(client, cid, await signed_in(client, demo.HANDLER.phone))
    assert handler["issues.queue"]["count"] >= 3
    owner = await home_cards(client, cid, await signed_in(client, demo.OWNER.phone))
    assert owner["issues.verify"]["count"] == 2  # "verifies 2 fixed issues he reported"
    assert {i["title"] for i in owner["issues.verify"]["items"]} == {"1栋单元门禁损坏", "1栋楼下垃圾桶破损"}
    resident = await home_cards(client, cid, await signed_in(client, demo.RESIDENT.phone))
    assert len(resident["issues.mine"]["items"]) == 3  # she reported three; their latest changes


async def test_the_history_is_spread_over_two_months_as_it_happened(session: AsyncSession) -> None:
    await loaded(session)
    now = clock.now()

    async def rows(model: Any) -> list[Any]:
        return list((await session.execute(select(model).order_by(model.id))).scalars().all())

    issues = {i.title: i for i in await rows(Issue)}
    events = await rows(IssueEvent)
    # Each issue went through its steps at different times, in order; reported, dispatched and resolved differ.
    for issue in issues.values():
        times = [e.created_at for e in events if e.issue_id == issue.id]
        assert times == sorted(times) and len(set(times)) == len(times), issue.title
        assert times[0] == issue.created_at < now
    door = [e for e in events if e.issue_id == issues["1栋单元门禁损坏"].id]
    assert [e.action for e in door] == ["report", "accept", "dispatch", "start", "resolve"]
    assert door[-1].created_at - door[0].created_at > timedelta(days=5)
    created = sorted(i.created_at for i in issues.values())
    assert created[0] < now - timedelta(days=45) and created[-1] > now - timedelta(days=3)

    # The overdue issue's deadline is well past, and it escalated after it; nothing else is late.
    (overdue,) = [i for i in issues.values() if i.escalated_at is not None]
    assert overdue.deadline_at is not None and overdue.deadline_at < now - timedelta(days=14)
    assert overdue.created_at < overdue.deadline_at < overdue.escalated_at
    holder = lease.holder_id()
    assert (await issues_scheduled.sweep(session, now, holder=holder)).escalated == []
    await session.commit()
    swept = await polls_scheduled.sweep(session, now, holder=holder)
    assert (swept.opened, swept.closed, swept.finalised) == ([], [], [])

    # "已经一个多月了" is said more than a month after the report.
    (month,) = (await session.execute(select(IssueComment).where(IssueComment.body.contains("一个多月")))).scalars()
    assert month.created_at - issues["违章搭建雨棚"].created_at > timedelta(days=31)

    # Polls opened days ago; a notice ends as its state says.
    polls = await rows(Poll)
    for poll in polls:
        assert poll.opened_at is not None and poll.opened_at < now - timedelta(days=1), poll.title
        if poll.status == "open":
            assert poll.closes_at is not None and poll.closes_at > now
        else:
            assert poll.closed_at is not None and poll.closed_at < now
            assert poll.notice_ends_at is not None and (poll.notice_ends_at > now) == (poll.status == "notice")

    # Ids follow the times, so every list sorted newest first reads in time order.
    for model in (Issue, IssueEvent, IssueComment, Poll, Notification, AuditEntry, JoinRequest):
        stamps = [r.created_at for r in await rows(model)]
        assert stamps == sorted(stamps), model.__name__
        assert stamps[-1] < now
    pending = [j for j in await rows(JoinRequest) if j.status == "pending"]
    assert len(pending) == 3 and all(now - timedelta(days=4) < j.created_at for j in pending)


def test_the_readmes_first_screen_says_which_account_does_what() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    first_screen = readme[:readme.index("## What is here")]
    assert "python3 scripts/dev.py start    # a living demo community" in first_screen
    assert "python3 scripts/dev.py test     # the whole test suite" in first_screen
    for account in (demo.RESIDENT, demo.OWNER, demo.GRID_WORKER, demo.HANDLER, demo.COMMITTEE):
        row = next(line for line in first_screen.splitlines() if f"`{account.phone}`" in line)
        assert account.name in row
    resident = next(line for line in first_screen.splitlines() if f"`{demo.RESIDENT.phone}`" in line)
    assert all(title in resident for title in demo.VOTES_FOR[demo.RESIDENT.phone])
