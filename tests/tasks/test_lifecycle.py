"""A task's life through the API: a clean-up posted, claimed (one place by a grid worker for an
elderly resident without a phone), checked in on site by the QR code's code or by the organiser,
done with photos, verified and paid once; withdrawing frees a place; cancelling tells claimants."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.core import clock
from app.core.audit import AuditEntry
from app.points import service as points
from app.tasks.models import TaskClaim, TaskEvent
from tests import factories as f
from tests.tasks import support as s


async def test_a_clean_up_is_claimed_checked_in_done_with_photos_verified_and_paid_once(
        client: Any, session: Any) -> None:
    t = await s.town(session)
    task = await s.soon(client, t, people_needed=3, evidence_required=True, reward={"unit": "points", "amount": 20})
    assert task["status"] == "open" and task["places_left"] == 3 and task["can_claim"] is False  # the organiser
    assert task["claim_refusal"] == "task_claim_own"
    volunteer = t.residents[0]
    seen = await s.get(client, t, volunteer, task["id"])
    assert seen["can_claim"] is True and seen["my_claim"] is None and seen["reward"] == {"unit": "points", "amount": 20}

    mine = await s.claim(client, t, volunteer, task["id"])
    assert mine["status"] == "claimed" and mine["person"]["id"] == volunteer.id and mine["acted_by"] is None
    assert "checkin" in mine["allowed_actions"] and "withdraw" in mine["allowed_actions"]
    elder = await s.claim(client, t, t.grid_worker, task["id"], for_person_id=t.elder.id)  # type: ignore[union-attr]
    assert elder["person"]["id"] == t.elder.id and elder["acted_by"]["id"] == t.grid_worker.id  # type: ignore[union-attr]

    code = await s.code(client, t, t.committee, task["id"])
    checked = await s.act(client, t, volunteer, task["id"], mine["id"], "checkin", code=code)
    assert checked["status"] == "checked_in" and checked["checkin_method"] == "code"
    for_elder = await s.act(client, t, t.grid_worker, task["id"], elder["id"], "checkin", code=code)
    assert for_elder["checked_in_by"]["id"] == t.grid_worker.id

    p1 = await s.photo(client, t.c, volunteer)
    submitted = await s.act(client, t, volunteer, task["id"], mine["id"], "submit", photo_ids=[p1], note="扫完了",
                            minutes=150)
    assert submitted["status"] == "submitted" and submitted["minutes"] == 150 and len(submitted["evidence_photos"]) == 1
    p2 = await s.photo(client, t.c, t.grid_worker)
    done_for = await s.act(client, t, t.grid_worker, task["id"], elder["id"], "submit", photo_ids=[p2])
    assert done_for["submitted_by"]["id"] == t.grid_worker.id

    console = (await client.get(s.url(t, f"/tasks/{task['id']}/console"), headers=f.auth(t.committee))).json()
    assert console["attendance"]["checked_in"] == 2 and len(console["verification_queue"]) == 2
    paid = await s.act(client, t, t.committee, task["id"], mine["id"], "verify")
    assert paid["status"] == "paid" and paid["paid_amount"] == 20 and paid["paid_unit"] == "points"
    assert paid["verified_by"]["id"] == t.committee.id and paid["auto_verified"] is False
    again = await client.post(s.url(t, f"/tasks/{task['id']}/claims/{mine['id']}/transitions"),
                              headers=f.auth(t.committee), json={"action": "verify"})
    f.assert_problem(again, 409, "claim_action_not_allowed")
    await s.act(client, t, t.committee, task["id"], elder["id"], "verify")
    assert (await s.balance(session, t, volunteer))["points"] == 20
    assert (await s.balance(session, t, t.elder))["points"] == 20  # type: ignore[arg-type]
    assert (await s.balance(session, t, t.grid_worker))["points"] == 0

    texts = [n["text"] for n in await s.notifications(client, volunteer)]
    assert any("20 积分已到账" in x for x in texts) and any("报名成功" in x for x in texts), texts
    # Every act for the elder is on record with who did it, in the audit log and the task's record.
    audit = (await session.execute(select(AuditEntry.action).where(AuditEntry.actor_id == t.grid_worker.id))).all()
    assert {a for (a,) in audit} >= {"task_claim.claim_for", "task_claim.checkin", "task_claim.submit"}
    events = (await session.execute(select(TaskEvent).where(TaskEvent.claim_id == elder["id"]).order_by(TaskEvent.id))
              ).scalars().all()
    assert [(e.action, e.actor_id, e.for_person_id) for e in events][:3] == [
        ("claim", t.grid_worker.id, t.elder.id), ("checkin", t.grid_worker.id, t.elder.id),  # type: ignore[union-attr]
        ("submit", t.grid_worker.id, t.elder.id)]  # type: ignore[union-attr]
    await session.commit()


async def test_the_organiser_marks_attendance_without_a_code_and_verifies_attendance_when_no_photos_needed(
        client: Any, session: Any) -> None:
    t = await s.town(session)
    task = await s.soon(client, t, reward={"unit": "hours", "amount": 120})
    c = await s.claim(client, t, t.residents[0], task["id"])
    marked = await s.act(client, t, t.committee, task["id"], c["id"], "checkin")
    assert marked["checkin_method"] == "organiser" and marked["checked_in_by"]["id"] == t.committee.id
    paid = await s.act(client, t, t.committee, task["id"], c["id"], "verify")
    assert paid["status"] == "paid" and paid["paid_unit"] == "hours" and paid["paid_amount"] == 120
    assert (await s.balance(session, t, t.residents[0]))["hours"] == 120


async def test_withdrawing_before_the_start_frees_the_place_and_a_full_task_opens_again(
        client: Any, session: Any) -> None:
    t = await s.town(session)
    task = await s.published(client, t, people_needed=1)
    c = await s.claim(client, t, t.residents[0], task["id"])
    assert (await s.get(client, t, t.residents[1], task["id"]))["status"] == "full"
    await s.claim(client, t, t.residents[1], task["id"], expect=409)
    gone = await s.act(client, t, t.residents[0], task["id"], c["id"], "withdraw")
    assert gone["status"] == "withdrawn"
    seen = await s.get(client, t, t.residents[1], task["id"])
    assert seen["status"] == "open" and seen["claimed_count"] == 0
    await s.claim(client, t, t.residents[1], task["id"])
    # Back again later: the same person's claim row comes back, not a second one.
    await s.act(client, t, t.residents[1], task["id"],
                (await s.get(client, t, t.residents[1], task["id"]))["my_claim"]["id"], "withdraw")
    again = await s.claim(client, t, t.residents[0], task["id"])
    assert again["id"] == c["id"] and again["status"] == "claimed"


async def test_cancelling_a_task_ends_its_claims_and_tells_the_claimants(client: Any, session: Any) -> None:
    t = await s.town(session)
    task = await s.published(client, t)
    c = await s.claim(client, t, t.residents[0], task["id"])
    out = await s.act_task(client, t, t.committee, task["id"], "cancel", reason="暴雨改期")
    assert out["status"] == "cancelled" and out["close_reason"] == "暴雨改期"
    claim = (await session.execute(select(TaskClaim).where(TaskClaim.id == c["id"]))).scalar_one()
    assert claim.status == "expired"
    await session.commit()
    texts = [n["text"] for n in await s.notifications(client, t.residents[0])]
    assert any("已取消" in x and "暴雨改期" in x for x in texts), texts


async def test_no_show_is_marked_after_the_start_and_the_sweep_starts_the_job(client: Any, session: Any) -> None:
    from app.tasks import scheduled

    t = await s.town(session)
    task = await s.soon(client, t)
    c = await s.claim(client, t, t.residents[0], task["id"])
    r = await client.post(s.url(t, f"/tasks/{task['id']}/claims/{c['id']}/transitions"), headers=f.auth(t.committee),
                          json={"action": "no_show"})
    f.assert_problem(r, 409, "task_not_started")
    later = clock.now() + timedelta(minutes=20)
    result = await scheduled.run_once(later)
    assert task["id"] in result.started
    with clock.fixed_at(later):
        out = await s.act(client, t, t.committee, task["id"], c["id"], "no_show")
    assert out["status"] == "no_show"
    assert (await s.get(client, t, t.residents[0], task["id"]))["status"] == "in_progress"
    # Nobody pays for a no-show.
    assert (await points.balance(session, t.c.id, t.residents[0].id))[points.Unit.points] == 0
    await session.commit()


async def test_a_new_time_tells_the_claimants_and_they_are_reminded_again(client: Any, session: Any) -> None:
    from app.tasks import scheduled

    t = await s.town(session)
    task = await s.published(client, t)
    c = await s.claim(client, t, t.residents[0], task["id"])
    starts = s.parse(task["starts_at"])
    assert (await scheduled.run_once(starts - timedelta(hours=20))).reminded_day == [c["id"]]
    later = starts + timedelta(days=7)
    r = await client.patch(s.url(t, f"/tasks/{task['id']}"), headers=f.auth(t.committee),
                           json={"starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=2)).isoformat()})
    assert r.status_code == 200, r.text
    texts = [n["text"] for n in await s.notifications(client, t.residents[0])]
    assert any("时间或地点有变" in x for x in texts), texts
    assert (await scheduled.run_once(later - timedelta(hours=20))).reminded_day == [c["id"]]


async def test_a_facilitator_finds_the_claims_they_made_for_others(client: Any, session: Any) -> None:
    t = await s.town(session)
    task = await s.published(client, t)
    made = await s.claim(client, t, t.leader, task["id"], for_person_id=t.elder.id)  # type: ignore[union-attr]
    seen = await s.get(client, t, t.leader, task["id"])
    assert seen["my_claim"] is None and [c["id"] for c in seen["claims_for_others"]] == [made["id"]]
    assert "withdraw" in seen["claims_for_others"][0]["allowed_actions"]
    r = await client.get(s.url(t, "/me/claims"), headers=f.auth(t.leader), params={"for_others": "true"})
    assert [(c["id"], c["person"]["name"], c["task"]["title"]) for c in r.json()["items"]] == [
        (made["id"], "张奶奶", "周六小区大扫除")]
    assert (await client.get(s.url(t, "/me/claims"), headers=f.auth(t.leader))).json()["items"] == []
    assert (await s.get(client, t, t.residents[0], task["id"]))["claims_for_others"] == []


async def test_a_rejected_claim_says_why_and_may_be_sent_again(client: Any, session: Any) -> None:
    t = await s.town(session)
    task = await s.soon(client, t, evidence_required=True, reward={"unit": "points", "amount": 5})
    c = await s.claim(client, t, t.residents[0], task["id"])
    await s.act(client, t, t.committee, task["id"], c["id"], "checkin")
    first = await s.photo(client, t.c, t.residents[0])
    await s.act(client, t, t.residents[0], task["id"], c["id"], "submit", photo_ids=[first])
    out = await s.act(client, t, t.committee, task["id"], c["id"], "reject", reason="照片看不清楚")
    assert out["status"] == "rejected" and out["rejected_reason"] == "照片看不清楚"
    assert "submit" in out["allowed_actions"]
    texts = [n["text"] for n in await s.notifications(client, t.residents[0])]
    assert any("未通过：照片看不清楚" in x for x in texts), texts
    english = (await client.get(f"{s.API}/notifications", headers=f.auth(t.residents[0], "en"))).json()["items"]
    assert any("was not accepted: 照片看不清楚" in n["text"] for n in english)
    second = await s.photo(client, t.c, t.residents[0])
    again = await s.act(client, t, t.residents[0], task["id"], c["id"], "submit", photo_ids=[second])
    assert again["status"] == "submitted" and again["rejected_reason"] == "" and len(again["evidence_photos"]) == 2
    paid = await s.act(client, t, t.committee, task["id"], c["id"], "verify")
    assert paid["status"] == "paid" and (await s.balance(session, t, t.residents[0]))["points"] == 5
