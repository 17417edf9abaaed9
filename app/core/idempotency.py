"""``Idempotency-Key`` for writes a phone may retry: the same key and body answers the first
result, once. A different body with the same key is refused (422); a retry that arrives while
the first is still running gets 409, with ``Retry-After``.

Done as ASGI middleware so every write endpoint gets it without remembering to; the record is
keyed by the caller (token subject, or the client address when anonymous) and the key. The
request's key is in ``request.state.idempotency_key`` while it runs, for an endpoint that must
recognise its own earlier write (below).

Crashes. A key's record is claimed ("running") in a transaction of its own before the request runs,
so that a retry meanwhile finds it. The answer is recorded in the request's own transaction: the
request's session (``db.session_dependency``) is handed here instead of being committed, and is
committed together with the answer once the answer is known. A server killed at any moment thus
leaves the write and its answer, or neither. A running record names the request running it (a
random ``owner`` token) and holds the key until ``lease_until``, renewed while it runs (one
statement per process for all its running requests). A retry that finds the lease run out (its
server died) takes the record over and runs the request again, which had written nothing; and a
request that lost its record, if it was alive after all, cannot record its answer (the update names
its owner), so it rolls back instead of writing twice. A request whose write is not in its session
(a first vote, written by app/polls/appender.py) has its answer recorded just after: a crash in
between leaves the record running, and the retry that takes it over must find that write itself.

The records of requests that arrive together (a meeting's call to vote) are claimed, and answered
when not in their own transaction, together (app/core/group_commit.py), instead of one by one.

A stored answer may be a secret ballot's receipt, so the database keeps nothing it could read
back on its own: the caller and the key are stored only as one hash keyed by the server's secret
(a copy of the table cannot tell whose records they are), the fingerprint is keyed by the key, the
answer is encrypted (AES-GCM) under a key derived from it (both with the secret too), and the
record's id is random and its time rounded to the hour, so records do not even sort in the order
ballots were cast; a running record's lease is cleared with its answer. Only the phone, which knows
its Idempotency-Key, can have the answer replayed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import math
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.accounts.models import Person
from app.core import clock, db
from app.core.asgi import replay_body
from app.core.config import get_settings
from app.core.errors import PROBLEM_JSON
from app.core.group_commit import GroupCommit
from app.core.i18n import negotiate, t
from app.core.models import IdempotencyRecord
from app.core.security import BadToken, decode_access_token, issued_before

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
MAX_KEY = 200
log = logging.getLogger("wugong.idempotency")


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        key = request.headers.get("idempotency-key")
        if key is None:
            await self.app(scope, receive, send)
            return
        locale = negotiate(request.headers.get("accept-language"), request.cookies.get("wg_lang"))
        if not key or len(key) > MAX_KEY:
            await _problem(send, 400, "idempotency_key_invalid", locale)
            return

        # The body is held to fingerprint and replay it; cap it like the largest upload.
        cap = get_settings().upload_max_bytes + 64 * 1024
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > cap:
                await _problem(send, 413, "too_large", locale)
                return
        principal, claims = _principal(request)
        fingerprint = _fingerprint(key, scope, request.headers.get("content-type", ""), body)
        claimed = await _claim(_lookup(principal, key), fingerprint, claims)
        if claimed is None:
            # A signed-out token gets no stored answers: let the app refuse it (401).
            await self.app(scope, replay_body(body, receive), send)
        elif isinstance(claimed, IdempotencyRecord):
            await _answer_from(claimed, key, fingerprint, send, locale)
        else:
            scope.setdefault("state", {})["idempotency_key"] = key
            await _run(self.app, claimed, key, scope, replay_body(body, receive), send, locale)


class _Run:
    """A request running under its key: the record it claimed, and its token as that record's owner.
    ``session`` is the request's session, handed over uncommitted (``db.COMMITS_WITH_ANSWER``)."""

    def __init__(self, record_id: str, owner: str) -> None:
        self.id, self.owner = record_id, owner
        self.session: AsyncSession | None = None
        self.done = False  # the whole answer is known and the request's writes are committed
        self.recorded = False  # ... and the answer was recorded with them
        self.superseded = False  # a retry took the record over: this request's writes were rolled back

    def adopt(self, session: AsyncSession) -> None:
        self.session = session

    async def settle(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes, key: str) -> None:
        """The answer is complete: commit the request's session with it, if the session was handed over."""
        session, self.session = self.session, None
        if session is None:
            self.done = True
            return
        try:
            await _hold("record")
            answer = _answer(self, status, headers, body, key)
            if answer.status is not None:
                conn = await session.connection()
                if (await conn.execute(_RECORD_ANSWER, _answer_params(answer))).rowcount != 1:
                    self.superseded = True
                    raise _Superseded
            await session.commit()
            self.done, self.recorded = True, answer.status is not None
        finally:
            await session.close()  # rolls back whatever was not committed

    async def abandon(self) -> None:
        if self.session is not None:
            session, self.session = self.session, None
            await session.close()


