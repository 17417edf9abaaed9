"""Periodic jobs of the issue list: the overdue sweep 超期督办.

An open issue past its deadline escalates to the level above (flag, timeline event, inbox), once.
Several server processes may run the loop; a lease (app/core/lease.py) lets one act at a time,
and the escalation itself is a conditional update, so even two sweeps that both ran would
escalate an issue once. ``wugong sweep`` runs it by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import lease
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


def holder_id() -> str:
    """Who asks for the lease: this host, process and run."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


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


async def run_forever(every_seconds: float) -> None:
    """The loop the app's lifespan starts: sweep, sleep, repeat; a failed run is logged, not fatal."""
    while True:
        await asyncio.sleep(every_seconds)
        try:
            result = await run_once()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("issue sweep failed")
            continue
        if result.escalated:
            log.info("escalated %d overdue issue(s)", len(result.escalated))


def start(every_seconds: float) -> asyncio.Task[None] | None:
    """Start the loop (None when ``every_seconds`` is 0: disabled, as in the tests)."""
    if every_seconds <= 0:
        return None
    return asyncio.create_task(run_forever(every_seconds), name="issues.sweep")


async def stop(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
