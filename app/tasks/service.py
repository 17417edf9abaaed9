"""The rules of tasks and claims: who sees and posts what, who may claim, checking in, evidence,
verification and payment, acting for others, and carrying out the tables of ``flows.py``.

Payment goes through the points ledger (app/points): a claim's reward is paid once, whoever
verifies it and however often — the claim moves to verified by one conditional update, and the
ledger itself refuses a second entry for the same claim.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.communities import service as communities
from app.communities.deps import CommunityScope
from app.core import audit, clock, db, ratelimit, uploads
from app.core.config import get_settings
from app.core.errors import AppError, Conflict, Forbidden, Invalid, Msg, NotFound, UnknownReference
from app.core.ids import new_id, short_code
from app.core.models import Upload
from app.issues import service as issues
from app.notifications import service as notifications
from app.points import service as points
from app.tasks import committer, flows
from app.tasks import repository as repo
from app.tasks.flows import Actor, ClaimStatus, Kind, Status
from app.tasks.models import Task, TaskClaim, TaskEvent, TaskOrganiser, TaskPhoto, TaskRules
from app.tasks.repository import Standing
from app.tasks.schemas import (
    ClaimCreate,
    ClaimTransitionIn,
    RulesIn,
    TaskCreate,
    TaskFields,
    TaskFromIssue,
    TaskTransitionIn,
)

BEIJING = ZoneInfo("Asia/Shanghai")
DEFAULT_AUTO_VERIFY_DAYS = 7
CHECKIN_EARLY = timedelta(minutes=30)  # one may check in to a job this long before it starts
ROTATE_SECONDS = 60  # a rotating check-in code changes every minute (the one before still works)
CHECKIN_TRIES = "10/minute;30/hour"  # wrong check-in codes one person may type at one task
MAX_SPAN = timedelta(days=366)  # the longest window a task may have (an adoption's year)

TASK_AUDITED = ("create", "update", *flows.TASK_ACTIONS)
CLAIM_AUDITED = ("claim_for", *flows.CLAIM_ACTIONS, "auto_verify")

audit.declare("task", [f"task.{a}" for a in TASK_AUDITED], title=audit.TEXT,
              kind=audit.enum("ui.task.kind", [k.value for k in Kind]),
              status=audit.enum("ui.task.status", [s.value for s in Status]), reason=audit.TEXT,
              people_needed=audit.NUMBER, reward_unit=audit.enum("ui.task.unit", ("points", "hours")),
              reward_amount=audit.NUMBER, starts_at=audit.TIME, ends_at=audit.TIME, issue_id=audit.ref("issue"),
              requester_id=audit.ref("person"), organiser_ids=audit.refs("person"), evidence_required=audit.FLAG,
              eligible=audit.enum("ui.task.eligible", ("community", "grid", "building", "role")))
audit.declare("task_claim", [f"task_claim.{a}" for a in CLAIM_AUDITED], task_id=audit.ref("task"),
              person_id=audit.ref("person"), status=audit.enum("ui.task.claim_status", [s.value for s in ClaimStatus]),
              reason=audit.TEXT, minutes=audit.NUMBER, photos=audit.NUMBER, method=audit.TEXT,
              to_person_id=audit.ref("person"), ends_at=audit.TIME, auto=audit.FLAG, paid_amount=audit.NUMBER,
              on_behalf_of=audit.ref("person"))
audit.declare("task_rules", ["task_rules.update"], auto_verify_days=audit.NUMBER)
audit.resolver("task", lambda session, cid, ids, locale: repo.names_in(session, cid, ids))


def field_error(code: str, *loc: str | int, key: str | None = None) -> Invalid:
    """Bad input naming the field (``loc`` under body), its message ``key`` (default ``error.<code>``)."""
    return Invalid(code, errors=[{"loc": ["body", *loc], "msg_key": key or f"error.{code}"}])


def task_status(status: str) -> Msg:
    return Msg(f"ui.task.status.{status}")


def action_word(action: str) -> Msg | str:
    """A known action in the reader's words; an unknown one as it was sent."""
    known = action in flows.TASK_TRANSITIONS or action in flows.CLAIM_TRANSITIONS or action == "edit"
    return Msg(f"ui.task.action.{action}") if known else action


# --- who the caller is to a task ---------------------------------------------------------------------

@dataclass
class Context:
    """A task as the caller meets it: its organisers, and what the caller is to it."""

    task: Task
    organisers: list[str]
    actors: frozenset[Actor]

    @property
    def kind(self) -> Kind:
        return Kind(self.task.kind)


def task_actors(scope: CommunityScope, task: Task, organisers: Sequence[str]) -> frozenset[Actor]:
    out: set[Actor] = set()
    if scope.person.id in organisers or scope.can("tasks.manage"):
        out.add(Actor.organiser)
    if scope.can("tasks.manage"):
        out.add(Actor.committee)
    if task.requester_id == scope.person.id:
        out.add(Actor.requester)
    return frozenset(out)


def sees_all(scope: CommunityScope) -> bool:
    return scope.can("tasks.manage")


def sees_task(scope: CommunityScope, task: Task, organisers: Sequence[str]) -> bool:
    """Published tasks are everyone's in the community; a draft its organisers'; a wish waiting for
    approval also its wisher's and whoever posted it."""
    if task.status not in (Status.draft, Status.pending) or sees_all(scope) or scope.person.id in organisers:
        return True
    return task.status == Status.pending and scope.person.id in (task.requester_id, task.created_by)


async def context(session: AsyncSession, scope: CommunityScope, task_id: str) -> Context:
    """The task if the caller may see it; 404 otherwise, exactly as if it did not exist."""
    task = await repo.task_in(session, scope.community_id, task_id)
    if task is None:
        raise NotFound("task_not_found")
    organisers = (await repo.organisers(session, [task.id])).get(task.id, [])
    if not sees_task(scope, task, organisers):
        raise NotFound("task_not_found")
    return Context(task, organisers, task_actors(scope, task, organisers))


async def upload_on_tasks(session: AsyncSession, upload: Upload) -> bool | None:
    """For app/core/media.py: a published task's own photos are public with it; a draft's, and every
    claim's evidence, are not (organisers, the claimant and the confirmer see them, signed)."""
    shown = await repo.showing_upload(session, upload.id)
    if not shown:
        return None
    return all(claim_id is None and status not in (Status.draft, Status.pending) for status, claim_id in shown)


def may_act_for(scope: CommunityScope, other: Standing | None) -> bool:
    """A facilitator acts for the people they look after: the committee for anyone in the community,
    a grid worker for the people of their grids, a building leader for those of their building."""
    if other is None or not scope.can("tasks.act_for"):
        return False
    if scope.can("tasks.manage"):
        return True
    m = scope.membership
    if "grid_worker" in scope.roles and m is not None and other.grid_id and other.grid_id in (m.grid_ids or []):
        return True
    home = m.building_id if m is not None else None
    return "building_leader" in scope.roles and home is not None and other.building_id == home


def acts_for_requester(scope: CommunityScope, task: Task, requester: Standing | None) -> bool:
    """Whether the caller may confirm or reject a wish's or a request's claims for the one it is for:
    a facilitator who looks after them, or the facilitator who posted it for them."""
    if not task.requester_id or task.requester_id == scope.person.id:
        return False
    posted_for = task.created_by == scope.person.id and scope.can("tasks.act_for")
    return posted_for or may_act_for(scope, requester)


