"""Races that a shared link in a WeChat group produces: a thousand neighbours claiming fifty places
at once, a double-tapped button, and the auto-verify sweep racing the organiser. Real concurrent
requests; exactly the places there are, and every reward paid exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from app.accounts.models import Person
from app.communities.models import Membership
from app.core import clock
from app.notifications.models import Notification
from app.points.models import Entry
from app.tasks import scheduled
from app.tasks.models import Task, TaskClaim
from tests import factories as f
from tests.tasks import support as s


async def crowd(session: Any, t: s.Town, n: int) -> list[Person]:
    """``n`` residents of the community, inserted together."""
    people = [Person(name=f"邻居{i}", phone=f.next_phone()) for i in range(n)]
    session.add_all(people)
    await session.flush()
    session.add_all([Membership(community_id=t.c.id, person_id=p.id, roles=["resident"], verified=True,
                                grid_ids=[], building_id=t.building.id) for p in people])
    await session.commit()
    return people


async def count(session: Any, stmt: Any) -> int:
    value = int((await session.execute(stmt)).scalar_one())
    await session.commit()
    return value


async def test_a_thousand_concurrent_claims_on_fifty_places_take_exactly_fifty(client: Any, session: Any) -> None:
    t = await s.town(session, residents=0)
    task = await s.published(client, t, people_needed=50)
    people = await crowd(session, t, 1000)
    path = s.url(t, f"/tasks/{task['id']}/claims")
    answers = await asyncio.gather(*[client.post(path, headers=f.auth(p), json={}) for p in people])
    codes = Counter(r.status_code for r in answers)
    assert codes == {201: 50, 409: 950}, codes
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"task_full"}
    stored = (await session.execute(select(Task).where(Task.id == task["id"]))).scalar_one()
    assert (stored.claimed_count, stored.status) == (50, "full")
    await session.commit()
    stored_claims = select(func.count()).select_from(TaskClaim).where(TaskClaim.task_id == task["id"])
    assert await count(session, stored_claims) == 50
    winners = {r.json()["person"]["id"] for r in answers if r.status_code == 201}
    assert len(winners) == 50
    confirmed = await count(session, select(func.count()).select_from(Notification).where(
        Notification.kind == "task.claim_confirmed"))
    assert confirmed == 50


async def test_fifty_taps_by_one_person_make_one_claim(client: Any, session: Any) -> None:
    t = await s.town(session)
    task = await s.published(client, t, people_needed=3)
    path = s.url(t, f"/tasks/{task['id']}/claims")
    me = t.residents[0]
    answers = await asyncio.gather(*[client.post(path, headers=f.auth(me), json={}) for _ in range(50)])
    codes = Counter(r.status_code for r in answers)
    assert codes == {201: 1, 409: 49}, codes
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"task_already_claimed"}
    seen = await s.get(client, t, t.residents[1], task["id"])
    assert seen["claimed_count"] == 1 and seen["status"] == "open"


async def test_withdrawals_and_claims_racing_keep_the_count_true(client: Any, session: Any) -> None:
    t = await s.town(session, residents=0)
    task = await s.published(client, t, people_needed=5)
    first = await crowd(session, t, 5)
    held = [await s.claim(client, t, p, task["id"]) for p in first]
    others = await crowd(session, t, 40)
    claims = [client.post(s.url(t, f"/tasks/{task['id']}/claims"), headers=f.auth(p), json={}) for p in others]
    leaving = [client.post(s.url(t, f"/tasks/{task['id']}/claims/{c['id']}/transitions"), headers=f.auth(p),
                           json={"action": "withdraw"}) for p, c in zip(first, held, strict=True)]
    answers = await asyncio.gather(*claims, *leaving)
    assert all(r.status_code in (200, 201, 409) for r in answers), [r.text for r in answers if r.status_code >= 500]
    holding = await count(session, select(func.count()).select_from(TaskClaim).where(
        TaskClaim.task_id == task["id"], TaskClaim.status == "claimed"))
    stored = (await session.execute(select(Task).where(Task.id == task["id"]))).scalar_one()
    await session.commit()
    assert stored.claimed_count == holding <= 5
    assert stored.status == ("full" if holding == 5 else "open")


async def test_the_auto_verify_sweep_racing_the_organiser_pays_each_claim_once(client: Any, session: Any) -> None:
    t = await s.town(session, residents=0)
    people = await crowd(session, t, 6)
    task = await s.soon(client, t, people_needed=6, reward={"unit": "points", "amount": 15})
    submitted_at = clock.now() + timedelta(minutes=15)
    claims = [await s.claim(client, t, p, task["id"]) for p in people]
    with clock.fixed_at(submitted_at):
        for p, c in zip(people, claims, strict=True):
            await s.act(client, t, t.committee, task["id"], c["id"], "checkin")
            await s.act(client, t, p, task["id"], c["id"], "submit")
    later = submitted_at + timedelta(days=8)  # past the default 7 days of the organiser's silence
    with clock.fixed_at(later):
        verifies = [client.post(s.url(t, f"/tasks/{task['id']}/claims/{c['id']}/transitions"),
                                headers=f.auth(t.committee), json={"action": "verify"}) for c in claims]
        results = await asyncio.gather(scheduled.run_once(later), scheduled.run_once(later), *verifies)
    sweeps, answers = results[:2], results[2:]
    assert all(r.status_code in (200, 409) for r in answers), [r.text for r in answers]  # type: ignore[union-attr]
    by_sweep = {cid for sw in sweeps for cid in sw.auto_verified}  # type: ignore[union-attr]
    by_organiser = {r.json()["id"] for r in answers if r.status_code == 200}  # type: ignore[union-attr]
    assert by_sweep | by_organiser == {c["id"] for c in claims} and not by_sweep & by_organiser
    for c in claims:
        entries = (await session.execute(select(Entry).where(Entry.ref_type == "claim", Entry.ref_id == c["id"])))
        assert len(entries.scalars().all()) == 1
        stored = (await session.execute(select(TaskClaim).where(TaskClaim.id == c["id"]))).scalar_one()
        assert stored.status == "paid" and stored.paid_amount == 15
        assert stored.auto_verified is (c["id"] in by_sweep)
    await session.commit()
    for p in people:
        assert (await s.balance(session, t, p))["points"] == 15


async def test_a_retry_whose_answer_was_lost_gets_its_own_claim_not_a_refusal(client: Any, session: Any) -> None:
    from sqlalchemy import delete

    from app.core.models import IdempotencyRecord

    t = await s.town(session)
    task = await s.published(client, t)
    path = s.url(t, f"/tasks/{task['id']}/claims")
    headers = {**f.auth(t.residents[0]), "Idempotency-Key": "claim-1"}
    first = await client.post(path, headers=headers, json={})
    assert first.status_code == 201, first.text
    replay = await client.post(path, headers=headers, json={})
    assert replay.headers.get("idempotent-replayed") == "true" and replay.json()["id"] == first.json()["id"]
    # The server died after the claim was committed and before its answer was recorded: the retry
    # runs the request again and finds the claim its own key made.
    await session.execute(delete(IdempotencyRecord))
    await session.commit()
    retry = await client.post(path, headers=headers, json={})
    assert retry.status_code == 201, retry.text
    assert retry.json()["id"] == first.json()["id"] and "idempotent-replayed" not in retry.headers
    other = await client.post(path, headers={**f.auth(t.residents[0]), "Idempotency-Key": "claim-2"}, json={})
    f.assert_problem(other, 409, "task_already_claimed")  # another tap is another request
    assert (await s.get(client, t, t.residents[1], task["id"]))["claimed_count"] == 1
