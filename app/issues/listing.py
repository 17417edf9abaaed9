"""Finding issues: filters, the three sort orders, keyset pagination, and the read views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.communities.deps import CommunityScope
from app.core import clock, media
from app.core.errors import Invalid, NotFound
from app.core.pagination import PageParams, decode_cursor, encode_cursor
from app.core.storage import get_storage
from app.issues import duplicates, flows
from app.issues import repository as repo
from app.issues.flows import Status
from app.issues.models import Issue, IssueFollower, IssueSupport
from app.issues.service import actors_for, sees_reporters, visibility_clause

Sort = Literal["-created", "-supports", "deadline"]


@dataclass(frozen=True)
class IssueFilters:
    status: list[str] | None = None
    category_id: str | None = None
    grid_id: str | None = None
    building_id: str | None = None
    handler_id: str | None = None
    overdue: bool | None = None
    mine: Literal["reported", "supported", "following", "handling", "grid"] | None = None
    q: str | None = None


async def filtered(session: AsyncSession, scope: CommunityScope, f: IssueFilters) -> Select[Any]:
    """The community's issues this caller may see, narrowed by ``f``; no order yet."""
    now = clock.now()
    stmt = select(Issue).where(Issue.community_id == scope.community_id)
    visible = await visibility_clause(session, scope)
    if visible is not None:
        stmt = stmt.where(visible)
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
    elif f.mine == "grid":  # a grid worker's patrol: the grids they look after
        stmt = stmt.where(Issue.grid_id.in_(scope.membership.grid_ids if scope.membership else []))
    if f.q:
        stmt = stmt.where(repo.search_clause(repo.dialect_of(session), f.q))
    return stmt


def ordered(stmt: Select[Any], sort: Sort) -> Select[Any]:
    column: Any = {"-created": None, "-supports": Issue.supports_count, "deadline": Issue.deadline_at}[sort]
    if column is None:
        return stmt.order_by(Issue.id.desc())
    if sort == "-supports":
        return stmt.order_by(column.desc(), Issue.id.desc())
    return stmt.order_by(column.is_(None), column.asc(), Issue.id.asc())


async def list_issues(session: AsyncSession, scope: CommunityScope, f: IssueFilters, sort: Sort,
                      paging: PageParams) -> tuple[list[Issue], str | None]:
    stmt = await filtered(session, scope, f)
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
    stmt = ordered(stmt, sort)
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
    staff = sees_reporters(scope)
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
            # A staff-only issue's photos get short-lived signed URLs, a public one's their lasting ones.
            "photos": [{"id": p.upload_id, "kind": p.kind,
                        "url": _absolute(base, media.url(storage, uploads[p.upload_id][0], public=not i.staff_only)),
                        "thumb_url": _absolute(base, media.url(storage, uploads[p.upload_id][1],
                                                               public=not i.staff_only))}
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


# --- duplicates while reporting, and the map ------------------------------------------------

async def similar_issues(session: AsyncSession, scope: CommunityScope, *, title: str | None, lat: float | None,
                         lng: float | None, category_id: str | None) -> list[dict[str, Any]]:
    """Open issues the caller may see that look like the one being reported: within 100 m in the
    same category (a lat/lng box in SQL, then the haversine distance), or with a similar title
    (candidates from the search index, scored by character bigrams). Best first, at most 10."""
    if (lat is None) != (lng is None):
        raise Invalid("location_incomplete", errors=[{"loc": ["query", "lat" if lat is None else "lng"],
                                                      "msg": "lat and lng go together"}])
    if category_id and await repo.category_in(session, scope.community_id, category_id) is None:
        raise NotFound("category_not_found")
    visible = await visibility_clause(session, scope)
    statuses = sorted(str(s) for s in flows.OPEN)
    rows: list[repo.CandidateRow] = []
    if lat is not None and lng is not None:
        box = duplicates.bounding_box(lat, lng, duplicates.NEARBY_M)
        rows += await repo.open_in_box(session, scope.community_id, statuses, visible, box, category_id)
    if title:
        keys = duplicates.trigrams(title) or [k for k in ["".join(ch for ch in title.casefold() if ch.isalnum())] if k]
        rows += await repo.open_with_title_like(session, scope.community_id, statuses, visible, keys, title)
    matches = duplicates.rank([duplicates.Candidate(*r) for r in rows], title=title, lat=lat, lng=lng,
                              category_id=category_id)
    issues = {i.id: i for i in await repo.issues_in(session, scope.community_id, [m.id for m in matches])}
    cats = await repo.category_names(session, [i.category_id for i in issues.values() if i.category_id])
    return [{"id": m.id, "title": issues[m.id].title, "status": issues[m.id].status,
             "category_id": issues[m.id].category_id, "category": cats.get(issues[m.id].category_id or ""),
             "supports_count": issues[m.id].supports_count, "created_at": issues[m.id].created_at,
             "lat": issues[m.id].lat, "lng": issues[m.id].lng,
             "distance_m": m.distance_m, "reason": m.reason, "reasons": list(m.reasons), "score": m.score}
            for m in matches if m.id in issues]


MAP_LIMIT = 2000


async def issue_map(session: AsyncSession, scope: CommunityScope, f: IssueFilters, sort: Sort) -> dict[str, Any]:
    """GeoJSON FeatureCollection of the issues with a GPS point, the list's filters and order;
    at most ``MAP_LIMIT`` features, with ``truncated`` saying whether more matched."""
    base = ordered((await filtered(session, scope, f)).where(Issue.lat.is_not(None), Issue.lng.is_not(None)), sort)
    stmt: Select[Any] = base.with_only_columns(  # type: ignore[assignment]
        Issue.id, Issue.title, Issue.status, Issue.category_id, Issue.supports_count, Issue.deadline_at,
        Issue.lat, Issue.lng).limit(MAP_LIMIT + 1)
    rows = (await session.execute(stmt)).all()
    truncated = len(rows) > MAP_LIMIT
    rows = rows[:MAP_LIMIT]
    cats = await repo.category_names(session, [r.category_id for r in rows if r.category_id])
    now = clock.now()
    features = [{
        "type": "Feature", "id": r.id,
        "geometry": {"type": "Point", "coordinates": [r.lng, r.lat]},
        "properties": {"id": r.id, "title": r.title, "status": r.status, "category_id": r.category_id,
                       "category": cats.get(r.category_id or ""), "supports_count": r.supports_count,
                       "overdue": bool(r.deadline_at and r.deadline_at < now and Status(r.status) in flows.OPEN)},
    } for r in rows]
    out: dict[str, Any] = {"type": "FeatureCollection", "features": features, "truncated": truncated,
                           "limit": MAP_LIMIT}
    if rows:
        out["bbox"] = [min(r.lng for r in rows), min(r.lat for r in rows),
                       max(r.lng for r in rows), max(r.lat for r in rows)]
    return out
