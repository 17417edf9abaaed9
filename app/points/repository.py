"""Every query of the points ledger."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock
from app.core.db import insert_for
from app.points.models import Balance, Entry, Hold, Rules, Total


def _insert(session: AsyncSession) -> Any:
    return insert_for(session.get_bind().dialect)


async def credit(session: AsyncSession, community_id: str, person_id: str, unit: str, amount: int) -> int:
    """Add ``amount`` (≥ 0) to the balance, creating it; the new balance."""
    ins = _insert(session)(Balance).values(community_id=community_id, person_id=person_id, unit=unit,
                                           balance=amount, updated_at=clock.now())
    stmt = ins.on_conflict_do_update(
        index_elements=[Balance.community_id, Balance.person_id, Balance.unit],
        set_={"balance": Balance.balance + ins.excluded.balance, "updated_at": ins.excluded.updated_at},
    ).returning(Balance.balance)
    return int((await session.execute(stmt)).scalar_one())


async def debit(session: AsyncSession, community_id: str, person_id: str, unit: str, amount: int) -> int | None:
    """Take ``amount`` (> 0) if it is there, in one conditional UPDATE (never read-then-write): the
    new balance, or None when the balance is short (nothing changed)."""
    stmt = (update(Balance)
            .where(Balance.community_id == community_id, Balance.person_id == person_id, Balance.unit == unit,
                   Balance.balance >= amount)
            .values(balance=Balance.balance - amount, updated_at=clock.now())
            .returning(Balance.balance)
            .execution_options(synchronize_session=False))
    value = (await session.execute(stmt)).scalar_one_or_none()
    return None if value is None else int(value)


async def add_entry(session: AsyncSession, values: dict[str, Any]) -> Entry | None:
    """Insert an entry; None when its ``once_key`` is taken already (nothing inserted)."""
    stmt = _insert(session)(Entry).values(**values)
    if values.get("once_key"):
        stmt = stmt.on_conflict_do_nothing(index_elements=[Entry.once_key])
    return (await session.scalars(stmt.returning(Entry))).one_or_none()


async def entry_by_once_key(session: AsyncSession, once_key: str) -> Entry | None:
    return (await session.execute(select(Entry).where(Entry.once_key == once_key))).scalar_one_or_none()


async def entry(session: AsyncSession, entry_id: str) -> Entry | None:
    return await session.get(Entry, entry_id)


async def balances(session: AsyncSession, community_id: str, person_id: str) -> dict[str, int]:
    rows = await session.execute(select(Balance.unit, Balance.balance).where(
        Balance.community_id == community_id, Balance.person_id == person_id))
    return {unit: int(value) for unit, value in rows.all()}


async def rules(session: AsyncSession, community_id: str) -> Rules | None:
    return await session.get(Rules, community_id)


async def add_to_totals(session: AsyncSession, community_id: str, person_id: str, unit: str,
                        periods: Sequence[str], gained: int, earned: int) -> None:
    for period in periods:
        ins = _insert(session)(Total).values(community_id=community_id, person_id=person_id, unit=unit,
                                             period=period, gained=gained, earned=earned)
        await session.execute(ins.on_conflict_do_update(
            index_elements=[Total.community_id, Total.person_id, Total.unit, Total.period],
            set_={"gained": Total.gained + ins.excluded.gained, "earned": Total.earned + ins.excluded.earned}))


async def earned_in(session: AsyncSession, community_id: str, person_id: str, unit: str, period: str) -> int:
    """What the person earned in ``period``, holding that total's row until the transaction ends (so
    two awards at once take turns under the cap; SQLite's write lock does the same)."""
    ins = _insert(session)(Total).values(community_id=community_id, person_id=person_id, unit=unit,
                                         period=period, gained=0, earned=0)
    await session.execute(ins.on_conflict_do_nothing(
        index_elements=[Total.community_id, Total.person_id, Total.unit, Total.period]))
    value = (await session.execute(select(Total.earned).where(
        Total.community_id == community_id, Total.person_id == person_id, Total.unit == unit,
        Total.period == period).with_for_update())).scalar_one()
    return int(value)


async def hold(session: AsyncSession, request_id: str) -> Hold | None:
    return (await session.execute(select(Hold).where(Hold.request_id == request_id))).scalar_one_or_none()


async def add_hold(session: AsyncSession, values: dict[str, Any]) -> bool:
    stmt = _insert(session)(Hold).values(**values).on_conflict_do_nothing(index_elements=[Hold.request_id])
    return bool(getattr(await session.execute(stmt), "rowcount", 1))


async def close_hold(session: AsyncSession, request_id: str, status: str, now: datetime) -> Hold | None:
    """Close an open hold as ``status``; None if it is not open (closed already, or unknown)."""
    stmt = (update(Hold).where(Hold.request_id == request_id, Hold.status == "open")
            .values(status=status, closed_at=now).returning(Hold.id)
            .execution_options(synchronize_session=False))
    hold_id = (await session.execute(stmt)).scalar_one_or_none()
    if hold_id is None:
        return None
    return (await session.execute(select(Hold).where(Hold.id == hold_id)
                                  .execution_options(populate_existing=True))).scalar_one()
