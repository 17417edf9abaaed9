"""Time moves points even when nobody is watching: store orders not picked up in time expire and
are refunded (their owners reminded a day before), and where a community's rule says so, points
expire at the end of their year + N (first in, first out).

Several processes may run the loop; a lease lets one act at a time, and each step is conditional
(an order moves from "ready" once; an expiry or a refund carries a once-key), so nothing is done
twice even by two sweeps that both ran. ``wugong sweep`` runs it too.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import lease, periodic
from app.points import repository as repo
from app.points import service, store

log = logging.getLogger("wugong.points")

LEASE = "points.sweep"
LEASE_TTL = timedelta(minutes=10)


@dataclass
class PointsSweep:
    ran: bool
    expired_orders: list[str] = field(default_factory=list)
    reminded_orders: list[str] = field(default_factory=list)
    expired_entries: int = 0


async def sweep(session: AsyncSession, now: datetime, *, holder: str) -> PointsSweep:
    """Expire and remind orders, then expire points where the rules say so. Commits its work."""
    if not await lease.acquire(session, LEASE, holder, LEASE_TTL):
        return PointsSweep(ran=False)
    result = PointsSweep(ran=True)
    orders = await store.sweep(session, now)
    result.expired_orders, result.reminded_orders = orders.expired, orders.reminded
    await session.commit()
    for rules in await repo.communities_expiring(session):
        result.expired_entries += await service.expire_points(session, rules, now)
        await session.commit()
    await lease.release(session, LEASE, holder)
    await session.commit()
    return result


async def run_once(now: datetime | None = None) -> PointsSweep:
    from app.core import clock, db

    async with db.sessionmaker()() as session:
        return await sweep(session, now or clock.now(), holder=lease.holder_id())


async def run_and_log() -> None:
    result = await run_once()
    if result.expired_orders or result.expired_entries:
        log.info("points: %d order(s) expired, %d expiry entr(ies)", len(result.expired_orders),
                 result.expired_entries)


def start(every_seconds: float) -> asyncio.Task[None] | None:
    """The loop the app's lifespan starts (app/core/periodic.py)."""
    return periodic.start("points.sweep", every_seconds, run_and_log)


stop = periodic.stop
