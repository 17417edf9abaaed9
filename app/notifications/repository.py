"""Every query of the inbox. A person only ever reaches their own notifications."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageParams, paginate
from app.notifications.models import Notification


async def page(session: AsyncSession, person_id: str, *, unread_only: bool,
               paging: PageParams) -> tuple[list[Notification], str | None]:
    stmt = select(Notification).where(Notification.person_id == person_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return await paginate(session, stmt, paging, Notification.id)


async def unread_count(session: AsyncSession, person_id: str) -> int:
    q = select(func.count()).select_from(Notification).where(
        Notification.person_id == person_id, Notification.read_at.is_(None))
    return int((await session.execute(q)).scalar_one())


async def mark_read(session: AsyncSession, person_id: str, ids: Sequence[str] | None, when: datetime) -> int:
    """Mark unread notifications read: all of them, or those of ``ids`` that are this person's."""
    where: list[Any] = [Notification.person_id == person_id, Notification.read_at.is_(None)]
    if ids is not None:
        where.append(Notification.id.in_(list(ids)))
    result = await session.execute(update(Notification).where(*where).values(read_at=when)
                                   .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
