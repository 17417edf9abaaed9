from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.communities.deps import CommunityScope, Require
from app.core.deps import Session
from app.core.errors import NotFound
from app.core.pagination import Page, Paging, paginate
from app.core.urls import absolute, base_url
from app.issues import listing, service
from app.issues import repository as repo
from app.issues.models import Issue, IssueComment
from app.issues.schemas import (
    CategoryCreate,
    CategoryRead,
    CommentCreate,
    CommentRead,
    EventRead,
    FollowState,
    HandlerCreate,
    HandlerRead,
    IssueCreate,
    IssueRead,
    SimilarIssue,
    SimilarIssues,
    SupportState,
    TransitionIn,
)

router = APIRouter(tags=["issues"])
Id = Annotated[str, Path(max_length=26)]
Viewer = Annotated[CommunityScope, Require("issues.view")]


async def _read(session: AsyncSession, scope: CommunityScope, request: Request, issue: Issue) -> IssueRead:
    (view,) = await listing.views(session, scope, [issue], base_url(request), detail=True)
    return IssueRead.model_validate(view)


@router.get("/communities/{cid}/categories")
async def list_categories(session: Session, scope: Viewer) -> list[CategoryRead]:
    return [CategoryRead.model_validate(c) for c in await service.categories(session, scope.community_id)]


@router.post("/communities/{cid}/categories", status_code=201)
async def create_category(body: CategoryCreate, session: Session,
                          scope: CommunityScope = Require("issues.configure")) -> CategoryRead:
    return CategoryRead.model_validate(await service.create_category(session, scope, body))


@router.get("/communities/{cid}/handlers")
async def list_handlers(session: Session, scope: Viewer) -> list[HandlerRead]:
    return [HandlerRead(id=h.id, name=h.name, kind=h.kind, member_ids=m)
            for h, m in await repo.handlers(session, scope.community_id)]


@router.post("/communities/{cid}/handlers", status_code=201)
async def create_handler(body: HandlerCreate, session: Session,
                         scope: CommunityScope = Require("issues.configure")) -> HandlerRead:
    h, members = await service.create_handler(session, scope, body)
    return HandlerRead(id=h.id, name=h.name, kind=h.kind, member_ids=members)


@router.post("/communities/{cid}/issues", status_code=201)
async def report_issue(request: Request, body: IssueCreate, session: Session,
                       scope: CommunityScope = Require("issues.report")) -> IssueRead:
    return await _read(session, scope, request, await service.report_issue(session, scope, body))


@router.get("/communities/{cid}/issues")
async def list_issues(
    request: Request, session: Session, scope: Viewer, paging: Paging,
    status: Annotated[str | None, Query(max_length=200)] = None,
    category_id: Annotated[str | None, Query(max_length=26)] = None,
    grid_id: Annotated[str | None, Query(max_length=26)] = None,
    building_id: Annotated[str | None, Query(max_length=26)] = None,
    handler_id: Annotated[str | None, Query(max_length=26)] = None,
    overdue: bool | None = None,
    mine: Annotated[str | None, Query(pattern="^(reported|supported|following|handling|grid)$")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=50)] = None,
    sort: Annotated[str, Query(pattern="^(-created|-supports|deadline)$")] = "-created",
) -> Page[IssueRead]:
    filters = listing.IssueFilters(
        status=status.split(",") if status else None, category_id=category_id, grid_id=grid_id,
        building_id=building_id, handler_id=handler_id, overdue=overdue, mine=mine, q=q)  # type: ignore[arg-type]
    rows, cursor = await listing.list_issues(session, scope, filters, sort, paging)  # type: ignore[arg-type]
    views = await listing.views(session, scope, rows, base_url(request))
    return Page(items=[IssueRead.model_validate(v) for v in views], next_cursor=cursor)


@router.get("/communities/{cid}/issues/{issue_id}")
async def get_issue(request: Request, issue_id: Id, session: Session, scope: Viewer) -> IssueRead:
    return await _read(session, scope, request, await service.visible_issue(session, scope, issue_id))


@router.post("/communities/{cid}/issues/{issue_id}/transitions")
async def transition(request: Request, issue_id: Id, body: TransitionIn, session: Session,
                     scope: Viewer) -> IssueRead:
    return await _read(session, scope, request, await service.transition(session, scope, issue_id, body))


@router.post("/communities/{cid}/issues/{issue_id}/support")
async def support(issue_id: Id, session: Session, scope: Viewer) -> SupportState:
    on, count = await service.support(session, scope, issue_id, True)
    return SupportState(supported=on, supports_count=count)


@router.delete("/communities/{cid}/issues/{issue_id}/support")
async def unsupport(issue_id: Id, session: Session, scope: Viewer) -> SupportState:
    on, count = await service.support(session, scope, issue_id, False)
    return SupportState(supported=on, supports_count=count)


@router.get("/communities/{cid}/issues/{issue_id}/timeline")
async def timeline(issue_id: Id, session: Session, scope: Viewer) -> list[EventRead]:
    issue = await service.visible_issue(session, scope, issue_id)
    events = await repo.events(session, issue.id)
    names = await repo.names(session, [e.actor_id for e in events])
    hide = issue.hide_reporter and not service.sees_reporters(scope) and issue.reporter_id != scope.person.id
    return [EventRead(id=e.id, action=e.action, from_status=e.from_status, to_status=e.to_status,
                      actor_name=None if hide and e.actor_id == issue.reporter_id else names.get(e.actor_id or ""),
                      note=e.note, data=e.data, created_at=e.created_at) for e in events]


