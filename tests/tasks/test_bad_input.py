"""Every rule of issue 12's "Bad input and concurrency" for tasks, and every endpoint's malformed,
oversized, missing, wrong-role, other-community and stale input: a problem+json in the caller's
language (zh-CN and English), and nothing changes — no task, claim, record, entry or message."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.core import clock
from app.core.audit import AuditEntry
from app.notifications.models import Notification
from app.points.models import Entry
from app.tasks.models import Task, TaskClaim, TaskEvent, TaskOrganiser, TaskPhoto
from tests import factories as f
from tests.tasks import support as s

CHINESE = re.compile(r"[\u4e00-\u9fff]")


async def snapshot(session: Any) -> str:
    """Every row a refusal could have touched, hashed."""
    h = hashlib.sha256()
    for model in (Task, TaskClaim, TaskEvent, TaskOrganiser, TaskPhoto, Entry, Notification, AuditEntry):
        rows = (await session.execute(select(model).order_by(model.id))).scalars().all()
        for row in rows:
            h.update(repr(sorted((k, str(v)) for k, v in vars(row).items() if not k.startswith("_"))).encode())
    await session.commit()
    return h.hexdigest()


async def refused(client: Any, session: Any, method: str, path: str, status: int, code: str | None, *,
                  who: Any, json: Any = None, params: dict[str, Any] | None = None) -> None:
    """The request is refused alike in both languages, and the database is as it was."""
    before = await snapshot(session)
    details = {}
    for lang in ("zh-CN", "en"):
        r = await client.request(method, path, headers=f.auth(who, lang), json=json, params=params)
        body = f.assert_problem(r, status, code)
        assert r.headers["content-language"] == lang
        details[lang] = body["detail"] + " ".join(e.get("msg", "") for e in body["errors"])
    assert CHINESE.search(details["zh-CN"]), details
    assert not CHINESE.search(details["en"]), details
    assert await snapshot(session) == before, f"{method} {path} changed something"


# --- the rules of the issue -------------------------------------------------------------------------

async def test_claiming_beyond_the_people_needed_is_refused(client: Any, session: Any) -> None:
    t = await s.town(session)
    task = await s.published(client, t, people_needed=1)
    await s.claim(client, t, t.residents[0], task["id"])
    await refused(client, session, "POST", s.url(t, f"/tasks/{task['id']}/claims"), 409, "task_full",
                  who=t.residents[1], json={})


async def test_claiming_twice_is_refused(client: Any, session: Any) -> None:
    t = await s.town(session)
    task = await s.published(client, t)
    await s.claim(client, t, t.residents[0], task["id"])
    await refused(client, session, "POST", s.url(t, f"/tasks/{task['id']}/claims"), 409, "task_already_claimed",
                  who=t.residents[0], json={})
    await refused(client, session, "POST", s.url(t, f"/tasks/{task['id']}/claims"), 409, "task_already_claimed",
                  who=t.grid_worker, json={"for_person_id": t.residents[0].id})


async def test_claiming_after_the_start_is_refused(client: Any, session: Any) -> None:
    t = await s.town(session)
    now = clock.now()
    task = await s.published(client, t, starts_at=s.iso(now - timedelta(minutes=5)),
                             ends_at=s.iso(now + timedelta(hours=2)))
    await refused(client, session, "POST", s.url(t, f"/tasks/{task['id']}/claims"), 409, "task_started",
                  who=t.residents[0], json={})


async def test_claiming_ones_own_task_is_refused(client: Any, session: Any) -> None:
    t = await s.town(session)
    task = await s.published(client, t, t.grid_worker, organiser_ids=[t.leader.id])
    for who in (t.grid_worker, t.leader):
        await refused(client, session, "POST", s.url(t, f"/tasks/{task['id']}/claims"), 403, "task_claim_own",
                      who=who, json={})
    wish = await s.create(client, t, t.residents[0], kind="wish", publish=True)
    await s.act_task(client, t, t.committee, wish["id"], "approve")
    await refused(client, session, "POST", s.url(t, f"/tasks/{wish['id']}/claims"), 403, "task_claim_own",
                  who=t.residents[0], json={})


@pytest.mark.parametrize("scope", ["grid", "building", "role"])
async def test_claiming_outside_the_allowed_group_is_refused(client: Any, session: Any, scope: str) -> None:
    t = await s.town(session)
    eligibility = {"grid": {"scope": "grid", "grid_id": t.grid.id},
                   "building": {"scope": "building", "building_id": t.building.id},
                   "role": {"scope": "role", "role": "owner"}}[scope]
    task = await s.published(client, t, eligibility=eligibility)
    await refused(client, session, "POST", s.url(t, f"/tasks/{task['id']}/claims"), 403, "task_not_eligible",
                  who=t.far, json={})
    if scope != "role":
        await s.claim(client, t, t.residents[0], task["id"])  # one who lives there may
    seen = await s.get(client, t, t.far, task["id"])  # type: ignore[arg-type]
    assert seen["can_claim"] is False and seen["claim_refusal"] == "task_not_eligible"


async def test_checking_in_to_a_task_not_claimed_or_outside_its_window_is_refused(client: Any, session: Any) -> None:
    t = await s.town(session)
    task = await s.published(client, t)  # in two days: check-in opens half an hour before
    c = await s.claim(client, t, t.residents[0], task["id"])
    code = await s.code(client, t, t.committee, task["id"])
    path = s.url(t, f"/tasks/{task['id']}/claims/{c['id']}/transitions")
    await refused(client, session, "POST", path, 409, "task_checkin_closed", who=t.residents[0],
                  json={"action": "checkin", "code": code})
    await refused(client, session, "POST", path, 404, "claim_not_found", who=t.residents[1],  # not theirs
                  json={"action": "checkin", "code": code})
    await s.act(client, t, t.residents[0], task["id"], c["id"], "withdraw")
    await refused(client, session, "POST", path, 409, "claim_action_not_allowed", who=t.residents[0],
                  json={"action": "checkin", "code": code})
    soon = await s.soon(client, t)
    c2 = await s.claim(client, t, t.residents[0], soon["id"])
    later = s.url(t, f"/tasks/{soon['id']}/claims/{c2['id']}/transitions")
    await refused(client, session, "POST", later, 422, "task_checkin_code_wrong", who=t.residents[0],
                  json={"action": "checkin", "code": "000000" if code != "000000" else "111111"})
    await refused(client, session, "POST", later, 422, "task_checkin_code_missing", who=t.residents[0],
                  json={"action": "checkin"})


async def test_verifying_ones_own_claim_is_refused(client: Any, session: Any) -> None:
    t = await s.town(session)
    task = await s.soon(client, t, organiser_ids=[t.grid_worker.id])
    mine = await s.claim(client, t, t.grid_worker, task["id"], for_person_id=t.elder.id)  # type: ignore[union-attr]
    await s.act(client, t, t.grid_worker, task["id"], mine["id"], "checkin",
                code=await s.code(client, t, t.committee, task["id"]))  # as a facilitator: the code like anyone
    await s.act(client, t, t.grid_worker, task["id"], mine["id"], "submit")
    path = s.url(t, f"/tasks/{task['id']}/claims/{mine['id']}/transitions")
    # The grid worker organises the task but made this claim: another organiser verifies it.
    await refused(client, session, "POST", path, 403, "claim_verify_own", who=t.grid_worker,
                  json={"action": "verify"})
    other = await s.soon(client, t)
    c = await s.claim(client, t, t.residents[0], other["id"])
    await s.act(client, t, t.committee, other["id"], c["id"], "checkin")
    await s.act(client, t, t.residents[0], other["id"], c["id"], "submit")
    await refused(client, session, "POST", s.url(t, f"/tasks/{other['id']}/claims/{c['id']}/transitions"), 403,
                  "claim_verify_own", who=t.residents[0], json={"action": "verify"})
    await s.act(client, t, t.committee, task["id"], mine["id"], "verify")


async def test_evidence_missing_where_required_is_refused(client: Any, session: Any) -> None:
    t = await s.town(session)
    task = await s.soon(client, t, evidence_required=True)
    c = await s.claim(client, t, t.residents[0], task["id"])
    await s.act(client, t, t.committee, task["id"], c["id"], "checkin")
    await refused(client, session, "POST", s.url(t, f"/tasks/{task['id']}/claims/{c['id']}/transitions"), 422,
                  "task_evidence_missing", who=t.residents[0], json={"action": "submit", "note": "做完了"})
    # Nor may the organiser verify attendance alone where photos are required.
    await refused(client, session, "POST", s.url(t, f"/tasks/{task['id']}/claims/{c['id']}/transitions"), 409,
                  "claim_action_not_allowed", who=t.committee, json={"action": "verify"})


async def test_a_time_bank_request_with_more_hours_than_one_holds_is_refused(client: Any, session: Any) -> None:
    t = await s.town(session)
    await refused(client, session, "POST", s.url(t, "/tasks"), 409, "points.insufficient", who=t.residents[0],
                  json=s.body("timebank", publish=True))
    draft = await s.create(client, t, t.residents[0], kind="timebank")
    await refused(client, session, "POST", s.url(t, f"/tasks/{draft['id']}/transitions"), 409, "points.insufficient",
                  who=t.residents[0], json={"action": "publish"})


# --- every endpoint: malformed, oversized, missing, wrong role, other community, stale ------------------

async def test_posting_refuses_malformed_oversized_missing_and_wrong_fields(client: Any, session: Any) -> None:
    t = await s.town(session)
    path = s.url(t, "/tasks")
    cases: list[tuple[Any, int, str]] = [
        ([], 422, "invalid"),
        ({k: v for k, v in s.body().items() if k != "kind"}, 422, "invalid"),
        ({k: v for k, v in s.body().items() if k != "title"}, 422, "invalid"),
        (s.body(title=""), 422, "invalid"),
        (s.body(title="扫" * 101), 422, "invalid"),
        (s.body(description="长" * 4001), 422, "invalid"),
        (s.body(kind="party"), 422, "invalid"),
        (s.body(people_needed=0), 422, "invalid"),
        (s.body(people_needed=501), 422, "invalid"),
        (s.body(people_needed="many"), 422, "invalid"),
        (s.body(starts_at="next saturday"), 422, "invalid"),
        (s.body(starts_at="2030-01-01T09:00:00"), 422, "invalid"),  # no offset names no moment
        (s.body(reward={"unit": "gold", "amount": 1}), 422, "invalid"),
        (s.body(reward={"unit": "points", "amount": -5}), 422, "invalid"),
        (s.body(reward={"unit": "points", "amount": 100_001}), 422, "invalid"),
        (s.body(photo_ids=["a"] * 10), 422, "invalid"),
        (s.body(photo_ids=["not an id!"]), 422, "invalid"),
        (s.body(eligibility={"scope": "planet"}), 422, "invalid"),
        (s.body(lat=91, lng=0), 422, "invalid"),
        (s.body(lat=30.5), 422, "location_incomplete"),
        (s.body(sneaky=True), 422, "invalid"),
        (s.body(ends_at=s.iso(clock.now() + timedelta(days=1))), 422, "task_window_backwards"),
        (s.body(starts_at=None), 422, "task_window_needed"),
        (s.body(starts_at=s.iso(clock.now() - timedelta(days=3)), ends_at=s.iso(clock.now() - timedelta(days=2))),
         422, "task_window_past"),
        (s.body(ends_at=s.iso(clock.now() + timedelta(days=400))), 422, "task_window_too_long"),
        (s.body("adoption", checkin_every_days=None), 422, "task_checkin_every_needed"),
        (s.body("wish", people_needed=3), 422, "task_one_person"),
        (s.body("timebank", reward={"unit": "points", "amount": 10}), 422, "task_timebank_hours"),
        (s.body(for_person_id=t.elder.id), 422, "task_for_person_kind"),  # type: ignore[union-attr]
        (s.body(eligibility={"scope": "role"}), 422, "task_eligible_role_needed"),
    ]
    for payload, status, code in cases:
        await refused(client, session, "POST", path, status, code, who=t.committee, json=payload)


async def test_posting_refuses_the_wrong_role_and_another_communitys_ids(client: Any, session: Any) -> None:
    t = await s.town(session)
    other = await s.town(session, name="隔壁社区")
    path = s.url(t, "/tasks")
    await refused(client, session, "POST", path, 403, "task_kind_organisers", who=t.residents[0], json=s.body())
    await refused(client, session, "POST", path, 403, "task_kind_organisers", who=t.handler,
                  json=s.body("adoption"))
    await refused(client, session, "POST", path, 403, "task_reward_committee", who=t.grid_worker,
                  json=s.body(reward={"unit": "points", "amount": 10}))
    await refused(client, session, "POST", path, 404, "community_not_found", who=other.committee, json=s.body())
    await refused(client, session, "POST", path, 422, "building_not_found", who=t.committee,
                  json=s.body(building_id=other.building.id))
    await refused(client, session, "POST", path, 422, "grid_not_found", who=t.committee,
                  json=s.body(eligibility={"scope": "grid", "grid_id": other.grid.id}))
    await refused(client, session, "POST", path, 422, "member_not_found", who=t.committee,
                  json=s.body(organiser_ids=[other.committee.id]))
    await refused(client, session, "POST", path, 422, "member_not_found", who=t.grid_worker,
                  json=s.body("wish", for_person_id=other.elder.id))  # type: ignore[union-attr]
    theirs = await s.photo(client, other.c, other.committee)
    await refused(client, session, "POST", path, 422, "upload_not_found", who=t.committee,
                  json=s.body(photo_ids=[theirs]))
    neighbours = await s.photo(client, t.c, t.residents[1])  # another person's unattached upload
    await refused(client, session, "POST", path, 422, "upload_not_found", who=t.residents[0],
                  json=s.body("wish", photo_ids=[neighbours]))


async def test_reading_and_acting_on_another_communitys_task_is_not_found(client: Any, session: Any) -> None:
    t = await s.town(session)
    other = await s.town(session, name="隔壁社区")
    theirs = await s.published(client, other)
    c = await s.claim(client, other, other.residents[0], theirs["id"])
    for method, rest, payload in (
            ("GET", f"/tasks/{theirs['id']}", None), ("PATCH", f"/tasks/{theirs['id']}", {"title": "改"}),
            ("POST", f"/tasks/{theirs['id']}/claims", {}),
            ("POST", f"/tasks/{theirs['id']}/transitions", {"action": "cancel"}),
            ("POST", f"/tasks/{theirs['id']}/claims/{c['id']}/transitions", {"action": "withdraw"}),
            ("GET", f"/tasks/{theirs['id']}/checkin-code", None), ("POST", f"/tasks/{theirs['id']}/share", None)):
        await refused(client, session, method, s.url(t, rest), 404, "task_not_found", who=t.committee, json=payload)
    mine = await s.published(client, t)
    await refused(client, session, "POST", s.url(t, f"/tasks/{mine['id']}/claims/{c['id']}/transitions"), 404,
                  "claim_not_found", who=t.committee, json={"action": "verify"})
    await refused(client, session, "POST", s.url(t, f"/tasks/{mine['id']}/claims"), 422, "member_not_found",
                  who=t.committee, json={"for_person_id": other.residents[0].id})


async def test_organiser_only_endpoints_and_acting_for_others_refuse_the_wrong_people(
        client: Any, session: Any) -> None:
    t = await s.town(session)
    task = await s.published(client, t)
    c = await s.claim(client, t, t.residents[0], task["id"])
    for rest in (f"/tasks/{task['id']}/console", f"/tasks/{task['id']}/checkin-code", f"/tasks/{task['id']}/claims"):
        await refused(client, session, "GET", s.url(t, rest), 403, "task_organisers_only", who=t.residents[1])
    await refused(client, session, "GET", s.url(t, "/tasks/queue"), 403, "forbidden_role", who=t.residents[1])
    await refused(client, session, "PUT", s.url(t, "/task-rules"), 403, "forbidden_role", who=t.grid_worker,
                  json={"auto_verify_days": 3})
    await refused(client, session, "PATCH", s.url(t, f"/tasks/{task['id']}"), 403, "task_wrong_actor",
                  who=t.residents[1], json={"title": "改个名"})
    await refused(client, session, "POST", s.url(t, f"/tasks/{task['id']}/transitions"), 403, "task_wrong_actor",
                  who=t.residents[1], json={"action": "cancel"})
    # A resident may not claim for a neighbour; a building leader only for their own building's people.
    await refused(client, session, "POST", s.url(t, f"/tasks/{task['id']}/claims"), 403, "forbidden_role",
                  who=t.residents[1], json={"for_person_id": t.residents[2].id})
    await refused(client, session, "POST", s.url(t, f"/tasks/{task['id']}/claims"), 403, "task_act_for_not_yours",
                  who=t.leader, json={"for_person_id": t.far.id})  # type: ignore[union-attr]
    await refused(client, session, "POST", s.url(t, f"/tasks/{task['id']}/claims"), 403, "task_act_for_not_yours",
                  who=t.grid_worker, json={"for_person_id": t.far.id})  # type: ignore[union-attr]
    # Another volunteer's claim is not theirs to see or act on; the claimant may not mark themself absent.
    await refused(client, session, "POST", s.url(t, f"/tasks/{task['id']}/claims/{c['id']}/transitions"), 404,
                  "claim_not_found", who=t.residents[1], json={"action": "withdraw"})
    await refused(client, session, "POST", s.url(t, f"/tasks/{task['id']}/claims/{c['id']}/transitions"), 403,
                  "claim_wrong_actor", who=t.residents[0], json={"action": "no_show"})


async def test_transitions_refuse_unknown_stale_and_incomplete_actions(client: Any, session: Any) -> None:
    t = await s.town(session)
    task = await s.soon(client, t, evidence_required=True)
    c = await s.claim(client, t, t.residents[0], task["id"])
    claim_path = s.url(t, f"/tasks/{task['id']}/claims/{c['id']}/transitions")
    task_path = s.url(t, f"/tasks/{task['id']}/transitions")
    for payload, status, code in (
            ({"action": "teleport"}, 422, "claim_action_unknown"), ({"action": "pay"}, 422, "claim_action_unknown"),
            ({"action": "confirm"}, 422, "claim_action_not_for_kind"),
            ({"action": "renew"}, 422, "claim_action_not_for_kind"),
            ({"action": "submit", "photo_ids": ["x" * 27]}, 422, "invalid"),
            ({"action": "submit", "minutes": -1}, 422, "invalid"),
            ({"action": "submit", "minutes": 1441}, 422, "invalid"),
            ({"action": "checkin", "code": "1" * 13}, 422, "invalid"), ({"action": ""}, 422, "invalid"),
            ({"action": "verify"}, 409, "claim_action_not_allowed"),
            ({"action": "reject"}, 409, "claim_action_not_allowed"), ([], 422, "invalid")):
        await refused(client, session, "POST", claim_path, status, code, who=t.residents[0] if code != "invalid"
                      else t.committee, json=payload)
    await s.act(client, t, t.committee, task["id"], c["id"], "checkin")
    pic = await s.photo(client, t.c, t.residents[0])
    await s.act(client, t, t.residents[0], task["id"], c["id"], "submit", photo_ids=[pic])
    await refused(client, session, "POST", claim_path, 422, "claim_action_needs", who=t.committee,
                  json={"action": "reject"})
    for payload, status, code in (({"action": "fly"}, 422, "task_action_unknown"),
                                  ({"action": "approve"}, 422, "task_action_not_for_kind"),
                                  ({"action": "publish"}, 409, "task_action_not_allowed"),
                                  ({"action": "expire"}, 422, "task_action_unknown"),
                                  ({"action": "cancel", "reason": "理" * 1001}, 422, "invalid")):
        await refused(client, session, "POST", task_path, status, code, who=t.committee, json=payload)
    await s.act_task(client, t, t.committee, task["id"], "cancel")
    await refused(client, session, "POST", s.url(t, f"/tasks/{task['id']}/claims"), 409, "task_not_open",
                  who=t.residents[1], json={})
    await refused(client, session, "PATCH", s.url(t, f"/tasks/{task['id']}"), 409, "task_not_editable",
                  who=t.committee, json={"title": "新标题"})


async def test_editing_refuses_fewer_places_than_claimed_and_a_published_reward(client: Any, session: Any) -> None:
    t = await s.town(session)
    task = await s.published(client, t, people_needed=3, reward={"unit": "points", "amount": 5})
    await s.claim(client, t, t.residents[0], task["id"])
    await s.claim(client, t, t.residents[1], task["id"])
    path = s.url(t, f"/tasks/{task['id']}")
    await refused(client, session, "PATCH", path, 409, "task_needed_below_claimed", who=t.committee,
                  json={"people_needed": 1})
    await refused(client, session, "PATCH", path, 409, "task_reward_published", who=t.committee,
                  json={"reward": {"unit": "points", "amount": 500}})
    await refused(client, session, "PATCH", path, 422, "invalid", who=t.committee, json={"title": None, "x": 1})
    await refused(client, session, "PATCH", path, 422, "task_field_null", who=t.committee, json={"title": None})
    edited = (await client.patch(path, headers=f.auth(t.committee), json={"people_needed": 2})).json()
    assert edited["status"] == "full" and edited["people_needed"] == 2


async def test_lists_refuse_unknown_filters_and_bad_cursors(client: Any, session: Any) -> None:
    t = await s.town(session)
    path = s.url(t, "/tasks")
    for params, code in (({"kind": "party"}, "task_filter_unknown"), ({"status": "open,bored"}, "task_filter_unknown"),
                         ({"near": "north"}, "task_near_invalid"), ({"near": "91,0"}, "task_near_invalid"),
                         ({"mine": "everything"}, "invalid"), ({"cursor": "!!!"}, "bad_cursor"),
                         ({"limit": 101}, "invalid"), ({"radius_m": 10}, "invalid")):
        await refused(client, session, "GET", path, 422, code, who=t.residents[0], params=params)
    await refused(client, session, "GET", s.url(t, "/me/claims"), 422, "invalid", who=t.residents[0],
                  params={"status": "some"})
