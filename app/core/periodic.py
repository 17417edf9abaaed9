"""Periodic jobs that the app's lifespan runs in every server process (the sweeps of the issue
list and of polls). Each job guards itself with a lease (app/core/lease.py), so several
processes running the same loop act once. A failed run is logged, never fatal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("wugong.periodic")


def start(name: str, every_seconds: float, job: Callable[[], Awaitable[object]]) -> asyncio.Task[None] | None:
    """Run ``job`` every ``every_seconds`` (None when it is 0: disabled, as in the tests)."""
    if every_seconds <= 0:
        return None
    return asyncio.create_task(_loop(name, every_seconds, job), name=name)


async def _loop(name: str, every_seconds: float, job: Callable[[], Awaitable[object]]) -> None:
    while True:
        await asyncio.sleep(every_seconds)
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed", name)


async def stop(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
