"""How a secret ballot stays secret, even from a copy of the database. Pure: no I/O.

What the database could always tell, it still tells: which electors have voted, when, through
which channel, and (on PostgreSQL through ``xmin``, on SQLite by replaying the WAL) which chain
entry each one added. So a chain entry of a secret poll carries no choice: only a *commitment*,
SHA-256 over the poll, the choices, a check code and a random salt. The choices, the check code
and the salt are sealed (AES-GCM) under the poll's own key, which exists only while the poll is
open, itself sealed under a key derived from the server's secret key.

When the poll closes, the counted ballots are opened, each checked against its commitment, and
published as a *ballot box*: choices, weight and check code, in the order of their check codes
(random), with no seq, no channel and no link to the chain. Then every sealed ballot and the poll
key are erased (SQLite: secure delete and a WAL checkpoint that truncates it; PostgreSQL: the key
table rewritten), and with them the salts. From then on nothing joins an elector, through a chain
entry, to a choice: the commitments cannot be opened (no salt) or brute-forced (128-bit salt).

The check code 核对码 is for the voter alone: the phone keeps it with the choice it sent and,
after the close, finds it in the published box to see the ballot counted as cast. It is random,
not derived from the receipt, so it proves nothing to anyone else: a voter shown any code from
the public box could claim it as theirs. The receipt 回执 proves inclusion in the chain and that
the ballot counts, never what it says.

Threat model, in short (README "Secret ballots"): while a poll is open, whoever runs the server
with its secret key could read ballots as they arrive (we are not end-to-end verifiable); a copy
of the database, its WAL or a backup taken while the poll is open, without the secret key,
cannot; and after the close nobody can, with or without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.polls.chain import Entry, canonical, code_from, sha256


class SealBroken(Exception):
    """A sealed value does not open with this key: another secret key, or tampering."""


def new_poll_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def _master(secret_key: str) -> AESGCM:
    return AESGCM(hashlib.sha256(b"wugong-poll-key-seal:" + secret_key.encode()).digest())


def seal_poll_key(secret_key: str, poll_id: str, key: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + _master(secret_key).encrypt(nonce, key, poll_id.encode())


def open_poll_key(secret_key: str, poll_id: str, sealed: bytes) -> bytes:
    try:
        return _master(secret_key).decrypt(sealed[:12], sealed[12:], poll_id.encode())
    except (InvalidTag, ValueError) as e:
        raise SealBroken(poll_id) from e


def new_check_code() -> str:
    """12 characters (60 bits) in three groups, from the receipt's alphabet: ``K7QM-3W9P-XH2D``."""
    return code_from(int.from_bytes(secrets.token_bytes(8)), 12)


def commitment(poll_id: str, choices: list[Any], check_code: str, salt: str) -> str:
    return sha256(b"wugong-ballot:" + canonical(
        {"poll": poll_id, "choices": choices, "check": check_code, "salt": salt}))


@dataclass(frozen=True)
class SealedBallot:
    commitment: str
    sealed: bytes
    check_code: str


def seal_ballot(key: bytes, poll_id: str, choices: list[Any]) -> SealedBallot:
    """The commitment that goes into the chain, and the choices sealed under the poll key (bound to
    the commitment, so a sealed ballot cannot be moved to another entry)."""
    check_code, salt = new_check_code(), secrets.token_hex(16)
    digest = commitment(poll_id, choices, check_code, salt)
    nonce = os.urandom(12)
    plain = canonical({"choices": choices, "check": check_code, "salt": salt})
    return SealedBallot(digest, nonce + AESGCM(key).encrypt(nonce, plain, f"{poll_id}:{digest}".encode()), check_code)


@dataclass(frozen=True)
class OpenedBallot:
    choices: list[Any]
    check_code: str


def open_ballot(key: bytes, poll_id: str, digest: str, sealed: bytes) -> OpenedBallot:
    """The sealed ballot's choices and check code, after checking both the seal and that they are
    what the chain entry committed to."""
    try:
        plain = AESGCM(key).decrypt(sealed[:12], sealed[12:], f"{poll_id}:{digest}".encode())
    except (InvalidTag, ValueError) as e:
        raise SealBroken(digest) from e
    data = json.loads(plain)
    if commitment(poll_id, data["choices"], data["check"], data["salt"]) != digest:
        raise SealBroken(digest)
    return OpenedBallot(list(data["choices"]), str(data["check"]))


@dataclass(frozen=True)
class Content:
    """What a chain entry holds of a ballot: the choices of a named one, or the commitment of a
    sealed one, with its sealed choices (stored beside the entry until the close) and check code."""

    choices: list[Any] | None
    commitment: str | None = None
    sealed: bytes | None = None
    check_code: str | None = None

    def entry(self, poll_id: str, seq: int, weight: str, channel: str, receipt_hash: str, supersedes: int | None,
              prev: str) -> Entry:
        return Entry(poll_id, seq, self.choices, weight, channel, receipt_hash, supersedes, prev, self.commitment)


def content(key: bytes | None, poll_id: str, choices: list[Any]) -> Content:
    """A ballot's chain content: sealed under the poll's key when it has one, else plain."""
    if key is None:
        return Content(choices)
    sealed = seal_ballot(key, poll_id, choices)
    return Content(None, sealed.commitment, sealed.sealed, sealed.check_code)


def receipt_for_retry(secret_key: str, person_id: str, poll_id: str, idempotency_key: str) -> str:
    """A receipt drawn from the request's Idempotency-Key instead of at random: when the server
    died after the ballot was written but before the phone heard back, the phone's retry (same
    key) finds its own ballot again, by this receipt, and gets the same answer. Unguessable
    without both the server's secret and the phone's key."""
    mac = hmac.new(secret_key.encode(), f"wugong-retry-receipt:{person_id}:{poll_id}:{idempotency_key}".encode(),
                   hashlib.sha256).digest()
    return code_from(int.from_bytes(mac[:10]), 16)
