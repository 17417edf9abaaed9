"""The ledger's guard: the database refuses UPDATE and DELETE on ``points_entries``.

Triggers (migration 0011) refuse every UPDATE, and every DELETE unless the deleting transaction
itself sees a row in ``points_ledger_unlocks``. Maintenance that must empty the ledger (the test
suite between tests) inserts that row, deletes, and removes the row again in one transaction, so no
other transaction ever sees the ledger unlocked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from app.points.models import LedgerUnlock

UNLOCKS_TABLE = LedgerUnlock.__tablename__

REFUSAL = "points_entries is append-only"
"""The words of the database's refusal (both engines), for tests and for logs."""


@asynccontextmanager
async def unlocked(conn: AsyncConnection, reason: str) -> AsyncIterator[None]:
    """Within ``conn``'s transaction, entries may be deleted (never updated)."""
    await conn.execute(insert(LedgerUnlock).values(id="maintenance", reason=reason[:100]))
    yield
    await conn.execute(delete(LedgerUnlock))
