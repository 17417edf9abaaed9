"""Live results over Server-Sent Events, for a room full of phones and a projector.

One pump per watched poll per process: a vote marks the poll dirty; the pump waits a moment to
gather the votes that arrive together, counts once, and hands the same snapshot to every
watcher. With Redis configured a vote in any process is published on ``wugong:poll:<id>`` and
every process marks its own pumps dirty, so watchers on any worker see it. Counting reads the
database, never the message, so a lost or duplicate message only delays or repeats a snapshot.
Hidden results never reach a pump's output: the snapshot is the same view the results API gives.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from app.core.redis import get_redis

log = logging.getLogger("wugong.live")

CHANNEL_PREFIX = "wugong:poll:"
GATHER_SECONDS = 0.15  # votes arriving within this window share one count
# A big poll takes a while to count; the pump then waits that long again (twice) before the next
# count, so a stream of votes into a 40,000-ballot poll cannot keep a worker counting all the time.
COUNT_BACKOFF = 2.0
HEARTBEAT_SECONDS = 15.0

Snapshot = Callable[[str], Awaitable[dict[str, Any] | None]]


class Hub:
    def __init__(self) -> None:
        # poll id → each watcher's queue and the last snapshot it was given
        self._watchers: dict[str, dict[asyncio.Queue[str | None], str]] = {}
        self._dirty: dict[str, asyncio.Event] = {}
        self._pumps: dict[str, asyncio.Task[None]] = {}
        self._listener: asyncio.Task[None] | None = None
        self.snapshot: Snapshot | None = None

    def watching(self, poll_id: str) -> int:
        return len(self._watchers.get(poll_id, ()))

    def mark(self, poll_id: str) -> None:
        event = self._dirty.get(poll_id)
        if event is not None:
            event.set()

    async def changed(self, poll_id: str) -> None:
        """A ballot or a state change was committed: tell every process."""
        redis = get_redis()
        if redis is None:
            self.mark(poll_id)
            return
        try:
            await redis.publish(CHANNEL_PREFIX + poll_id, "1")
        except Exception:  # Redis down: this process's watchers still hear it
            log.warning("live: could not publish to Redis", exc_info=True)
            self.mark(poll_id)

    async def watch(self, poll_id: str, max_events: int | None = None) -> AsyncIterator[str]:
        """SSE frames for one watcher: the current results at once, then each change."""
        queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=1)
        self._watchers.setdefault(poll_id, {})[queue] = ""
        self._dirty.setdefault(poll_id, asyncio.Event()).set()
        self._ensure_pump(poll_id)
        self._ensure_listener()
        sent = 0
        try:
            yield "retry: 3000\n\n"
            while max_events is None or sent < max_events:
                try:
                    frame = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if frame is None:
                    return
                sent += 1
                yield frame
        finally:
            watchers = self._watchers.get(poll_id)
            if watchers is not None:
                watchers.pop(queue, None)

    def _ensure_pump(self, poll_id: str) -> None:
        task = self._pumps.get(poll_id)
        if task is None or task.done():
            self._pumps[poll_id] = asyncio.create_task(self._pump(poll_id), name=f"live:{poll_id}")

    async def _pump(self, poll_id: str) -> None:
        event = self._dirty[poll_id]
        last_count_seconds = 0.0
        while self._watchers.get(poll_id):
            try:
                await asyncio.wait_for(event.wait(), HEARTBEAT_SECONDS)
            except TimeoutError:
                continue
            await asyncio.sleep(max(GATHER_SECONDS, COUNT_BACKOFF * last_count_seconds))
            event.clear()
            try:
                started = time.monotonic()
                data = await self.snapshot(poll_id) if self.snapshot else None
                last_count_seconds = time.monotonic() - started
            except Exception:
                log.exception("live: counting poll %s failed", poll_id)
                continue
            if data is None:
                continue
            body = json.dumps(data, ensure_ascii=False, default=str)
            frame = f"event: results\ndata: {body}\n\n"
            watchers = self._watchers.get(poll_id, {})
            for queue, seen in list(watchers.items()):
                if seen != body:  # a watcher that just joined gets it; the others only if it changed
                    watchers[queue] = body
                    _offer(queue, frame)
        self._pumps.pop(poll_id, None)
        self._dirty.pop(poll_id, None)
        self._watchers.pop(poll_id, None)

    def _ensure_listener(self) -> None:
        if get_redis() is None or (self._listener is not None and not self._listener.done()):
            return
        self._listener = asyncio.create_task(self._listen(), name="live:redis")

    async def _listen(self) -> None:
        redis = get_redis()
        if redis is None:
            return
        while True:
            try:
                pubsub = redis.pubsub()
                await pubsub.psubscribe(CHANNEL_PREFIX + "*")
                async for message in pubsub.listen():
                    if message.get("type") == "pmessage":
                        self.mark(str(message["channel"])[len(CHANNEL_PREFIX):])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("live: Redis subscription lost; retrying", exc_info=True)
                await asyncio.sleep(1)

    async def shutdown(self) -> None:
        for watchers in self._watchers.values():
            for queue in watchers:
                _offer(queue, None)
        tasks = [t for t in (*self._pumps.values(), self._listener) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._pumps.clear()
        self._listener = None


def _offer(queue: asyncio.Queue[str | None], frame: str | None) -> None:
    """Newest wins: a slow watcher skips to the latest snapshot instead of piling up old ones."""
    with contextlib.suppress(asyncio.QueueEmpty):
        if queue.full():
            queue.get_nowait()
    with contextlib.suppress(asyncio.QueueFull):
        queue.put_nowait(frame)


hub = Hub()