def eligible(task: Task, who: Standing) -> bool:
    if task.eligible == "grid":
        return who.grid_id is not None and who.grid_id == task.eligible_grid_id
    if task.eligible == "building":
        return who.building_id is not None and who.building_id == task.eligible_building_id
    if task.eligible == "role":
        return task.eligible_role in who.roles
    return True


async def standing_of(session: AsyncSession, community_id: str, person_id: str) -> Standing | None:
    return (await repo.standings(session, community_id, [person_id])).get(person_id)


# --- posting and editing -------------------------------------------------------------------------------

def _window_problem(kind: Kind, starts_at: datetime | None, ends_at: datetime | None,
                    checkin_every_days: int | None) -> AppError | None:
    def bad(code: str, *loc: str) -> Invalid:
        return Invalid(code, errors=[{"loc": ["body", *loc], "msg_key": f"error.{code}"}])

    if kind in (Kind.volunteer, Kind.timebank, Kind.adoption) and (starts_at is None or ends_at is None):
        return bad("task_window_needed", "starts_at" if starts_at is None else "ends_at")
    if starts_at is not None and ends_at is not None:
        if ends_at <= starts_at:
            return bad("task_window_backwards", "ends_at")
        if ends_at - starts_at > MAX_SPAN:
            return bad("task_window_too_long", "ends_at")
    if ends_at is not None and ends_at <= clock.now():
        return bad("task_window_past", "ends_at")
    if kind is Kind.adoption and not checkin_every_days:
        return bad("task_checkin_every_needed", "checkin_every_days")
    return None


async def _check_photos(session: AsyncSession, scope: CommunityScope, photo_ids: Sequence[str],
                        field: str = "photo_ids") -> None:
    """Photos the caller may attach: their own uploads (any, for the committee) or public ones."""
    if len(set(photo_ids)) != len(photo_ids):
        raise Invalid("photo_duplicate")
    for i, upload_id in enumerate(photo_ids):
        try:
            await uploads.visible_upload(session, scope, upload_id)
        except NotFound as e:
            raise UnknownReference("upload_not_found", field, i) from e


async def _apply_fields(session: AsyncSession, scope: CommunityScope, task: Task, data: TaskFields,
                        given: set[str]) -> dict[str, Any]:
    """Check the fields of a create or an edit and set them on ``task``; returns what changed."""
    cid = scope.community_id
    changes: dict[str, Any] = {}
    for name in ("title", "description", "location_text", "evidence_required", "checkin_rotating",
                 "checkin_every_days", "starts_at", "ends_at"):
        if name in given:
            value = getattr(data, name)
            if value is None and name in ("title", "description", "location_text", "evidence_required",
                                          "checkin_rotating"):
                raise field_error("task_field_null", name, key="validation.not_null")
            changes[name] = value
    if "building_id" in given:
        if data.building_id and await communities.get_building(session, cid, data.building_id) is None:
            raise UnknownReference("building_not_found", "building_id")
        changes["building_id"] = data.building_id
    if "lat" in given or "lng" in given:
        lat = data.lat if "lat" in given else task.lat
        lng = data.lng if "lng" in given else task.lng
        if (lat is None) != (lng is None):
            raise Invalid("location_incomplete")
        changes["lat"], changes["lng"] = lat, lng
    if "reward" in given:
        reward = data.reward
        unit, amount = (reward.unit, reward.amount) if reward is not None else ("points", 0)
        changes["reward_unit"], changes["reward_amount"] = unit, amount
    if "eligibility" in given:
        e = data.eligibility
        scope_name = e.scope if e is not None else "community"
        grid_id = building_id = role = None
        if e is not None and scope_name == "grid":
            if not e.grid_id or not any(g.id == e.grid_id for g in await communities.grids(session, cid)):
                raise UnknownReference("grid_not_found", "eligibility", "grid_id")
            grid_id = e.grid_id
        elif e is not None and scope_name == "building":
            if not e.building_id or await communities.get_building(session, cid, e.building_id) is None:
                raise UnknownReference("building_not_found", "eligibility", "building_id")
            building_id = e.building_id
        elif e is not None and scope_name == "role":
            if not e.role:
                raise field_error("task_eligible_role_needed", "eligibility", "role", key="validation.missing")
            role = e.role
        changes.update(eligible=scope_name, eligible_grid_id=grid_id, eligible_building_id=building_id,
                       eligible_role=role)
    for name, value in changes.items():
        setattr(task, name, value)
    return changes


def _check_kind_rules(scope: CommunityScope, task: Task) -> None:
    """What each kind needs: who may offer points, whose hours pay, how many people."""
    kind = Kind(task.kind)
    if kind in flows.ONE_PERSON and task.people_needed != 1:
        raise field_error("task_one_person", "people_needed")
    if kind is Kind.timebank:
        if task.reward_unit != "hours" or task.reward_amount <= 0:
            raise field_error("task_timebank_hours", "reward")
    elif task.reward_amount > 0 and not scope.can("tasks.reward"):
        # Points and hours paid by the community are the committee's to offer.
        raise Forbidden("task_reward_committee")
    if kind is not Kind.adoption:
        task.checkin_every_days = None
    err = _window_problem(kind, task.starts_at, task.ends_at, task.checkin_every_days)
    if err is not None:
        raise err


async def _check_organisers(session: AsyncSession, scope: CommunityScope, ids: Sequence[str]) -> list[str]:
    ids = list(dict.fromkeys(ids))
    if not await communities.are_members(session, scope.community_id, ids):
        raise UnknownReference("member_not_found", "organiser_ids")
    return ids


async def create_task(session: AsyncSession, scope: CommunityScope, data: TaskCreate, *,
                      issue_id: str | None = None) -> Task:
    kind = Kind(data.kind)
    organiser = scope.can("tasks.organise")
    if kind in (Kind.volunteer, Kind.adoption) and not organiser:
        raise Forbidden("task_kind_organisers")
    requester_id = None
    if kind in flows.ONE_PERSON:
        requester_id = scope.person.id
        if data.for_person_id and data.for_person_id != scope.person.id:
            other = await standing_of(session, scope.community_id, data.for_person_id)
            if other is None:
                raise UnknownReference("member_not_found", "for_person_id")
            if not may_act_for(scope, other):
                raise Forbidden("task_act_for_not_yours")
            requester_id = other.person_id
    elif data.for_person_id:
        raise field_error("task_for_person_kind", "for_person_id")
    task = Task(community_id=scope.community_id, kind=kind.value, status=Status.draft.value, title=data.title,
                description="", location_text="", people_needed=data.people_needed or 1,
                checkin_secret=short_code(16), created_by=scope.person.id, requester_id=requester_id,
                evidence_required=False, checkin_rotating=False, reward_unit="points", reward_amount=0,
                eligible="community", claimed_count=0, hours_held=0, issue_id=issue_id)
    given = set(data.model_fields_set) - {"kind", "for_person_id", "publish", "photo_ids", "organiser_ids",
                                          "people_needed"}
    await _apply_fields(session, scope, task, data, given)
    _check_kind_rules(scope, task)
    organisers = [scope.person.id]
    if data.organiser_ids:
        if not organiser:
            raise Forbidden("forbidden_role")
        organisers = await _check_organisers(session, scope, [scope.person.id, *data.organiser_ids])
    await _check_photos(session, scope, data.photo_ids or [])
    session.add(task)
    await session.flush()
    for pid in organisers:
        session.add(TaskOrganiser(task_id=task.id, person_id=pid))
    for i, uid in enumerate(data.photo_ids or []):
        session.add(TaskPhoto(task_id=task.id, upload_id=uid, kind="task", position=i))
    session.add(TaskEvent(task_id=task.id, actor_id=scope.person.id, action="create", to_status=task.status,
                          for_person_id=requester_id if requester_id != scope.person.id else None))
    await session.flush()
    if organiser:
        await audit.record(session, actor_id=scope.person.id, community_id=scope.community_id, action="task.create",
                           object_type="task", object_id=task.id, after=_audit_view(task, organisers))
    if data.publish:
        ctx = Context(task, organisers, task_actors(scope, task, organisers))
        await transition_task(session, scope, ctx, TaskTransitionIn(action="publish"))
    return task


