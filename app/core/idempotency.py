"""``Idempotency-Key`` for writes a phone may retry: the same key and body answers the first
result, once. A different body with the same key is refused (422); a retry that arrives while
the first is still running gets 409.

Done as ASGI middleware so every write endpoint gets it without remembering to; the record is
keyed by the caller (token subject, or the client address when anonymous). The records of the
requests that arrive together (a meeting's call to vote) are written in one transaction
(app/core/group_commit.py) instead of two each.

A stored answer may be a secret ballot's receipt, so the database keeps nothing it could read
back on its own: the key is stored hashed, the fingerprint is keyed by the key, the answer is
encrypted (AES-GCM) under a key derived from it, and the record's id is random and its time
rounded to the hour, so records do not even sort in the order ballots were cast. Only the phone,
which knows its Idempotency-Key, can have the answer replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import bindparam, delete, select, update
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.accounts.models import Person
from app.core import clock, db
from app.core.config import get_settings
from app.core.errors import PROBLEM_JSON
from app.core.group_commit import GroupCommit
from app.core.i18n import negotiate, t
from app.core.models import IdempotencyRecord
from app.core.security import BadToken, decode_access_token, issued_before

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
MAX_KEY = 200


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
        record_id = await _claim(principal, _stored_key(key), fingerprint, claims)
        if record_id is None:
            # A signed-out token gets no stored answers: let the app refuse it (401).
            await self.app(scope, _replay(body, receive), send)
            return
        if isinstance(record_id, IdempotencyRecord):
            rec = record_id
            if rec.fingerprint != fingerprint:
                await _problem(send, 422, "idempotency_key_reused", locale)
            elif rec.status_code is None:
                await _problem(send, 409, "idempotency_in_progress", locale)
            else:
                headers = [(k.encode(), v.encode()) for k, v in json.loads(rec.headers or "[]")]
                headers.append((b"idempotent-replayed", b"true"))
                await send({"type": "http.response.start", "status": rec.status_code, "headers": headers})
                await send({"type": "http.response.body", "body": _open(key, rec.body)})
            return

        # Hold the answer, record it, then send it: a retry that arrives right after the first
        # answer must find it recorded, not "in progress".
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

        try:
            await self.app(scope, _replay(body, receive), capture)
        finally:
            await _finish(record_id, status, resp_headers, _seal(key, b"".join(chunks)))
        await send({"type": "http.response.start", "status": status, "headers": resp_headers})
        await send({"type": "http.response.body", "body": b"".join(chunks)})


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive() that hands the already-read body to the app once."""
    sent = False

    async def replay_receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay_receive


def _stored_key(key: str) -> str:
    return hashlib.sha256(b"wugong-idempotency-key:" + key.encode()).hexdigest()


def _cipher(key: str) -> AESGCM:
    return AESGCM(hashlib.sha256(b"wugong-idempotency-body:" + key.encode()).digest())


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
    digest = hmac.new(key.encode(), digestmod=hashlib.sha256)
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
    principal: str
    key: str
    fingerprint: str
    created_at: datetime


@dataclass(frozen=True)
class _Answer:
    """The first answer, recorded for replays; ``status`` None drops the record instead."""

    id: str
    status: int | None
    headers: str = "[]"
    content_type: str = ""
    body: bytes = b""


_RECORD_ANSWER = (update(IdempotencyRecord).where(IdempotencyRecord.id == bindparam("r_id"))
                  .values(status_code=bindparam("r_status"), body=bindparam("r_body"),
                          headers=bindparam("r_headers"), content_type=bindparam("r_type")))
_DROP = delete(IdempotencyRecord).where(IdempotencyRecord.id.in_(bindparam("ids", expanding=True)))


async def _write(ops: list[_Claim | _Answer]) -> list[bool | None]:
    """One transaction for the records of every request that arrived meanwhile: the new keys in
    one insert (True where inserted), the answers in one update, the dropped in one delete."""
    claims = [op for op in ops if isinstance(op, _Claim)]
    answers = [op for op in ops if isinstance(op, _Answer) and op.status is not None]
    dropped = [op.id for op in ops if isinstance(op, _Answer) and op.status is None]
    inserted: set[str] = set()
    async with db.writers_turn(), db.get_engine().begin() as conn:
        if claims:
            new_keys = db.insert_for(conn.dialect)(IdempotencyRecord).values([
                {"id": c.id, "principal": c.principal, "key": c.key, "fingerprint": c.fingerprint,
                 "created_at": c.created_at, "status_code": None, "content_type": "", "body": None, "headers": ""}
                for c in claims]).on_conflict_do_nothing().returning(IdempotencyRecord.id)
            inserted = set((await conn.execute(new_keys)).scalars())
        if answers:
            await conn.execute(_RECORD_ANSWER, [
                {"r_id": a.id, "r_status": a.status, "r_body": a.body, "r_headers": a.headers, "r_type": a.content_type}
                for a in answers])
        if dropped:
            await conn.execute(_DROP, {"ids": dropped})
    return [op.id in inserted if isinstance(op, _Claim) else None for op in ops]


journal: GroupCommit[_Claim | _Answer, bool | None] = GroupCommit(_write)


async def _claim(principal: str, key: str, fingerprint: str,
                 claims: dict[str, Any] | None) -> str | IdempotencyRecord | None:
    """Insert a running record and return its id (the common case is a new key, written with the
    others arriving meanwhile), or the record already kept for this key; None when the token was
    revoked since (signed out everywhere), which gets no stored answers."""
    for _ in range(3):  # a record that expired, or was dropped meanwhile, makes way for a new one
        now = clock.now()
        rec_id = secrets.token_hex(13)
        if await journal.submit(_Claim(rec_id, principal, key, fingerprint,
                                        now.replace(minute=0, second=0, microsecond=0))):
            return rec_id
        async with db.sessionmaker()() as session:
            existing = (await session.execute(select(IdempotencyRecord).where(
                IdempotencyRecord.principal == principal, IdempotencyRecord.key == key))).scalar_one_or_none()
            if existing is None:
                continue
            if existing.created_at < now - timedelta(hours=get_settings().idempotency_hours):
                await session.delete(existing)
                await session.commit()
                continue
            if claims is not None:
                valid_after = (await session.execute(
                    select(Person.tokens_valid_after).where(Person.id == claims["sub"]))).scalar_one_or_none()
                if issued_before(claims, valid_after):
                    return None
            return existing
    raise RuntimeError("idempotency record keeps changing")


async def _finish(record_id: str, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    if status >= 500 or status in (401, 429):
        # Not a settled answer: let the phone retry with the same key.
        await journal.submit(_Answer(record_id, None))
        return
    keep = [(k.decode(), v.decode()) for k, v in headers if k.lower() in (b"content-type", b"location")]
    await journal.submit(_Answer(record_id, status, json.dumps(keep), dict(keep).get("content-type", ""), body))


async def _problem(send: Send, status: int, code: str, locale: str) -> None:
    payload: dict[str, Any] = {
        "type": f"urn:wugong:problem:{code}", "title": t(f"status.{status}", locale), "status": status,
        "detail": t(f"error.{code}", locale), "code": code, "errors": [],
    }
    data = json.dumps(payload, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", PROBLEM_JSON.encode()), (b"content-language", locale.encode())]})
    await send({"type": "http.response.body", "body": data})
