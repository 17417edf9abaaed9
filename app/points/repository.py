"""Every query of the points ledger."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock
from app.core.db import insert_for
from app.points.models import Balance, Entry, Hold, Profile, Rules, StoreItem, StoreOrder, StoreTake, Total


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


# --- history, people, rules ----------------------------------------------------------------------

def history_query(community_id: str, person_id: str, unit: str | None = None) -> Any:
    stmt = select(Entry).where(Entry.community_id == community_id, Entry.person_id == person_id)
    return stmt.where(Entry.unit == unit) if unit else stmt


async def save_rules(session: AsyncSession, community_id: str, values: dict[str, Any]) -> Rules:
    row = await session.get(Rules, community_id)
    if row is None:
        row = Rules(community_id=community_id, **values)
        session.add(row)
    else:
        for k, v in values.items():
            setattr(row, k, v)
    await session.flush()
    return row


async def profile(session: AsyncSession, community_id: str, person_id: str) -> Profile | None:
    return await session.get(Profile, (community_id, person_id))


async def save_profile(session: AsyncSession, community_id: str, person_id: str, show_name: bool) -> None:
    ins = _insert(session)(Profile).values(community_id=community_id, person_id=person_id, show_name=show_name,
                                           updated_at=clock.now())
    await session.execute(ins.on_conflict_do_update(
        index_elements=[Profile.community_id, Profile.person_id],
        set_={"show_name": ins.excluded.show_name, "updated_at": ins.excluded.updated_at}))


# --- expiry --------------------------------------------------------------------------------------

async def communities_expiring(session: AsyncSession) -> list[Rules]:
    return list((await session.execute(select(Rules).where(Rules.expiry_years.is_not(None)))).scalars())


async def holders(session: AsyncSession, community_id: str, unit: str, after_person: str, limit: int) -> list[str]:
    """People with something on their balance, in order, a batch at a time."""
    rows = await session.execute(
        select(Balance.person_id).where(Balance.community_id == community_id, Balance.unit == unit,
                                        Balance.balance > 0, Balance.person_id > after_person)
        .order_by(Balance.person_id).limit(limit))
    return list(rows.scalars())


async def credits_and_debits(session: AsyncSession, community_id: str, person_id: str, unit: str,
                             before: datetime) -> tuple[int, int]:
    """(credits made before ``before``, every debit ever) of one person's ledger."""
    credit_sum = func.coalesce(func.sum(case((and_(Entry.amount > 0, Entry.created_at < before), Entry.amount),
                                             else_=0)), 0)
    debit_sum = func.coalesce(func.sum(case((Entry.amount < 0, -Entry.amount), else_=0)), 0)
    row = (await session.execute(select(credit_sum, debit_sum).where(
        Entry.community_id == community_id, Entry.person_id == person_id, Entry.unit == unit))).one()
    return int(row[0]), int(row[1])


# --- the store -----------------------------------------------------------------------------------

def items_query(community_id: str, on_sale: bool | None) -> Any:
    stmt = select(StoreItem).where(StoreItem.community_id == community_id)
    return stmt if on_sale is None else stmt.where(StoreItem.on_sale.is_(on_sale))


async def item_in(session: AsyncSession, community_id: str, item_id: str, *, fresh: bool = False) -> StoreItem | None:
    stmt = select(StoreItem).where(StoreItem.id == item_id, StoreItem.community_id == community_id)
    if fresh:
        stmt = stmt.execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def takes(session: AsyncSession, person_id: str, item_ids: Sequence[str]) -> dict[str, int]:
    if not item_ids:
        return {}
    rows = await session.execute(select(StoreTake.item_id, StoreTake.quantity).where(
        StoreTake.person_id == person_id, StoreTake.item_id.in_(list(item_ids))))
    return {item_id: int(q) for item_id, q in rows.all()}


async def take(session: AsyncSession, item_id: str, person_id: str, quantity: int, limit: int | None) -> bool:
    """Count ``quantity`` more pieces against the person's limit, in one conditional upsert: False
    (nothing changed) when that would pass ``limit``."""
    if limit is not None and quantity > limit:
        return False
    ins = _insert(session)(StoreTake).values(item_id=item_id, person_id=person_id, quantity=quantity)
    where = None if limit is None else StoreTake.quantity + ins.excluded.quantity <= limit
    stmt = ins.on_conflict_do_update(index_elements=[StoreTake.item_id, StoreTake.person_id],
                                     set_={"quantity": StoreTake.quantity + ins.excluded.quantity}, where=where)
    return (await session.execute(stmt.returning(StoreTake.quantity))).scalar_one_or_none() is not None