def _audit_view(task: Task, organisers: Sequence[str] | None = None) -> dict[str, Any]:
    out = audit.snapshot(task, ("title", "kind", "status", "people_needed", "reward_unit", "reward_amount",
                                "starts_at", "ends_at", "evidence_required", "eligible", "issue_id",
                                "requester_id"))
    if organisers is not None:
        out["organiser_ids"] = list(organisers)
    return out


EDITABLE = frozenset({Status.draft, Status.pending, Status.open, Status.full})
DRAFT_ONLY = frozenset({"reward"})  # a published task's reward is a promise (and a request's hours are held)


async def update_task(session: AsyncSession, scope: CommunityScope, task_id: str, data: TaskFields) -> Task:
    ctx = await context(session, scope, task_id)
    task = ctx.task
    if Actor.organiser not in ctx.actors:
        raise Forbidden("task_wrong_actor", action=action_word("edit"))
    if task.status not in EDITABLE:
        raise Conflict("task_not_editable", state=task_status(task.status))
    given = set(data.model_fields_set)
    if given & DRAFT_ONLY and task.status != Status.draft:
        raise Conflict("task_reward_published")
    before = _audit_view(task, ctx.organisers)
    changes = await _apply_fields(session, scope, task, data, given - {"photo_ids", "organiser_ids", "people_needed"})
    if "people_needed" in given and data.people_needed is not None and data.people_needed != task.people_needed:
        if Kind(task.kind) in flows.ONE_PERSON and data.people_needed != 1:
            raise field_error("task_one_person", "people_needed")
        await session.flush()
        if not await repo.set_needed(session, task, data.people_needed, clock.now()):
            raise Conflict("task_needed_below_claimed", claimed=task.claimed_count)
        changes["people_needed"] = data.people_needed
    if "reward" in changes or "reward_amount" in changes or changes.keys() & {"starts_at", "ends_at",
                                                                              "checkin_every_days"}:
        _check_kind_rules(scope, task)
    if "photo_ids" in given:
        await _check_photos(session, scope, data.photo_ids or [])
        await repo.replace_task_photos(session, task.id, data.photo_ids or [])
    organisers = ctx.organisers
    if "organiser_ids" in given and data.organiser_ids is not None:
        organisers = await _check_organisers(session, scope, data.organiser_ids)
        if not organisers:
            raise Invalid("task_organiser_needed", errors=[
                {"loc": ["body", "organiser_ids"], "msg_key": "validation.too_short", "params": {"min_length": 1}}])
        await repo.replace_organisers(session, task.id, organisers)
    task.updated_at = clock.now()
    await session.flush()
    if changes.keys() & {"starts_at", "location_text"} and task.published_at is not None:
        # Those who claimed hear of the new time or place, and are reminded again before it.
        live = await repo.live_claims(session, task.id)
        await repo.reset_reminders(session, [c.id for c in live])
        await _tell(session, task, [c.person_id for c in live], "task.changed", scope.person.id, **_when_where(task))
    await audit.record(session, actor_id=scope.person.id, community_id=scope.community_id, action="task.update",
                       object_type="task", object_id=task.id, before=before, after=_audit_view(task, organisers))
    return task


# --- the task's lifecycle ------------------------------------------------------------------------------

def _task_problem(exc: Exception, action: str, status: str) -> AppError:
    if isinstance(exc, flows.UnknownAction):
        return Invalid("task_action_unknown", action=action)
    if isinstance(exc, flows.NotForKind):
        return Invalid("task_action_not_for_kind", action=action_word(action))
    if isinstance(exc, flows.NotAllowedFrom):
        return Conflict("task_action_not_allowed", action=action_word(action), state=task_status(status),
                        extra={"allowed": exc.allowed})
    return Forbidden("task_wrong_actor", action=action_word(action))


async def transition_task(session: AsyncSession, scope: CommunityScope | None, ctx: Context,
                          body: TaskTransitionIn, *, now: datetime | None = None) -> Task:
    """Publish, approve, start, finish or cancel a task (``scope`` None: the sweep)."""
    task, action = ctx.task, body.action
    actors = frozenset({Actor.system}) if scope is None else ctx.actors
    if scope is not None and action not in flows.TASK_ACTIONS:
        raise Invalid("task_action_unknown", action=action)  # the sweep's own steps are not asked for
    try:
        flows.check(flows.TASK_TRANSITIONS, action, task.status, ctx.kind, actors)
    except (flows.UnknownAction, flows.NotForKind, flows.NotAllowedFrom, flows.WrongActor) as exc:
        raise _task_problem(exc, action, task.status) from exc
    now = now or clock.now()
    actor_id = scope.person.id if scope is not None else None
    target = flows.task_target(action, ctx.kind)
    expected = task.status
    values: dict[str, Any] = {"status": target.value, "updated_at": now}
    if action == "publish":
        err = _window_problem(ctx.kind, task.starts_at, task.ends_at, task.checkin_every_days)
        if err is not None:
            raise err
        values["published_at"] = now
        target = flows.status_after_claims(target, task.claimed_count, task.people_needed)
        values["status"] = target.value
    elif action == "approve":
        values.update(approved_at=now, approved_by=actor_id)
    elif target in flows.FINAL:
        values.update(closed_at=now, close_reason=body.reason)
    if not await repo.move_task(session, task, expected, values):
        raise Conflict("task_changed_meanwhile")
    if action == "publish" and ctx.kind is Kind.timebank and task.requester_id:
        # The hours are set aside now, from the asker's own: they cannot spend them twice. Short of
        # them, the whole publication rolls back (409 points.insufficient).
        await points.hold_hours(session, community_id=task.community_id, person_id=task.requester_id,
                                minutes=task.reward_amount, request_id=task.id, title=task.title, actor_id=actor_id)
        await repo.move_task(session, task, task.status, {"hours_held": task.reward_amount})
    session.add(TaskEvent(task_id=task.id, actor_id=actor_id, action=action, from_status=expected,
                          to_status=target.value, note=body.reason, data={"auto": True} if scope is None else {}))
    if target in (Status.cancelled, Status.expired, Status.done):
        await _wind_up(session, task, action, actor_id, body.reason, now)
    await session.flush()
    await _notify_task(session, task, action, actor_id, body.reason)
    if scope is not None and (Actor.organiser in ctx.actors or Actor.committee in ctx.actors):
        await audit.record(session, actor_id=actor_id, community_id=task.community_id, action=f"task.{action}",
                           object_type="task", object_id=task.id, before={"status": expected},
                           after={"status": target.value, **({"reason": body.reason} if body.reason else {})})
    return task


