"""One place to ask the time, so every timestamp is timezone-aware UTC."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_fixed: ContextVar[datetime | None] = ContextVar("wugong_clock_fixed", default=None)


def now() -> datetime:
    fixed = _fixed.get()
    return fixed if fixed is not None else datetime.now(UTC)


@contextmanager
def fixed_at(when: datetime) -> Iterator[None]:
    """Within the block (this task, and what it awaits), ``now()`` is ``when``: the demo replays
    two months of a community's history through the services at the times it happened, so every
    row's timestamp, deadline and expiry comes from the rule that makes it, not from a rewrite."""
    token = _fixed.set(aware(when))
    try:
        yield
    finally:
        _fixed.reset(token)


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
