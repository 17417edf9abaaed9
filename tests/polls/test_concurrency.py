"""Races that real phones produce: a double-tapped button, a household voting from every phone,
a receipt used twice at once, paper and phone at once, ballots racing the close, a crowd of
voters. Exactly once, nothing lost, the chain intact. Then live results over SSE (and Redis)."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select, update

from app.core.redis import get_redis
from app.polls import live, verify, views
from app.polls import repository as repo
from app.polls.appender import appender
from app.polls.models import Poll, PollBallot, PollElector
from tests import factories as f
from tests.polls import support as s


async def stored_ballots(session: Any, poll_id: str) -> tuple[int, int]:
    """(all chain entries, counted ones) as stored."""
    total = (await session.execute(select(func.count()).select_from(PollBallot)
                                   .where(PollBallot.poll_id == poll_id))).scalar_one()
    counted = (await session.execute(select(func.count()).select_from(PollBallot)
                                     .where(PollBallot.poll_id == poll_id, PollBallot.superseded.is_(False)))
               ).scalar_one()
    await session.commit()
    return int(total), int(counted)


async def closed_and_verified(client: Any, e: s.Estate, poll_id: str) -> dict[str, Any]:
    await s.close(client, e.c, e.committee, poll_id)
    download = (await client.get(s.url(e.c, poll_id, "/chain"), headers=f.auth(e.committee))).json()
    report = verify.verify_download(download)
    assert report.ok, report.lines
    assert download["result"]["chain"]["ok"] is True
    return dict(download)


async def test_fifty_ballots_from_one_voter_count_once(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee)
    a, b = s.option_ids(poll)
    url, h = s.url(e.c, poll["id"], "/ballots"), f.auth(e.owners[0])
    answers = await asyncio.gather(*[client.post(url, headers=h, json={"choices": [a if i % 2 else b]})
                                     for i in range(50)])
    codes = Counter(r.status_code for r in answers)
    assert codes == {201: 1, 409: 49}, codes
    assert {r.json()["code"] for r in answers if r.status_code == 409} <= {"ballot_change_needs_receipt",
                                                                            "ballot_already_cast"}
    p = await s.get_poll(client, e.c, e.committee, poll["id"])
    assert (p["voted_count"], p["chain_seq"]) == (1, 1)
    assert await stored_ballots(session, poll["id"]) == (1, 1)
    download = await closed_and_verified(client, e, poll["id"])
    assert len(download["entries"]) == 1


async def test_fifty_ballots_from_one_household_count_once(client: Any, session: Any) -> None:
    e = await s.estate(session)
    home = e.households[1]
    members = [e.owners[1], *[await f.member(session, e.c, name=f"家人{i}", household_id=home.id) for i in range(9)]]
    poll = await s.opened(client, e.c, e.committee, electorate="households")
    assert poll["electorate_size"] == 4
    a, b = s.option_ids(poll)
    url = s.url(e.c, poll["id"], "/ballots")
    answers = await asyncio.gather(*[client.post(url, headers=f.auth(m), json={"choices": [a if i % 2 else b]})
                                     for m in members for i in range(5)])
    codes = Counter(r.status_code for r in answers)
    assert codes == {201: 1, 409: 49}, codes
    p = await s.get_poll(client, e.c, e.committee, poll["id"])
    assert (p["voted_count"], p["chain_seq"]) == (1, 1)
    assert await stored_ballots(session, poll["id"]) == (1, 1)
    for m in members:
        assert (await s.get_poll(client, e.c, m, poll["id"]))["me"]["voted"] is True
    res = (await closed_and_verified(client, e, poll["id"]))["result"]
    assert sum(o["count"] for o in res["options"]) == 1


async def test_concurrent_changes_with_one_receipt_change_once(client: Any, session: Any) -> None:
    e = await s.estate(session)
    three = [{"label": "路灯"}, {"label": "井盖"}, {"label": "停车"}]
    poll = await s.opened(client, e.c, e.committee, options=three)
    a, b, c = s.option_ids(poll)
    first = await s.vote(client, e.c, e.owners[0], poll["id"], choices=[a])
    url, h = s.url(e.c, poll["id"], "/ballots"), f.auth(e.owners[0])
    answers = await asyncio.gather(*[client.post(url, headers=h, json={"choices": [b if i % 2 else c],
                                                                       "receipt": first["receipt"]})
                                     for i in range(30)])
    codes = Counter(r.status_code for r in answers)
    assert codes[201] == 1 and codes[201] + codes[409] + codes[403] == 30, codes
    won = next(r.json() for r in answers if r.status_code == 201)
    assert won["changed"] is True
    p = await s.get_poll(client, e.c, e.committee, poll["id"])
    assert (p["voted_count"], p["chain_seq"]) == (1, 2)
    assert await stored_ballots(session, poll["id"]) == (2, 1)
    download = await closed_and_verified(client, e, poll["id"])
    counts = {o["id"]: o["count"] for o in download["result"]["options"]}
    assert sum(counts.values()) == 1 and counts[a] == 0
    assert download["entries"][1]["supersedes"] == 1


async def test_paper_and_phone_at_once_count_once(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee, electorate="households")
    a, b = s.option_ids(poll)
    home0 = next(x for x in await s.electors(client, e.c, e.committee, poll["id"]) if "101" in x["label"])
    app = [client.post(s.url(e.c, poll["id"], "/ballots"), headers=f.auth(who), json={"choices": [a]})
           for who in (e.owners[0], e.family[0]) for _ in range(5)]
    paper = [client.post(s.url(e.c, poll["id"], "/paper-ballots"), headers=f.auth(who),
                         json={"elector_id": home0["id"], "choices": [b], "witness": "王阿姨", "channel": ch})
             for who in (e.grid_worker, e.committee) for ch in ("paper", "proxy") for _ in range(3)]
    answers = await asyncio.gather(*[x for pair in zip(app, paper, strict=False) for x in pair], *paper[len(app):])
    codes = Counter(r.status_code for r in answers)
    assert codes[201] == 1 and codes[409] == len(answers) - 1, codes
    won = next(r.json() for r in answers if r.status_code == 201)
    p = await s.get_poll(client, e.c, e.committee, poll["id"])
    assert (p["voted_count"], p["chain_seq"]) == (1, 1)
    listed = next(x for x in await s.electors(client, e.c, e.committee, poll["id"]) if x["id"] == home0["id"])
    assert listed["voted"] is True and listed["channel"] == won["channel"]
    res = (await closed_and_verified(client, e, poll["id"]))["result"]
    assert sum(o["count"] for o in res["options"]) == 1


async def test_ballots_racing_the_close_are_counted_or_refused_never_lost(client: Any, session: Any) -> None:
    e = await s.estate(session, areas=[f"{50 + i}.00" for i in range(30)])
    poll = await s.opened(client, e.c, e.committee)
    a, b = s.option_ids(poll)
    url = s.url(e.c, poll["id"], "/ballots")
    ballots = [client.post(url, headers=f.auth(o), json={"choices": [a if i % 3 else b]})
               for i, o in enumerate(e.owners)]
    closing = client.post(s.url(e.c, poll["id"], "/close"), headers=f.auth(e.committee))
    answers = await asyncio.gather(*ballots[:15], closing, *ballots[15:])
    close_answer, votes = answers[15], answers[:15] + answers[16:]
    assert close_answer.status_code == 200, close_answer.text
    codes = Counter(r.status_code for r in votes)
    assert set(codes) <= {201, 409}, codes
    assert all(r.json()["code"] == "poll_vote_not_now" for r in votes if r.status_code == 409)
    accepted = codes[201]
    res = await s.results(client, e.c, e.committee, poll["id"])
    assert res["status"] == "closed"
    assert sum(o["count"] for o in res["result"]["options"]) == accepted == res["voted_count"]
    assert await stored_ballots(session, poll["id"]) == (accepted, accepted)
    download = (await client.get(s.url(e.c, poll["id"], "/chain"), headers=f.auth(e.committee))).json()
    assert len(download["entries"]) == accepted
    assert verify.verify_download(download).ok
    # the receipt of every accepted ballot is in the chain and counts
    for r in votes:
        if r.status_code == 201:
            check = (await client.get(f"/api/v1/receipts/{r.json()['receipt']}")).json()
            assert check["found"] is True and check["counted"] is True


async def test_forty_voters_at_once_are_all_counted_and_the_chain_verifies(client: Any, session: Any) -> None:
    e = await s.estate(session, areas=[f"{60 + i}.50" for i in range(40)])
    poll = await s.opened(client, e.c, e.committee, electorate="owners", kind="approval", max_choices=2,
                          options=[{"label": "路灯"}, {"label": "井盖"}, {"label": "停车"}])
    ids = s.option_ids(poll)
    url = s.url(e.c, poll["id"], "/ballots")
    answers = await asyncio.gather(*[client.post(url, headers=f.auth(o), json={"choices": [ids[i % 3],
                                                                                           ids[(i + 1) % 3]]})
                                     for i, o in enumerate(e.owners)])
    assert Counter(r.status_code for r in answers) == {201: 40}
    assert sorted(r.json()["seq"] for r in answers) == list(range(1, 41))
    download = await closed_and_verified(client, e, poll["id"])
    assert len(download["entries"]) == 40
    res = download["result"]
    assert [o["count"] for o in res["options"]] == [27, 27, 26]
    assert res["ballots"] == 40


async def test_a_retried_ballot_with_the_same_idempotency_key_is_cast_once(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee)
    a = s.option_ids(poll)[0]
    h = {**f.auth(e.owners[0]), "Idempotency-Key": "ballot-0001-abcdef"}
    first = await client.post(s.url(e.c, poll["id"], "/ballots"), headers=h, json={"choices": [a]})
    again = await client.post(s.url(e.c, poll["id"], "/ballots"), headers=h, json={"choices": [a]})
    assert first.status_code == again.status_code == 201
    assert again.json()["receipt"] == first.json()["receipt"]
    p = await s.get_poll(client, e.c, e.committee, poll["id"])
    assert (p["voted_count"], p["chain_seq"]) == (1, 1)


# --- live results --------------------------------------------------------------------------------

def frames_of(text: str) -> list[dict[str, Any]]:
    import json

    chunks = text.split("\n\n")
    return [json.loads(chunk.split("data: ", 1)[1]) for chunk in chunks if chunk.startswith("event: results")]


async def first_frame_delivered(hub: live.Hub, poll_id: str, watchers: int = 1) -> None:
    """Wait until each watcher has been handed its first snapshot (so a vote makes a second)."""
    for _ in range(200):
        seen = hub._watchers.get(poll_id, {})  # the test waits on the hub's own state
        if len(seen) >= watchers and all(seen.values()):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the first frame never came")


async def test_a_watcher_sees_a_vote_within_the_stream(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee, secret=False)
    a, _ = s.option_ids(poll)
    stream = s.url(e.c, poll["id"], "/results/stream")
    watchers = [asyncio.create_task(client.get(stream, headers=f.auth(who), params={"max_events": 2}))
                for who in (e.owners[3], e.committee, e.outsider or e.owners[2])]
    await first_frame_delivered(live.hub, poll["id"], watchers=3)
    await s.vote(client, e.c, e.owners[0], poll["id"], choices=[a])
    for task in watchers:
        r = await asyncio.wait_for(task, 10)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        first, second = frames_of(r.text)
        assert first["voted_count"] == 0 and second["voted_count"] == 1
        assert {o["id"]: o["count"] for o in second["result"]["options"]}[a] == 1
        assert second["chain_seq"] == 1 and second["provisional"] is True


async def test_a_watcher_of_a_secret_poll_sees_turnout_move_and_no_count(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee)
    a, _ = s.option_ids(poll)
    stream = s.url(e.c, poll["id"], "/results/stream")
    watcher = asyncio.create_task(client.get(stream, headers=f.auth(e.committee), params={"max_events": 2}))
    await first_frame_delivered(live.hub, poll["id"], watchers=1)
    await s.vote(client, e.c, e.owners[0], poll["id"], choices=[a])
    first, second = frames_of((await asyncio.wait_for(watcher, 10)).text)
    assert (first["voted_count"], second["voted_count"]) == (0, 1)
    assert second["visible"] is False and second["result"] is None


@pytest.mark.skipif(not os.environ.get("WUGONG_TEST_REDIS_URL"), reason="needs Redis (WUGONG_TEST_REDIS_URL)")
async def test_a_vote_reaches_a_watcher_in_another_process_through_redis(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee)
    a, _ = s.option_ids(poll)
    redis = get_redis()
    assert redis is not None

    async def pattern_subscribers() -> int:
        return sum(1 for c in await redis.client_list() if int(c.get("psub", 0)) > 0)

    before = await pattern_subscribers()
    other = live.Hub()  # another worker: it hears of votes only through Redis
    other.snapshot = views.live_snapshot

    async def watch() -> list[str]:
        return [frame async for frame in other.watch(poll["id"], max_events=2)]

    task = asyncio.create_task(watch())
    try:
        for _ in range(200):
            if await pattern_subscribers() > before:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the second hub never subscribed")
        await first_frame_delivered(other, poll["id"])
        await s.vote(client, e.c, e.owners[0], poll["id"], choices=[a])
        frames = await asyncio.wait_for(task, 10)
    finally:
        await other.shutdown()
    first, second = frames_of("\n\n".join(frames[1:]) + "\n\n")
    assert first["voted_count"] == 0 and second["voted_count"] == 1


async def test_first_votes_arriving_together_share_commits_across_polls(client: Any, session: Any) -> None:
    """The group committer (app/polls/appender.py) writes the first votes that arrive together in one
    transaction, whatever their poll: 20 owners voting in two polls at once are each counted once
    in each, every chain is contiguous and verifies, and there were fewer commits than ballots."""
    e = await s.estate(session, areas=[f"{70 + i}.00" for i in range(20)])
    polls = [await s.opened(client, e.c, e.committee, electorate=kind) for kind in ("owners", "residents")]
    batches, votes = appender.batches, appender.items
    posts = [client.post(s.url(e.c, p["id"], "/ballots"), headers=f.auth(o),
                         json={"choices": [s.option_ids(p)[i % 2]]})
             for i, o in enumerate(e.owners) for p in polls]
    answers = await asyncio.gather(*posts)
    assert Counter(r.status_code for r in answers) == {201: 40}
    for k, p in enumerate(polls):
        assert sorted(r.json()["seq"] for r in answers[k::2]) == list(range(1, 21))
        download = await closed_and_verified(client, e, p["id"])
        assert [o["count"] for o in download["result"]["options"]] == [10, 10]
        assert download["result"]["voted_count"] == 20
    assert appender.items - votes == 40
    assert appender.batches - batches < 40, "the votes were not written together"


async def test_a_poll_closed_by_another_worker_refuses_votes_this_one_remembers_open(client: Any,
                                                                                      session: Any) -> None:
    """A worker remembers an open poll's ballot form; when another worker closes the poll, the
    ballot is refused where it is written, under the poll's lock, and nothing changes."""
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee)
    a, b = s.option_ids(poll)
    receipt = (await s.vote(client, e.c, e.owners[0], poll["id"], choices=[a]))["receipt"]
    assert repo.remembered_form(poll["id"]) is not None
    await session.execute(update(Poll).where(Poll.id == poll["id"]).values(status="closed"))
    await session.commit()
    # a first vote (through the group committer) and a change (one at a time)
    for who, body in ((e.owners[1], {"choices": [a]}), (e.owners[0], {"choices": [b], "receipt": receipt})):
        r = await client.post(s.url(e.c, poll["id"], "/ballots"), headers=f.auth(who), json=body)
        f.assert_problem(r, 409, "poll_vote_not_now")
    row = (await session.execute(select(Poll.voted_count, Poll.chain_seq).where(Poll.id == poll["id"]))).one()
    voted = (await session.execute(select(func.count()).select_from(PollElector).where(
        PollElector.poll_id == poll["id"], PollElector.voted.is_(True)))).scalar_one()
    await session.commit()
    assert (row.voted_count, row.chain_seq, voted) == (1, 1, 1)
    assert await stored_ballots(session, poll["id"]) == (1, 1)
