"""Every query of the issue list. Issues are always fetched with their community id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, String, cast, delete, func, or_, select, table, text, union_all, update
from sqlalchemy import column as table_column
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Person
from app.issues.models import (
    Category,
    Handler,
    HandlerMember,
    Issue,
    IssueComment,
    IssueEvent,
    IssueFollower,
    IssuePhoto,
    IssueSupport,
)


async def issue_in(session: AsyncSession, community_id: str, issue_id: str) -> Issue | None:
    q = select(Issue).where(Issue.id == issue_id, Issue.community_id == community_id)
    return (await session.execute(q)).scalar_one_or_none()


async def issues_in(session: AsyncSession, community_id: str, issue_ids: Sequence[str]) -> list[Issue]:
    if not issue_ids:
        return []
    q = select(Issue).where(Issue.community_id == community_id, Issue.id.in_(list(issue_ids)))
    return list((await session.execute(q)).scalars().all())


async def names_in(session: AsyncSession, model: Any, name: Any, community_id: str,
                   ids: Sequence[str]) -> dict[str, str]:
    """{id: name or title} of this community's issues, handlers or categories (the audit log names them)."""
    q = select(model.id, name).where(model.community_id == community_id, model.id.in_(list(ids)))
    return {i: n for i, n in (await session.execute(q)).all()}


async def categories(session: AsyncSession, community_id: str) -> list[Category]:
    q = (select(Category).where(Category.community_id == community_id, Category.active.is_(True))
         .order_by(Category.position, Category.name))
    return list((await session.execute(q)).scalars().all())


async def category_in(session: AsyncSession, community_id: str, category_id: str) -> Category | None:
    q = select(Category).where(Category.id == category_id, Category.community_id == community_id)
    return (await session.execute(q)).scalar_one_or_none()


async def category_names(session: AsyncSession, ids: Sequence[str]) -> dict[str, str]:
    if not ids:
        return {}
    q = select(Category.id, Category.name).where(Category.id.in_(set(ids)))
    return {i: n for i, n in (await session.execute(q)).all()}


async def handlers(session: AsyncSession, community_id: str) -> list[tuple[Handler, list[str]]]:
    rows = list((await session.execute(select(Handler).where(Handler.community_id == community_id)
                                       .order_by(Handler.name))).scalars().all())
    members = await handler_members(session, [h.id for h in rows])
    return [(h, members.get(h.id, [])) for h in rows]


async def handler_in(session: AsyncSession, community_id: str, handler_id: str) -> Handler | None:
    q = select(Handler).where(Handler.id == handler_id, Handler.community_id == community_id)
    return (await session.execute(q)).scalar_one_or_none()


