"""Helpers shared by the accounts and communities tests: signing in over HTTP, reading and
time-travelling the database behind the app's back, and changing settings for one test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import Select, func, select
from sqlalchemy.sql import Executable

from app.accounts.sms import memory_outbox
from app.core import db
from app.core.config import get_settings

API = "/api/v1"
EN = {"Accept-Language": "en"}


async def request_code(client: httpx.AsyncClient, phone: str, **kw: Any) -> httpx.Response:
    return await client.post(f"{API}/auth/otp", json={"phone": phone}, **kw)


@asynccontextmanager
async def client_at(app: Any, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client calling from another address (the ``client`` fixture calls from 203.0.113.7)."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def last_code(phone: str) -> str:
    code = memory_outbox().last_code(phone)
    assert code is not None, f"no SMS was sent to {phone}"
    return code


async def sign_in(client: httpx.AsyncClient, phone: str) -> dict[str, Any]:
    r = await request_code(client, phone)
    assert r.status_code == 202, r.text
    r = await client.post(f"{API}/auth/token", json={"phone": phone, "code": last_code(phone)})
    assert r.status_code == 200, r.text
    tokens: dict[str, Any] = r.json()
    return tokens


def bearer(tokens: dict[str, Any] | str, lang: str | None = None) -> dict[str, str]:
    token = tokens if isinstance(tokens, str) else tokens["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    if lang:
        headers["Accept-Language"] = lang
    return headers


async def fetch_all(stmt: Select[Any]) -> list[Any]:
    """Rows as the database has them now, read in a session of their own."""
    async with db.sessionmaker()() as s:
        await s.connection(execution_options={"sqlite_deferred": True})
        return list((await s.execute(stmt)).scalars().all())


async def fetch_one(stmt: Select[Any]) -> Any:
    rows = await fetch_all(stmt)
    assert len(rows) == 1, rows
    return rows[0]


async def count(model: type[Any], *where: Any) -> int:
    async with db.sessionmaker()() as s:
        await s.connection(execution_options={"sqlite_deferred": True})
        return int((await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one())


async def execute(stmt: Executable) -> None:
    """Change rows directly (to move time forward, say), committed at once."""
    async with db.sessionmaker()() as s:
        await s.execute(stmt)
        await s.commit()


@contextmanager
def settings_changed(**changes: Any) -> Iterator[None]:
    settings = get_settings()
    before = {k: getattr(settings, k) for k in changes}
    try:
        for k, v in changes.items():
            setattr(settings, k, v)
        yield
    finally:
        for k, v in before.items():
            setattr(settings, k, v)


async def shift(model: type[Any], delta: timedelta, *columns: str, where: Any = None) -> None:
    """Move timestamps of stored rows by ``delta`` (negative: into the past), as if time had passed."""
    async with db.sessionmaker()() as s:
        stmt = select(model) if where is None else select(model).where(where)
        for row in (await s.execute(stmt)).scalars().all():
            for c in columns or ("created_at",):
                if getattr(row, c) is not None:
                    setattr(row, c, getattr(row, c) + delta)
        await s.commit()
