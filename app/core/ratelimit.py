"""Rate limits 频率限制, counted by the ``limits`` library in a moving window: in this process's
memory by default, in Redis when WUGONG_REDIS_URL is set, so that every worker and server
counts together.

A limit is written as the settings write it: ``"20/minute;300/day"`` (every part must hold).
If Redis cannot be reached the request goes ahead: a counter that is down must not stop a
resident reporting a broken lamp.
"""

from __future__ import annotations

import logging
import math
import time
from functools import lru_cache

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from app.core.config import get_settings
from app.core.errors import TooMany

log = logging.getLogger("wugong.ratelimit")

_limiter: MovingWindowRateLimiter | None = None


def limiter() -> MovingWindowRateLimiter:
    global _limiter
    if _limiter is None:
        url = get_settings().redis_url
        storage = (RedisStorage(f"async+{url}", implementation="redispy", key_prefix="wugong-limits",
                                wrap_exceptions=True) if url else MemoryStorage())
        _limiter = MovingWindowRateLimiter(storage)
    return _limiter


def reset() -> None:
    """Forget the limiter (its Redis connections belong to the event loop that is ending)."""
    global _limiter
    _limiter = None


@lru_cache
def parse(rates: str) -> list[RateLimitItem]:
    """``"20/minute;300/day"`` as limits; ``""`` is no limit (ValueError for anything else)."""
    return list(parse_many(rates)) if rates.strip() else []


async def hit(name: str, rates: str, *who: str, error: str) -> None:
    """Count one more ``name`` by ``who``; past any of ``rates``, a 429 ``error`` with Retry-After
    and how many minutes to wait (``{minutes}`` in its message)."""
    for item in parse(rates):
        try:
            if await limiter().hit(item, name, *who):
                continue
            stats = await limiter().get_window_stats(item, name, *who)
        except StorageError as exc:
            log.warning("rate limit %s not counted: %s", name, exc)
            return
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooMany(error, minutes=math.ceil(wait / 60), headers={"Retry-After": str(wait)})
