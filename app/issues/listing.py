"""Finding issues: filters, the three sort orders, keyset pagination, and the read views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.communities.deps import CommunityScope
from app.core import clock
from app.core.errors import Invalid
from app.core.pagination import PageParams, decode_cursor, encode_cursor
from app.core.storage import get_storage
from app.issues import flows
from app.issues import repository as repo
from app.issues.flows import Status
from app.issues.models import Issue, IssueFollower, IssueSupport
from app.issues.service import actors_for, sees_staff_only

Sort = Literal["-created", "-supports", "deadline"]


@dataclass(frozen=True)
class IssueFilters:
    status: list[str] | None = None
    category_id: str | None = None
    grid_id: str | None = None
    building_id: str | None = None
    handler_id: str | None = None
    overdue: bool | None = None
    mine: Literal["reported", "supported", "following", "handling"] | None = None
    q: str | None = None


async def list_issues(session: AsyncSession, scope: CommunityScope, f: IssueFilters, sort: Sort,
                      paging: PageParams) -> tuple[list[Issue], str | None]:
    now = clock.now()
    stmt = select(Issue).where(Issue.community_id == scope.community_id)
    if not sees_staff_only(scope):
        stmt = stmt.where(Issue.staff_only.is_(False))
    if f.status:
        bad = [s for s in f.status if s not in Status.__members__]
        if bad:
            raise Invalid("issue_status_unknown", errors=[{"loc": ["query", "status"], "msg": ",".join(bad)}])
        stmt = stmt.where(Issue.status.in_(f.status))
    for field, value in ((Issue.category_id, f.category_id), (Issue.grid_id, f.grid_id),
                         (Issue.building_id, f.building_id), (Issue.handler_id, f.handler_id)):
        if value:
            stmt = stmt.where(field == value)
    if f.overdue is not None:
        clause = repo.overdue_clause(now)
        stmt = stmt.where(clause if f.overdue else ~clause)
    if f.mine == "reported":
        stmt = stmt.where(Issue.reporter_id == scope.person.id)
    elif f.mine in ("supported", "following"):
        model = IssueSupport if f.mine == "supported" else IssueFollower
        stmt = stmt.where(Issue.id.in_(select(model.issue_id).where(model.person_id == scope.person.id)))
    elif f.mine == "handling":
        stmt = stmt.where(Issue.handler_id.in_(await repo.handler_ids_of(session, scope.person.id)))
    if f.q:
        like = "%" + f.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(Issue.title.like(like, escape="\\"), Issue.description.like(like, escape="\\")))

    column: Any = {"-created": None, "-supports": Issue.supports_count, "deadline": Issue.deadline_at}[sort]
    if paging.cursor:
        value, last_id = decode_cursor(paging.cursor, 2)
        if not isinstance(last_id, str):
            raise Invalid("bad_cursor")
        if column is None:
            stmt = stmt.where(Issue.id < last_id)
        elif sort == "-supports":
            stmt = stmt.where(or_(column < value, and_(column == value, Issue.id < last_id)))
        else:  # deadline ascending, issues without a deadline last
            if value is None:
                stmt = stmt.where(column.is_(None), Issue.id > last_id)
            else:
                when = datetime.fromisoformat(value)
                stmt = stmt.where(or_(column > when, and_(column == when, Issue.id > last_id), column.is_(None)))
    if column is None:
        stmt = stmt.order_by(Issue.id.desc())
    elif sort == "-supports":
        stmt = stmt.order_by(column.desc(), Issue.id.desc())
    else:
        stmt = stmt.order_by(column.is_(None), column.asc(), Issue.id.asc())
    rows = list((await session.execute(stmt.limit(paging.limit + 1))).scalars().all())
    more = len(rows) > paging.limit
    rows = rows[: paging.limit]
    cursor = None
    if more and rows:
        last = rows[-1]
        key = None if column is None else getattr(last, column.key)
        cursor = encode_cursor([key.isoformat() if isinstance(key, datetime) else key, last.id])
    return rows, cursor


def is_overdue(issue: Issue) -> bool:
    return bool(issue.deadline_at and issue.deadline_at < clock.now() and Status(issue.status) in flows.OPEN)


async def views(session: AsyncSession, scope: CommunityScope, issues: list[Issue], base: str,
                *, detail: bool = False) -> list[dict[str, Any]]:
    """What a caller sees of each issue: the reporter's name hidden from residents when asked."""
    ids = [i.id for i in issues]
    names = await repo.names(session, [i.reporter_id for i in issues])
    cats = await repo.category_names(session, [i.category_id for i in issues if i.category_id])
    photos = await repo.photos_of(session, ids)
    mine = await repo.supported(session, ids, scope.person.id)
    staff = sees_staff_only(scope)
    storage = get_storage()
    uploads = await _uploads(session, [p.upload_id for ps in photos.values() for p in ps])
    out = []
    for i in issues:
        hidden = i.hide_reporter and not staff and i.reporter_id != scope.person.id
        view: dict[str, Any] = {
            **{k: getattr(i, k) for k in (
                "id", "community_id", "title", "description", "category_id", "status", "source", "staff_only",
                "lat", "lng", "building_id", "grid_id", "location_text", "handler_id", "deadline_at",
                "reopen_count", "supports_count", "comments_count", "merged_into_id", "resolution_note",
                "created_at", "updated_at", "closed_at")},
            "category": cats.get(i.category_id or ""),
            "reporter_id": None if hidden else i.reporter_id,
            "reporter_name": None if hidden else names.get(i.reporter_id or ""),
            "overdue": is_overdue(i), "escalated": i.escalated_at is not None,
            "supported_by_me": i.id in mine,
            "photos": [{"id": p.upload_id, "kind": p.kind,
                        "url": _absolute(base, storage.url(uploads[p.upload_id][0])),
                        "thumb_url": _absolute(base, storage.url(uploads[p.upload_id][1]))}
                       for p in photos.get(i.id, []) if p.upload_id in uploads],
        }
        if detail:
            view["following"] = await repo.is_following(session, i.id, scope.person.id)
            view["allowed_actions"] = flows.allowed_actions(Status(i.status), await actors_for(session, scope, i))
        out.append(view)
    return out


def _absolute(base: str, url: str) -> str:
    return url if url.startswith(("https://", "http://")) else base + url


async def _uploads(session: AsyncSession, upload_ids: list[str]) -> dict[str, tuple[str, str]]:
    from app.core.models import Upload

    if not upload_ids:
        return {}
    q = select(Upload.id, Upload.key, Upload.thumb_key).where(Upload.id.in_(upload_ids))
    return {i: (k, tk) for i, k, tk in (await session.execute(q)).all()}
