"""Finding tasks (by kind, state, mine, near me) and reading them: a task with the caller's claim
and what they may do now, claims with who did each step, the organiser's console and queue."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from fastapi import Request
from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession

from app.communities import service as communities
from app.communities.deps import CommunityScope
from app.core import clock, uploads
from app.core.errors import Invalid
from app.core.pagination import PageParams, decode_cursor, encode_cursor, paginate
from app.core.storage import get_storage
from app.tasks import flows, service
from app.tasks import repository as repo
from app.tasks.flows import Actor, ClaimStatus, Kind, Status
from app.tasks.models import Task, TaskClaim, TaskPhoto
from app.tasks.repository import Standing
from app.tasks.schemas import (
    ClaimRead,
    ConsoleRead,
    MyClaimRead,
    PersonRef,
    Photo,
    Place,
    QueueItem,
    TaskRead,
    TaskSummary,
)

Mine = Literal["organising", "claimed", "requested"]
EARTH_M = 6_371_000.0
NEAR_LIMIT = 500  # candidates inside the box, nearest first


@dataclass(frozen=True)
class TaskFilters:
    kind: list[str] | None = None
    status: list[str] | None = None
    mine: Mine | None = None
    building_id: str | None = None
    near: tuple[float, float] | None = None
    radius_m: int = 3000


def split(value: str | None, allowed: Sequence[str], name: str) -> list[str] | None:
    if not value:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad:
        raise Invalid("task_filter_unknown", errors=[{"loc": ["query", name], "msg": ",".join(bad)}])
    return items


def filters(kind: str | None, status: str | None, mine: str | None, building_id: str | None, near: str | None,
            radius_m: int) -> TaskFilters:
    point = None
    if near:
        bad = Invalid("task_near_invalid", errors=[{"loc": ["query", "near"], "msg_key": "error.task_near_invalid"}])
        try:
            lat, lng = (float(x) for x in near.split(","))
        except ValueError as exc:
            raise bad from exc
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):  # NaN fails these too
            raise bad
        point = (lat, lng)
    return TaskFilters(kind=split(kind, [k.value for k in Kind], "kind"),
                       status=split(status, [s.value for s in Status], "status"),
                       mine=mine,  # type: ignore[arg-type]
                       building_id=building_id, near=point, radius_m=radius_m)


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_M * math.asin(min(1.0, math.sqrt(h)))


async def list_tasks(session: AsyncSession, scope: CommunityScope, f: TaskFilters,
                     paging: PageParams) -> tuple[list[Task], str | None, dict[str, float]]:
    """A page of the community's tasks the caller may see, newest first; near a point: nearest
    first within ``radius_m`` (with each one's distance)."""
    stmt = repo.tasks_query(scope.community_id)
    visible = repo.visible_clause(scope.person.id, service.sees_all(scope))
    if visible is not None:
        stmt = stmt.where(visible)
    if f.kind:
        stmt = stmt.where(Task.kind.in_(f.kind))
    if f.status:
        stmt = stmt.where(Task.status.in_(f.status))
    if f.building_id:
        stmt = stmt.where(Task.building_id == f.building_id)
    me = scope.person.id
    if f.mine == "organising":
        stmt = stmt.where(repo.organised_by(me))
    elif f.mine == "claimed":
        stmt = stmt.where(repo.claimed_by(me))
    elif f.mine == "requested":
        stmt = stmt.where(or_(Task.requester_id == me, Task.created_by == me))
    if f.near is None:
        rows, cursor = await paginate(session, stmt, paging, Task.id)
        return rows, cursor, {}
    lat, lng = f.near
    dlat = f.radius_m / 111_320
    dlng = f.radius_m / (111_320 * max(0.01, math.cos(math.radians(lat))))
    stmt = stmt.where(Task.lat.between(lat - dlat, lat + dlat), Task.lng.between(lng - dlng, lng + dlng))
    found = await repo.page_of(session, stmt.order_by(Task.id.desc()), NEAR_LIMIT)
    dist = {t.id: distance_m((lat, lng), (t.lat or 0.0, t.lng or 0.0)) for t in found}
    ordered = sorted((t for t in found if dist[t.id] <= f.radius_m), key=lambda t: (dist[t.id], t.id))
    start = 0
    if paging.cursor:
        (start,) = decode_cursor(paging.cursor, 1)
        if not isinstance(start, int) or start < 0:
            raise Invalid("bad_cursor")
    page = ordered[start:start + paging.limit]
    more = start + paging.limit < len(ordered)
    return page, encode_cursor([start + paging.limit]) if more else None, {t.id: dist[t.id] for t in page}


# --- reading -----------------------------------------------------------------------------------------

class _Names:
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def ref(self, person_id: str | None) -> PersonRef | None:
        if not person_id:
            return None
        return PersonRef(id=person_id, name=self.names.get(person_id, ""))


def _photo(request: Request, session_uploads: dict[str, Any], upload_id: str, public: bool) -> Photo | None:
    upload = session_uploads.get(upload_id)
    if upload is None:
        return None
    view = uploads.upload_view(request, get_storage(), upload, public=public)
    return Photo(id=upload.id, url=view.url, thumb_url=view.thumb_url)


async def _uploads(session: AsyncSession, community_id: str, photos: Sequence[TaskPhoto]) -> dict[str, Any]:
    out = {}
    for p in photos:
        if p.upload_id not in out and (u := await uploads.find_upload(session, community_id, p.upload_id)):
            out[p.upload_id] = u
    return out


def claim_overdue(claim: TaskClaim, now: datetime) -> bool:
    return (claim.status in (ClaimStatus.claimed, ClaimStatus.checked_in) and claim.next_checkin_due_at is not None
            and claim.next_checkin_due_at < now)


async def claim_views(session: AsyncSession, scope: CommunityScope, request: Request, ctx: service.Context,
                      claims: Sequence[TaskClaim], *, standings: dict[str, Standing] | None = None,
                      known_names: dict[str, str] | None = None, fresh: bool = False) -> list[ClaimRead]:
    """Claims of one task as this caller sees them, with what the caller may do to each. A claim
    just made (``fresh``, with the names and standings read before it was written) costs no query."""
    if not claims:
        return []
    task = ctx.task
    people = {c.person_id for c in claims} | ({task.requester_id} if task.requester_id else set())
    if standings is None:
        standings = await repo.standings(session, scope.community_id, list(people))
    ids = [x for c in claims for x in (c.person_id, c.acted_by, c.checked_in_by, c.submitted_by, c.verified_by,
                                         c.handed_to) if x]
    if known_names is not None and all(i in known_names for i in ids):
        names = _Names(known_names)
    else:
        names = _Names(await communities.names_of(session, ids))
    photos = [] if fresh else await repo.photos_of(session, [], [c.id for c in claims])
    files = await _uploads(session, scope.community_id, photos)
    now = clock.now()
    out = []
    for c in claims:
        actors = service.claim_actors(scope, ctx, c, standings.get(c.person_id),
                                      standings.get(task.requester_id or ""))
        evidence = [p for p in photos if p.claim_id == c.id]
        out.append(ClaimRead(
            id=c.id, task_id=c.task_id, person=names.ref(c.person_id) or PersonRef(id=c.person_id, name=""),
            status=c.status, acted_by=names.ref(c.acted_by), organisation=c.organisation, note=c.note,
            claimed_at=c.claimed_at, checked_in_at=c.checked_in_at, checked_in_by=names.ref(c.checked_in_by),
            checkin_method=c.checkin_method, last_checkin_at=c.last_checkin_at, checkins=c.checkins,
            next_checkin_due_at=c.next_checkin_due_at, checkin_overdue=claim_overdue(c, now),
            submitted_at=c.submitted_at, submitted_by=names.ref(c.submitted_by), evidence_note=c.evidence_note,
            evidence_photos=[ph for p in evidence if (ph := _photo(request, files, p.upload_id, False))],
            minutes=c.minutes, verified_at=c.verified_at, verified_by=names.ref(c.verified_by),
            auto_verified=c.auto_verified, rejected_reason=c.rejected_reason, paid_at=c.paid_at,
            paid_unit=c.paid_unit, paid_amount=c.paid_amount, handed_to=names.ref(c.handed_to),
            allowed_actions=flows.allowed(flows.CLAIM_TRANSITIONS, flows.CLAIM_ACTIONS, c.status, ctx.kind, actors,
                                          task.evidence_required)
            if task.status not in (Status.cancelled, Status.expired) else []))
    return out


async def request_claims(session: AsyncSession, scope: CommunityScope, request: Request,
                         ctx: service.Context) -> list[ClaimRead]:
    """The claims on a wish or a time-bank request, for the one it is for (and whoever may confirm
    for them): who took it up, where it stands, what they handed in; nobody else's business."""
    task = ctx.task
    if ctx.kind not in flows.CONFIRMED_BY_REQUESTER or not task.requester_id:
        return []
    if task.requester_id != scope.person.id:
        requester = await service.standing_of(session, scope.community_id, task.requester_id)
        if not service.acts_for_requester(scope, task, requester):
            return []
    return await claim_views(session, scope, request, ctx, await repo.all_claims(session, task.id))


async def task_views(session: AsyncSession, scope: CommunityScope, request: Request, tasks: Sequence[Task], *,
                     distances: dict[str, float] | None = None, detail: bool = False) -> list[TaskRead]:
    """Tasks as the caller sees them; ``detail``: one task's own read, with the claims on it that the
    one it is for confirms."""
    if not tasks:
        return []
    ids = [t.id for t in tasks]
    organisers = await repo.organisers(session, ids)
    mine = await repo.claims_of(session, ids, scope.person.id)
    made = await repo.claims_made_for_others(session, ids, scope.person.id) if scope.can("tasks.act_for") else {}
    me = (await repo.standings(session, scope.community_id, [scope.person.id])).get(scope.person.id)
    people = {p for t in tasks for p in (*organisers.get(t.id, []), t.created_by, t.requester_id) if p}
    names = _Names(await communities.names_of(session, list(people)))
    buildings = {b.id: b.name for b in await communities.buildings(session, scope.community_id)} \
        if any(t.building_id for t in tasks) else {}
    photos = await repo.photos_of(session, ids)
    files = await _uploads(session, scope.community_id, photos)
    now = clock.now()
    out = []
    for t in tasks:
        ctx = service.Context(t, organisers.get(t.id, []), service.task_actors(scope, t, organisers.get(t.id, [])))
        my = mine.get(t.id)
        my_view = None
        if my is not None:
            standings = {scope.person.id: me} if me else {}
            if t.requester_id and t.requester_id not in standings:
                standings.update(await repo.standings(session, scope.community_id, [t.requester_id]))
            (my_view,) = await claim_views(session, scope, request, ctx, [my], standings=standings)
        for_others = await claim_views(session, scope, request, ctx, made[t.id]) if t.id in made else []
        on_request = await request_claims(session, scope, request, ctx) if detail else []
        refusal = service.claim_refusal(ctx, me, my, now) if scope.can("tasks.claim") else None
        public = t.status not in (Status.draft, Status.pending)
        out.append(TaskRead(
            id=t.id, community_id=t.community_id, kind=t.kind, status=t.status, title=t.title,
            description=t.description,
            photos=[ph for p in photos if p.task_id == t.id and (ph := _photo(request, files, p.upload_id, public))],
            place=Place(building_id=t.building_id, building_name=buildings.get(t.building_id or ""), lat=t.lat,
                        lng=t.lng, location_text=t.location_text,
                        distance_m=round(distances[t.id], 1) if distances and t.id in distances else None),
            starts_at=t.starts_at, ends_at=t.ends_at, people_needed=t.people_needed, claimed_count=t.claimed_count,
            places_left=max(0, t.people_needed - t.claimed_count),
            reward={"unit": t.reward_unit, "amount": t.reward_amount,
                    **({"hours": service.hours_text(t.reward_amount)} if t.reward_unit == "hours" else {})},
            evidence_required=t.evidence_required,
            eligibility={"scope": t.eligible, "grid_id": t.eligible_grid_id, "building_id": t.eligible_building_id,
                         "role": t.eligible_role},
            checkin_every_days=t.checkin_every_days, checkin_rotating=t.checkin_rotating,
            organisers=[r for p in organisers.get(t.id, []) if (r := names.ref(p))],
            created_by=names.ref(t.created_by), requester=names.ref(t.requester_id), issue_id=t.issue_id,
            hours_held=t.hours_held, published_at=t.published_at, approved_at=t.approved_at, closed_at=t.closed_at,
            close_reason=t.close_reason, created_at=t.created_at, updated_at=t.updated_at,
            i_organise=scope.person.id in organisers.get(t.id, []), my_claim=my_view, claims_for_others=for_others,
            request_claims=on_request,
            allowed_actions=flows.allowed(flows.TASK_TRANSITIONS, flows.TASK_ACTIONS, t.status, Kind(t.kind),
                                          ctx.actors),
            can_claim=refusal is None and scope.can("tasks.claim"),
            claim_refusal=refusal.code if refusal is not None else None))
    return out


def summary(task: Task, building_name: str | None = None) -> TaskSummary:
    return TaskSummary(id=task.id, kind=task.kind, status=task.status, title=task.title, starts_at=task.starts_at,
                       ends_at=task.ends_at, location_text=task.location_text, building_name=building_name,
                       reward_unit=task.reward_unit, reward_amount=task.reward_amount)


async def _contexts(session: AsyncSession, scope: CommunityScope,
                    task_ids: Sequence[str]) -> dict[str, service.Context]:
    tasks = await repo.tasks_by_ids(session, task_ids)
    organisers = await repo.organisers(session, list(tasks))
    return {tid: service.Context(t, organisers.get(tid, []), service.task_actors(scope, t, organisers.get(tid, [])))
            for tid, t in tasks.items()}


async def claims_with_tasks(session: AsyncSession, scope: CommunityScope, request: Request,
                            claims: Sequence[TaskClaim]) -> list[tuple[ClaimRead, service.Context]]:
    contexts = await _contexts(session, scope, [c.task_id for c in claims])
    out = []
    for c in claims:
        ctx = contexts[c.task_id]
        (view,) = await claim_views(session, scope, request, ctx, [c])
        out.append((view, ctx))
    return out


MY_CLAIMS = {
    "active": [s.value for s in flows.ACTIVE_CLAIMS],
    "done": [s.value for s in (*flows.DONE_CLAIMS, ClaimStatus.withdrawn, ClaimStatus.no_show, ClaimStatus.expired,
                               ClaimStatus.handed_over)],
    "all": None,
}


async def my_claims(session: AsyncSession, scope: CommunityScope, request: Request, which: str,
                    paging: PageParams, *, for_others: bool = False) -> tuple[list[MyClaimRead], str | None]:
    stmt = repo.my_claims_query(scope.community_id, scope.person.id, MY_CLAIMS[which], for_others=for_others)
    rows, cursor = await paginate(session, stmt, paging, TaskClaim.id)
    buildings = {b.id: b.name for b in await communities.buildings(session, scope.community_id)}
    return [MyClaimRead(**view.model_dump(), task=summary(ctx.task, buildings.get(ctx.task.building_id or "")))
            for view, ctx in await claims_with_tasks(session, scope, request, rows)], cursor


async def claims_page(session: AsyncSession, scope: CommunityScope, request: Request, ctx: service.Context,
                      statuses: list[str] | None, paging: PageParams) -> tuple[list[ClaimRead], str | None]:
    rows, cursor = await paginate(session, repo.claims_query(ctx.task.id, statuses), paging, TaskClaim.id,
                                  descending=False)
    return await claim_views(session, scope, request, ctx, rows), cursor


async def console(session: AsyncSession, scope: CommunityScope, request: Request, ctx: service.Context) -> ConsoleRead:
    claims = await repo.all_claims(session, ctx.task.id)
    views = await claim_views(session, scope, request, ctx, claims)
    counts = await repo.counts_by_status(session, ctx.task.id)
    present = sum(1 for c in claims if c.checked_in_at is not None)
    (task_view,) = await task_views(session, scope, request, [ctx.task])
    verifying = {"verify", "confirm"}
    return ConsoleRead(
        task=task_view, counts=counts, claimants=views,
        attendance={"expected": sum(1 for c in claims if c.status in flows.HOLDS_PLACE or c.status == "no_show"),
                    "checked_in": present, "no_show": counts.get(ClaimStatus.no_show.value, 0)},
        verification_queue=[v for v in views if verifying & set(v.allowed_actions)
                            and v.status == ClaimStatus.submitted])


async def queue(session: AsyncSession, scope: CommunityScope, request: Request,
                paging: PageParams) -> tuple[list[QueueItem], str | None]:
    """Submitted claims waiting for the caller's verification, across the tasks they organise (the
    committee: every task), oldest first, with when the sweep verifies each by itself."""
    who = None if service.sees_all(scope) else scope.person.id
    rows, cursor = await paginate(session, repo.queue_query(scope.community_id, who), paging, TaskClaim.id,
                                  descending=False)
    days = await service.auto_verify_days(session, scope.community_id)
    buildings = {b.id: b.name for b in await communities.buildings(session, scope.community_id)}
    out = []
    for view, ctx in await claims_with_tasks(session, scope, request, rows):
        if not ({"verify", "confirm", "reject"} & set(view.allowed_actions)):
            continue  # their own, or one they made for someone: another organiser verifies it
        at = view.submitted_at + timedelta(days=days) if view.submitted_at else None
        out.append(QueueItem(claim=view, task=summary(ctx.task, buildings.get(ctx.task.building_id or "")),
                             auto_verify_at=at))
    return out, cursor


def organiser_only(ctx: service.Context) -> bool:
    return Actor.organiser in ctx.actors