class _Superseded(Exception):
    """This request's record was taken over by a retry while it ran."""


async def _run(app: ASGIApp, run: _Run, key: str, scope: Scope, receive: Receive, send: Send, locale: str) -> None:
    """Run the request and record its answer; then send it. A retry that arrives right after the
    answer must find it recorded, not "in progress"."""
    status = 500
    resp_headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        nonlocal status, resp_headers
        if message["type"] == "http.response.start":
            status = message["status"]
            resp_headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                await run.settle(status, resp_headers, b"".join(chunks), key)

    failed: BaseException | None = None
    scope[db.COMMITS_WITH_ANSWER] = run.adopt
    leases.hold(run)
    try:
        try:
            await app(scope, receive, capture)
        except BaseException as exc:  # after the answer was complete (a background task), still send it
            failed = exc
        await run.abandon()
        if run.superseded:
            await _problem(send, 409, "idempotency_in_progress", locale, retry_after=1)
            return
        if not run.done:
            await journal.submit(_Answer(run.id, run.owner, None))  # nothing was committed: drop the record
            if failed is not None:
                raise failed
        elif not run.recorded:
            await _hold("record")
            await journal.submit(_answer(run, status, resp_headers, b"".join(chunks), key))
    finally:
        leases.release(run)
    await _hold("send")
    await send({"type": "http.response.start", "status": status, "headers": resp_headers})
    await send({"type": "http.response.body", "body": b"".join(chunks)})
    if failed is not None:
        raise failed