async def give_back(session: AsyncSession, item_id: str, person_id: str, quantity: int) -> None:
    await session.execute(update(StoreTake).where(StoreTake.item_id == item_id, StoreTake.person_id == person_id)
                          .values(quantity=case((StoreTake.quantity > quantity, StoreTake.quantity - quantity),
                                                else_=0))
                          .execution_options(synchronize_session=False))


async def take_stock(session: AsyncSession, item_id: str, quantity: int) -> int | None:
    """Set ``quantity`` pieces aside if they are there and on sale (one conditional UPDATE): the
    stock left, or None."""
    stmt = (update(StoreItem).where(StoreItem.id == item_id, StoreItem.on_sale.is_(True), StoreItem.stock >= quantity)
            .values(stock=StoreItem.stock - quantity).returning(StoreItem.stock)
            .execution_options(synchronize_session=False))
    value = (await session.execute(stmt)).scalar_one_or_none()
    return None if value is None else int(value)


async def restock(session: AsyncSession, item_id: str, quantity: int) -> None:
    await session.execute(update(StoreItem).where(StoreItem.id == item_id)
                          .values(stock=StoreItem.stock + quantity).execution_options(synchronize_session=False))


async def add_order(session: AsyncSession, values: dict[str, Any]) -> StoreOrder | None:
    """Insert an order; None when its prefix is taken in the community (the caller draws another)."""
    stmt = (_insert(session)(StoreOrder).values(**values)
            .on_conflict_do_nothing(index_elements=[StoreOrder.community_id, StoreOrder.prefix]))
    return (await session.scalars(stmt.returning(StoreOrder))).one_or_none()


async def order_in(session: AsyncSession, community_id: str, order_id: str) -> StoreOrder | None:
    return (await session.execute(select(StoreOrder).where(
        StoreOrder.id == order_id, StoreOrder.community_id == community_id)
        .execution_options(populate_existing=True))).scalar_one_or_none()


async def order_by_prefix(session: AsyncSession, community_id: str, prefix: str) -> StoreOrder | None:
    return (await session.execute(select(StoreOrder).where(
        StoreOrder.community_id == community_id, StoreOrder.prefix == prefix)
        .execution_options(populate_existing=True))).scalar_one_or_none()


async def move_order(session: AsyncSession, order_id: str, source: str, values: dict[str, Any],
                     *, unlocked_only: bool = False) -> StoreOrder | None:
    """Move an order on from ``source`` in one conditional UPDATE; None if it was not there any more."""
    stmt = update(StoreOrder).where(StoreOrder.id == order_id, StoreOrder.status == source)
    if unlocked_only:
        stmt = stmt.where(StoreOrder.locked_at.is_(None))
    moved = (await session.execute(stmt.values(updated_at=clock.now(), **values).returning(StoreOrder.id)
                                   .execution_options(synchronize_session=False))).scalar_one_or_none()
    if moved is None:
        return None
    return (await session.execute(select(StoreOrder).where(StoreOrder.id == order_id)
                                  .execution_options(populate_existing=True))).scalar_one()


async def count_wrong_try(session: AsyncSession, order_id: str, lock_at: int, now: datetime) -> int:
    """One more wrong code for an order that can still be picked up; locks it at ``lock_at``. The
    count after, or 0 if it was no longer waiting."""
    tries = StoreOrder.wrong_tries + 1
    stmt = (update(StoreOrder).where(StoreOrder.id == order_id, StoreOrder.status == "ready",
                                     StoreOrder.locked_at.is_(None))
            .values(wrong_tries=tries, locked_at=case((tries >= lock_at, now), else_=None), updated_at=now)
            .returning(StoreOrder.wrong_tries).execution_options(synchronize_session=False))
    value = (await session.execute(stmt)).scalar_one_or_none()
    return 0 if value is None else int(value)


def orders_query(community_id: str, *, person_id: str | None, statuses: Sequence[str] | None,
                 item_id: str | None) -> Any:
    stmt = select(StoreOrder).where(StoreOrder.community_id == community_id)
    if person_id:
        stmt = stmt.where(StoreOrder.person_id == person_id)
    if statuses:
        stmt = stmt.where(StoreOrder.status.in_(list(statuses)))
    if item_id:
        stmt = stmt.where(StoreOrder.item_id == item_id)
    return stmt


async def orders_due(session: AsyncSession, now: datetime, limit: int) -> list[StoreOrder]:
    return list((await session.execute(select(StoreOrder).where(
        StoreOrder.status == "ready", StoreOrder.expires_at <= now).order_by(StoreOrder.expires_at)
        .limit(limit))).scalars())


