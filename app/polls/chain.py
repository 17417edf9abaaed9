"""The ballot hash chain. Pure: no I/O.

The genesis hash commits to the poll as opened (question, options, rule, frozen electorate
size and area). Each accepted ballot is an entry whose hash is SHA-256 over its canonical JSON,
which includes the previous hash, so changing, dropping or reordering any stored ballot breaks
every hash after it. A receipt is a random code kept on the voter's phone; the chain publishes
only its SHA-256, so the receipt proves inclusion while the download names nobody.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud or typed by hand


def canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def code_from(bits: int, length: int) -> str:
    """``length`` characters of the alphabet (5 bits each) in groups of four: ``WG7K-3M9Q-...``."""
    raw = "".join(RECEIPT_ALPHABET[(bits >> (5 * i)) & 31] for i in range(length))
    return "-".join(raw[i:i + 4] for i in range(0, length, 4))


def new_receipt() -> str:
    """16 characters (80 bits)."""
    return code_from(int.from_bytes(secrets.token_bytes(10)), 16)


def normalise_receipt(receipt: str) -> str:
    raw = "".join(ch for ch in receipt.upper() if ch.isalnum())
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def receipt_hash(receipt: str) -> str:
    return sha256("wugong-receipt:" + normalise_receipt(receipt))


def new_ballot_id() -> str:
    """Random, not time-ordered: a ballot id must not tell when it was cast."""
    return secrets.token_hex(16)


def genesis(poll: dict[str, Any]) -> str:
    return sha256(b"wugong-poll-genesis:" + canonical(poll))


def weight_text(weight: Decimal) -> str:
    return f"{weight.quantize(Decimal('0.01'))}"


_COMMON = ("poll", "seq", "weight", "channel", "receipt", "supersedes", "prev")


@dataclass(frozen=True)
class Entry:
    """A chain entry: a named 记名 ballot carries its ``choices``; a secret one only the
    ``commitment`` to them (app/polls/secrecy.py), never both."""

    poll_id: str
    seq: int
    choices: list[Any] | None
    weight: str
    channel: str
    receipt_hash: str
    supersedes: int | None
    prev: str
    commitment: str | None = None

    def body(self) -> dict[str, Any]:
        content = {"choices": self.choices} if self.commitment is None else {"commitment": self.commitment}
        return {
            "poll": self.poll_id,
            "seq": self.seq,
            **content,
            "weight": self.weight,
            "channel": self.channel,
            "receipt": self.receipt_hash,
            "supersedes": self.supersedes,
            "prev": self.prev,
        }

    @property
    def hash(self) -> str:
        return sha256(canonical(self.body()))


def entry_body(e: dict[str, Any]) -> dict[str, Any]:
    """The hashed part of a downloaded entry: its commitment if it has one, else its choices."""
    content = "commitment" if "commitment" in e else "choices"
    return {k: e.get(k) for k in (*_COMMON, content)}


@dataclass
class ChainCheck:
    ok: bool
    head: str
    entries: int
    counted: list[dict[str, Any]]  # the ballots that count: each latest, not superseded
    problems: list[str]


def verify(poll_id: str, genesis_hash: str, entries: list[dict[str, Any]]) -> ChainCheck:
    """Recompute the chain from downloaded entries (each as ``Entry.body()`` plus ``hash``).

    Which ballots count is derived from the chain itself: a ballot stops counting when a later
    entry supersedes it; a ballot can be superseded once."""
    problems: list[str] = []
    prev = genesis_hash
    superseded: set[int] = set()
    by_seq: dict[int, dict[str, Any]] = {}
    for expected_seq, e in enumerate(entries, start=1):
        if e.get("poll") != poll_id:
            problems.append(f"entry {expected_seq}: belongs to another poll")
        if e.get("seq") != expected_seq:
            problems.append(f"entry {expected_seq}: sequence number {e.get('seq')!r} out of order")
        if e.get("prev") != prev:
            problems.append(f"entry {expected_seq}: does not follow the previous hash")
        actual = sha256(canonical(entry_body(e)))
        if actual != e.get("hash"):
            problems.append(f"entry {expected_seq}: hash does not match its content (tampered)")
        s = e.get("supersedes")
        if s is not None:
            if not isinstance(s, int) or s not in by_seq or s in superseded:
                problems.append(f"entry {expected_seq}: supersedes an unknown or already replaced ballot {s!r}")
            else:
                superseded.add(s)
        by_seq[expected_seq] = e
        prev = actual
    counted = [e for seq, e in by_seq.items() if seq not in superseded]
    return ChainCheck(ok=not problems, head=prev, entries=len(entries), counted=counted, problems=problems)


def elector_check(receipt: str) -> str:
    """The receipt's other hash, kept on the elector row (see PollElector.receipt_check)."""
    return sha256("wugong-elector:" + normalise_receipt(receipt))
