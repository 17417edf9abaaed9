"""Every query of polls. Polls are fetched with their community id, so tenancy is never
remembered by hand; ballots, electors and objections are reached only through their poll."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageParams, paginate
from app.polls.chain import Entry, new_ballot_id
from app.polls.models import Poll, PollBallot, PollBoxBallot, PollElector, PollKey, PollObjection, PollOption


async def poll_in(session: AsyncSession, cid: str, poll_id: str) -> Poll | None:
    stmt = select(Poll).where(Poll.community_id == cid, Poll.id == poll_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def poll_titles(session: AsyncSession, cid: str, ids: Sequence[str]) -> dict[str, str]:
    q = select(Poll.id, Poll.title).where(Poll.community_id == cid, Poll.id.in_(list(ids)))
    return {i: n for i, n in (await session.execute(q)).all()}


async def objection_poll_titles(session: AsyncSession, cid: str, ids: Sequence[str]) -> dict[str, str]:
    """{objection id: the title of the poll it objects to}."""
    q = (select(PollObjection.id, Poll.title).join(Poll, Poll.id == PollObjection.poll_id)
         .where(Poll.community_id == cid, PollObjection.id.in_(list(ids))))
    return {i: n for i, n in (await session.execute(q)).all()}


async def poll_by_id(session: AsyncSession, poll_id: str) -> Poll | None:
    return await session.get(Poll, poll_id)


async def refresh(session: AsyncSession, poll: Poll) -> None:
    await session.refresh(poll)


async def polls(session: AsyncSession, cid: str, paging: PageParams, statuses: list[str] | None,
                issue_id: str | None) -> tuple[list[Poll], str | None]:
    stmt = select(Poll).where(Poll.community_id == cid)
    if statuses:
        stmt = stmt.where(Poll.status.in_(statuses))
    if issue_id:
        stmt = stmt.where(Poll.issue_id == issue_id)
    return await paginate(session, stmt, paging, Poll.id, descending=True)


async def options_of(session: AsyncSession, poll_ids: list[str]) -> dict[str, list[PollOption]]:
    out: dict[str, list[PollOption]] = {pid: [] for pid in poll_ids}
    if not poll_ids:
        return out
    rows = await session.execute(select(PollOption).where(PollOption.poll_id.in_(poll_ids))
                                 .order_by(PollOption.poll_id, PollOption.position))
    for o in rows.scalars():
        out[o.poll_id].append(o)
    return out


@dataclass(frozen=True)
class BallotForm:
    """What a ballot needs of an open poll. Opening froze all of it (an open poll is never edited,
    and its genesis hash commits to it), so a process may remember it instead of reading the poll
    for every vote. What still moves, the status and the chain, is checked where a ballot is
    written, under the poll's lock."""

    id: str
    community_id: str
    kind: str
    max_choices: int | None
    allow_stacking: bool
    electorate: str
    secret: bool
    allow_change: bool
    closes_at: datetime | None
    genesis_hash: str
    option_ids: tuple[str, ...]
    key: bytes | None  # a secret poll's key, unsealed (None: a named poll, or one from before sealing)
    status: str = "open"


_FORMS: dict[str, BallotForm] = {}
_FORMS_MAX = 4096


def remembered_form(poll_id: str) -> BallotForm | None:
    return _FORMS.get(poll_id)


async def remember_form(session: AsyncSession, poll: Poll, key: bytes | None) -> BallotForm:
    """Remember an open poll's ballot form (its options read once)."""
    form = BallotForm(poll.id, poll.community_id, poll.kind, poll.max_choices, poll.allow_stacking, poll.electorate,
                      poll.secret, poll.allow_change, poll.closes_at, poll.genesis_hash,
                      tuple(o.id for o in (await options_of(session, [poll.id]))[poll.id]), key)
    if len(_FORMS) >= _FORMS_MAX:
        _FORMS.clear()
    _FORMS[poll.id] = form
    return form


def forget_form(poll_id: str) -> None:
    _FORMS.pop(poll_id, None)


async def option_ids(session: AsyncSession, poll: Poll | BallotForm) -> list[str]:
    """The option ids of a poll in order."""
    if isinstance(poll, BallotForm):
        return list(poll.option_ids)
    return [o.id for o in (await options_of(session, [poll.id]))[poll.id]]


