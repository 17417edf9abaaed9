"""The other kinds: an adoption 认领 checked in every N days (a missed one flagged to both sides,
renewed, handed over); a micro-wish 微心愿 approved by the committee and confirmed by the wisher;
a time-bank request 时间银行 paid from the asker's own hours (held, paid, or given back); and an
issue turned into a volunteer task, with the link on both sides."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.core import clock
from app.points import service as points
from app.points.models import Entry
from app.tasks import scheduled
from app.tasks.models import TaskClaim
from tests import factories as f
from tests.issues.support import place, report
from tests.tasks import support as s


async def test_an_adoption_is_checked_in_every_n_days_and_a_missed_check_in_is_flagged_once_to_both(
        client: Any, session: Any) -> None:
    t = await s.town(session)
    task = await s.published(client, t, kind="adoption", organiser_ids=[t.grid_worker.id])
    adopter = t.residents[0]
    c = await s.claim(client, t, adopter, task["id"])
    due = clock.now() + timedelta(days=7)
    assert abs((s.parse(c["next_checkin_due_at"]) - due).total_seconds()) < 60
    pic = await s.photo(client, t.c, adopter)
    checked = await s.act(client, t, adopter, task["id"], c["id"], "checkin", photo_ids=[pic])
    assert checked["checkin_method"] == "photo" and checked["checkins"] == 1
    with clock.fixed_at(clock.now() + timedelta(days=3)):
        again = await s.act(client, t, adopter, task["id"], c["id"], "checkin",
                            code=await s.code(client, t, t.grid_worker, task["id"]))
    assert again["checkins"] == 2 and again["status"] == "checked_in"
    next_due = s.parse(again["next_checkin_due_at"])

    soon = await scheduled.run_once(next_due - timedelta(hours=12))
    assert soon.checkin_due == [c["id"]]
    assert (await scheduled.run_once(next_due - timedelta(hours=11))).checkin_due == []  # once
    late = next_due + timedelta(hours=2)
    missed = await scheduled.run_once(late)
    assert missed.checkin_missed == [c["id"]]
    assert (await scheduled.run_once(late + timedelta(minutes=5))).checkin_missed == []  # once
    mine = [n["text"] for n in await s.notifications(client, adopter)]
    assert any("该打卡了" in x for x in mine) and any("已错过打卡" in x for x in mine), mine
    theirs = [n["text"] for n in await s.notifications(client, t.grid_worker)]
    assert any("居民1" in x and "错过了打卡" in x for x in theirs), theirs
    with clock.fixed_at(late):
        home = (await client.get(s.url(t, "/home"), headers=f.auth(adopter))).json()
    card = next(x for x in home["cards"] if x["key"] == "tasks.adoption")
    assert card["count"] == 1 and card["items"][0]["tone"] == "danger"


async def test_an_adoption_is_renewed_and_handed_over_with_its_next_check_in(client: Any, session: Any) -> None:
    t = await s.town(session)
    task = await s.published(client, t, kind="adoption")
    c = await s.claim(client, t, t.residents[0], task["id"])
    ends = s.parse(task["ends_at"])
    await s.act(client, t, t.residents[0], task["id"], c["id"], "renew", days=30)
    renewed = await s.get(client, t, t.residents[0], task["id"])
    assert s.parse(renewed["ends_at"]) - ends == timedelta(days=30)
    handed = await s.act(client, t, t.residents[0], task["id"], c["id"], "hand_over", to_person_id=t.residents[1].id)
    assert handed["status"] == "handed_over" and handed["handed_to"]["id"] == t.residents[1].id
    theirs = (await s.get(client, t, t.residents[1], task["id"]))["my_claim"]
    assert theirs["status"] == "claimed" and theirs["next_checkin_due_at"] == c["next_checkin_due_at"]
    assert (await s.get(client, t, t.residents[1], task["id"]))["claimed_count"] == 1
    texts = [n["text"] for n in await s.notifications(client, t.residents[1])]
    assert any("转交给你" in x for x in texts), texts


async def test_a_micro_wish_waits_for_approval_is_taken_up_and_the_wisher_confirms(client: Any, session: Any) -> None:
    t = await s.town(session)
    wisher, volunteer = t.residents[0], t.residents[1]
    wish = await s.create(client, t, wisher, kind="wish", publish=True)
    assert wish["status"] == "pending" and wish["requester"]["id"] == wisher.id
    hidden = await client.get(s.url(t, f"/tasks/{wish['id']}"), headers=f.auth(volunteer))
    f.assert_problem(hidden, 404, "task_not_found")
    listed = (await client.get(s.url(t, "/tasks"), headers=f.auth(volunteer))).json()["items"]
    assert wish["id"] not in [x["id"] for x in listed]
    assert any("待审核" in n["text"] for n in await s.notifications(client, t.committee))
    refused = await client.post(s.url(t, f"/tasks/{wish['id']}/transitions"), headers=f.auth(wisher),
                                json={"action": "approve"})
    f.assert_problem(refused, 403, "task_wrong_actor")
    approved = await s.act_task(client, t, t.committee, wish["id"], "approve")
    assert approved["status"] == "open" and approved["approved_at"]

    c = await s.claim(client, t, volunteer, wish["id"], organisation="幸福里物业")
    assert c["organisation"] == "幸福里物业"
    assert (await s.get(client, t, wisher, wish["id"]))["status"] == "full"
    await s.act(client, t, volunteer, wish["id"], c["id"], "submit", note="已送到家")
    own = await client.post(s.url(t, f"/tasks/{wish['id']}/claims/{c['id']}/transitions"), headers=f.auth(volunteer),
                            json={"action": "confirm"})
    f.assert_problem(own, 403, "claim_verify_own")
    done = await s.act(client, t, wisher, wish["id"], c["id"], "confirm")
    assert done["status"] == "verified" and done["verified_by"]["id"] == wisher.id
    assert (await s.get(client, t, wisher, wish["id"]))["status"] == "done"
    texts = [n["text"] for n in await s.notifications(client, wisher)]
    assert any("有人认领了" in x for x in texts) and any("已通过审核" in x for x in texts), texts


async def test_a_facilitator_posts_a_wish_for_an_elder_and_confirms_it_for_her(client: Any, session: Any) -> None:
    t = await s.town(session)
    elder = t.elder
    assert elder is not None
    wish = await s.create(client, t, t.leader, kind="wish", for_person_id=elder.id, publish=True,
                          reward={"unit": "points", "amount": 5}, expect=403)  # the committee offers points
    wish = await s.create(client, t, t.leader, kind="wish", for_person_id=elder.id, publish=True)
    assert wish["requester"]["id"] == elder.id and wish["created_by"]["id"] == t.leader.id
    far = await client.post(s.url(t, "/tasks"), headers=f.auth(t.leader),
                            json=s.body("wish", for_person_id=t.far.id))  # type: ignore[union-attr]
    f.assert_problem(far, 403, "task_act_for_not_yours")  # not of the leader's building
    await s.act_task(client, t, t.committee, wish["id"], "approve")
    c = await s.claim(client, t, t.residents[2], wish["id"])
    done = await s.act(client, t, t.leader, wish["id"], c["id"], "confirm")
    assert done["status"] == "verified" and done["verified_by"]["id"] == t.leader.id


async def give_hours(session: Any, t: s.Town, who: Any, minutes: int) -> None:
    await points.post(session, community_id=t.c.id, person_id=who.id, unit=points.Unit.hours, kind=points.Kind.bonus,
                      amount=minutes, actor_id=None, reason="测试", title="测试")
    await session.commit()


async def test_a_time_bank_request_holds_the_askers_hours_and_pays_them_to_the_helper(
        client: Any, session: Any) -> None:
    t = await s.town(session)
    asker, helper = t.residents[0], t.residents[1]
    await give_hours(session, t, asker, 120)
    req = await s.create(client, t, asker, kind="timebank", publish=True)
    assert req["status"] == "open" and req["hours_held"] == 90 and req["reward"]["hours"] == "1.5"
    assert await s.balance(session, t, asker) == {"points": 0, "hours": 30}
    c = await s.claim(client, t, helper, req["id"])
    with clock.fixed_at(clock.now() + timedelta(days=2, minutes=5)):
        await s.act(client, t, helper, req["id"], c["id"], "submit", minutes=80)
        paid = await s.act(client, t, asker, req["id"], c["id"], "confirm")
    assert paid["status"] == "paid" and paid["paid_unit"] == "hours" and paid["paid_amount"] == 90
    assert await s.balance(session, t, helper) == {"points": 0, "hours": 90}
    assert await s.balance(session, t, asker) == {"points": 0, "hours": 30}
    done = await s.get(client, t, asker, req["id"])
    assert done["status"] == "done" and done["hours_held"] == 0
    assert any("1.5 小时已存入" in n["text"] for n in await s.notifications(client, helper))


async def test_a_cancelled_or_expired_time_bank_request_gives_the_hours_back_once(client: Any, session: Any) -> None:
    t = await s.town(session)
    asker = t.residents[0]
    await give_hours(session, t, asker, 100)
    first = await s.create(client, t, asker, kind="timebank", publish=True, reward={"unit": "hours", "amount": 60})
    assert (await s.balance(session, t, asker))["hours"] == 40
    await s.act_task(client, t, asker, first["id"], "cancel", reason="家人来帮忙了")
    assert (await s.balance(session, t, asker))["hours"] == 100
    second = await s.create(client, t, asker, kind="timebank", publish=True, reward={"unit": "hours", "amount": 100})
    assert (await s.balance(session, t, asker))["hours"] == 0
    over = s.parse(second["ends_at"]) + timedelta(minutes=1)
    result = await scheduled.run_once(over)
    assert second["id"] in result.expired
    await scheduled.run_once(over + timedelta(minutes=1))
    assert (await s.balance(session, t, asker))["hours"] == 100
    released = (await session.execute(select(Entry).where(Entry.ref_id.in_([first["id"], second["id"]]),
                                                          Entry.kind == "released"))).scalars().all()
    assert len(released) == 2
    await session.commit()


async def test_an_issue_turned_into_a_task_keeps_the_link_both_ways(client: Any, session: Any) -> None:
    p = await place(client, session)
    pic = await s.photo(client, p.c, p.resident)
    issue = await report(client, p, photo_ids=[pic])
    refused = await client.post(f"/api/v1/communities/{p.c.id}/issues/{issue['id']}/task",
                                headers=f.auth(p.resident), json={})
    f.assert_problem(refused, 403, "forbidden_role")
    start = clock.now() + timedelta(days=3)
    r = await client.post(f"/api/v1/communities/{p.c.id}/issues/{issue['id']}/task", headers=f.auth(p.committee),
                          json={"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat(),
                                "people_needed": 4, "publish": True})
    assert r.status_code == 201, r.text
    task = r.json()
    assert task["issue_id"] == issue["id"] and task["title"] == issue["title"] and task["status"] == "open"
    assert [x["id"] for x in task["photos"]] == [pic] and task["kind"] == "volunteer"
    timeline = (await client.get(f"/api/v1/communities/{p.c.id}/issues/{issue['id']}/timeline",
                                 headers=f.auth(p.neighbour))).json()
    assert timeline[-1]["action"] == "task_created" and timeline[-1]["data"] == {"task_id": task["id"]}
    # The photo stays public: it now shows on a published task as well as the public issue.
    assert task["photos"][0]["url"] == issue["photos"][0]["url"]


async def test_a_staff_only_issue_does_not_become_a_public_task(client: Any, session: Any) -> None:
    p = await place(client, session)
    issue = await report(client, p, who=p.grid_worker, staff_only=True, source="grid_patrol")
    r = await client.post(f"/api/v1/communities/{p.c.id}/issues/{issue['id']}/task", headers=f.auth(p.committee),
                          json={})
    f.assert_problem(r, 409, "task_from_staff_only_issue")
    assert (await session.execute(select(TaskClaim))).first() is None


async def test_fields_sent_as_null_keep_the_issues_own_words(client: Any, session: Any) -> None:
    """The schema fuzzer sent ``"title": null``: a 500 before; now the issue's title stands."""
    p = await place(client, session)
    issue = await report(client, p)
    start = clock.now() + timedelta(days=3)
    r = await client.post(f"/api/v1/communities/{p.c.id}/issues/{issue['id']}/task", headers=f.auth(p.committee),
                          json={"title": None, "reward": None, "eligibility": None, "description": None,
                                "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()})
    assert r.status_code == 201, r.text
    assert r.json()["title"] == issue["title"] and r.json()["description"] == issue["description"]
