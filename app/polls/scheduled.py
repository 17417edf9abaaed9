"""Time moves polls even when nobody is watching: a scheduled poll opens at its time, an open one
closes at its time (and is counted), and a notice period 公示 that has run out with every
objection answered makes the poll final.

Several processes may run the loop; a lease lets one act at a time, and each step is a
conditional update, so a poll is opened, closed or finalised once. ``wugong sweep`` runs it too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core import db, lease, periodic
from app.core.errors import AppError
from app.polls import live, service
from app.polls import repository as repo
from app.polls.models import Poll, PollKey

log = logging.getLogger("wugong.polls")

LEASE = "polls.sweep"
LEASE_TTL = timedelta(minutes=5)
BATCH = 100


@dataclass
class PollSweep:
    ran: bool
    opened: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    finalised: list[str] = field(default_factory=list)


async def sweep(session: AsyncSession, now: datetime, *, holder: str) -> PollSweep:
    """Open, close and finalise what is due. Commits each poll's step on its own."""
    if not await lease.acquire(session, LEASE, holder, LEASE_TTL):
        return PollSweep(ran=False)
    result = PollSweep(ran=True)
    for poll_id in await repo.due(session, "scheduled", Poll.opens_at, now, BATCH):
        if await _step(session, poll_id, lambda p: service.open_poll(session, None, p, now=now)):
            result.opened.append(poll_id)
    for poll_id in await repo.due(session, "open", Poll.closes_at, now, BATCH):
        if await _step(session, poll_id, lambda p: service.close_poll(session, None, p, now=now)):
            result.closed.append(poll_id)
    for poll_id in await repo.due(session, "notice", Poll.notice_ends_at, now, BATCH):
        if await _step(session, poll_id, lambda p: service.finalise_if_due(session, p, now)):
            result.finalised.append(poll_id)
    await lease.release(session, LEASE, holder)
    await session.commit()
    bind = session.bind
    await scrub_erased_keys(bind if isinstance(bind, AsyncEngine) else None, closed=bool(result.closed))
    for poll_id in (*result.opened, *result.closed, *result.finalised):
        await live.hub.changed(poll_id)
    return result


_scrub_pending = True  # at start too: a close just before a crash may have left its key in the files


async def scrub_erased_keys(engine: AsyncEngine | None = None, *, closed: bool = True) -> None:
    """After a sealed poll's close commits, scrub its erased key from the database's files
    (app/core/db.py ``scrub``); what cannot be done now is tried again at the next sweep."""
    global _scrub_pending
    if closed or _scrub_pending:
        _scrub_pending = not await db.scrub((PollKey.__tablename__,), engine)
        if _scrub_pending:
            log.info("polls: erased keys not yet scrubbed from the database files; trying again next sweep")


async def _step(session: AsyncSession, poll_id: str, act: Callable[[Poll], Awaitable[object]]) -> bool:
    """One poll's step in its own transaction; a refusal (nobody in the electorate …) leaves the
    poll as it was, for the committee to see, and the sweep goes on with the next."""
    poll = await repo.poll_fresh(session, poll_id)
    if poll is None:
        return False
    try:
        done = await act(poll)
        await session.commit()
        return done is not False
    except AppError as e:
        await session.rollback()
        log.warning("poll %s: %s", poll_id, e.code)
        return False


async def run_once(now: datetime | None = None) -> PollSweep:
    from app.core import clock, db
    async with db.sessionmaker()() as session:
        return await sweep(session, now or clock.now(), holder=lease.holder_id())


def start(every_seconds: float) -> asyncio.Task[None] | None:
    """The loop the app's lifespan starts (app/core/periodic.py)."""
    return periodic.start("polls.sweep", every_seconds, run_once)


stop = periodic.stop