@router.get("/communities/{cid}/issues/{issue_id}/comments")
async def list_comments(request: Request, issue_id: Id, session: Session, scope: Viewer,
                        paging: Paging) -> Page[CommentRead]:
    issue = await service.visible_issue(session, scope, issue_id)
    rows, cursor = await paginate(session, repo.comments_query(issue.id), paging, IssueComment.id, descending=False)
    return Page(items=await _comment_views(session, scope, request, issue, rows), next_cursor=cursor)


@router.post("/communities/{cid}/issues/{issue_id}/comments", status_code=201)
async def add_comment(request: Request, issue_id: Id, body: CommentCreate, session: Session,
                      scope: Viewer) -> CommentRead:
    comment = await service.add_comment(session, scope, issue_id, body)
    issue = await service.visible_issue(session, scope, issue_id)
    (view,) = await _comment_views(session, scope, request, issue, [comment])
    return view


async def _comment_views(session: AsyncSession, scope: CommunityScope, request: Request, issue: Issue,
                         rows: list[IssueComment]) -> list[CommentRead]:
    from app.core import uploads
    from app.core.storage import get_storage

    names = await repo.names(session, [c.author_id for c in rows])
    hide = issue.hide_reporter and not service.sees_reporters(scope) and issue.reporter_id != scope.person.id
    storage = get_storage()
    out = []
    for c in rows:
        photos: list[dict[str, Any]] = []
        for upload_id in c.upload_ids:
            u = await uploads.find_upload(session, scope.community_id, upload_id)
            if u is not None:
                v = uploads.upload_view(request, storage, u, public=not issue.staff_only)
                photos.append({"id": u.id, "url": v.url, "thumb_url": v.thumb_url, "kind": "comment"})
        anonymous = hide and c.author_id == issue.reporter_id
        out.append(CommentRead(id=c.id, author_id=None if anonymous else c.author_id,
                               author_name=None if anonymous else names.get(c.author_id or ""),
                               body=c.body, photos=photos, created_at=c.created_at))
    return out




# --- sharing ------------------------------------------------------------------------------------

class IssueShareLink(BaseModel):
    code: str
    url: str
    qr_url: str
    qr_png_url: str


@router.post("/communities/{cid}/issues/{issue_id}/share")
async def share_issue(request: Request, issue_id: Id, session: Session, scope: Viewer) -> IssueShareLink:
    """The issue's short link and QR codes, made on first asking. A staff-only issue has none."""
    from app.sharing import service as sharing

    issue = await service.visible_issue(session, scope, issue_id)
    if issue.staff_only:
        raise NotFound("issue_not_found")
    link = await sharing.ensure_link(session, kind="issue", target_id=issue.id, community_id=issue.community_id)
    svg, png = sharing.qr_paths(link.code)
    return IssueShareLink(code=link.code, url=absolute(request, sharing.share_path(link.code)),
                          qr_url=absolute(request, svg), qr_png_url=absolute(request, png))


# --- finding: possible duplicates while reporting, and the map ---------------------------------

def issue_filters(
    status: Annotated[str | None, Query(max_length=200)] = None,
    category_id: Annotated[str | None, Query(max_length=26)] = None,
    grid_id: Annotated[str | None, Query(max_length=26)] = None,
    building_id: Annotated[str | None, Query(max_length=26)] = None,
    handler_id: Annotated[str | None, Query(max_length=26)] = None,
    overdue: bool | None = None,
    mine: Annotated[str | None, Query(pattern="^(reported|supported|following|handling|grid)$")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=50)] = None,
) -> listing.IssueFilters:
    """The list's filters, for the endpoints that take the same ones."""
    return listing.IssueFilters(
        status=status.split(",") if status else None, category_id=category_id, grid_id=grid_id,
        building_id=building_id, handler_id=handler_id, overdue=overdue, mine=mine, q=q)  # type: ignore[arg-type]


@router.get("/communities/{cid}/issues/similar")
async def similar_issues(
    session: Session, scope: Viewer,
    title: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    category_id: Annotated[str | None, Query(max_length=26)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lng: Annotated[float | None, Query(ge=-180, le=180)] = None,
) -> SimilarIssues:
    items = await listing.similar_issues(session, scope, title=title.strip() if title else None, lat=lat, lng=lng,
                                         category_id=category_id)
    return SimilarIssues(items=[SimilarIssue.model_validate(i) for i in items])


@router.get("/communities/{cid}/issues/map", response_class=JSONResponse,
            responses={200: {"content": {"application/geo+json": {}}}})
async def issue_map(
    session: Session, scope: Viewer, filters: Annotated[listing.IssueFilters, Depends(issue_filters)],
    sort: Annotated[str, Query(pattern="^(-created|-supports|deadline)$")] = "-created",
) -> JSONResponse:
    collection = await listing.issue_map(session, scope, filters, sort)  # type: ignore[arg-type]
    # Plain strings, numbers and booleans only: json.dumps directly (jsonable_encoder is slow on 2000 features).
    return JSONResponse(collection, media_type="application/geo+json")


# /issues/similar and /issues/map are literal paths that /issues/{issue_id} would otherwise
# swallow: route them first.
_literal = [r for r in router.routes if getattr(r, "path", "") in (
    "/communities/{cid}/issues/similar", "/communities/{cid}/issues/map")]
router.routes[:] = _literal + [r for r in router.routes if r not in _literal]


# --- following ----------------------------------------------------------------------------------

@router.post("/communities/{cid}/issues/{issue_id}/follow")
async def follow(issue_id: Id, session: Session, scope: Viewer) -> FollowState:
    return FollowState(following=await service.follow(session, scope, issue_id, True))


@router.delete("/communities/{cid}/issues/{issue_id}/follow")
async def unfollow(issue_id: Id, session: Session, scope: Viewer) -> FollowState:
    return FollowState(following=await service.follow(session, scope, issue_id, False))
