"""Group commit of first votes: the ballots of many voters, one transaction.

A call to vote at a meeting, or a city-wide round, brings many first votes at once. Each needs the
same writes (claim the voter's elector, take the next places in its poll's chain, store the
ballot, move the chain's head) and the poll's row lock serialises them anyway. So each process
gathers the first votes that arrive while a write is under way (app/core/group_commit.py) and
writes them together: one claim, one lock of the polls concerned, one insert, one head update and
one commit for the whole batch, whatever the number of polls in it.

Each voter still gets an answer of their own: their place in the chain, or ``None`` when their
elector was not claimed (not eligible, voted already, or another ballot in the batch came first),
which sends the request down the ordinary one-at-a-time path for the reason; or the refusal of a
poll that closed meanwhile. A batch that fails is written again one vote at a time, so that one
voter's trouble is never another's.

Locks are taken in the order the one-at-a-time path takes them (electors, then polls, the polls
sorted by id), so a batch and a paper ballot for the same elector queue instead of deadlocking.
Only callers whose session has written nothing use this (``db.is_reading``): on SQLite a session
holding the write lock would wait on the committer that waits on it.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import BindParameter, Integer, Update, bindparam, case, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.core import clock, db
from app.core.errors import Conflict, Msg
from app.core.group_commit import GroupCommit
from app.polls import chain
from app.polls import repository as repo
from app.polls.models import Poll, PollBallot, PollElector
from app.polls.secrecy import Content


@dataclass
class FirstVote:
    """One voter's first ballot: who (the person, or for a household or owners' poll the
    household), what (plain or sealed), and the receipt their phone keeps."""

    poll_id: str
    person_id: str | None
    household_id: str | None
    content: Content
    secret: bool
    receipt: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.poll_id, self.person_id or self.household_id or "")


@dataclass(frozen=True)
class Placed:
    seq: int
    hash: str


class PollClosed(Exception):
    """A poll in the batch is no longer open: the batch is written again without its votes."""

    def __init__(self, poll_ids: set[str]) -> None:
        super().__init__(poll_ids)
        self.poll_ids = poll_ids


# Pre-built statements: a vote runs through these thousands of times a minute.
_WHO = {"person": PollElector.person_id, "household": PollElector.household_id}
_LOCK_POLLS = (select(Poll.id, Poll.status, Poll.closes_at, Poll.chain_seq, Poll.chain_head)
               .where(Poll.id.in_(bindparam("ids", expanding=True))).order_by(Poll.id).with_for_update())
_ADD_BALLOTS = insert(PollBallot)
_MOVE_HEAD = (update(Poll).where(Poll.id == bindparam("b_id"))
              .values(chain_seq=bindparam("b_seq"), chain_head=bindparam("b_head"),
                      voted_count=Poll.voted_count + bindparam("b_new", type_=Integer)))


async def _write_votes(batch: list[FirstVote]) -> list[Placed | Exception | None]:
    """Each vote's answer: its place, ``None`` (its elector was not claimed), or the refusal of a
    poll that closed meanwhile, whose votes are left out of the batch written again."""
    answers: dict[int, Placed | Exception | None] = {}
    left = batch
    while left:
        try:
            placed = await _write(left)
        except PollClosed as closed:
            for v in left:
                if v.poll_id in closed.poll_ids:
                    answers[id(v)] = Conflict("poll_vote_not_now", status_name=Msg("ui.poll.status.closed"))
            left = [v for v in left if v.poll_id not in closed.poll_ids]
            continue
        answers |= {id(v): placed.get(id(v)) for v in left}
        break
    return [answers[id(v)] for v in batch]


async def _write(batch: list[FirstVote]) -> dict[int, Placed]:
    """Write the batch in one transaction: {id(vote): its place} for the votes whose elector it claimed."""
    async with db.writers_turn(), db.get_engine().begin() as conn:  # SQLite: BEGIN IMMEDIATE, the write lock
        claimed = await _claim(conn, batch)
        if not claimed:
            return {}
        ids = sorted({v.poll_id for v, _, _ in claimed})
        polls = {row.id: row for row in await conn.execute(_LOCK_POLLS, {"ids": ids})}
        now = clock.now()
        closed = {v.poll_id for v, _, _ in claimed if (row := polls.get(v.poll_id)) is None or row.status != "open"
                  or (row.closes_at is not None and row.closes_at <= now)}
        if closed:
            raise PollClosed(closed)  # rolls back the claims of every vote in the batch
        heads = {pid: (int(row.chain_seq), str(row.chain_head)) for pid, row in polls.items()}
        new_voters: dict[str, int] = defaultdict(int)
        ballots: list[dict[str, Any]] = []
        placed: dict[int, Placed] = {}
        for vote, elector_id, weight in claimed:
            seq, prev = heads[vote.poll_id]
            seq += 1
            entry = vote.content.entry(vote.poll_id, seq, chain.weight_text(weight), "app",
                                       chain.receipt_hash(vote.receipt), None, prev)
            digest = entry.hash
            heads[vote.poll_id] = (seq, digest)
            new_voters[vote.poll_id] += 1
            ballots.append(repo.ballot_row(entry, digest, weight, None if vote.secret else elector_id,
                                           vote.content.sealed))
            placed[id(vote)] = Placed(seq=seq, hash=digest)
        await conn.execute(_ADD_BALLOTS, ballots)
        await conn.execute(_MOVE_HEAD, [{"b_id": pid, "b_seq": seq, "b_head": head, "b_new": new_voters[pid]}
                                        for pid, (seq, head) in heads.items()])
        return placed


@functools.cache
def _claim_statement(by: str, n: int) -> Update:
    """The claim of ``n`` electors (by person or by household), built once per size: one statement,
    and one new version of each row, the receipt check chosen per row."""
    column = _WHO[by]
    pairs: list[tuple[BindParameter[str], BindParameter[str]]] = [
        (bindparam(f"p{i}"), bindparam(f"w{i}")) for i in range(n)]
    check = case(*[((PollElector.poll_id == p) & (column == w), bindparam(f"c{i}")) for i, (p, w) in enumerate(pairs)])
    return (update(PollElector)
            # Each pair is found through the (poll, person or household) index, on SQLite too;
            # "voted" is wrapped so that no index on it is preferred.
            .where(func.coalesce(PollElector.voted, False).is_(False),
                   or_(*[(PollElector.poll_id == p) & (column == w) for p, w in pairs]))
            .values(voted=True, channel="app", receipt_check=check)
            .returning(PollElector.poll_id, column, PollElector.id, PollElector.weight_area))


async def _claim(conn: AsyncConnection, batch: list[FirstVote]) -> list[tuple[FirstVote, str, Decimal]]:
    """Mark each vote's elector as having voted, if it had not, with the check that binds the
    vote's receipt to it: (vote, elector id, weight) for those claimed, in batch order. Of two
    votes for one elector in the batch, the first claims."""
    first: dict[tuple[str, str, str], FirstVote] = {}
    for v in batch:
        first.setdefault(("person" if v.person_id else "household", *v.key), v)
    out: list[tuple[FirstVote, str, Decimal]] = []
    for by in _WHO:
        mine = [(k[1], k[2], v) for k, v in first.items() if k[0] == by]
        if not mine:
            continue
        params: dict[str, Any] = {}
        for i, (poll_id, who, v) in enumerate(mine):
            params |= {f"p{i}": poll_id, f"w{i}": who, f"c{i}": chain.elector_check(v.receipt)}
        for poll_id, who, elector_id, weight in await conn.execute(_claim_statement(by, len(mine)), params):
            out.append((first[(by, str(poll_id), str(who))], str(elector_id), Decimal(str(weight))))
    order = {id(v): i for i, v in enumerate(batch)}
    out.sort(key=lambda t: order[id(t[0])])
    return out


appender: GroupCommit[FirstVote, Placed | None] = GroupCommit(_write_votes)
