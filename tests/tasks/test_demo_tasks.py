"""The demo compound's co-build as a newcomer finds it: an open clean-up with claims (one made by
the grid worker for an elderly resident without a phone), a missed adoption check-in, micro-wishes
in every state, time-bank requests, and verified, paid claims behind the ledger."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from app import demo
from app.points.models import Entry
from app.tasks.models import Task, TaskClaim
from tests.test_demo import home_cards, loaded, signed_in


async def test_the_demo_compound_has_a_living_co_build(client: Any, session: Any) -> None:
    result = await loaded(session)
    cid = result.communities[demo.COMPOUND]
    tasks = {t.title: t for t in (await session.execute(select(Task).where(Task.community_id == cid))).scalars()}
    assert result.tasks[demo.COMPOUND] == len(tasks) >= 14
    wishes = Counter(t.status for t in tasks.values() if t.kind == "wish")
    assert set(wishes) >= {"pending", "open", "full", "done", "cancelled"}, wishes
    assert {t.status for t in tasks.values() if t.kind == "timebank"} >= {"open", "done", "cancelled"}

    saturday = tasks["周六小区大扫除"]
    assert saturday.status == "open" and saturday.claimed_count == 5
    claims = (await session.execute(select(TaskClaim).where(TaskClaim.task_id == saturday.id))).scalars().all()
    for_elder = [c for c in claims if c.acted_by is not None]
    assert len(for_elder) == 1 and for_elder[0].acted_by != for_elder[0].person_id

    patch = tasks["认领6栋前3号绿地"]
    (adopter,) = (await session.execute(select(TaskClaim).where(TaskClaim.task_id == patch.id))).scalars().all()
    assert adopter.missed_flagged_for is not None and adopter.missed_flagged_for == adopter.next_checkin_due_at

    paid = (await session.execute(select(TaskClaim).where(TaskClaim.status == "paid"))).scalars().all()
    assert len(paid) >= 10 and any(c.auto_verified for c in paid)
    earned = (await session.execute(select(Entry.unit, Entry.amount).where(Entry.kind == "earned"))).all()
    assert {u for u, _ in earned} == {"points", "hours"} and all(a > 0 for _, a in earned)
    issue_task = tasks["补种6栋前冬青"]
    assert issue_task.issue_id is not None and issue_task.status == "open"
    await session.commit()

    owner = await signed_in(client, demo.OWNER.phone)
    cards = await home_cards(client, cid, owner)
    assert cards["tasks.adoption"]["count"] == 1  # his doorstep's check-in is due tomorrow
    saturday_view = (await client.get(f"/api/v1/communities/{cid}/tasks/{saturday.id}", headers=owner)).json()
    assert saturday_view["can_claim"] is True  # the printed owner can join it at once
    committee = await signed_in(client, demo.COMMITTEE.phone)
    cards = await home_cards(client, cid, committee)
    assert cards["tasks.verify"]["count"] >= 1 and cards["tasks.approve"]["count"] == 1
    resident = await signed_in(client, demo.RESIDENT.phone)
    mine = (await client.get(f"/api/v1/communities/{cid}/me/claims", headers=resident)).json()["items"]
    assert any(m["task"]["title"] == "想学用智能手机视频通话" for m in mine)
