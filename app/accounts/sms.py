"""Pluggable SMS senders. ``console`` logs the code (development); ``memory`` keeps an outbox
that tests and the bench read, exactly as a phone would receive the message."""

from __future__ import annotations

import logging
from collections import deque
from typing import Protocol

from app.core.config import get_settings

log = logging.getLogger("wugong.sms")


class SmsSender(Protocol):
    async def send_code(self, phone: str, code: str) -> None: ...


class ConsoleSender:
    async def send_code(self, phone: str, code: str) -> None:
        log.warning("SMS to %s: code %s", phone, code)


class MemorySender:
    def __init__(self) -> None:
        self.outbox: deque[tuple[str, str]] = deque(maxlen=10_000)

    async def send_code(self, phone: str, code: str) -> None:
        self.outbox.append((phone, code))

    def last_code(self, phone: str) -> str | None:
        for p, code in reversed(self.outbox):
            if p == phone:
                return code
        return None


_memory = MemorySender()


def get_sender() -> SmsSender:
    backend = get_settings().sms_backend
    if backend == "memory":
        return _memory
    return ConsoleSender()


def memory_outbox() -> MemorySender:
    return _memory
