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

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.communities import service as communities
from app.communities.deps import CommunityScope
from app.core import audit, clock, ratelimit
from app.core.errors import Conflict, Invalid, NotFound, UnknownReference
from app.core.i18n import t
from app.core.ids import new_id
from app.core.pagination import PageParams, paginate
from app.notifications import service as notifications
from app.points import repository as repo
from app.points import rules as arithmetic
from app.points.models import Entry, Rules


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
        # Rows are taken in one order everywhere (the board's totals, then the balance), so two
        # transactions touching the same person never wait on each other in a circle (PostgreSQL).
        if kind in GAINS and amount > 0:
            await repo.add_to_totals(session, community_id, person_id, str(unit), arithmetic.periods_of(now),
                                     gained=amount, earned=amount if kind == Kind.earned else 0)
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


# --- what the committee and people do with points ---------------------------------------------

audit.declare("points", ["points.bonus", "points.adjust"], person_id=audit.ref("person"),
              ledger_unit=audit.enum("points.unit", [u.value for u in Unit]), amount=audit.NUMBER, reason=audit.TEXT)
audit.declare("points_rules", ["points_rules.update"], points_per_hour=audit.NUMBER, monthly_cap=audit.NUMBER,
              expiry_years=audit.NUMBER, pickup_days=audit.NUMBER)

RULE_FIELDS = ("points_per_hour", "monthly_cap", "expiry_years", "pickup_days")


def _number(unit: Unit | str, amount: int) -> str:
    """An amount as people read it: points as they are, minutes as hours ("1.5")."""
    return arithmetic.hours_text(amount) if unit == Unit.hours else str(amount)


async def _member_or_422(session: AsyncSession, community_id: str, person_ids: list[str], *loc: str) -> None:
    if not await communities.are_members(session, community_id, list(dict.fromkeys(person_ids))):
        raise UnknownReference("member_not_found", *loc)


async def give_bonus(session: AsyncSession, scope: CommunityScope, *, person_ids: list[str], unit: Unit,
                     amount: int, reason: str) -> list[Entry]:
    """The committee's bonus 奖励 to each of ``person_ids`` (once each, however often listed)."""
    ids = list(dict.fromkeys(person_ids))
    await _member_or_422(session, scope.community_id, ids, "person_ids")
    entries = []
    for person_id in ids:
        entry = await post(session, community_id=scope.community_id, person_id=person_id, unit=unit,
                           kind=Kind.bonus, amount=amount, actor_id=scope.person.id, reason=reason)
        assert entry is not None
        entries.append(entry)
        await audit.record(session, actor_id=scope.person.id, community_id=scope.community_id,
                           action="points.bonus", object_type="points", object_id=entry.id,
                           after={"person_id": person_id, "ledger_unit": str(unit), "amount": amount, "reason": reason})
    await notifications.notify(session, ids, scope.community_id, f"points.bonus.{unit}",
                               {"amount": _number(unit, amount), "reason": reason}, actor_id=scope.person.id)
    return entries


async def adjust(session: AsyncSession, scope: CommunityScope, *, person_id: str, unit: Unit, amount: int,
                 reason: str) -> Entry:
    """The committee's correction 调整 (±, a reason required); never below zero (409)."""
    if amount == 0:
        raise Invalid("points.amount_zero", errors=[{"loc": ["body", "amount"], "msg_key": "error.points.amount_zero"}])
    await _member_or_422(session, scope.community_id, [person_id], "person_id")
    entry = await post(session, community_id=scope.community_id, person_id=person_id, unit=unit, kind=Kind.adjusted,
                       amount=amount, actor_id=scope.person.id, reason=reason)
    assert entry is not None
    await audit.record(session, actor_id=scope.person.id, community_id=scope.community_id, action="points.adjust",
                       object_type="points", object_id=entry.id,
                       after={"person_id": person_id, "ledger_unit": str(unit), "amount": amount, "reason": reason})
    await notifications.notify(session, [person_id], scope.community_id, f"points.adjusted.{unit}",
                               {"amount": ("+" if amount > 0 else "−") + _number(unit, abs(amount)),
                                "reason": reason}, actor_id=scope.person.id)
    return entry


