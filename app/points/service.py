"""The rules of the points ledger 爱心积分 and the time bank 时间银行.

Every change of a balance is one entry and one balance update in one savepoint: a credit is an
upsert, a spend one conditional UPDATE (``balance >= amount``), never read-then-write; what may
happen once (an award per claim, a refund per order, a release per hold) carries a ``once_key``
under a unique index, so a second attempt — a retry, a race, a sweep against a person — inserts
nothing and changes nothing. Services flush, never commit.

app/tasks codes against ``award_for_claim``, ``hold_hours``, ``release_hold``, ``pay_hold`` and
``balance``: keep their signatures (add keyword-only parameters only).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock
from app.core.errors import Conflict
from app.core.ids import new_id
from app.points import repository as repo
from app.points import rules as arithmetic
from app.points.models import Entry


class Unit(StrEnum):
    points = "points"
    hours = "hours"  # stored as integer minutes


class Kind(StrEnum):
    earned = "earned"  # a claim's reward (ref claim)
    bonus = "bonus"  # given by the committee, with a reason
    redeemed = "redeemed"  # spent in the store (ref order)
    refunded = "refunded"  # an order cancelled or expired (ref order)
    adjusted = "adjusted"  # a correction by the committee, with a reason (±)
    expired = "expired"  # the community's expiry rule (ref year)
    held = "held"  # hours held for one's time-bank request (ref request)
    released = "released"  # held hours returned (ref request)
    donated = "donated"  # hours given to a neighbour (ref donation; − for the giver, + for the receiver)


GAINS = frozenset({Kind.earned, Kind.bonus})
"""What the honour board counts: what a person earned by helping and what the committee gave."""


class InsufficientBalance(Conflict):
    """The balance is short of what is asked (409); nothing changed."""

    code = "points.insufficient"


@dataclass(frozen=True)
class Defaults:
    points_per_hour: int = 10
    monthly_cap: int | None = None
    expiry_years: int | None = None
    pickup_days: int = 14


DEFAULTS = Defaults()


async def community_rules(session: AsyncSession, community_id: str) -> Defaults:
    """The community's rules, or the defaults where it set none."""
    row = await repo.rules(session, community_id)
    if row is None:
        return DEFAULTS
    return Defaults(points_per_hour=row.points_per_hour, monthly_cap=row.monthly_cap,
                    expiry_years=row.expiry_years, pickup_days=row.pickup_days)


async def post(session: AsyncSession, *, community_id: str, person_id: str, unit: Unit | str, kind: Kind,
               amount: int, actor_id: str | None, ref_type: str | None = None, ref_id: str | None = None,
               title: str = "", reason: str = "", data: dict[str, Any] | None = None,
               counterpart_id: str | None = None, once_key: str | None = None) -> Entry | None:
    """Write one entry and move the balance by ``amount`` (signed), in a savepoint: both or neither.

    A debit the balance cannot cover raises ``InsufficientBalance``; an entry whose ``once_key`` is
    taken returns None. Either way nothing changed."""
    if once_key and await repo.entry_by_once_key(session, once_key) is not None:
        return None  # the common retry, answered without touching the balance row
    now = clock.now()
    async with session.begin_nested() as savepoint:
        if amount >= 0:
            after = await repo.credit(session, community_id, person_id, unit, amount)
        else:
            debited = await repo.debit(session, community_id, person_id, unit, -amount)
            if debited is None:
                raise InsufficientBalance(needed=-amount, unit=str(unit))
            after = debited
        entry = await repo.add_entry(session, {
            "id": new_id(), "created_at": now, "community_id": community_id, "person_id": person_id,
            "unit": str(unit), "kind": str(kind), "amount": amount, "balance_after": after,
            "ref_type": ref_type, "ref_id": ref_id, "counterpart_id": counterpart_id, "title": title[:200],
            "reason": reason, "data": data or {}, "actor_id": actor_id, "once_key": once_key})
        if entry is None:  # the same thing, done meanwhile by another transaction
            await savepoint.rollback()
            return None
        if kind in GAINS and amount > 0:
            await repo.add_to_totals(session, community_id, person_id, str(unit), arithmetic.periods_of(now),
                                     gained=amount, earned=amount if kind == Kind.earned else 0)
    return entry


# --- the interface app/tasks codes against ------------------------------------------------------

