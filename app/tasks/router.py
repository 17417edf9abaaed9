from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.communities.deps import CommunityScope, Require
from app.core.db import reads_first
from app.core.deps import Session
from app.core.errors import Forbidden, NotFound
from app.core.pagination import Page, Paging
from app.core.urls import absolute
from app.sharing import service as sharing
from app.tasks import flows, service, views
from app.tasks.flows import Actor, Status
from app.tasks.models import Task
from app.tasks.schemas import (
    CheckinCode,
    ClaimCreate,
    ClaimRead,
    ClaimTransitionIn,
    ConsoleRead,
    MyClaimRead,
    QueueItem,
    RulesIn,
    RulesRead,
    TaskCreate,
    TaskFromIssue,
    TaskRead,
    TaskShareLink,
    TaskTransitionIn,
    TaskUpdate,
)

router = APIRouter(tags=["tasks"])
Id = Annotated[str, Path(max_length=26)]
Viewer = Annotated[CommunityScope, Require("tasks.view")]


async def _read(session: AsyncSession, scope: CommunityScope, request: Request, task: Task) -> TaskRead:
    (view,) = await views.task_views(session, scope, request, [task], detail=True)
    return view


async def _organiser(session: AsyncSession, scope: CommunityScope, task_id: str) -> service.Context:
    ctx = await service.context(session, scope, task_id)
    if Actor.organiser not in ctx.actors:
        raise Forbidden("task_organisers_only")
    return ctx


# --- literal paths first (/tasks/{task_id} would swallow them) -------------------------------------

@router.get("/communities/{cid}/tasks/queue")
async def verification_queue(request: Request, session: Session, paging: Paging,
                             scope: CommunityScope = Require("tasks.organise")) -> Page[QueueItem]:
    """Submitted claims waiting for the caller's verification, across the tasks they organise."""
    items, cursor = await views.queue(session, scope, request, paging)
    return Page(items=items, next_cursor=cursor)


@router.get("/communities/{cid}/task-rules")
async def get_rules(session: Session, scope: Viewer) -> RulesRead:
    """The community's rule: after how many days a submitted claim the organiser left alone is verified."""
    days, at = await service.rules_of(session, scope.community_id)
    return RulesRead(auto_verify_days=days, updated_at=at)


@router.put("/communities/{cid}/task-rules")
async def put_rules(body: RulesIn, session: Session, scope: CommunityScope = Require("tasks.configure")) -> RulesRead:
    rules = await service.set_rules(session, scope, body)
    return RulesRead(auto_verify_days=rules.auto_verify_days, updated_at=rules.updated_at)


@router.get("/communities/{cid}/me/claims")
async def my_claims(request: Request, session: Session, scope: Viewer, paging: Paging,
                    status: Annotated[str, Query(pattern="^(active|done|all)$")] = "active",
                    for_others: bool = False) -> Page[MyClaimRead]:
    """My tasks: the claims I hold (someone may have made them for me), newest first; ``for_others``:
    the claims I made for residents without a phone, to check them in and send their photos."""
    items, cursor = await views.my_claims(session, scope, request, status, paging, for_others=for_others)
    return Page(items=items, next_cursor=cursor)


# --- tasks ------------------------------------------------------------------------------------------

@router.get("/communities/{cid}/tasks")
async def list_tasks(
    request: Request, session: Session, scope: Viewer, paging: Paging,
    kind: Annotated[str | None, Query(max_length=60)] = None,
    status: Annotated[str | None, Query(max_length=120)] = None,
    mine: Annotated[str | None, Query(pattern="^(organising|claimed|requested)$")] = None,
    building_id: Annotated[str | None, Query(max_length=26)] = None,
    near: Annotated[str | None, Query(max_length=60, description="lat,lng: nearest first")] = None,
    radius_m: Annotated[int, Query(ge=50, le=50_000)] = 3000,
) -> Page[TaskRead]:
    f = views.filters(kind, status, mine, building_id, near, radius_m)
    rows, cursor, distances = await views.list_tasks(session, scope, f, paging)
    return Page(items=await views.task_views(session, scope, request, rows, distances=distances), next_cursor=cursor)


@router.post("/communities/{cid}/tasks", status_code=201)
async def create_task(request: Request, body: TaskCreate, session: Session,
                      scope: CommunityScope = Require("tasks.post")) -> TaskRead:
    """Post a task. A volunteer job or an adoption: organisers; a micro-wish or a time-bank request:
    anyone (a facilitator for someone, with ``for_person_id``)."""
    return await _read(session, scope, request, await service.create_task(session, scope, body))


@router.get("/communities/{cid}/tasks/{task_id}")
async def get_task(request: Request, task_id: Id, session: Session, scope: Viewer) -> TaskRead:
    return await _read(session, scope, request, (await service.context(session, scope, task_id)).task)


@router.patch("/communities/{cid}/tasks/{task_id}")
async def update_task(request: Request, task_id: Id, body: TaskUpdate, session: Session, scope: Viewer) -> TaskRead:
    return await _read(session, scope, request, await service.update_task(session, scope, task_id, body))