LOOKUP_RATES = "10/minute;60/day"  # a resident finds a few neighbours, not the whole community's phones


def mask_name(name: str) -> str:
    """王小英 → 王*英, 王英 → 王*: enough for the giver to know it is the right neighbour."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


@dataclass(frozen=True)
class Recipient:
    person_id: str
    masked_name: str


async def find_recipient(session: AsyncSession, scope: CommunityScope, phone: str, locale: str) -> Recipient:
    """Whom a phone number names among this community's members, to give hours to; 404 for anyone
    else (another community's, nobody's: the same answer). Counted: phones are not to be trawled."""
    await ratelimit.hit("points_recipient", LOOKUP_RATES, scope.person.id, error="points.lookup_rate_limited")
    person = await communities.member_by_phone(session, scope.community_id, phone)
    if person is None:
        raise NotFound("points.recipient_not_found")
    if person.id == scope.person.id:
        raise Invalid("points.donation_to_self",
                      errors=[{"loc": ["body", "phone"], "msg_key": "error.points.donation_to_self"}])
    name = (await communities.names_of(session, [person.id])).get(person.id) or t("points.someone", locale)
    return Recipient(person_id=person.id, masked_name=mask_name(name))


async def donate(session: AsyncSession, scope: CommunityScope, *, to_person_id: str, minutes: int,
                 note: str) -> tuple[Entry, Entry]:
    """Give hours to a neighbour (an elderly person's account …): the giver's entry and the receiver's."""
    if to_person_id == scope.person.id:
        raise Invalid("points.donation_to_self",
                      errors=[{"loc": ["body", "to_person_id"], "msg_key": "error.points.donation_to_self"}])
    await _member_or_422(session, scope.community_id, [to_person_id], "to_person_id")
    donation_id = new_id()

    async def give() -> Entry | None:
        return await post(session, community_id=scope.community_id, person_id=scope.person.id, unit=Unit.hours,
                          kind=Kind.donated, amount=-minutes, actor_id=scope.person.id, ref_type="donation",
                          ref_id=donation_id, counterpart_id=to_person_id, reason=note)

    async def receive() -> Entry | None:
        return await post(session, community_id=scope.community_id, person_id=to_person_id, unit=Unit.hours,
                          kind=Kind.donated, amount=minutes, actor_id=scope.person.id, ref_type="donation",
                          ref_id=donation_id, counterpart_id=scope.person.id, reason=note)

    # The two balances in the order of their people's ids, whoever gives: two neighbours giving to each
    # other at the same moment then never wait on each other in a circle (PostgreSQL).
    if scope.person.id < to_person_id:
        given, received = await give(), await receive()
    else:
        received = await receive()
        given = await give()
    assert given is not None and received is not None
    await notifications.notify(session, [to_person_id], scope.community_id, "points.donated",
                               {"amount": arithmetic.hours_text(minutes), "from_name": scope.person.name or ""},
                               actor_id=scope.person.id)
    return given, received


async def refund_order(session: AsyncSession, *, community_id: str, person_id: str, order_id: str, amount: int,
                       title: str, why: str, actor_id: str | None, reason: str = "") -> Entry | None:
    """Give an order's points back ("refunded", ref order), once per order: a second call is None."""
    return await post(session, community_id=community_id, person_id=person_id, unit=Unit.points,
                      kind=Kind.refunded, amount=amount, actor_id=actor_id, ref_type="order", ref_id=order_id,
                      title=title, reason=reason, data={"why": why}, once_key=f"refunded:order:{order_id}")


async def spend_on_order(session: AsyncSession, *, community_id: str, person_id: str, order_id: str, amount: int,
                         title: str, actor_id: str | None) -> Entry:
    """Spend points on an order ("redeemed", ref order); ``InsufficientBalance`` if short."""
    entry = await post(session, community_id=community_id, person_id=person_id, unit=Unit.points,
                       kind=Kind.redeemed, amount=-amount, actor_id=actor_id, ref_type="order", ref_id=order_id,
                       title=title, once_key=f"redeemed:order:{order_id}")
    assert entry is not None
    return entry


# --- rules, the board's names, history ---------------------------------------------------------

async def rules_row(session: AsyncSession, community_id: str) -> Rules | None:
    return await repo.rules(session, community_id)


async def update_rules(session: AsyncSession, scope: CommunityScope, values: dict[str, Any]) -> Rules:
    before = await repo.rules(session, scope.community_id)
    old = audit.snapshot(before, RULE_FIELDS) if before else asdict(DEFAULTS)
    row = await repo.save_rules(session, scope.community_id,
                                {**values, "updated_at": clock.now(), "updated_by": scope.person.id})
    await audit.record(session, actor_id=scope.person.id, community_id=scope.community_id,
                       action="points_rules.update", object_type="points_rules", object_id=scope.community_id,
                       before=old, after=audit.snapshot(row, RULE_FIELDS))
    return row


async def shows_name(session: AsyncSession, community_id: str, person_id: str) -> bool:
    found = await repo.profile(session, community_id, person_id)
    return True if found is None else found.show_name


async def set_board_visibility(session: AsyncSession, community_id: str, person_id: str, show_name: bool) -> None:
    await repo.save_profile(session, community_id, person_id, show_name)
    await session.flush()


async def history(session: AsyncSession, community_id: str, person_id: str, paging: PageParams,
                  unit: Unit | None = None) -> tuple[list[Entry], str | None]:
    """A person's entries, newest first."""
    return await paginate(session, repo.history_query(community_id, person_id, unit), paging, Entry.id)


async def names_for(session: AsyncSession, entries: list[Entry]) -> dict[str, str]:
    return await communities.names_of(session, [p for e in entries for p in (e.counterpart_id, e.actor_id) if p])


# --- expiry 积分过期 ----------------------------------------------------------------------------

EXPIRY_BATCH = 500


def expiring_through(now: datetime, expiry_years: int) -> int:
    """The last year whose points have expired by ``now``: with 1 ("at the end of the next year"),
    in 2027 the points gained in 2025 and before."""
    return arithmetic.local(now).year - expiry_years - 1


async def expire_points(session: AsyncSession, rules: Rules, now: datetime) -> int:
    """Expire, first in first out, what is left of the points gained through the expired year, for
    every holder, once per person and year (a second run writes nothing), then mark the year done so
    later sweeps skip the community until the next year. The entries written."""
    if rules.expiry_years is None:
        return 0
    community_id = rules.community_id
    through = expiring_through(now, rules.expiry_years)
    if rules.expired_through is not None and rules.expired_through >= through:
        return 0
    cutoff = arithmetic.year_end(through)
    written, after = 0, ""
    while True:
        batch = await repo.holders(session, community_id, Unit.points, after, EXPIRY_BATCH)
        if not batch:
            rules.expired_through = through
            await session.flush()
            return written
        for person_id in batch:
            once_key = f"expired:{community_id}:{person_id}:{through}"
            if await repo.entry_by_once_key(session, once_key) is not None:
                continue
            credits, debits = await repo.credits_and_debits(session, community_id, person_id, Unit.points, cutoff)
            held = (await repo.balances(session, community_id, person_id)).get(Unit.points, 0)
            amount = arithmetic.to_expire(credits, debits, held)
            if amount <= 0:
                continue
            entry = await post(session, community_id=community_id, person_id=person_id, unit=Unit.points,
                               kind=Kind.expired, amount=-amount, actor_id=None, ref_type="year", ref_id=str(through),
                               data={"through_year": through}, once_key=once_key)
            if entry is not None:
                written += 1
                await notifications.notify(session, [person_id], community_id, "points.expired",
                                           {"amount": amount, "year": through})
        after = batch[-1]