async def _wind_up(session: AsyncSession, task: Task, action: str, actor_id: str | None, reason: str,
                   now: datetime) -> None:
    """A task that is over: claims still waiting end (cancelled or expired: expired; done: those not
    even checked in, too), and a time-bank request's hours not paid out go back to the asker."""
    if action in ("cancel", "expire"):
        ending = flows.ACTIVE_CLAIMS
    elif actor_id is None:  # the sweep finishing a task long over: only what waits for a verdict stays
        ending = flows.ACTIVE_CLAIMS - {ClaimStatus.submitted}
    else:  # the organiser: who never came ends; who came may still send their photos
        ending = frozenset({ClaimStatus.claimed})
    told = []
    for claim in await repo.all_claims(session, task.id, [s.value for s in ending]):
        expected = claim.status
        if await repo.move_claim(session, claim, expected, {"status": ClaimStatus.expired.value, "ended_at": now,
                                                            "updated_at": now}):
            session.add(TaskEvent(task_id=task.id, claim_id=claim.id, actor_id=actor_id, action="expire",
                                  from_status=expected, to_status=ClaimStatus.expired.value,
                                  data={"because": action}))
            told.append(claim.person_id)
    if action == "cancel" and told:
        await _tell(session, task, told, "task.cancelled", actor_id, why=reason[:200])
    if Kind(task.kind) is Kind.timebank and task.hours_held:
        released = await points.release_hold(session, request_id=task.id, actor_id=actor_id,
                                             reason=action if not reason else f"{action}: {reason}"[:200])
        if released is not None:
            await repo.move_task(session, task, task.status, {"hours_held": 0})


# --- claiming -------------------------------------------------------------------------------------------

def claim_refusal(ctx: Context, claimant: Standing | None, existing: TaskClaim | None, now: datetime,
                  *, for_self: bool = True) -> AppError | None:
    """Why ``claimant`` may not claim this task now, or None. The state first (full, started, closed),
    then the person (their own task, outside the allowed group, twice)."""
    task = ctx.task
    if existing is not None and existing.status != ClaimStatus.withdrawn:
        return Conflict("task_already_claimed")
    if task.status == Status.full:
        return Conflict("task_full")
    if task.status != Status.open:
        return Conflict("task_not_open", state=task_status(task.status))
    if ctx.kind in flows.TIMED and task.starts_at is not None and now >= task.starts_at:
        return Conflict("task_started")
    if task.ends_at is not None and now >= task.ends_at:
        return Conflict("task_ended")
    if claimant is None:  # oneself without a membership (a region admin): not among those who may claim
        return Forbidden("task_not_eligible") if for_self else UnknownReference("member_not_found", "for_person_id")
    if claimant.person_id in ctx.organisers or claimant.person_id in (task.requester_id, task.created_by):
        return Forbidden("task_claim_own" if for_self else "task_claim_own_for")
    if not eligible(task, claimant):
        return Forbidden("task_not_eligible" if for_self else "task_not_eligible_for")
    return None


@dataclass
class Claimed:
    """A claim just made, with what its answer needs (read before writing, so that on SQLite the
    write lock is held for the writes alone)."""

    claim: TaskClaim
    ctx: Context
    standings: dict[str, Standing]
    names: dict[str, str]


async def claim(session: AsyncSession, scope: CommunityScope, task_id: str, data: ClaimCreate) -> TaskClaim:
    return (await take_claim(session, scope, task_id, data)).claim


