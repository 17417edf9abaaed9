"""Leases: when several server processes run a periodic job, only the holder of its lease acts."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import String, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.core import clock
from app.core.db import Base


class Lease(Base):
    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str] = mapped_column(String(80))
    expires_at: Mapped[datetime] = mapped_column()


async def acquire(session: AsyncSession, name: str, holder: str, ttl: timedelta) -> bool:
    """Take (or extend) the lease ``name`` for ``holder`` if it is free, expired or already ours.

    Runs in its own short transaction and commits it, so call it on a session with no pending
    work, before the guarded job. Of several processes asking at once exactly one gets it: the
    conditional UPDATE is re-checked under the row lock (PostgreSQL) or serialised by SQLite's
    write lock, and of two first-time INSERTs the primary key lets one through.
    """
    now = clock.now()
    taken = await session.execute(
        update(Lease).where(Lease.name == name, or_(Lease.expires_at <= now, Lease.holder == holder))
        .values(holder=holder, expires_at=now + ttl).execution_options(synchronize_session=False))
    if getattr(taken, "rowcount", 0) == 1:
        await session.commit()
        return True
    try:
        await session.execute(insert(Lease).values(name=name, holder=holder, expires_at=now + ttl))
        await session.commit()
        return True
    except IntegrityError:  # someone else holds it
        await session.rollback()
        return False


async def release(session: AsyncSession, name: str, holder: str) -> None:
    """Give the lease back early (in the caller's transaction, so it frees with the job's commit)."""
    await session.execute(update(Lease).where(Lease.name == name, Lease.holder == holder)
                          .values(expires_at=clock.now()).execution_options(synchronize_session=False))


def holder_id() -> str:
    """Who asks for a lease: this host, process and run."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
