"""Group commit: the small writes of many requests, one transaction.

When many requests each need the same short write (a meeting's first votes, the records of
phones' Idempotency-Keys), each process gathers those that arrive while its previous write is
under way and hands them to ``write`` together. Nobody waits on purpose: a batch is whatever
arrived during the previous write, so one request alone is written at once, and a burst is
written in a few transactions instead of one each. On SQLite, where writers take turns anyway,
this is the difference between queueing for the write lock a hundred times and a handful.

``write`` answers each item in order: its result, or the exception meant for that item alone.
A batch whose ``write`` raises is written again one item at a time, so that one request's
trouble is never another's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """One per process and kind of write; its state belongs to the event loop it runs in."""

    def __init__(self, write: Callable[[list[T]], Awaitable[Sequence[R | Exception]]], *,
                 max_batch: int = 256) -> None:
        self._write = write
        self._max_batch = max_batch  # bounds a statement's parameters (SQLite allows 32,766)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._writing = False
        self._task: asyncio.Task[None] | None = None  # held: the loop keeps only a weak reference to a task
        self.batches = 0  # how many transactions wrote how many items: for the benchmarks
        self.items = 0

    async def submit(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop (tests, a CLI run): nothing of the old one carries over
            self._loop, self._pending, self._writing = loop, [], False
        future: asyncio.Future[R] = loop.create_future()
        self._pending.append((item, future))
        if not self._writing:
            self._writing = True
            self._task = loop.create_task(self._drain())
        # Shielded: a caller that goes away does not cancel a write that may already be done.
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[:self._max_batch], self._pending[self._max_batch:]
                await self._write_batch(batch)
        finally:
            self._writing = False

    async def _write_batch(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._write([item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc)
            else:  # one at a time, so that whatever it was fails only the item it belongs to
                for one in batch:
                    await self._write_batch([one])
            return
        self.batches += 1
        self.items += len(batch)
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result)


def _settle(future: asyncio.Future[R], result: R | BaseException) -> None:
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)
