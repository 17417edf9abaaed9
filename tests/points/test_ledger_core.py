"""The ledger's core, as app/tasks uses it: a reward paid once per claim however often it is asked
for and however many ask at once; a balance never below zero under a crowd of spends; hours held,
paid or released once; and the database itself refusing to rewrite or erase an entry."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import db
from app.points import guard
from app.points import service as points
from app.points.models import Balance, Entry, Rules
from app.points.service import InsufficientBalance, Kind, Unit
from tests import factories as f

T = TypeVar("T")


async def own_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T | None:
    """``work`` in a session and transaction of its own, committed; None if refused for a short balance."""
    async with db.sessionmaker()() as s:
        try:
            result = await work(s)
        except InsufficientBalance:
            await s.rollback()
            return None
        await s.commit()
        return result


async def people(session: AsyncSession, n: int = 1) -> tuple[Any, list[Any]]:
    c = await f.community(session)
    return c, [await f.member(session, c, name=f"志愿者{i}") for i in range(n)]


async def stored(session: AsyncSession, community_id: str, person_id: str) -> tuple[dict[Unit, int], list[Entry]]:
    balance = await points.balance(session, community_id, person_id)
    entries = list((await session.execute(select(Entry).where(Entry.person_id == person_id)
                                          .order_by(Entry.id))).scalars())
    await session.commit()
    return balance, entries


def award(c: Any, p: Any, claim_id: str, amount: int = 20, unit: Unit = Unit.points) -> Callable[..., Any]:
    return lambda s: points.award_for_claim(s, community_id=c.id, person_id=p.id, unit=unit, amount=amount,
                                            claim_id=claim_id, title="周六清扫楼道", actor_id=None)


async def test_a_claim_is_paid_once_however_often_it_is_awarded(session: AsyncSession) -> None:
    c, (p,) = await people(session)
    first = await own_session(award(c, p, "claim1"))
    again = await own_session(award(c, p, "claim1"))
    assert first is not None and first.amount == 20 and first.kind == "earned"
    assert (first.ref_type, first.ref_id, first.balance_after) == ("claim", "claim1", 20)
    assert again is None
    balance, entries = await stored(session, c.id, p.id)
    assert balance == {Unit.points: 20, Unit.hours: 0}
    assert len(entries) == 1


async def test_fifty_concurrent_awards_of_one_claim_pay_once(session: AsyncSession) -> None:
    c, (p,) = await people(session)
    results = await asyncio.gather(*[own_session(award(c, p, "claim-race")) for _ in range(50)])
    assert sum(r is not None for r in results) == 1
    balance, entries = await stored(session, c.id, p.id)
    assert balance[Unit.points] == 20 and len(entries) == 1


async def test_a_hundred_concurrent_spends_never_go_below_zero(session: AsyncSession) -> None:
    c, (p,) = await people(session)
    await own_session(award(c, p, "claim-seed", amount=30))

    def spend(s: AsyncSession) -> Awaitable[Entry | None]:
        return points.post(s, community_id=c.id, person_id=p.id, unit=Unit.points, kind=Kind.adjusted,
                           amount=-1, actor_id=None, reason="测试")

    results = await asyncio.gather(*[own_session(spend) for _ in range(100)])
    assert sum(r is not None for r in results) == 30
    balance, entries = await stored(session, c.id, p.id)
    assert balance[Unit.points] == 0
    assert sum(e.amount for e in entries) == 0
    assert sorted(e.balance_after for e in entries if e.kind == "adjusted") == list(range(30))


async def test_a_spend_beyond_the_balance_is_refused_and_changes_nothing(session: AsyncSession) -> None:
    c, (p,) = await people(session)
    await own_session(award(c, p, "claim-a", amount=5))
    with pytest.raises(InsufficientBalance) as refused:
        async with db.sessionmaker()() as s:
            await points.post(s, community_id=c.id, person_id=p.id, unit=Unit.points, kind=Kind.adjusted,
                              amount=-6, actor_id=None, reason="多扣")
    assert refused.value.status == 409 and refused.value.code == "points.insufficient"
    balance, entries = await stored(session, c.id, p.id)
    assert balance[Unit.points] == 5 and len(entries) == 1


async def test_the_monthly_cap_pays_what_is_left_and_says_why(session: AsyncSession) -> None:
    c, (p,) = await people(session)
    session.add(Rules(community_id=c.id, points_per_hour=10, monthly_cap=50, pickup_days=14))
    await session.commit()
    first = await own_session(award(c, p, "cap-1", amount=30))
    second = await own_session(award(c, p, "cap-2", amount=30))
    third = await own_session(award(c, p, "cap-3", amount=30))
    assert first is not None and first.amount == 30 and first.data == {}
    assert second is not None and second.amount == 20 and second.data["requested"] == 30
    assert second.data["cap"] == 50
    assert third is not None and third.amount == 0  # recorded, so the claim counts as paid, with why
    assert await own_session(award(c, p, "cap-3", amount=30)) is None
    balance, _ = await stored(session, c.id, p.id)
    assert balance[Unit.points] == 50


async def test_concurrent_awards_never_pass_the_monthly_cap(session: AsyncSession) -> None:
    c, (p,) = await people(session)
    session.add(Rules(community_id=c.id, points_per_hour=10, monthly_cap=100, pickup_days=14))
    await session.commit()
    await asyncio.gather(*[own_session(award(c, p, f"cap-race-{i}", amount=30)) for i in range(20)])
    balance, entries = await stored(session, c.id, p.id)
    assert balance[Unit.points] == 100 and len(entries) == 20


async def test_hours_are_held_then_paid_to_the_helper_once(session: AsyncSession) -> None:
    c, (poster, helper) = await people(session, 2)
    await own_session(award(c, poster, "seed-hours", 120, Unit.hours))

    def hold(s: AsyncSession) -> Awaitable[Entry]:
        return points.hold_hours(s, community_id=c.id, person_id=poster.id, minutes=90, request_id="req1",
                                 title="陪王奶奶去医院", actor_id=poster.id)

    held = await own_session(hold)
    held_again = await own_session(hold)
    assert held is not None and held.amount == -90 and held.kind == "held"
    assert held_again is not None and held_again.id == held.id

    def pay(s: AsyncSession) -> Awaitable[Entry | None]:
        return points.pay_hold(s, request_id="req1", helper_id=helper.id, claim_id="claim-h", actor_id=poster.id)

    def release(s: AsyncSession) -> Awaitable[Entry | None]:
        return points.release_hold(s, request_id="req1", actor_id=poster.id, reason="cancelled")

    results = await asyncio.gather(*[own_session(pay) for _ in range(10)], *[own_session(release) for _ in range(10)])
    assert sum(r is not None for r in results) == 1
    poster_balance, _ = await stored(session, c.id, poster.id)
    helper_balance, _ = await stored(session, c.id, helper.id)
    assert poster_balance[Unit.hours] + helper_balance[Unit.hours] == 120
    assert (poster_balance[Unit.hours], helper_balance[Unit.hours]) in ((30, 90), (120, 0))


async def test_a_hold_beyond_ones_hours_is_refused(session: AsyncSession) -> None:
    c, (p,) = await people(session)
    with pytest.raises(InsufficientBalance):
        async with db.sessionmaker()() as s:
            await points.hold_hours(s, community_id=c.id, person_id=p.id, minutes=60, request_id="r",
                                    title="x", actor_id=p.id)
    balance, entries = await stored(session, c.id, p.id)
    assert balance[Unit.hours] == 0 and entries == []


async def test_a_released_hold_is_not_paid_and_a_paid_claim_is_not_paid_again(session: AsyncSession) -> None:
    c, (poster, helper) = await people(session, 2)
    await own_session(award(c, poster, "seed", 60, Unit.hours))
    await own_session(award(c, helper, "claim-paid", 10, Unit.hours))
    await own_session(lambda s: points.hold_hours(s, community_id=c.id, person_id=poster.id, minutes=60,
                                                  request_id="r2", title="修水管", actor_id=poster.id))
    # The claim was paid already: paying the hold to it does nothing and leaves the hold open.
    assert await own_session(lambda s: points.pay_hold(s, request_id="r2", helper_id=helper.id,
                                                       claim_id="claim-paid", actor_id=None)) is None
    released = await own_session(lambda s: points.release_hold(s, request_id="r2", actor_id=None, reason="expired"))
    assert released is not None and released.amount == 60
    assert await own_session(lambda s: points.pay_hold(s, request_id="r2", helper_id=helper.id,
                                                       claim_id="claim-new", actor_id=None)) is None
    assert (await stored(session, c.id, poster.id))[0][Unit.hours] == 60
    assert (await stored(session, c.id, helper.id))[0][Unit.hours] == 10


# --- the database's own refusal ------------------------------------------------------------------

async def _one_entry(session: AsyncSession) -> Entry:
    c, (p,) = await people(session)
    entry = await own_session(award(c, p, "guarded"))
    assert entry is not None
    return entry


@pytest.mark.parametrize("statement", [
    "UPDATE points_entries SET amount = 1000",
    "UPDATE points_entries SET reason = 'rewritten'",
    "DELETE FROM points_entries",
])
async def test_the_database_refuses_to_rewrite_or_erase_an_entry(session: AsyncSession, statement: str) -> None:
    entry = await _one_entry(session)
    with pytest.raises((DBAPIError, IntegrityError)) as refused:
        async with db.get_engine().begin() as conn:
            await conn.execute(text(statement))
    assert guard.REFUSAL in str(refused.value)
    async with db.get_engine().connect() as conn:
        rows = (await conn.execute(select(Entry.amount, Entry.reason).where(Entry.id == entry.id))).all()
    assert [tuple(r) for r in rows] == [(20, "")]


async def test_the_orm_cannot_rewrite_an_entry_either(session: AsyncSession) -> None:
    entry = await _one_entry(session)
    with pytest.raises((DBAPIError, IntegrityError)):
        async with db.sessionmaker()() as s:
            await s.execute(update(Entry).where(Entry.id == entry.id).values(amount=-5))
    with pytest.raises((DBAPIError, IntegrityError)):
        async with db.sessionmaker()() as s:
            await s.execute(delete(Entry).where(Entry.id == entry.id))


async def test_truncate_is_refused_on_postgresql(session: AsyncSession) -> None:
    if db.get_engine().dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    await _one_entry(session)
    with pytest.raises(DBAPIError) as refused:
        async with db.get_engine().begin() as conn:
            await conn.execute(text("TRUNCATE points_entries CASCADE"))
    assert guard.REFUSAL in str(refused.value)


async def test_only_a_maintenance_transaction_may_empty_the_ledger(session: AsyncSession) -> None:
    entry = await _one_entry(session)
    other = await own_session(award(await f.community(session, "别的社区"), await f.person(session), "other"))
    assert other is not None
    async with db.get_engine().begin() as conn:
        async with guard.unlocked(conn, "test"):
            await conn.execute(delete(Entry).where(Entry.id == entry.id))
        # The unlock ends with the block: the same transaction is refused again afterwards.
        with pytest.raises((DBAPIError, IntegrityError)):
            async with conn.begin_nested():
                await conn.execute(delete(Entry).where(Entry.id == other.id))
    async with db.get_engine().connect() as conn:
        assert (await conn.execute(select(Entry.id))).scalars().all() == [other.id]
        assert (await conn.execute(text(f"SELECT count(*) FROM {guard.UNLOCKS_TABLE}"))).scalar_one() == 0


async def test_a_balance_below_zero_is_refused_by_the_database(session: AsyncSession) -> None:
    c, (p,) = await people(session)
    await own_session(award(c, p, "chk", 3))
    with pytest.raises(IntegrityError):
        async with db.get_engine().begin() as conn:
            await conn.execute(update(Balance).where(Balance.person_id == p.id).values(balance=-1))