async def replace_options(session: AsyncSession, poll_id: str, options: list[dict[str, Any]]) -> None:
    for old in (await options_of(session, [poll_id]))[poll_id]:
        await session.delete(old)
    await session.flush()
    for i, o in enumerate(options):
        session.add(PollOption(poll_id=poll_id, position=i, label=o["label"], issue_id=o.get("issue_id")))
    await session.flush()


async def add_electors(session: AsyncSession, poll_id: str, rows: list[dict[str, Any]]) -> None:
    """Freeze an electorate: tens of thousands of rows, through Core with every column given."""
    blank = {"poll_id": poll_id, "voted": False, "channel": None, "changes": 0, "entered_by": None,
             "entered_at": None, "witness": "", "voter_name": "", "receipt_check": ""}
    conn = await session.connection()
    if conn.dialect.name == "postgresql":  # COPY: 40,000 rows in a fraction of a second
        columns = [c.name for c in PollElector.__table__.columns]
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        await raw.copy_records_to_table(PollElector.__tablename__, columns=columns,
                                        records=[tuple((blank | r)[c] for c in columns) for r in rows])
        return
    for i in range(0, len(rows), 5000):
        await conn.execute(insert(PollElector), [blank | r for r in rows[i:i + 5000]])


async def elector(session: AsyncSession, poll_id: str, *, person_id: str | None = None,
                  household_id: str | None = None, elector_id: str | None = None) -> PollElector | None:
    stmt = select(PollElector).where(PollElector.poll_id == poll_id)
    if elector_id is not None:
        stmt = stmt.where(PollElector.id == elector_id)
    elif person_id is not None:
        stmt = stmt.where(PollElector.person_id == person_id)
    elif household_id is not None:
        stmt = stmt.where(PollElector.household_id == household_id)
    else:
        return None
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()


async def electors(session: AsyncSession, poll_id: str, paging: PageParams, q: str | None,
                   voted: bool | None) -> tuple[list[PollElector], str | None]:
    stmt = select(PollElector).where(PollElector.poll_id == poll_id)
    if q:
        stmt = stmt.where(PollElector.label.contains(q, autoescape=True))
    if voted is not None:
        stmt = stmt.where(PollElector.voted.is_(voted))
    return await paginate(session, stmt, paging, PollElector.id, descending=False)


async def mark_voted(session: AsyncSession, elector_id: str, channel: str, *, entered_by: str | None = None,
                     entered_at: datetime | None = None, witness: str = "", voter_name: str = "",
                     receipt_check: str = "") -> bool:
    """Record that an elector voted, unless someone (a twin request, another channel) did first."""
    res = await session.execute(
        update(PollElector).where(PollElector.id == elector_id, PollElector.voted.is_(False))
        .values(voted=True, channel=channel, entered_by=entered_by, entered_at=entered_at, witness=witness,
                voter_name=voter_name, receipt_check=receipt_check).execution_options(synchronize_session=False))
    return bool(getattr(res, "rowcount", 0) == 1)


async def claim_vote(session: AsyncSession, poll_id: str, *, person_id: str | None, household_id: str | None,
                     receipt_check: str) -> tuple[str, Decimal] | None:
    """Mark the caller's elector (by person, or by household) as having voted through the app, if
    it had not: (elector id, weight) when this request did it, None otherwise."""
    who = PollElector.person_id == person_id if person_id is not None else PollElector.household_id == household_id
    res = await session.execute(
        update(PollElector).where(PollElector.poll_id == poll_id, who, PollElector.voted.is_(False))
        .values(voted=True, channel="app", receipt_check=receipt_check)
        .returning(PollElector.id, PollElector.weight_area).execution_options(synchronize_session=False))
    row = res.first()
    return None if row is None else (str(row[0]), Decimal(str(row[1])))


async def mark_changed(session: AsyncSession, elector_id: str, seen_changes: int, receipt_check: str) -> bool:
    res = await session.execute(
        update(PollElector).where(PollElector.id == elector_id, PollElector.voted.is_(True),
                                  PollElector.changes == seen_changes)
        .values(changes=seen_changes + 1, receipt_check=receipt_check).execution_options(synchronize_session=False))
    return bool(getattr(res, "rowcount", 0) == 1)


async def current_ballot(session: AsyncSession, poll_id: str, *, receipt_hash: str | None = None,
                         elector_id: str | None = None) -> PollBallot | None:
    stmt = select(PollBallot).where(PollBallot.poll_id == poll_id, PollBallot.superseded.is_(False))
    if receipt_hash is not None:
        stmt = stmt.where(PollBallot.receipt_hash == receipt_hash)
    elif elector_id is not None:
        stmt = stmt.where(PollBallot.elector_id == elector_id)
    else:
        return None
    return (await session.execute(stmt)).scalar_one_or_none()