async def orders_to_remind(session: AsyncSession, now: datetime, before: datetime, limit: int) -> list[StoreOrder]:
    """Waiting orders that expire before ``before`` and were not reminded yet."""
    return list((await session.execute(select(StoreOrder).where(
        StoreOrder.status == "ready", StoreOrder.reminded_at.is_(None), StoreOrder.expires_at > now,
        StoreOrder.expires_at <= before).order_by(StoreOrder.expires_at).limit(limit))).scalars())


async def mark_reminded(session: AsyncSession, order_id: str, now: datetime) -> bool:
    stmt = (update(StoreOrder).where(StoreOrder.id == order_id, StoreOrder.reminded_at.is_(None))
            .values(reminded_at=now).execution_options(synchronize_session=False))
    return bool(getattr(await session.execute(stmt), "rowcount", 0))


async def ready_orders_of(session: AsyncSession, community_id: str, person_id: str, limit: int) -> list[StoreOrder]:
    return list((await session.execute(select(StoreOrder).where(
        StoreOrder.community_id == community_id, StoreOrder.person_id == person_id, StoreOrder.status == "ready")
        .order_by(StoreOrder.expires_at).limit(limit))).scalars())


async def count_ready_of(session: AsyncSession, community_id: str, person_id: str) -> int:
    return int((await session.execute(select(func.count()).select_from(StoreOrder).where(
        StoreOrder.community_id == community_id, StoreOrder.person_id == person_id,
        StoreOrder.status == "ready"))).scalar_one())


async def item_with_photo(session: AsyncSession, community_id: str, upload_id: str) -> bool:
    found = await session.execute(select(StoreItem.id).where(
        StoreItem.community_id == community_id, StoreItem.photo_upload_id == upload_id).limit(1))
    return found.first() is not None


# --- the honour board ----------------------------------------------------------------------------

async def board(session: AsyncSession, community_id: str, unit: str, period: str, limit: int,
                person_ids: Sequence[str] | None = None) -> list[tuple[str, int]]:
    """(person, gained) of the period, most first, from the totals (index ix_points_totals_board)."""
    stmt = (select(Total.person_id, Total.gained)
            .where(Total.community_id == community_id, Total.unit == unit, Total.period == period, Total.gained > 0)
            .order_by(Total.gained.desc(), Total.person_id).limit(limit))
    if person_ids is not None:
        stmt = stmt.where(Total.person_id.in_(list(person_ids)))
    return [(pid, int(g)) for pid, g in (await session.execute(stmt)).all()]


async def gained(session: AsyncSession, community_id: str, person_id: str, unit: str, period: str) -> int:
    value = (await session.execute(select(Total.gained).where(
        Total.community_id == community_id, Total.person_id == person_id, Total.unit == unit,
        Total.period == period))).scalar_one_or_none()
    return int(value or 0)


async def ahead_of(session: AsyncSession, community_id: str, unit: str, period: str, amount: int,
                   person_ids: Sequence[str] | None = None) -> int:
    """How many gained more than ``amount`` in the period (one's rank is this plus one)."""
    stmt = select(func.count()).select_from(Total).where(
        Total.community_id == community_id, Total.unit == unit, Total.period == period, Total.gained > amount)
    if person_ids is not None:
        stmt = stmt.where(Total.person_id.in_(list(person_ids)))
    return int((await session.execute(stmt)).scalar_one())


async def hidden_among(session: AsyncSession, community_id: str, person_ids: Sequence[str]) -> set[str]:
    """Who of ``person_ids`` chose not to be named on the board."""
    if not person_ids:
        return set()
    rows = await session.execute(select(Profile.person_id).where(
        Profile.community_id == community_id, Profile.person_id.in_(list(person_ids)), Profile.show_name.is_(False)))
    return set(rows.scalars())


# --- exports and verification -------------------------------------------------------------------

async def entries_between(session: AsyncSession, community_id: str, start: datetime, end: datetime) -> list[Entry]:
    return list((await session.execute(select(Entry).where(
        Entry.community_id == community_id, Entry.created_at >= start, Entry.created_at < end)
        .order_by(Entry.id))).scalars())


async def orders_between(session: AsyncSession, community_id: str, start: datetime, end: datetime) -> list[StoreOrder]:
    return list((await session.execute(select(StoreOrder).where(
        StoreOrder.community_id == community_id, StoreOrder.created_at >= start, StoreOrder.created_at < end)
        .order_by(StoreOrder.id))).scalars())
