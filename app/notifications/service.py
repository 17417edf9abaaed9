"""The inbox 消息: who is told what, and how it reads in their language.

Other domains decide who should hear about a change (they know who may see it) and call
``notify``; this module stores one row per person and renders it when read. Services flush,
never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock
from app.core.i18n import catalogue, t
from app.core.pagination import PageParams
from app.notifications import repository as repo
from app.notifications.models import Notification

TRANSLATED_PARAMS = ("status", "reason", "action")
"""Data fields whose values are themselves words to translate (``notification.status.closed``)."""


async def notify(session: AsyncSession, person_ids: Iterable[str | None], community_id: str | None, kind: str,
                 data: dict[str, Any], *, actor_id: str | None = None) -> list[str]:
    """Tell each person once; never the actor about their own action. Returns who was told."""
    recipients = [p for p in dict.fromkeys(person_ids) if p and p != actor_id]
    for person_id in recipients:
        session.add(Notification(person_id=person_id, community_id=community_id, kind=kind, data=dict(data)))
    if recipients:
        await session.flush()
    return recipients


def render(kind: str, data: dict[str, Any], locale: str) -> str:
    """The notification's sentence in ``locale``, from web/locales/*/notifications.json."""
    params = {k: ("" if v is None else v) for k, v in data.items()}
    words = catalogue(locale)
    for name in TRANSLATED_PARAMS:
        value = data.get(name)
        if isinstance(value, str) and (key := f"notification.{name}.{value}") in words:
            params[name] = t(key, locale)
    variant = f"notification.{kind}.{data.get('reason')}"  # e.g. escalated because overdue, or reopened
    return t(variant if variant in words else f"notification.{kind}", locale, **params)


async def inbox(session: AsyncSession, person_id: str, *, unread_only: bool,
                paging: PageParams) -> tuple[list[Notification], str | None]:
    return await repo.page(session, person_id, unread_only=unread_only, paging=paging)


async def unread_count(session: AsyncSession, person_id: str) -> int:
    return await repo.unread_count(session, person_id)


async def mark_read(session: AsyncSession, person_id: str, ids: Sequence[str] | None) -> int:
    """Mark the caller's own notifications read (all, or these ids); others' ids change nothing."""
    if ids is not None and not ids:
        return 0
    marked = await repo.mark_read(session, person_id, ids, clock.now())
    await session.flush()
    return marked