async def handler_members(session: AsyncSession, handler_ids: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if not handler_ids:
        return out
    q = select(HandlerMember.handler_id, HandlerMember.person_id).where(HandlerMember.handler_id.in_(handler_ids))
    for hid, pid in (await session.execute(q)).all():
        out.setdefault(hid, []).append(pid)
    return out


async def is_handler_member(session: AsyncSession, handler_id: str, person_id: str) -> bool:
    q = select(func.count()).select_from(HandlerMember).where(
        HandlerMember.handler_id == handler_id, HandlerMember.person_id == person_id)
    return int((await session.execute(q)).scalar_one()) > 0


async def handler_ids_of(session: AsyncSession, person_id: str) -> list[str]:
    q = select(HandlerMember.handler_id).where(HandlerMember.person_id == person_id)
    return list((await session.execute(q)).scalars().all())


def visible_to(person_id: str, handler_ids: Sequence[str]) -> ColumnElement[bool]:
    """``service.sees_issue`` in SQL, for a caller who does not see every staff-only issue."""
    return or_(Issue.staff_only.is_(False), Issue.reporter_id == person_id, Issue.handler_id.in_(list(handler_ids)))


async def move_to(session: AsyncSession, issue: Issue, expected: str, values: dict[str, Any]) -> bool:
    """Change an issue only if it is still in ``expected``: of two people acting at once, one wins."""
    result = await session.execute(
        update(Issue).where(Issue.id == issue.id, Issue.status == expected).values(**values)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return False
    for k, v in values.items():
        if not hasattr(v, "__clause_element__") and not hasattr(v, "compile"):
            setattr(issue, k, v)
    return True


async def photos_of(session: AsyncSession, issue_ids: Sequence[str]) -> dict[str, list[IssuePhoto]]:
    out: dict[str, list[IssuePhoto]] = {}
    if not issue_ids:
        return out
    q = select(IssuePhoto).where(IssuePhoto.issue_id.in_(issue_ids)).order_by(IssuePhoto.position)
    for p in (await session.execute(q)).scalars():
        out.setdefault(p.issue_id, []).append(p)
    return out


async def supported(session: AsyncSession, issue_ids: Sequence[str], person_id: str) -> set[str]:
    if not issue_ids:
        return set()
    q = select(IssueSupport.issue_id).where(IssueSupport.issue_id.in_(issue_ids), IssueSupport.person_id == person_id)
    return set((await session.execute(q)).scalars().all())


async def is_following(session: AsyncSession, issue_id: str, person_id: str) -> bool:
    q = select(func.count()).select_from(IssueFollower).where(
        IssueFollower.issue_id == issue_id, IssueFollower.person_id == person_id)
    return int((await session.execute(q)).scalar_one()) > 0


async def bump(session: AsyncSession, issue_id: str, column: str, delta: int) -> int:
    col = getattr(Issue, column)
    await session.execute(update(Issue).where(Issue.id == issue_id).values({column: col + delta})
                          .execution_options(synchronize_session=False))
    return int((await session.execute(select(col).where(Issue.id == issue_id))).scalar_one())


async def delete_support(session: AsyncSession, issue_id: str, person_id: str) -> bool:
    result = await session.execute(delete(IssueSupport).where(
        IssueSupport.issue_id == issue_id, IssueSupport.person_id == person_id))
    return bool(getattr(result, "rowcount", 0) == 1)


async def delete_follower(session: AsyncSession, issue_id: str, person_id: str) -> bool:
    result = await session.execute(delete(IssueFollower).where(
        IssueFollower.issue_id == issue_id, IssueFollower.person_id == person_id))
    return bool(getattr(result, "rowcount", 0) == 1)


async def names(session: AsyncSession, person_ids: Sequence[str | None]) -> dict[str, str]:
    ids = {p for p in person_ids if p}
    if not ids:
        return {}
    return {i: n for i, n in (await session.execute(select(Person.id, Person.name).where(Person.id.in_(ids)))).all()}


async def events(session: AsyncSession, issue_id: str) -> list[IssueEvent]:
    q = select(IssueEvent).where(IssueEvent.issue_id == issue_id).order_by(IssueEvent.id)
    return list((await session.execute(q)).scalars().all())


async def staff_only_of_issues_showing(session: AsyncSession, community_id: str, upload_id: str) -> list[bool]:
    """``staff_only`` of each issue that shows this upload, as one of its photos or in a comment."""
    as_photo = (select(Issue.staff_only).join(IssuePhoto, IssuePhoto.issue_id == Issue.id)
                .where(IssuePhoto.upload_id == upload_id))
    # A comment keeps its uploads' ids in a JSON list; ids are [0-9a-z], so the quoted id is exact.
    in_comment = (select(Issue.staff_only).join(IssueComment, IssueComment.issue_id == Issue.id)
                  .where(Issue.community_id == community_id,
                         cast(IssueComment.upload_ids, String).like(f'%"{upload_id}"%')))
    return list((await session.execute(union_all(as_photo, in_comment))).scalars().all())


def comments_query(issue_id: str) -> Select[Any]:
    return select(IssueComment).where(IssueComment.issue_id == issue_id)


async def move_children(session: AsyncSession, source_id: str, target_id: str) -> None:
    """A merged issue's supports, followers and comments follow it to the issue it joins."""
    for model in (IssueSupport, IssueFollower):
        taken = select(model.person_id).where(model.issue_id == target_id).scalar_subquery()
        await session.execute(update(model).where(model.issue_id == source_id, model.person_id.not_in(taken))
                              .values(issue_id=target_id).execution_options(synchronize_session=False))
        await session.execute(delete(model).where(model.issue_id == source_id))
    await session.execute(update(IssueComment).where(IssueComment.issue_id == source_id)
                          .values(issue_id=target_id).execution_options(synchronize_session=False))
    counted: tuple[tuple[str, Any], ...] = (("supports_count", IssueSupport), ("comments_count", IssueComment))
    for column, counted_model in counted:
        n = select(func.count()).select_from(counted_model).where(counted_model.issue_id == target_id).scalar_subquery()
        await session.execute(update(Issue).where(Issue.id == target_id).values({column: n})
                              .execution_options(synchronize_session=False))
    await session.execute(update(Issue).where(Issue.id == source_id).values(supports_count=0, comments_count=0)
                          .execution_options(synchronize_session=False))


def overdue_clause(now: datetime) -> Any:
    from app.issues.flows import OPEN

    return (Issue.deadline_at.is_not(None)) & (Issue.deadline_at < now) & (Issue.status.in_([str(s) for s in OPEN]))


# --- the home page's cards ---

def verifier_clause(person_id: str, grid_ids: Sequence[str] | None) -> ColumnElement[bool]:
    """Issues this person verifies (谁上报谁核查): their own reports, and as a grid worker
    (``grid_ids`` not None) those of their grids or of no grid, as ``service.actors_for`` says."""
    mine: ColumnElement[bool] = Issue.reporter_id == person_id
    if grid_ids is None:
        return mine
    return or_(mine, Issue.grid_id.is_(None), Issue.grid_id.in_(list(grid_ids)))


async def count_of(session: AsyncSession, stmt: Select[Any]) -> int:
    return int((await session.execute(select(func.count()).select_from(stmt.order_by(None).subquery()))).scalar_one())


async def counts_by_status(session: AsyncSession, stmt: Select[Any]) -> dict[str, int]:
    sub = stmt.order_by(None).subquery()
    q = select(sub.c.status, func.count()).group_by(sub.c.status)
    return {status: n for status, n in (await session.execute(q)).all()}


async def first(session: AsyncSession, stmt: Select[Any], n: int) -> list[Issue]:
    return list((await session.execute(stmt.limit(n))).scalars().all())


# --- escalation and who is told ---

async def follower_ids(session: AsyncSession, issue_id: str) -> list[str]:
    q = select(IssueFollower.person_id).where(IssueFollower.issue_id == issue_id).order_by(IssueFollower.id)
    return list((await session.execute(q)).scalars().all())


async def mark_escalated(session: AsyncSession, issue_id: str, when: datetime) -> bool:
    """Flag an issue escalated unless it already is: of two sweeps (or a sweep and a reopen), one wins."""
    result = await session.execute(update(Issue).where(Issue.id == issue_id, Issue.escalated_at.is_(None))
                                   .values(escalated_at=when).execution_options(synchronize_session=False))
    return bool(getattr(result, "rowcount", 0) == 1)


async def overdue_unescalated(session: AsyncSession, now: datetime, limit: int) -> list[Issue]:
    """Open issues past their deadline not yet escalated, across every community, oldest deadline first."""
    q = (select(Issue).where(overdue_clause(now), Issue.escalated_at.is_(None))
         .order_by(Issue.deadline_at, Issue.id).limit(limit))
    return list((await session.execute(q)).scalars().all())


def escalated_open_query(community_ids: Sequence[str]) -> Select[Any]:
    from app.issues.flows import OPEN

    return select(Issue).where(Issue.community_id.in_(list(community_ids)), Issue.escalated_at.is_not(None),
                               Issue.status.in_([str(s) for s in OPEN]))


async def escalation_reasons(session: AsyncSession, issue_ids: Sequence[str]) -> dict[str, str]:
    if not issue_ids:
        return {}
    q = (select(IssueEvent.issue_id, IssueEvent.data).where(IssueEvent.issue_id.in_(list(issue_ids)),
                                                           IssueEvent.action == "escalate")
         .order_by(IssueEvent.id))
    return {i: str(d.get("reason", "")) for i, d in (await session.execute(q)).all()}


# --- search 搜索 ------------------------------------------------------------------------------
# Chinese is written without spaces, so word tokenizers (and PostgreSQL's text search parsers)
# see a whole sentence as one word. Both databases instead index character trigrams, which
# match any substring of three or more characters: SQLite's FTS5 trigram tokenizer (table
# issues_fts) and PostgreSQL's pg_trgm GIN indexes, both made by migration 0004. Queries of one
# or two characters — 灯, 路灯 — have no trigram and are a LIKE scan of the community's issues,
# which the other filters and the sort's index keep short in practice.

MIN_INDEXED_CHARS = 3
FTS_TABLE = "issues_fts"
SEARCH_INDEX_OBJECTS = frozenset({FTS_TABLE, "ix_issues_title_trgm", "ix_issues_description_trgm"})
_fts = table(FTS_TABLE, table_column("issue_id"), table_column("rank"))


def is_search_index_object(name: str | None) -> bool:
    """Objects migration 0004 creates outside the models (FTS5's shadow tables included)."""
    return bool(name) and (name in SEARCH_INDEX_OBJECTS or str(name).startswith(FTS_TABLE + "_"))


def _like_pattern(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _fts_phrase(q: str) -> str:
    return '"' + q.replace('"', '""') + '"'


def dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def search_clause(dialect: str, q: str) -> ColumnElement[bool]:
    """Issues whose title or description contains ``q`` (case-insensitive for Latin letters)."""
    if dialect == "sqlite" and len(q) >= MIN_INDEXED_CHARS:
        match = text("issues_fts MATCH :search_q").bindparams(search_q=_fts_phrase(q))
        return Issue.id.in_(select(_fts.c.issue_id).where(match))
    like = _like_pattern(q)
    if dialect == "postgresql":
        return or_(Issue.title.ilike(like, escape="\\"), Issue.description.ilike(like, escape="\\"))
    return or_(Issue.title.like(like, escape="\\"), Issue.description.like(like, escape="\\"))


CandidateRow = tuple[str, str, float | None, float | None, str | None]


def _candidates(community_id: str, statuses: Sequence[str], visible: ColumnElement[bool] | None) -> Select[Any]:
    q: Select[Any] = select(Issue.id, Issue.title, Issue.lat, Issue.lng, Issue.category_id).where(  # type: ignore[assignment]
        Issue.community_id == community_id, Issue.status.in_(list(statuses)))
    return q if visible is None else q.where(visible)


async def open_in_box(session: AsyncSession, community_id: str, statuses: Sequence[str],
                      visible: ColumnElement[bool] | None,
                      box: tuple[float, float, float, float], category_id: str | None,
                      limit: int = 500) -> list[CandidateRow]:
    """Open issues inside a lat/lng box (the prefilter of "nearby"), nearest to its centre first."""
    min_lat, max_lat, min_lng, max_lng = box
    q = _candidates(community_id, statuses, visible).where(
        Issue.lat.between(min_lat, max_lat), Issue.lng.between(min_lng, max_lng))
    if category_id:
        q = q.where(Issue.category_id == category_id)
    centre_lat, centre_lng = (min_lat + max_lat) / 2, (min_lng + max_lng) / 2
    q = q.order_by(func.abs(Issue.lat - centre_lat) + func.abs(Issue.lng - centre_lng), Issue.id).limit(limit)
    return [tuple(r) for r in (await session.execute(q)).all()]


async def open_with_title_like(session: AsyncSession, community_id: str, statuses: Sequence[str],
                               visible: ColumnElement[bool] | None,
                               keys: Sequence[str], title: str, limit: int = 200) -> list[CandidateRow]:
    """Open issues whose title contains any of ``keys`` (trigrams, or one short title), best first."""
    if not keys:
        return []
    q = _candidates(community_id, statuses, visible)
    dialect = dialect_of(session)
    if dialect == "sqlite" and all(len(k) >= MIN_INDEXED_CHARS for k in keys):
        match = "title : (" + " OR ".join(_fts_phrase(k) for k in keys) + ")"
        q = (q.join(_fts, _fts.c.issue_id == Issue.id)
             .where(text("issues_fts MATCH :title_keys").bindparams(title_keys=match)).order_by(_fts.c.rank))
    else:
        op = Issue.title.ilike if dialect == "postgresql" else Issue.title.like
        q = q.where(or_(*(op(_like_pattern(k), escape="\\") for k in keys)))
        if dialect == "postgresql":
            q = q.order_by(func.similarity(Issue.title, title).desc())
        q = q.order_by(Issue.supports_count.desc(), Issue.id.desc())
    return [tuple(r) for r in (await session.execute(q.limit(limit))).all()]
