"""A wish or a time-bank request a facilitator posted for a resident: the resident it is for sees,
on the task itself, who took it up, where it stands and what they handed in, and confirms it (or
sends it back with a reason) there; the facilitator who posted it may do so for them, on record as
such. Nobody else sees those claims or decides on them, and the helper is paid once."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from app.core.audit import AuditEntry
from app.points import service as points
from app.points.models import Entry
from app.tasks.models import TaskEvent
from tests import factories as f
from tests.tasks import support as s
from tests.tasks.test_bad_input import refused


async def give_hours(session: Any, t: s.Town, who: Any, minutes: int) -> None:
    await points.post(session, community_id=t.c.id, person_id=who.id, unit=points.Unit.hours, kind=points.Kind.bonus,
                      amount=minutes, actor_id=None, reason="测试", title="测试")
    await session.commit()


async def earned_for(session: Any, claim_id: str) -> list[int]:
    rows = (await session.execute(select(Entry.amount).where(Entry.ref_type == "claim", Entry.ref_id == claim_id,
                                                             Entry.kind == "earned"))).scalars().all()
    await session.commit()
    return [int(x) for x in rows]


async def request_for(client: Any, session: Any, t: s.Town, asker: Any) -> dict[str, Any]:
    """A time-bank request a grid worker posts for ``asker`` (paid from the asker's 90 minutes)."""
    await give_hours(session, t, asker, 120)
    req = await s.create(client, t, t.grid_worker, kind="timebank", for_person_id=asker.id, publish=True)
    assert req["requester"]["id"] == asker.id and req["created_by"]["id"] == t.grid_worker.id
    assert req["hours_held"] == 90
    return req


async def test_the_asker_sees_the_claim_on_a_request_posted_for_them_and_confirming_pays_the_helper_once(
        client: Any, session: Any) -> None:
    t = await s.town(session)
    asker, helper, neighbour = t.residents
    req = await request_for(client, session, t, asker)
    assert (await s.get(client, t, asker, req["id"]))["request_claims"] == []  # nobody yet
    c = await s.claim(client, t, helper, req["id"])
    pic = await s.photo(client, t.c, helper)
    await s.act(client, t, helper, req["id"], c["id"], "submit", photo_ids=[pic], note="药取回来了", minutes=80)

    seen = await s.get(client, t, asker, req["id"])
    assert seen["i_organise"] is False  # the grid worker posted it: no console for the asker
    (mine,) = seen["request_claims"]
    assert mine["id"] == c["id"] and mine["person"] == {"id": helper.id, "name": helper.name}
    assert mine["status"] == "submitted" and mine["evidence_note"] == "药取回来了" and mine["minutes"] == 80
    assert [p["id"] for p in mine["evidence_photos"]] == [pic]
    assert set(mine["allowed_actions"]) == {"confirm", "reject"}
    photo = await client.get(mine["evidence_photos"][0]["url"])
    assert photo.status_code == 200  # the signed link opens for the asker's phone

    # Neither a neighbour nor the helper sees the claims on someone else's request; lists carry none.
    assert (await s.get(client, t, neighbour, req["id"]))["request_claims"] == []
    assert (await s.get(client, t, helper, req["id"]))["request_claims"] == []
    listed = (await client.get(s.url(t, "/tasks"), headers=f.auth(asker))).json()["items"]
    assert [x["request_claims"] for x in listed if x["id"] == req["id"]] == [[]]

    paid = await s.act(client, t, asker, req["id"], c["id"], "confirm")
    assert paid["status"] == "paid" and paid["paid_amount"] == 90 and paid["verified_by"]["id"] == asker.id
    again = await client.post(s.url(t, f"/tasks/{req['id']}/claims/{c['id']}/transitions"), headers=f.auth(asker),
                              json={"action": "confirm"})
    f.assert_problem(again, 409, "claim_action_not_allowed")
    assert await earned_for(session, c["id"]) == [90]
    assert await s.balance(session, t, helper) == {"points": 0, "hours": 90}
    assert await s.balance(session, t, asker) == {"points": 0, "hours": 30}
    done = await s.get(client, t, asker, req["id"])
    assert done["status"] == "done" and [x["status"] for x in done["request_claims"]] == ["paid"]
    assert done["request_claims"][0]["allowed_actions"] == []
    # The asker decided themself: nothing says someone did it for them.
    event = (await session.execute(select(TaskEvent).where(TaskEvent.claim_id == c["id"],
                                                           TaskEvent.action == "confirm"))).scalar_one()
    assert "on_behalf_of" not in event.data and event.actor_id == asker.id
    await session.commit()


async def test_another_resident_may_not_confirm_or_reject_a_request_that_is_not_theirs(
        client: Any, session: Any) -> None:
    t = await s.town(session)
    asker, helper, neighbour = t.residents
    req = await request_for(client, session, t, asker)
    c = await s.claim(client, t, helper, req["id"])
    await s.act(client, t, helper, req["id"], c["id"], "submit", note="办好了")
    path = s.url(t, f"/tasks/{req['id']}/claims/{c['id']}/transitions")
    for body in ({"action": "confirm"}, {"action": "reject", "reason": "不对"}):
        await refused(client, session, "POST", path, 404, "claim_not_found", who=neighbour, json=body)
    await refused(client, session, "GET", s.url(t, f"/tasks/{req['id']}/claims/{c['id']}"), 404, "claim_not_found",
                  who=neighbour)
    await refused(client, session, "GET", s.url(t, f"/tasks/{req['id']}/claims"), 403, "task_organisers_only",
                  who=asker)  # the organiser's list stays the organiser's; the asker reads the task
    # The helper may not confirm their own work, and the asker must say why they send it back.
    await refused(client, session, "POST", path, 403, "claim_verify_own", who=helper, json={"action": "confirm"})
    await refused(client, session, "POST", path, 422, "claim_action_needs", who=asker, json={"action": "reject"})
    assert await earned_for(session, c["id"]) == []
    assert (await s.get(client, t, asker, req["id"]))["request_claims"][0]["status"] == "submitted"


async def test_the_grid_worker_who_posted_a_wish_sends_it_back_and_confirms_it_for_the_wisher_on_record(
        client: Any, session: Any) -> None:
    t = await s.town(session)
    wisher, helper = t.residents[0], t.residents[1]
    wish = await s.create(client, t, t.grid_worker, kind="wish", for_person_id=wisher.id, publish=True)
    await s.act_task(client, t, t.committee, wish["id"], "approve")
    c = await s.claim(client, t, helper, wish["id"], organisation="幸福里物业")
    await s.act(client, t, helper, wish["id"], c["id"], "submit", note="已送到")

    # The grid worker reads the same claims on the task (and may decide for the wisher).
    (theirs,) = (await s.get(client, t, t.grid_worker, wish["id"]))["request_claims"]
    assert theirs["organisation"] == "幸福里物业" and set(theirs["allowed_actions"]) == {"confirm", "reject"}
    back = await s.act(client, t, t.grid_worker, wish["id"], c["id"], "reject", reason="还没收到")
    assert back["status"] == "rejected" and back["rejected_reason"] == "还没收到"
    (seen,) = (await s.get(client, t, wisher, wish["id"]))["request_claims"]
    assert seen["status"] == "rejected" and seen["allowed_actions"] == []  # waiting for the helper again

    await s.act(client, t, helper, wish["id"], c["id"], "submit", note="这次送到了")
    done = await s.act(client, t, t.grid_worker, wish["id"], c["id"], "confirm")
    assert done["status"] == "verified" and done["verified_by"]["id"] == t.grid_worker.id
    assert (await s.get(client, t, wisher, wish["id"]))["status"] == "done"

    events = (await session.execute(select(TaskEvent).where(TaskEvent.claim_id == c["id"],
                                                            TaskEvent.action.in_(["reject", "confirm"]))
                                    .order_by(TaskEvent.created_at))).scalars().all()
    assert [(e.action, e.actor_id, e.data.get("on_behalf_of")) for e in events] == [
        ("reject", t.grid_worker.id, wisher.id), ("confirm", t.grid_worker.id, wisher.id)]
    audits = (await session.execute(select(AuditEntry).where(AuditEntry.object_id == c["id"],
                                                             AuditEntry.actor_id == t.grid_worker.id)
                                    .order_by(AuditEntry.created_at))).scalars().all()
    assert [(a.action, (a.after or {}).get("on_behalf_of")) for a in audits] == [
        ("task_claim.reject", wisher.id), ("task_claim.confirm", wisher.id)]
    await session.commit()
    # The audit log says it in words: on behalf of the wisher, by name.
    log = await client.get(s.url(t, "/audit"), headers=f.auth(t.committee))
    assert log.status_code == 200, log.text
    assert wisher.name in log.text and "代表居民" in log.text


async def test_the_asker_and_the_grid_worker_confirming_at_once_pay_the_helper_once(client: Any, session: Any) -> None:
    t = await s.town(session)
    asker, helper = t.residents[0], t.residents[1]
    req = await request_for(client, session, t, asker)
    c = await s.claim(client, t, helper, req["id"])
    await s.act(client, t, helper, req["id"], c["id"], "submit", note="办好了")
    path = s.url(t, f"/tasks/{req['id']}/claims/{c['id']}/transitions")
    answers = await asyncio.gather(*[client.post(path, headers=f.auth(who), json={"action": "confirm"})
                                     for who in (asker, t.grid_worker, asker, t.grid_worker)])
    codes = sorted(r.status_code for r in answers)
    assert codes.count(200) == 1 and set(codes) <= {200, 409}, [r.text for r in answers]
    assert await earned_for(session, c["id"]) == [90]
    assert await s.balance(session, t, helper) == {"points": 0, "hours": 90}
    paid = (await session.execute(select(func.count()).select_from(TaskEvent).where(
        TaskEvent.claim_id == c["id"], TaskEvent.action == "pay"))).scalar_one()
    await session.commit()
    assert paid == 1