async def _answer_from(rec: IdempotencyRecord, key: str, fingerprint: str, send: Send, locale: str) -> None:
    if rec.fingerprint != fingerprint:
        await _problem(send, 422, "idempotency_key_reused", locale)
    elif rec.status_code is None:
        left = (rec.lease_until - clock.now()).total_seconds() if rec.lease_until else 1
        await _problem(send, 409, "idempotency_in_progress", locale, retry_after=max(1, math.ceil(left)))
    else:
        headers = [(k.encode(), v.encode()) for k, v in json.loads(rec.headers or "[]")]
        headers.append((b"idempotent-replayed", b"true"))
        await send({"type": "http.response.start", "status": rec.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": _open(key, rec.body)})


def _keyed(purpose: str, value: str) -> bytes:
    return hmac.new(get_settings().secret_key.encode(), f"wugong-idempotency-{purpose}\n{value}".encode(),
                    hashlib.sha256).digest()


def _lookup(principal: str, key: str) -> str:
    """What the record is found by: the caller and the key, hashed together under the server's secret."""
    return _keyed("record", f"{principal}\n{key}").hex()


def _cipher(key: str) -> AESGCM:
    return AESGCM(_keyed("body", key))


def _seal(key: str, body: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + _cipher(key).encrypt(nonce, body, None)


def _open(key: str, sealed: bytes | None) -> bytes:
    if not sealed:
        return b""
    return _cipher(key).decrypt(sealed[:12], sealed[12:], None)


def _fingerprint(key: str, scope: Scope, content_type: str, body: bytes) -> str:
    """Method, path, query and body; a multipart body without its random boundary, so a phone
    that rebuilds the same form for a retry still matches. Keyed by the Idempotency-Key: a small
    body (a ballot's one choice) cannot be guessed back from its fingerprint."""
    _, _, boundary = content_type.partition("boundary=")
    boundary = boundary.split(";")[0].strip().strip('"')
    if content_type.startswith("multipart/") and boundary:
        body = body.replace(boundary.encode(), b"")
    digest = hmac.new(_keyed("fingerprint", key), digestmod=hashlib.sha256)
    for part in (scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b""), body):
        digest.update(part + b"\n")
    return digest.hexdigest()


def _principal(request: Request) -> tuple[str, dict[str, Any] | None]:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        try:
            claims = decode_access_token(token.strip())
            return "p:" + claims["sub"], claims
        except BadToken:
            pass
    return "anon:" + (request.client.host if request.client else "?"), None


@dataclass(frozen=True)
class _Claim:
    """A new key's running record, inserted unless one is kept for it already."""

    id: str
    key: str
    fingerprint: str
    created_at: datetime
    owner: str
    lease_until: datetime


@dataclass(frozen=True)
class _Answer:
    """The first answer, recorded for replays if the record is still the request's; ``status`` None
    drops the record instead."""

    id: str
    owner: str
    status: int | None
    headers: str = "[]"
    content_type: str = ""
    body: bytes = b""


@dataclass(frozen=True)
class _Renew:
    """The leases of the records this process's requests are running: {record id: owner}."""

    held: dict[str, str]
    until: datetime


def _answer(run: _Run, status: int, headers: list[tuple[bytes, bytes]], body: bytes, key: str) -> _Answer:
    if status >= 500 or status in (401, 429):
        # Not a settled answer: let the phone retry with the same key.
        return _Answer(run.id, run.owner, None)
    keep = [(k.decode(), v.decode()) for k, v in headers if k.lower() in (b"content-type", b"location")]
    return _Answer(run.id, run.owner, status, json.dumps(keep), dict(keep).get("content-type", ""),
                   _seal(key, body))


def _answer_params(a: _Answer) -> dict[str, Any]:
    return {"r_id": a.id, "r_owner": a.owner, "r_status": a.status, "r_body": a.body, "r_headers": a.headers,
            "r_type": a.content_type}


_R = IdempotencyRecord
_MINE = (_R.id == bindparam("r_id"), _R.owner == bindparam("r_owner"), _R.status_code.is_(None))
_THESE = (_R.id.in_(bindparam("ids", expanding=True)), _R.owner.in_(bindparam("owners", expanding=True)),
          _R.status_code.is_(None))
_RECORD_ANSWER = (update(_R).where(*_MINE)
                  .values(status_code=bindparam("r_status"), body=bindparam("r_body"), headers=bindparam("r_headers"),
                          content_type=bindparam("r_type"), owner=None, lease_until=None))
_DROP = delete(_R).where(*_THESE)
_RENEW = update(_R).where(*_THESE).values(lease_until=bindparam("until"))
# A running record whose lease ran out (its request's server died): a new run takes it. Of two
# retries racing for it, the second finds the lease renewed (re-checked under the row lock on
# PostgreSQL, after the first's commit on SQLite) and takes nothing.
_TAKE_OVER = (update(_R).where(_R.id == bindparam("r_id"), _R.status_code.is_(None),
                               or_(_R.lease_until.is_(None), _R.lease_until <= bindparam("now")))
              .values(owner=bindparam("r_owner"), lease_until=bindparam("until")))


async def _write(ops: list[_Claim | _Answer | _Renew]) -> list[bool | None]:
    """One transaction for the records of every request that arrived meanwhile: the new keys in
    one insert (True where inserted), the answers in one update, the dropped in one delete."""
    claims = [op for op in ops if isinstance(op, _Claim)]
    answers = [op for op in ops if isinstance(op, _Answer) and op.status is not None]
    dropped = [op for op in ops if isinstance(op, _Answer) and op.status is None]
    renewals = [op for op in ops if isinstance(op, _Renew) and op.held]
    inserted: set[str] = set()
    async with db.writers_turn(), db.get_engine().begin() as conn:
        if claims:
            new_keys = db.insert_for(conn.dialect)(_R).values([
                {"id": c.id, "key": c.key, "fingerprint": c.fingerprint, "created_at": c.created_at,
                 "status_code": None, "content_type": "", "body": None, "headers": "", "owner": c.owner,
                 "lease_until": c.lease_until}
                for c in claims]).on_conflict_do_nothing().returning(_R.id)
            inserted = set((await conn.execute(new_keys)).scalars())
        if answers:
            await conn.execute(_RECORD_ANSWER, [_answer_params(a) for a in answers])
        if dropped:
            await conn.execute(_DROP, {"ids": [a.id for a in dropped], "owners": [a.owner for a in dropped]})
        for r in renewals:
            await conn.execute(_RENEW, {"ids": list(r.held), "owners": list(r.held.values()), "until": r.until})
    return [op.id in inserted if isinstance(op, _Claim) else None for op in ops]


journal: GroupCommit[_Claim | _Answer | _Renew, bool | None] = GroupCommit(_write)


class _Leases:
    """The records this process's requests are running ({record id: owner}), their leases renewed
    together every third of a lease while any runs."""

    def __init__(self) -> None:
        self.running: dict[str, str] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None  # held: the loop keeps only a weak reference

    def hold(self, run: _Run) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop (tests, a CLI run): nothing of the old one carries over
            self._loop, self.running, self._task = loop, {}, None
        self.running[run.id] = run.owner
        if self._task is None:
            self._task = loop.create_task(self._renew())

    def release(self, run: _Run) -> None:
        self.running.pop(run.id, None)
        if not self.running and self._task is not None:
            self._task.cancel()  # a renewal under way is written all the same (GroupCommit shields it)
            self._task = None

    async def _renew(self) -> None:
        lease = get_settings().idempotency_lease_seconds
        while True:
            await asyncio.sleep(lease / 3)
            try:
                await journal.submit(_Renew(dict(self.running), clock.now() + timedelta(seconds=lease)))
            except Exception:  # the next beat tries again; a lease that runs out costs a retry, not a write
                log.exception("could not renew the leases of running Idempotency-Keys")


leases = _Leases()


async def _claim(key: str, fingerprint: str, claims: dict[str, Any] | None) -> _Run | IdempotencyRecord | None:
    """Insert a running record and return the new run (the common case is a new key, written with
    the others arriving meanwhile), or take over a running record whose lease ran out, or return the
    record already kept for this key; None when the token was revoked since (signed out
    everywhere), which gets no stored answers."""
    settings = get_settings()
    lease = timedelta(seconds=settings.idempotency_lease_seconds)
    for _ in range(3):  # a record that expired, or was dropped meanwhile, makes way for a new one
        now = clock.now()
        run = _Run(secrets.token_hex(13), secrets.token_hex(16))
        if await journal.submit(_Claim(run.id, key, fingerprint, now.replace(minute=0, second=0, microsecond=0),
                                       run.owner, now + lease)):
            return run
        async with db.read_session() as session:
            existing = (await session.execute(select(_R).where(_R.key == key))).scalar_one_or_none()
            if existing is not None and claims is not None:
                valid_after = (await session.execute(
                    select(Person.tokens_valid_after).where(Person.id == claims["sub"]))).scalar_one_or_none()
                if issued_before(claims, valid_after):
                    return None
        if existing is None:
            continue
        if existing.created_at < now - timedelta(hours=settings.idempotency_hours):
            async with db.writers_turn(), db.get_engine().begin() as conn:
                await conn.execute(delete(_R).where(_R.id == existing.id))
            continue
        if (existing.status_code is None and existing.fingerprint == fingerprint and existing.id not in leases.running
                and (existing.lease_until is None or existing.lease_until <= now)):
            async with db.writers_turn(), db.get_engine().begin() as conn:
                taken = await conn.execute(_TAKE_OVER, {"r_id": existing.id, "r_owner": run.owner, "now": now,
                                                        "until": now + lease})
            if taken.rowcount == 1:
                log.info("an Idempotency-Key's running record outlived its lease: its retry runs it again")
                return _Run(existing.id, run.owner)
            continue
        return existing
    raise RuntimeError("idempotency record keeps changing")


async def _hold(point: str) -> None:
    """Tests only: stop here until the server is killed (``idempotency_test_hold``)."""
    settings = get_settings()
    if settings.env == "test" and settings.idempotency_test_hold == point:
        log.warning("holding an answer at %r until this server is killed", point)
        await asyncio.Event().wait()


async def _problem(send: Send, status: int, code: str, locale: str, *, retry_after: int | None = None) -> None:
    payload: dict[str, Any] = {
        "type": f"urn:wugong:problem:{code}", "title": t(f"status.{status}", locale), "status": status,
        "detail": t(f"error.{code}", locale), "code": code, "errors": [],
    }
    data = json.dumps(payload, ensure_ascii=False).encode()
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-language", locale.encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
