"""Opaque, time-ordered ids (ULID-like: 48-bit milliseconds + 80 random bits, Crockford base32).

Ordering by id is ordering by creation, which gives cursor pagination a stable key for free.
"""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def new_id() -> str:
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
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
