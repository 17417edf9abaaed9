"""Opaque, time-ordered ids (ULID-like: 48-bit milliseconds + 80 random bits, Crockford base32).

Ordering by id is ordering by creation, which gives cursor pagination a stable key for free.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Annotated

from pydantic import Field

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"

Id = Annotated[str, Field(min_length=1, max_length=26, pattern=r"^[0-9a-z]+$")]
"""A request field that names another row (``building_id: Id | None = None``, ``photo_ids: list[Id]``):
an empty or malformed id is refused as bad input naming the field, before it can reach the database
(an empty string slips past "if given" checks and fails the foreign key: a 500)."""
_lock = threading.Lock()
_last = (0, 0)


def new_id() -> str:
    """Monotonic within a process: two ids made in the same millisecond still sort in order made
    (a timeline's "reopen" before the "escalate" it caused)."""
    global _last
    with _lock:
        ms = int(time.time() * 1000)
        last_ms, last_rand = _last
        if ms <= last_ms:
            ms, rand = last_ms, last_rand + 1
        else:
            rand = int.from_bytes(os.urandom(10), "big") >> 1  # headroom for increments
        _last = (ms, rand)
    value = (ms << 80) | (rand & ((1 << 80) - 1))
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def short_code(length: int = 8) -> str:
    """A short random code for links and invites (no ambiguous letters)."""
    raw = int.from_bytes(os.urandom(8), "big")
    out = []
    for _ in range(length):
        out.append(_ALPHABET[raw & 31])
        raw >>= 5
    return "".join(out)
