"""Every query of the issue list. Issues are always fetched with their community id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select, update
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


async def names(session: AsyncSession, person_ids: Sequence[str | None]) -> dict[str, str]:
    ids = {p for p in person_ids if p}
    if not ids:
        return {}
    return {i: n for i, n in (await session.execute(select(Person.id, Person.name).where(Person.id.in_(ids)))).all()}


async def events(session: AsyncSession, issue_id: str) -> list[IssueEvent]:
    q = select(IssueEvent).where(IssueEvent.issue_id == issue_id).order_by(IssueEvent.id)
    return list((await session.execute(q)).scalars().all())


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