async def supersede(session: AsyncSession, poll_id: str, seq: int) -> bool:
    res = await session.execute(
        update(PollBallot).where(PollBallot.poll_id == poll_id, PollBallot.seq == seq,
                                 PollBallot.superseded.is_(False))
        .values(superseded=True).execution_options(synchronize_session=False))
    return bool(getattr(res, "rowcount", 0) == 1)


async def advance_chain(session: AsyncSession, poll_id: str, new_voter: bool) -> tuple[int, str] | None:
    """Take the next place in the poll's chain: the row lock serialises appends per poll, and
    the status condition makes a ballot racing the close lose (None)."""
    res = await session.execute(
        update(Poll).where(Poll.id == poll_id, Poll.status == "open")
        .values(chain_seq=Poll.chain_seq + 1, voted_count=Poll.voted_count + (1 if new_voter else 0))
        .returning(Poll.chain_seq, Poll.chain_head).execution_options(synchronize_session=False))
    row = res.first()
    return None if row is None else (int(row[0]), str(row[1]))


async def set_head(session: AsyncSession, poll_id: str, head: str) -> None:
    await session.execute(update(Poll).where(Poll.id == poll_id).values(chain_head=head)
                          .execution_options(synchronize_session=False))


def ballot_row(entry: Entry, digest: str, weight: Decimal, elector_id: str | None,
               sealed: bytes | None) -> dict[str, Any]:
    """A chain entry as stored; ``elector_id`` only for a named 记名 poll, ``None`` for a secret one,
    whose choices are ``sealed`` instead."""
    return {"id": new_ballot_id(), "poll_id": entry.poll_id, "seq": entry.seq, "choices": entry.choices,
            "commitment": entry.commitment or "", "sealed": sealed, "weight_area": weight, "channel": entry.channel,
            "receipt_hash": entry.receipt_hash, "supersedes": entry.supersedes, "superseded": False,
            "prev_hash": entry.prev, "hash": digest, "elector_id": elector_id}


async def add_ballot(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(insert(PollBallot), [values])


async def chain(session: AsyncSession, poll_id: str) -> list[PollBallot]:
    rows = await session.execute(select(PollBallot).where(PollBallot.poll_id == poll_id).order_by(PollBallot.seq))
    return list(rows.scalars())


async def counted_entries(session: AsyncSession, poll_id: str) -> list[dict[str, Any]]:
    """The current ballots of a poll counted from its chain, lean (no ORM objects): seq, choices, weight."""
    rows = await session.execute(
        select(PollBallot.seq, PollBallot.choices, PollBallot.weight_area)
        .where(PollBallot.poll_id == poll_id, PollBallot.superseded.is_(False)).order_by(PollBallot.seq))
    return [{"seq": s, "choices": c, "weight": str(w)} for s, c, w in rows.all()]


async def sealed_counted(session: AsyncSession, poll_id: str) -> list[tuple[str, Decimal, bytes | None]]:
    """A secret poll's current ballots as sealed: (commitment, weight, sealed)."""
    rows = await session.execute(
        select(PollBallot.commitment, PollBallot.weight_area, PollBallot.sealed)
        .where(PollBallot.poll_id == poll_id, PollBallot.superseded.is_(False)))
    return [(str(c), Decimal(str(w)), s) for c, w, s in rows.all()]


async def sealed_of(session: AsyncSession, poll_id: str, receipt_hash: str) -> tuple[str, bytes | None] | None:
    """The commitment and sealed choices of the ballot with this receipt."""
    row = (await session.execute(select(PollBallot.commitment, PollBallot.sealed).where(
        PollBallot.poll_id == poll_id, PollBallot.receipt_hash == receipt_hash))).first()
    return None if row is None else (str(row[0]), row[1])


async def erase_sealed(session: AsyncSession, poll_id: str) -> None:
    await session.execute(update(PollBallot).where(PollBallot.poll_id == poll_id, PollBallot.sealed.is_not(None))
                          .values(sealed=None).execution_options(synchronize_session=False))


async def add_key(session: AsyncSession, poll_id: str, sealed_key: bytes) -> None:
    await session.execute(insert(PollKey), [{"poll_id": poll_id, "sealed_key": sealed_key}])


async def sealed_key(session: AsyncSession, poll_id: str) -> bytes | None:
    return (await session.execute(select(PollKey.sealed_key).where(PollKey.poll_id == poll_id))).scalar_one_or_none()


async def erase_key(session: AsyncSession, poll_id: str) -> None:
    await session.execute(delete(PollKey).where(PollKey.poll_id == poll_id))


async def add_box(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), 5000):
        await session.execute(insert(PollBoxBallot), rows[i:i + 5000])


