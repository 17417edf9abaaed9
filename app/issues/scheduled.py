"""Periodic jobs of the issue list: the overdue sweep 超期督办.

An open issue past its deadline escalates to the level above (flag, timeline event, inbox), once.
Several server processes may run the loop; a lease (app/core/lease.py) lets one act at a time,
and the escalation itself is a conditional update, so even two sweeps that both ran would
escalate an issue once. ``wugong sweep`` runs it by hand.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import lease, periodic
from app.core.lease import holder_id
from app.issues import repository as repo
from app.issues import service

log = logging.getLogger("wugong.sweep")

LEASE = "issues.sweep"
LEASE_TTL = timedelta(minutes=5)  # a crashed holder blocks the others at most this long
BATCH = 500  # issues per run; the rest wait for the next run


@dataclass
class SweepResult:
    ran: bool  # False: another process holds the lease
    escalated: list[str] = field(default_factory=list)  # issue ids


async def sweep(session: AsyncSession, now: datetime, *, holder: str | None = None) -> SweepResult:
    """Escalate every open issue past its deadline. Commits the lease; the caller commits the work.

    ``session`` must have no pending work: taking the lease commits.
    """
    holder = holder or holder_id()
    if not await lease.acquire(session, LEASE, holder, LEASE_TTL):
        return SweepResult(ran=False)
    result = SweepResult(ran=True)
    for issue in await repo.overdue_unescalated(session, now, BATCH):
        if await service.escalate(session, issue, reason="overdue"):
            result.escalated.append(issue.id)
    await lease.release(session, LEASE, holder)  # freed when the caller commits the escalations
    await session.flush()
    return result


async def run_once(now: datetime | None = None) -> SweepResult:
    """One sweep in its own session of the app's database, committed."""
    from app.core import clock, db

    async with db.sessionmaker()() as session:
        result = await sweep(session, now or clock.now())
        await session.commit()
    return result


async def run_and_log() -> None:
    result = await run_once()
    if result.escalated:
        log.info("escalated %d overdue issue(s)", len(result.escalated))


def start(every_seconds: float) -> asyncio.Task[None] | None:
    """The loop the app's lifespan starts (app/core/periodic.py)."""
    return periodic.start("issues.sweep", every_seconds, run_and_log)


stop = periodic.stop