def claim_check(person_id: str, task_id: str, idempotency_key: str) -> str:
    key = get_settings().secret_key.encode()
    message = f"task-claim:{person_id}:{task_id}:{idempotency_key}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def claim_row(task: Task, person_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """Every column of a new claim, as the group committer inserts it and its answer shows it."""
    return {"id": new_id(), "created_at": values["claimed_at"], "task_id": task.id, "community_id": task.community_id,
            "person_id": person_id, "checked_in_at": None, "checked_in_by": None, "checkin_method": "",
            "last_checkin_at": None, "checkins": 0, "due_reminded_for": None, "missed_flagged_for": None,
            "submitted_at": None, "submitted_by": None, "evidence_note": "", "minutes": 0, "verified_at": None,
            "verified_by": None, "auto_verified": False, "rejected_reason": "", "paid_at": None, "paid_unit": "",
            "paid_amount": 0, "handed_to": None, "reminded_day_at": None, "reminded_hour_at": None, **values}


async def take_claim(session: AsyncSession, scope: CommunityScope, task_id: str, data: ClaimCreate,
                     idempotency_key: str | None = None) -> Claimed:
    """Take a place on a task, for oneself or (a facilitator) for someone without a phone. Reads
    first; a refusal writes nothing. One's own claim on a job or an adoption goes to the group
    committer (app/tasks/committer.py) with those that arrive with it; any other claim is written
    here, its place taken by one conditional update. With an ``idempotency_key``, a retry of the
    request that made a claim (the answer lost with a crashed server) gets that claim again."""
    task = await repo.task_in(session, scope.community_id, task_id)
    if task is None:
        raise NotFound("task_not_found")
    # A published task is everyone's to see, so its organisers are read only when they matter: to
    # refuse one's own task, which only an open task can be. A burst on a full task is refused in
    # three reads (the caller, the task, their claim).
    organisers: list[str] = []
    if task.status in (Status.open, Status.draft, Status.pending):
        organisers = (await repo.organisers(session, [task.id])).get(task.id, [])
        if not sees_task(scope, task, organisers):
            raise NotFound("task_not_found")
    ctx = Context(task, organisers, task_actors(scope, task, organisers))
    person_id = data.for_person_id or scope.person.id
    for_self = person_id == scope.person.id
    if not for_self and not scope.can("tasks.act_for"):
        raise Forbidden("forbidden_role")
    if data.organisation and Kind(task.kind) is not Kind.wish:
        raise field_error("task_organisation_wish_only", "organisation")
    now = clock.now()
    existing = await repo.claim_of(session, task.id, person_id)
    check = claim_check(person_id, task.id, idempotency_key) if idempotency_key else None
    if existing is not None and check is not None and existing.claim_check == check \
            and existing.status != ClaimStatus.withdrawn:
        return await _claimed(session, scope, ctx, existing)  # this very request's claim, made before
    claimant = None
    if for_self and task.status != Status.open:
        refusal = claim_refusal(ctx, None, existing, now)  # the state refuses first, whoever asks
    else:
        claimant = await standing_of(session, scope.community_id, person_id)
        if not for_self:
            if claimant is None:
                raise UnknownReference("member_not_found", "for_person_id")
            if not may_act_for(scope, claimant):
                raise Forbidden("task_act_for_not_yours")
        refusal = claim_refusal(ctx, claimant, existing, now, for_self=for_self)
    if refusal is not None:
        raise refusal
    assert claimant is not None
    standings = {person_id: claimant}
    if task.requester_id and task.requester_id not in standings:
        standings.update(await repo.standings(session, scope.community_id, [task.requester_id]))
    names = {scope.person.id: scope.person.name or ""}
    if not for_self:
        names.update(await communities.names_of(session, [person_id]))
    due = None
    if ctx.kind is Kind.adoption and task.checkin_every_days:
        due = max(now, task.starts_at or now) + timedelta(days=task.checkin_every_days)
    values = {"status": ClaimStatus.claimed.value, "acted_by": None if for_self else scope.person.id,
              "organisation": data.organisation, "note": data.note, "claimed_at": now, "updated_at": now,
              "next_checkin_due_at": due, "ended_at": None, "claim_check": check}
    if for_self and existing is None and ctx.kind not in flows.ONE_PERSON and db.is_reading(session):
        row = claim_row(task, person_id, values)
        await db.hand_back(session)  # waiting on the committer, hold no connection
        placed = await committer.claims.submit(committer.NewClaim(
            row, confirmation=_data(task, **_when_where(task)), organisers=ctx.organisers, full_notice=_data(task)))
        if placed is not None:
            repo.written(task, {"claimed_count": placed.claimed_count, "status": placed.status})
            return Claimed(TaskClaim(**row), ctx, standings, names)
        # A claim of theirs was there after all (a double tap, or a claim made meanwhile): say which.
        existing = await repo.claim_of(session, task.id, person_id)
        if existing is not None and existing.claim_check == check and check is not None:
            return await _claimed(session, scope, ctx, existing)
        if existing is not None and existing.status != ClaimStatus.withdrawn:
            raise Conflict("task_already_claimed")
    await db.begin_writing(session)
    await writers_turn(session)
    if existing is not None:  # claiming again after withdrawing: the same row, back in
        if not await repo.move_claim(session, existing, ClaimStatus.withdrawn.value, values):
            raise Conflict("task_already_claimed")
        the_claim = existing
    else:
        the_claim = TaskClaim(id=new_id(), task_id=task.id, community_id=task.community_id, person_id=person_id,
                              **values)
        session.add(the_claim)
    session.add(TaskEvent(task_id=task.id, claim_id=the_claim.id, actor_id=scope.person.id,
                          for_person_id=None if for_self else person_id, action="claim",
                          to_status=ClaimStatus.claimed.value,
                          data={"organisation": data.organisation} if data.organisation else {}))
    try:
        await _tell(session, task, [person_id], "task.claim_confirmed", None, **_when_where(task))
        await session.flush()
    except IntegrityError as exc:  # the same person at the same moment (a double tap): all rolls back
        raise Conflict("task_already_claimed") from exc
    # The place last: on PostgreSQL the task's row is locked from here to the commit, so the other
    # claims on it wait for as little as possible.
    taken = await repo.take_place(session, task.id, now)
    if taken is None:  # the last place went to someone else meanwhile: nothing of this stays
        raise Conflict("task_full")
    repo.written(task, {"claimed_count": taken[0], "status": taken[1]})
    if task.status == Status.full:
        await _tell(session, task, ctx.organisers, "task.full", scope.person.id)
    if task.requester_id and ctx.kind in flows.ONE_PERSON:
        await _tell(session, task, [task.requester_id], f"task.{ctx.kind.value}_taken", scope.person.id)
    if not for_self:
        await audit.record(session, actor_id=scope.person.id, community_id=task.community_id,
                           action="task_claim.claim_for", object_type="task_claim", object_id=the_claim.id,
                           after={"task_id": task.id, "person_id": person_id, "status": the_claim.status})
    return Claimed(the_claim, ctx, standings, names)


async def _claimed(session: AsyncSession, scope: CommunityScope, ctx: Context, claim: TaskClaim) -> Claimed:
    people = [claim.person_id, *([ctx.task.requester_id] if ctx.task.requester_id else [])]
    standings = await repo.standings(session, scope.community_id, people)
    names = await communities.names_of(session, [p for p in (claim.person_id, claim.acted_by) if p])
    return Claimed(claim, ctx, standings, names)


_turns_ending: set[asyncio.Task[Any]] = set()


async def writers_turn(session: AsyncSession) -> None:
    """On SQLite, claims that write take turns in this process before their first write, until their
    transaction ends (committed with the Idempotency-Key's answer, or rolled back), on the same turn
    as the group committers (db.writers_turn). A burst of claims on a shared link then queues on a
    lock that wakes the next one the moment a claim commits, holding no database connection while it
    waits, instead of each one holding a connection in SQLite's busy handler, which sleeps in steps
    and left the pool to the waiting writers while the refusals (plain reads) waited for a
    connection. On PostgreSQL nothing: the task's row lock orders the claims there."""
    try:
        engine = db.get_engine()
    except RuntimeError:
        return  # outside the app (the demo loader's own session): nobody to take turns with
    if engine.dialect.name != "sqlite" or session.info.get("tasks_turn"):
        return
    turn = db.writers_turn()
    await turn.__aenter__()
    session.info["tasks_turn"] = turn
    loop = asyncio.get_running_loop()

    def done(_session: Any, transaction: Any) -> None:
        if transaction.parent is None and session.info.pop("tasks_turn", None) is turn:
            ending = loop.create_task(turn.__aexit__(None, None, None))
            _turns_ending.add(ending)
            ending.add_done_callback(_turns_ending.discard)

    event.listen(session.sync_session, "after_transaction_end", done)


# --- a claim's lifecycle ---------------------------------------------------------------------------------

def claim_actors(scope: CommunityScope, ctx: Context, claim: TaskClaim, claimant: Standing | None,
                 requester: Standing | None) -> frozenset[Actor]:
    out = set(ctx.actors) - {Actor.requester}
    me = scope.person.id
    if claim.person_id == me:
        out.add(Actor.claimant)
    elif may_act_for(scope, claimant):
        out.add(Actor.facilitator)
    if ctx.task.requester_id == me:
        out.add(Actor.requester)
    elif acts_for_requester(scope, ctx.task, requester):
        out.add(Actor.for_requester)
    if claim.person_id == me or claim.acted_by == me:
        # Nobody verifies, confirms or rejects their own claim, nor one they made for someone.
        out -= {Actor.organiser, Actor.committee, Actor.requester, Actor.for_requester}
        if claim.person_id == me:
            out.discard(Actor.facilitator)
    return frozenset(out)


async def claim_context(session: AsyncSession, scope: CommunityScope, task_id: str,
                        claim_id: str) -> tuple[Context, TaskClaim, frozenset[Actor]]:
    ctx = await context(session, scope, task_id)
    claim = await repo.claim_in(session, ctx.task.id, claim_id)
    if claim is None:
        raise NotFound("claim_not_found")
    people = [claim.person_id, *([ctx.task.requester_id] if ctx.task.requester_id else [])]
    standings = await repo.standings(session, scope.community_id, people)
    actors = claim_actors(scope, ctx, claim, standings.get(claim.person_id),
                          standings.get(ctx.task.requester_id or ""))
    if not actors & {Actor.claimant, Actor.facilitator, Actor.organiser, Actor.committee, Actor.requester,
                     Actor.for_requester} and claim.acted_by != scope.person.id:
        raise NotFound("claim_not_found")  # another volunteer's claim is not the caller's to see
    return ctx, claim, actors


def _claim_problem(exc: Exception, action: str, status: str, actors: frozenset[Actor]) -> AppError:
    if isinstance(exc, flows.UnknownAction):
        return Invalid("claim_action_unknown", action=action)
    if isinstance(exc, flows.NotForKind):
        return Invalid("claim_action_not_for_kind", action=action_word(action))
    if isinstance(exc, flows.NotAllowedFrom):
        return Conflict("claim_action_not_allowed", action=action_word(action),
                        state=Msg(f"ui.task.claim_status.{status}"), extra={"allowed": exc.allowed})
    own = Actor.claimant in actors or not (actors - {Actor.facilitator})
    if action in ("verify", "confirm", "reject") and own:
        return Forbidden("claim_verify_own")
    return Forbidden("claim_wrong_actor", action=action_word(action))


def checkin_code(task: Task, window: int | None) -> str:
    """The code behind a task's check-in QR: six digits from the server's secret, the task's own
    secret and (for a rotating code) the minute; fixed codes have no minute."""
    key = get_settings().secret_key.encode()
    message = f"task-checkin:{task.id}:{task.checkin_secret}:{'fixed' if window is None else window}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"


def current_code(task: Task, now: datetime | None = None) -> tuple[str, datetime | None]:
    now = now or clock.now()
    if not task.checkin_rotating:
        return checkin_code(task, None), None
    window = int(now.timestamp()) // ROTATE_SECONDS
    return checkin_code(task, window), datetime.fromtimestamp((window + 1) * ROTATE_SECONDS, tz=now.tzinfo)


def code_matches(task: Task, code: str, now: datetime) -> bool:
    if not task.checkin_rotating:
        return hmac.compare_digest(code, checkin_code(task, None))
    window = int(now.timestamp()) // ROTATE_SECONDS
    return any(hmac.compare_digest(code, checkin_code(task, w)) for w in (window, window - 1))


def checkin_window(task: Task) -> tuple[datetime | None, datetime | None]:
    """From when to when one may check in: a job from half an hour before it starts until it ends; an
    adoption within its period; a wish or a request until its last day."""
    kind = Kind(task.kind)
    if kind in flows.TIMED and task.starts_at is not None:
        return task.starts_at - CHECKIN_EARLY, task.ends_at
    return task.starts_at if kind is Kind.adoption else None, task.ends_at


async def transition_claim(session: AsyncSession, scope: CommunityScope, task_id: str, claim_id: str,
                           body: ClaimTransitionIn) -> TaskClaim:
    ctx, claim, actors = await claim_context(session, scope, task_id, claim_id)
    task, action, now = ctx.task, body.action, clock.now()
    if action in ("pay", "expire"):
        raise Invalid("claim_action_unknown", action=action)
    try:
        tr = flows.check(flows.CLAIM_TRANSITIONS, action, claim.status, ctx.kind, actors, task.evidence_required)
    except (flows.UnknownAction, flows.NotForKind, flows.NotAllowedFrom, flows.WrongActor) as exc:
        raise _claim_problem(exc, action, claim.status, actors) from exc
    if "reason" in tr.needs and not body.reason:
        raise field_error("claim_action_needs", "reason", key="error.claim_needs_reason")
    if "to_person_id" in tr.needs and not body.to_person_id:
        raise field_error("claim_action_needs", "to_person_id", key="error.claim_needs_person")
    running = task.status in (Status.open, Status.full, Status.in_progress)
    settling = task.status == Status.done and action in ("submit", "verify", "confirm", "reject")
    if not running and not settling:
        raise Conflict("task_not_running", state=task_status(task.status))
    acting_for = Actor.claimant not in actors and action in ("checkin", "submit", "withdraw", "renew", "hand_over") \
        and Actor.facilitator in actors
    step = await _prepare_claim(session, scope, ctx, claim, actors, body, now)
    if action in ("confirm", "reject") and Actor.requester not in actors and task.requester_id:
        # A facilitator (or the committee) decides for the one the wish or request is for: the
        # record and the audit log say for whom.
        step.data["on_behalf_of"] = step.audit["on_behalf_of"] = task.requester_id
    expected = claim.status
    target = tr.target or expected
    values = {"status": target, "updated_at": now, **step.values}
    if not await repo.move_claim(session, claim, expected, values):
        raise Conflict("claim_changed_meanwhile")
    session.add(TaskEvent(task_id=task.id, claim_id=claim.id, actor_id=scope.person.id,
                          for_person_id=claim.person_id if claim.person_id != scope.person.id else None,
                          action=action, from_status=expected, to_status=target, note=step.note, data=step.data))
    for i, uid in enumerate(step.photos):
        session.add(TaskPhoto(task_id=task.id, claim_id=claim.id, upload_id=uid, kind=step.photo_kind,
                              position=claim.checkins * 10 + i if step.photo_kind == "checkin" else i))
    if action == "withdraw":
        await repo.free_place(session, task.id, now)
    await session.flush()
    if action == "hand_over" and body.to_person_id:
        await _hand_over(session, scope, ctx, claim, body.to_person_id, now)
    if action in ("verify", "confirm"):
        await _after_verified(session, ctx, claim, scope.person.id, auto=False)
    await _notify_claim(session, ctx, claim, action, scope.person.id, step)
    await session.flush()
    staff = actors & {Actor.organiser, Actor.committee, Actor.for_requester}
    if acting_for or (staff and action not in ("withdraw",) and Actor.claimant not in actors):
        await audit.record(session, actor_id=scope.person.id, community_id=task.community_id,
                           action=f"task_claim.{action}", object_type="task_claim", object_id=claim.id,
                           before={"status": expected}, after={"status": claim.status, "person_id": claim.person_id,
                                                               **step.audit})
    return claim


@dataclass
class ClaimStep:
    """What a claim's step changes besides its state, and what its record and the audit log say."""

    values: dict[str, Any]
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    photos: Sequence[str] = ()
    photo_kind: str = "evidence"
    audit: dict[str, Any] = field(default_factory=dict)


async def _prepare_claim(session: AsyncSession, scope: CommunityScope, ctx: Context, claim: TaskClaim,
                         actors: frozenset[Actor], body: ClaimTransitionIn, now: datetime) -> ClaimStep:
    """Check the action's own inputs and say what else it changes."""
    task, action, kind = ctx.task, body.action, ctx.kind
    by = scope.person.id
    if action == "checkin":
        opens, closes = checkin_window(task)
        if (opens is not None and now < opens) or (closes is not None and now > closes):
            raise Conflict("task_checkin_closed")
        marked = Actor.organiser in actors and Actor.claimant not in actors and not body.code
        method, photos = "organiser", list(body.photo_ids)
        if not marked:
            if body.code:
                if not code_matches(task, body.code, now):
                    await ratelimit.hit("task_checkin", CHECKIN_TRIES, by, task.id, error="task_checkin_tries")
                    raise field_error("task_checkin_code_wrong", "code")
                method = "code"
            elif kind is Kind.adoption and photos:
                method = "photo"  # an adopted patch has nobody to show a code: a photo of it will do
            else:
                raise field_error("task_checkin_code_missing", "code")
        await _check_photos(session, scope, photos)
        values: dict[str, Any] = {"last_checkin_at": now, "checkins": claim.checkins + 1}
        if claim.checked_in_at is None:
            values.update(checked_in_at=now, checked_in_by=by, checkin_method=method)
        if kind is Kind.adoption and task.checkin_every_days:
            values.update(next_checkin_due_at=now + timedelta(days=task.checkin_every_days))
        return ClaimStep(values, body.note, {"method": method}, photos, "checkin", {"method": method})
    if action == "submit":
        photos = list(body.photo_ids)
        if task.evidence_required and not photos:
            raise field_error("task_evidence_missing", "photo_ids")
        await _check_photos(session, scope, photos)
        minutes = body.minutes if body.minutes is not None else 0
        return ClaimStep({"submitted_at": now, "submitted_by": by, "evidence_note": body.note, "minutes": minutes,
                          "rejected_reason": ""}, body.note, {"photos": len(photos), "minutes": minutes}, photos,
                         "evidence", {"minutes": minutes, "photos": len(photos)})
    if action in ("verify", "confirm"):
        return ClaimStep({"verified_at": now, "verified_by": by, "auto_verified": False}, body.note)
    if action == "reject":
        return ClaimStep({"rejected_reason": body.reason}, body.reason, audit={"reason": body.reason})
    if action == "withdraw":
        if kind in flows.TIMED and task.starts_at is not None and now >= task.starts_at:
            raise Conflict("task_started")
        return ClaimStep({"ended_at": now}, body.reason)
    if action == "no_show":
        if task.starts_at is not None and now < task.starts_at:
            raise Conflict("task_not_started")
        return ClaimStep({"ended_at": now}, body.reason)
    if action == "renew":
        if task.ends_at is None or task.starts_at is None:
            raise Conflict("task_not_running", state=task_status(task.status))
        days = body.days or max(1, (task.ends_at - task.starts_at).days)
        ends_at = task.ends_at + timedelta(days=days)
        if ends_at - now > MAX_SPAN:
            raise field_error("task_window_too_long", "days")
        await repo.move_task(session, task, task.status, {"ends_at": ends_at, "updated_at": now})
        return ClaimStep({}, body.note, {"days": days, "ends_at": ends_at.isoformat()},
                         audit={"ends_at": ends_at.isoformat()})
    if action == "hand_over":
        to = body.to_person_id or ""
        if to == claim.person_id:
            raise field_error("task_hand_over_self", "to_person_id")
        other = await standing_of(session, task.community_id, to)
        if other is None:
            raise UnknownReference("member_not_found", "to_person_id")
        existing = await repo.claim_of(session, task.id, to)
        if existing is not None and existing.status != ClaimStatus.withdrawn:
            raise Conflict("task_already_claimed")
        if to in ctx.organisers or to in (task.requester_id, task.created_by):
            raise Forbidden("task_claim_own_for")
        if not eligible(task, other):
            raise Forbidden("task_not_eligible_for")
        return ClaimStep({"ended_at": now, "handed_to": to}, body.note, {"to": to}, audit={"to_person_id": to})
    raise Invalid("claim_action_unknown", action=action)  # pragma: no cover (the table knows every action)


async def _hand_over(session: AsyncSession, scope: CommunityScope, ctx: Context, old: TaskClaim, to: str,
                     now: datetime) -> None:
    """The adoption passes on: the new adopter's claim carries the place and the next check-in."""
    existing = await repo.claim_of(session, ctx.task.id, to)
    values = {"status": ClaimStatus.claimed.value, "acted_by": scope.person.id, "claimed_at": now, "updated_at": now,
              "next_checkin_due_at": old.next_checkin_due_at, "ended_at": None, "organisation": "", "note": ""}
    if existing is not None:
        if not await repo.move_claim(session, existing, ClaimStatus.withdrawn.value, values):
            raise Conflict("task_already_claimed")
        new = existing
    else:
        new = TaskClaim(task_id=ctx.task.id, community_id=ctx.task.community_id, person_id=to, **values)
        try:
            async with session.begin_nested():
                session.add(new)
                await session.flush()
        except IntegrityError as exc:
            raise Conflict("task_already_claimed") from exc
    session.add(TaskEvent(task_id=ctx.task.id, claim_id=new.id, actor_id=scope.person.id, for_person_id=to,
                          action="claim", to_status=ClaimStatus.claimed.value, data={"from_claim": old.id}))
    await _tell(session, ctx.task, [to], "task.handed_to_you", scope.person.id, **_when_where(ctx.task))


async def _after_verified(session: AsyncSession, ctx: Context, claim: TaskClaim, actor_id: str | None,
                          *, auto: bool) -> None:
    """Pay the reward (once: the ledger refuses a second entry for the claim), and a wish or a request,
    granted, is done."""
    task = ctx.task
    entry = None
    if Kind(task.kind) is Kind.timebank and task.hours_held:
        entry = await points.pay_hold(session, request_id=task.id, helper_id=claim.person_id, claim_id=claim.id,
                                      actor_id=actor_id)
        if entry is not None:
            await repo.move_task(session, task, task.status, {"hours_held": 0})
    elif task.reward_amount > 0:
        entry = await points.award_for_claim(
            session, community_id=task.community_id, person_id=claim.person_id, unit=points.Unit(task.reward_unit),
            amount=task.reward_amount, claim_id=claim.id, title=task.title, actor_id=actor_id, auto=auto)
    if entry is not None:
        now = clock.now()
        amount = abs(int(entry.amount))
        if await repo.move_claim(session, claim, ClaimStatus.verified.value, {
                "status": ClaimStatus.paid.value, "paid_at": now, "paid_unit": str(entry.unit),
                "paid_amount": amount, "updated_at": now}):
            session.add(TaskEvent(task_id=task.id, claim_id=claim.id, actor_id=actor_id, action="pay",
                                  from_status=ClaimStatus.verified.value, to_status=ClaimStatus.paid.value,
                                  data={"unit": str(entry.unit), "amount": amount, "auto": auto}))
            await _tell(session, task, [claim.person_id], f"task.{entry.unit}_paid", None, **_amount(str(entry.unit),
                                                                                                     amount))
    if Kind(task.kind) in flows.ONE_PERSON and task.status in (Status.full, Status.open, Status.in_progress):
        await transition_task(session, None, ctx, TaskTransitionIn(action="finish"))


async def auto_verify(session: AsyncSession, claim: TaskClaim, now: datetime) -> bool:
    """The sweep: a submitted claim the organiser left alone for the community's days is verified,
    and the record says it was automatic. The organiser verifying at the same moment wins or loses
    the one conditional update; the reward is paid once either way."""
    task = await repo.task_fresh(session, claim.task_id)
    if task is None:
        return False
    kind = Kind(task.kind)
    action = "confirm" if kind in flows.CONFIRMED_BY_REQUESTER else "verify"
    if not await repo.move_claim(session, claim, ClaimStatus.submitted.value, {
            "status": ClaimStatus.verified.value, "verified_at": now, "verified_by": None, "auto_verified": True,
            "updated_at": now}):
        return False
    session.add(TaskEvent(task_id=task.id, claim_id=claim.id, actor_id=None, action=action,
                          from_status=ClaimStatus.submitted.value, to_status=ClaimStatus.verified.value,
                          data={"auto": True}))
    organisers = (await repo.organisers(session, [task.id])).get(task.id, [])
    ctx = Context(task, organisers, frozenset({Actor.system}))
    await _after_verified(session, ctx, claim, None, auto=True)
    await _tell(session, task, [claim.person_id], "task.claim_verified", None, auto=True)
    await session.flush()
    await audit.record(session, actor_id=None, community_id=task.community_id, action="task_claim.auto_verify",
                       object_type="task_claim", object_id=claim.id, before={"status": ClaimStatus.submitted.value},
                       after={"status": claim.status, "person_id": claim.person_id, "auto": True})
    return True


# --- turning an issue into a task -------------------------------------------------------------------------

async def task_from_issue(session: AsyncSession, scope: CommunityScope, issue_id: str, data: TaskFromIssue) -> Task:
    """A reported problem becomes a volunteer job ("turn into a volunteer task"): its words, place
    and photos carry over unless given; both keep the link, and the issue's timeline says so."""
    issue = await issues.visible_issue(session, scope, issue_id)
    if issue.staff_only:
        raise Conflict("task_from_staff_only_issue")
    if issue.status == "merged":
        raise Conflict("issue_merged", extra={"merged_into_id": issue.merged_into_id})
    # A field sent as null is not given: the issue's own words and place stand.
    given = {k: v for k in data.model_fields_set if (v := getattr(data, k)) is not None}
    carried = {"title": issue.title, "description": issue.description, "building_id": issue.building_id,
               "lat": issue.lat, "lng": issue.lng, "location_text": issue.location_text,
               "photo_ids": await issues.report_photo_ids(session, issue)}
    fields = {**{k: v for k, v in carried.items() if v is not None and k not in given}, **given}
    body = TaskCreate.model_validate({**fields, "kind": "volunteer"})
    task = await create_task(session, scope, body, issue_id=issue.id)
    await issues.note_on_timeline(session, issue, actor_id=scope.person.id, action="task_created",
                                  note=task.title, data={"task_id": task.id})
    return task


# --- rules -----------------------------------------------------------------------------------------

async def auto_verify_days(session: AsyncSession, community_id: str) -> int:
    rules = await repo.rules(session, community_id)
    return rules.auto_verify_days if rules is not None else DEFAULT_AUTO_VERIFY_DAYS


async def rules_of(session: AsyncSession, community_id: str) -> tuple[int, datetime | None]:
    rules = await repo.rules(session, community_id)
    return (rules.auto_verify_days, rules.updated_at) if rules is not None else (DEFAULT_AUTO_VERIFY_DAYS, None)


async def set_rules(session: AsyncSession, scope: CommunityScope, data: RulesIn) -> TaskRules:
    rules = await repo.rules(session, scope.community_id)
    before = {"auto_verify_days": rules.auto_verify_days if rules else DEFAULT_AUTO_VERIFY_DAYS}
    if rules is None:
        rules = TaskRules(community_id=scope.community_id)
        try:
            async with session.begin_nested():
                session.add(rules)
                rules.auto_verify_days = data.auto_verify_days
                await session.flush()
        except IntegrityError:  # set by someone else at the same moment: ours is the later word
            rules = await repo.rules(session, scope.community_id) or rules
    rules.auto_verify_days, rules.updated_by, rules.updated_at = data.auto_verify_days, scope.person.id, clock.now()
    await session.flush()
    await audit.record(session, actor_id=scope.person.id, community_id=scope.community_id,
                       action="task_rules.update", object_type="task_rules", object_id=scope.community_id,
                       before=before, after={"auto_verify_days": data.auto_verify_days})
    return rules


# --- who is told -------------------------------------------------------------------------------------

def _local(moment: datetime | None) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if moment else ""


def _when_where(task: Task) -> dict[str, Any]:
    return {"starts": _local(task.starts_at), "place": task.location_text}


def hours_text(minutes: int) -> str:
    """90 minutes → "1.5" (hours, exact to the minute: 100 → "1.67" is not exact, so "1 h 40 min" is
    the page's to write; the inbox says hours with up to two decimals)."""
    whole, rest = divmod(minutes, 60)
    if not rest:
        return str(whole)
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


def _amount(unit: str, amount: int) -> dict[str, Any]:
    return {"amount": amount} if unit == "points" else {"minutes": amount, "hours": hours_text(amount)}


def _data(task: Task, **extra: Any) -> dict[str, Any]:
    """What a notification about the task carries (its words are rendered when read)."""
    return {"task_id": task.id, "title": task.title, "task_kind": task.kind, **extra}


async def _tell(session: AsyncSession, task: Task, people: Sequence[str | None], kind: str, actor_id: str | None,
                **data: Any) -> list[str]:
    return await notifications.notify(session, people, task.community_id, kind, _data(task, **data),
                                      actor_id=actor_id)


async def _notify_task(session: AsyncSession, task: Task, action: str, actor_id: str | None, reason: str) -> None:
    if action == "publish" and task.status == Status.pending:
        committee = await communities.member_ids_with_role(session, task.community_id, "committee")
        await _tell(session, task, committee, "task.wish_pending", actor_id)
    elif action == "approve":
        await _tell(session, task, [task.requester_id, task.created_by], "task.wish_approved", actor_id)
    elif action == "cancel" and task.requester_id and task.requester_id != actor_id:
        await _tell(session, task, [task.requester_id], "task.cancelled", actor_id, why=reason[:200])


async def _notify_claim(session: AsyncSession, ctx: Context, claim: TaskClaim, action: str, actor_id: str,
                        step: ClaimStep) -> None:
    task = ctx.task
    if action == "submit":
        deciders = [task.requester_id] if ctx.kind in flows.CONFIRMED_BY_REQUESTER else ctx.organisers
        await _tell(session, task, deciders, "task.claim_submitted", actor_id)
    elif action in ("verify", "confirm"):
        await _tell(session, task, [claim.person_id], "task.claim_verified", actor_id)
    elif action == "reject":
        await _tell(session, task, [claim.person_id], "task.claim_rejected", actor_id, why=claim.rejected_reason[:200])
    elif action == "checkin" and claim.person_id != actor_id:
        await _tell(session, task, [claim.person_id], "task.checked_in_for_you", actor_id)
    elif action == "no_show":
        await _tell(session, task, [claim.person_id], "task.no_show", actor_id)
    elif action == "hand_over":
        await _tell(session, task, ctx.organisers, "task.handed_over", actor_id)


async def remind(session: AsyncSession, claim: TaskClaim, task: Task, kind: str) -> None:
    await _tell(session, task, [claim.person_id], kind, None, **_when_where(task))


async def flag_checkin(session: AsyncSession, claim: TaskClaim, task: Task, *, missed: bool) -> None:
    """An adoption's check-in coming due (to the adopter), or missed (to the adopter and organisers)."""
    due = {"due": _local(claim.next_checkin_due_at), "place": task.location_text}
    if not missed:
        await _tell(session, task, [claim.person_id], "task.checkin_due", None, **due)
        return
    organisers = (await repo.organisers(session, [task.id])).get(task.id, [])
    await _tell(session, task, [claim.person_id], "task.checkin_missed", None, **due)
    await _tell(session, task, [p for p in organisers if p != claim.person_id], "task.checkin_missed_organiser", None,
                person=(await communities.names_of(session, [claim.person_id])).get(claim.person_id, ""), **due)