async def award_for_claim(session: AsyncSession, *, community_id: str, person_id: str, unit: Unit, amount: int,
                          claim_id: str, title: str, actor_id: str | None, auto: bool = False) -> Entry | None:
    """Pay a claim's reward ("earned", ref claim), once per claim: a second call returns None and
    changes nothing. Points are held to the community's monthly cap: the entry records the amount
    paid and, when the cap cut it, what was asked and the cap (possibly paying 0)."""
    if amount < 0:
        raise ValueError("a reward is not negative")
    unit = Unit(unit)
    once_key = f"earned:claim:{claim_id}"
    if await repo.entry_by_once_key(session, once_key) is not None:
        return None
    data: dict[str, Any] = {"auto": True} if auto else {}
    paid = amount
    if unit == Unit.points:
        cap = (await community_rules(session, community_id)).monthly_cap
        if cap is not None:
            month = arithmetic.month_of(clock.now())
            earned = await repo.earned_in(session, community_id, person_id, str(unit), month)
            paid = arithmetic.capped(amount, earned, cap)
            if paid != amount:
                data.update(requested=amount, cap=cap, month=month)
    return await post(session, community_id=community_id, person_id=person_id, unit=unit, kind=Kind.earned,
                      amount=paid, actor_id=actor_id, ref_type="claim", ref_id=claim_id, title=title, data=data,
                      once_key=once_key)


async def hold_hours(session: AsyncSession, *, community_id: str, person_id: str, minutes: int, request_id: str,
                     title: str, actor_id: str | None) -> Entry:
    """Hold ``minutes`` of the person's hours for their time-bank request ("held", −minutes), once
    per request (a second call returns the first hold's entry). ``InsufficientBalance`` if short."""
    if minutes <= 0:
        raise ValueError("a hold is of a positive number of minutes")
    once_key = f"held:request:{request_id}"
    entry = await post(session, community_id=community_id, person_id=person_id, unit=Unit.hours, kind=Kind.held,
                       amount=-minutes, actor_id=actor_id, ref_type="request", ref_id=request_id, title=title,
                       once_key=once_key)
    if entry is None:
        existing = await repo.entry_by_once_key(session, once_key)
        assert existing is not None
        return existing
    await repo.add_hold(session, {"id": new_id(), "created_at": entry.created_at, "request_id": request_id,
                                  "community_id": community_id, "person_id": person_id, "minutes": minutes,
                                  "title": title[:200], "status": "open"})
    return entry


async def release_hold(session: AsyncSession, *, request_id: str, actor_id: str | None,
                       reason: str) -> Entry | None:
    """Return a request's held hours to the poster ("released", +), once; None if the hold is not
    open (already paid or released, or there is none)."""
    async with session.begin_nested() as savepoint:
        held = await repo.close_hold(session, request_id, "released", clock.now())
        if held is None:
            return None
        entry = await post(session, community_id=held.community_id, person_id=held.person_id, unit=Unit.hours,
                           kind=Kind.released, amount=held.minutes, actor_id=actor_id, ref_type="request",
                           ref_id=request_id, title=held.title, reason=reason,
                           once_key=f"released:request:{request_id}")
        if entry is None:
            await savepoint.rollback()
    return entry


async def pay_hold(session: AsyncSession, *, request_id: str, helper_id: str, claim_id: str,
                   actor_id: str | None) -> Entry | None:
    """Pay a request's held hours to the helper ("earned", ref claim), once, closing the hold; None
    if the hold is not open or the claim was paid already (then the hold stays as it was)."""
    async with session.begin_nested() as savepoint:
        held = await repo.close_hold(session, request_id, "paid", clock.now())
        if held is None:
            return None
        entry = await post(session, community_id=held.community_id, person_id=helper_id, unit=Unit.hours,
                           kind=Kind.earned, amount=held.minutes, actor_id=actor_id, ref_type="claim",
                           ref_id=claim_id, title=held.title, counterpart_id=held.person_id,
                           data={"request_id": request_id}, once_key=f"earned:claim:{claim_id}")
        if entry is None:
            await savepoint.rollback()
    return entry


async def balance(session: AsyncSession, community_id: str, person_id: str) -> dict[Unit, int]:
    """What the person holds in the community: points, and hours in minutes."""
    found = await repo.balances(session, community_id, person_id)
    return {unit: found.get(unit.value, 0) for unit in Unit}