async def box(session: AsyncSession, poll_id: str) -> list[dict[str, Any]]:
    """A secret poll's published ballot box, in the order of the check codes: check, choices, weight."""
    rows = await session.execute(
        select(PollBoxBallot.check_code, PollBoxBallot.choices, PollBoxBallot.weight_area)
        .where(PollBoxBallot.poll_id == poll_id).order_by(PollBoxBallot.check_code))
    return [{"check": k, "choices": c, "weight": f"{Decimal(str(w)):.2f}"} for k, c, w in rows.all()]



async def ballot_by_receipt(session: AsyncSession, receipt_hash: str) -> PollBallot | None:
    stmt = select(PollBallot).where(PollBallot.receipt_hash == receipt_hash)
    return (await session.execute(stmt)).scalar_one_or_none()


async def named_ballots(session: AsyncSession, poll_id: str) -> list[tuple[PollBallot, PollElector]]:
    rows = await session.execute(
        select(PollBallot, PollElector).join(PollElector, PollElector.id == PollBallot.elector_id)
        .where(PollBallot.poll_id == poll_id, PollBallot.superseded.is_(False)).order_by(PollElector.label))
    return [(b, e) for b, e in rows.all()]


async def electors_with_unique_area(session: AsyncSession, poll_id: str) -> int:
    """Electors whose floor area no other elector of the poll shares."""
    singles = (select(PollElector.weight_area).where(PollElector.poll_id == poll_id)
               .group_by(PollElector.weight_area).having(func.count() == 1).subquery())
    return int((await session.execute(select(func.count()).select_from(singles))).scalar_one())


async def voted_households(session: AsyncSession, poll_id: str) -> int:
    return int((await session.execute(
        select(func.count(func.distinct(PollElector.household_id)))
        .where(PollElector.poll_id == poll_id, PollElector.voted.is_(True),
               PollElector.household_id.is_not(None)))).scalar_one())


async def voted_area(session: AsyncSession, poll_id: str) -> Decimal:
    value = (await session.execute(select(func.coalesce(func.sum(PollElector.weight_area), 0))
                                   .where(PollElector.poll_id == poll_id, PollElector.voted.is_(True)))).scalar_one()
    return Decimal(str(value))


async def due(session: AsyncSession, status: str, column: Any, now: datetime, limit: int) -> list[str]:
    rows = await session.execute(select(Poll.id).where(Poll.status == status, column.is_not(None), column <= now)
                                 .order_by(column).limit(limit))
    return list(rows.scalars())


async def poll_fresh(session: AsyncSession, poll_id: str) -> Poll | None:
    return await session.get(Poll, poll_id, populate_existing=True)


async def objections(session: AsyncSession, poll_id: str) -> list[PollObjection]:
    rows = await session.execute(select(PollObjection).where(PollObjection.poll_id == poll_id)
                                 .order_by(PollObjection.id))
    return list(rows.scalars())


async def objection(session: AsyncSession, poll_id: str, objection_id: str) -> PollObjection | None:
    return (await session.execute(select(PollObjection).where(
        PollObjection.poll_id == poll_id, PollObjection.id == objection_id))).scalar_one_or_none()


async def unanswered_objections(session: AsyncSession, poll_id: str) -> int:
    return int((await session.execute(select(func.count()).select_from(PollObjection).where(
        PollObjection.poll_id == poll_id, PollObjection.answered_at.is_(None)))).scalar_one())


async def my_objections_count(session: AsyncSession, poll_id: str, person_id: str) -> int:
    return int((await session.execute(select(func.count()).select_from(PollObjection).where(
        PollObjection.poll_id == poll_id, PollObjection.author_id == person_id))).scalar_one())


async def set_status(session: AsyncSession, poll_id: str, old: str, new: str) -> bool:
    """Move a poll from ``old`` to ``new`` only if it is still in ``old`` (takes the row lock)."""
    res = await session.execute(update(Poll).where(Poll.id == poll_id, Poll.status == old).values(status=new)
                                .execution_options(synchronize_session=False))
    return bool(getattr(res, "rowcount", 0) == 1)