@router.post("/communities/{cid}/tasks/{task_id}/transitions")
async def transition_task(request: Request, task_id: Id, body: TaskTransitionIn, session: Session,
                          scope: Viewer) -> TaskRead:
    """publish | approve (a micro-wish, the committee) | start | finish | cancel (claimants are told)."""
    ctx = await service.context(session, scope, task_id)
    return await _read(session, scope, request, await service.transition_task(session, scope, ctx, body))


@router.get("/communities/{cid}/tasks/{task_id}/console")
async def task_console(request: Request, task_id: Id, session: Session, scope: Viewer) -> ConsoleRead:
    """The organiser's console: claimants, attendance and the verification queue of one task."""
    return await views.console(session, scope, request, await _organiser(session, scope, task_id))


@router.get("/communities/{cid}/tasks/{task_id}/checkin-code")
async def checkin_code(request: Request, task_id: Id, session: Session, scope: Viewer) -> CheckinCode:
    """The code and QR code an organiser shows on site; volunteers scan it to check in."""
    ctx = await _organiser(session, scope, task_id)
    code, until = service.current_code(ctx.task)
    url = absolute(request, f"/c/{ctx.task.community_id}/tasks/{ctx.task.id}/checkin?code={code}")
    return CheckinCode(code=code, rotating=ctx.task.checkin_rotating, valid_until=until, checkin_url=url,
                       qr_svg=sharing.qr_svg(url).decode())


@router.post("/communities/{cid}/tasks/{task_id}/share")
async def share_task(request: Request, task_id: Id, session: Session, scope: Viewer) -> TaskShareLink:
    """The task's short link and QR codes (to recruit in a WeChat group), made on first asking."""
    ctx = await service.context(session, scope, task_id)
    if ctx.task.status in (Status.draft, Status.pending):
        raise NotFound("task_not_found")
    link = await sharing.ensure_link(session, kind="task", target_id=ctx.task.id, community_id=ctx.task.community_id)
    svg, png = sharing.qr_paths(link.code)
    return TaskShareLink(code=link.code, url=absolute(request, sharing.share_path(link.code)),
                         qr_url=absolute(request, svg), qr_png_url=absolute(request, png))


# --- claims -------------------------------------------------------------------------------------------

@router.post("/communities/{cid}/tasks/{task_id}/claims", status_code=201)
@reads_first
async def claim_task(request: Request, task_id: Id, body: ClaimCreate, session: Session,
                     scope: CommunityScope = Require("tasks.claim"),
                     idempotency_key: Annotated[str | None, Header(max_length=200)] = None) -> ClaimRead:
    """Claim a place (for oneself, or with ``for_person_id`` for a resident without a phone).
    Refused — full, twice, started, one's own, outside the allowed group — nothing is written."""
    made = await service.take_claim(session, scope, task_id, body, idempotency_key)
    (view,) = await views.claim_views(session, scope, request, made.ctx, [made.claim], standings=made.standings,
                                      known_names=made.names, fresh=True)
    return view


@router.get("/communities/{cid}/tasks/{task_id}/claims")
async def list_claims(request: Request, task_id: Id, session: Session, scope: Viewer, paging: Paging,
                      status: Annotated[str | None, Query(max_length=200)] = None) -> Page[ClaimRead]:
    """The task's claims (organisers), in the order they came."""
    ctx = await _organiser(session, scope, task_id)
    statuses = views.split(status, [s.value for s in flows.ClaimStatus], "status")
    items, cursor = await views.claims_page(session, scope, request, ctx, statuses, paging)
    return Page(items=items, next_cursor=cursor)


@router.get("/communities/{cid}/tasks/{task_id}/claims/{claim_id}")
async def get_claim(request: Request, task_id: Id, claim_id: Id, session: Session, scope: Viewer) -> ClaimRead:
    ctx, the_claim, _ = await service.claim_context(session, scope, task_id, claim_id)
    (view,) = await views.claim_views(session, scope, request, ctx, [the_claim])
    return view


@router.post("/communities/{cid}/tasks/{task_id}/claims/{claim_id}/transitions")
async def transition_claim(request: Request, task_id: Id, claim_id: Id, body: ClaimTransitionIn, session: Session,
                           scope: Viewer) -> ClaimRead:
    """checkin (code, or the organiser marks attendance; an adoption again every N days) | submit
    (photos, note, minutes) | verify | confirm (a wish or a request, by the one it is for) | reject
    (reason) | withdraw (before the start) | no_show | renew | hand_over (to_person_id)."""
    the_claim = await service.transition_claim(session, scope, task_id, claim_id, body)
    ctx = await service.context(session, scope, task_id)
    (view,) = await views.claim_views(session, scope, request, ctx, [the_claim])
    return view


# --- an issue becomes a task ------------------------------------------------------------------------

@router.post("/communities/{cid}/issues/{issue_id}/task", status_code=201)
async def task_from_issue(request: Request, issue_id: Id, body: TaskFromIssue, session: Session,
                          scope: CommunityScope = Require("tasks.organise")) -> TaskRead:
    """Turn a reported issue into a volunteer task: its title, description, place and photos carry
    over unless given; the task names the issue and the issue's timeline names the task."""
    return await _read(session, scope, request, await service.task_from_issue(session, scope, issue_id, body))
