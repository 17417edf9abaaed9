"""A server killed (SIGKILL) with requests in flight under Idempotency-Keys, then started again:
every byte-identical retry gets, within the lease, either the first write's own answer or the write
done once; never a duplicate, never a key stuck "in progress" for a day.

Each test runs ``wugong serve`` in a subprocess on a database of its own (a SQLite file, or a
PostgreSQL database beside the test database). ``WUGONG_IDEMPOTENCY_TEST_HOLD`` makes the server
stop at a chosen point of every idempotent request, and log it, so that the kill lands there.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core import db
from app.issues.models import Issue
from app.polls.models import PollBallot
from tests import factories as f
from tests.conftest import DATABASE_URL, IS_PG
from tests.issues.support import place
from tests.polls import support as polls

ROOT = Path(__file__).resolve().parents[2]
LEASE = 1.0  # seconds: how long a dead server's key stays held


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``wugong serve`` in a subprocess, its log in a file."""

    def __init__(self, url: str, data_dir: Path, hold: str) -> None:
        self.port = _free_port()
        self.log = data_dir / f"server-{self.port}.log"
        env = {**os.environ, "WUGONG_DATA_DIR": str(data_dir), "WUGONG_DATABASE_URL": url,
               "WUGONG_IDEMPOTENCY_LEASE_SECONDS": str(LEASE), "WUGONG_IDEMPOTENCY_TEST_HOLD": hold,
               "WUGONG_SWEEP_SECONDS": "0"}
        env.pop("WUGONG_REDIS_URL", None)
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port), "--no-access-log"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}", timeout=60)

    async def ready(self) -> None:
        async with self.client() as c:
            for _ in range(600):
                assert self.proc.poll() is None, self.log.read_text()
                try:
                    if (await c.get("/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"the server did not start: {self.log.read_text()}")

    async def logged(self, line: str, times: int = 1) -> None:
        for _ in range(600):
            if self.log.read_text().count(line) >= times:
                return
            assert self.proc.poll() is None, self.log.read_text()
            await asyncio.sleep(0.05)
        raise AssertionError(f"never logged {line!r} {times} times: {self.log.read_text()}")

    def kill(self) -> None:
        self.proc.kill()  # SIGKILL: no shutdown, no cleanup
        self.proc.wait()


class Site:
    """A database of the servers' own, and a session on it for arranging and checking data."""

    def __init__(self, url: str, data_dir: Path) -> None:
        self.url, self.data_dir = url, data_dir
        self.servers: list[Server] = []
        self._engine: AsyncEngine | None = None

    async def start(self, hold: str = "") -> Server:
        server = Server(self.url, self.data_dir, hold)
        self.servers.append(server)
        await server.ready()
        return server

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        if self._engine is None:
            self._engine = db.make_engine(self.url)
        engine = self._engine.execution_options(sqlite_deferred=True)
        async with async_sessionmaker(engine, expire_on_commit=False, autoflush=False)() as s:
            yield s

    async def count(self, statement: Any) -> int:
        async with self.session() as s:
            return int((await s.execute(statement)).scalar_one())


@asynccontextmanager
async def crash_site(tmp_path: Path) -> AsyncIterator[Site]:
    if not IS_PG:
        site = Site(f"sqlite+aiosqlite:///{tmp_path}/wugong.db", tmp_path)
    else:
        url = make_url(DATABASE_URL)
        own = f"{url.database}_crash"
        admin = db.make_engine(DATABASE_URL, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{own}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{own}"'))
        site = Site(url.set(database=own).render_as_string(hide_password=False), tmp_path)
    try:
        yield site
    finally:
        for server in site.servers:
            server.kill()
        if site._engine is not None:
            await site._engine.dispose()
        if IS_PG:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{own}" WITH (FORCE)'))
            await admin.dispose()


def _in_progress(r: httpx.Response) -> bool:
    return r.status_code == 409 and r.json().get("code") == "idempotency_in_progress"


async def until_answered(client: httpx.AsyncClient, url: str, content: bytes, headers: dict[str, str],
                         within: float) -> httpx.Response:
    """Retry, byte for byte, while the key is in progress; at most ``within`` seconds of 409s."""
    started = time.monotonic()
    while True:
        r = await client.post(url, content=content, headers=headers)
        if not _in_progress(r):
            return r
        assert r.headers["retry-after"].isdigit()
        assert time.monotonic() - started < within, "the key stayed in progress"
        await asyncio.sleep(0.1)


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


Send = tuple[str, bytes, dict[str, str]]  # a request's path, body and headers, sent byte for byte each time


async def _kill_while_held(server: Server, sends: list[Send], held: int) -> None:
    """Send the requests; once ``held`` of them are held, kill the server: none is answered."""
    async with server.client() as client:
        flying = [asyncio.ensure_future(client.post(url, content=c, headers=h)) for url, c, h in sends]
        await server.logged("holding an answer", times=held)
        server.kill()
        outcomes = await asyncio.gather(*flying, return_exceptions=True)
    assert all(isinstance(o, httpx.TransportError) for o in outcomes), outcomes


async def _reports(site: Site, server: Server) -> list[Send]:
    async with server.client() as client, site.session() as session:
        p = await place(client, session)
    url = f"/api/v1/communities/{p.c.id}/issues"
    sends = [(url, _json({"title": f"路灯不亮 {i}", "category_id": p.category_id, "building_id": p.building_id}),
              {**f.auth(p.resident), "Content-Type": "application/json", "Idempotency-Key": f"report-{i}-7c1e"})
             for i in range(6)]
    return sends


async def test_reports_killed_before_their_commit_are_written_once_by_their_retries(tmp_path):
    async with crash_site(tmp_path) as site:
        server = await site.start(hold="record")
        sends = await _reports(site, server)
        # On SQLite the first request held keeps the write lock, and the others wait for it.
        await _kill_while_held(server, sends, held=len(sends) if IS_PG else 1)
        assert await site.count(select(func.count()).select_from(Issue)) == 0

        server = await site.start()
        async with server.client() as client:
            answers = [await until_answered(client, url, c, h, within=LEASE + 1) for url, c, h in sends]
            assert [r.status_code for r in answers] == [201] * len(sends), [r.text for r in answers]
            again = [await client.post(url, content=c, headers=h) for url, c, h in sends]
        assert not any(r.headers.get("idempotent-replayed") for r in answers)
        assert [r.json()["id"] for r in again] == [r.json()["id"] for r in answers]
        assert all(r.headers.get("idempotent-replayed") == "true" for r in again)
        assert await site.count(select(func.count()).select_from(Issue)) == len(sends)
        assert await site.count(select(func.count(func.distinct(Issue.title)))) == len(sends)


async def test_reports_killed_after_their_commit_are_answered_by_their_retries_with_their_own_ids(tmp_path):
    async with crash_site(tmp_path) as site:
        server = await site.start(hold="send")
        sends = await _reports(site, server)
        await _kill_while_held(server, sends, held=len(sends))
        async with site.session() as s:
            written = {title: id_ for title, id_ in (await s.execute(select(Issue.title, Issue.id))).all()}
        assert len(written) == len(sends)

        server = await site.start()
        async with server.client() as client:
            answers = [await client.post(url, content=c, headers=h) for url, c, h in sends]
        assert all(r.status_code == 201 and r.headers.get("idempotent-replayed") == "true" for r in answers)
        assert {r.json()["title"]: r.json()["id"] for r in answers} == written
        assert await site.count(select(func.count()).select_from(Issue)) == len(sends)


async def test_a_ballot_killed_before_its_answer_was_recorded_gets_its_receipt_on_retry(tmp_path):
    """The first vote is committed by the group committer, outside the request's session; the server
    dies before the answer is recorded. The retry takes the key over and must find that ballot."""
    async with crash_site(tmp_path) as site:
        server = await site.start(hold="record")
        async with server.client() as client, site.session() as session:
            e = await polls.estate(session)
            poll = await polls.opened(client, e.c, e.committee)
        url = f"/api/v1/communities/{e.c.id}/polls/{poll['id']}/ballots"
        content = _json({"choices": [polls.option_ids(poll)[0]]})
        headers = {**f.auth(e.owners[0]), "Content-Type": "application/json", "Idempotency-Key": "vote-5d2a90c4"}
        await _kill_while_held(server, [(url, content, headers)], held=1)
        assert await site.count(select(func.count()).select_from(PollBallot)) == 1  # committed before the kill

        server = await site.start()
        async with server.client() as client:
            r = await until_answered(client, url, content, headers, within=LEASE + 1)
            assert r.status_code == 201, r.text
            receipt = r.json()["receipt"]
            assert (await client.get(f"/api/v1/receipts/{receipt}")).status_code == 200
        assert await site.count(select(func.count()).select_from(PollBallot)) == 1


async def test_a_running_key_stays_held_while_its_server_lives_and_is_freed_when_it_dies(tmp_path):
    """The lease is renewed while the request runs, however long: another server's retry waits (409)
    for several leases; the moment the first server is killed, within one lease, the key is free."""
    async with crash_site(tmp_path) as site:
        first = await site.start(hold="record")
        second = await site.start()
        async with second.client() as client, site.session() as session:
            e = await polls.estate(session)
            poll = await polls.opened(client, e.c, e.committee)
        url = f"/api/v1/communities/{e.c.id}/polls/{poll['id']}/ballots"
        content = _json({"choices": [polls.option_ids(poll)[0]]})
        headers = {**f.auth(e.owners[0]), "Content-Type": "application/json", "Idempotency-Key": "vote-long-8e1f"}
        async with first.client() as held, second.client() as client:
            flying = asyncio.ensure_future(held.post(url, content=content, headers=headers))
            await first.logged("holding an answer")
            deadline = time.monotonic() + 3 * LEASE
            while time.monotonic() < deadline:
                assert _in_progress(await client.post(url, content=content, headers=headers))
                await asyncio.sleep(0.2)
            first.kill()
            await asyncio.gather(flying, return_exceptions=True)
            killed = time.monotonic()
            r = await until_answered(client, url, content, headers, within=LEASE + 1)
            assert time.monotonic() - killed < LEASE + 1 and not _in_progress(r)
