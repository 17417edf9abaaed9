"""A real server in a subprocess, on a database of its own, loaded with the demo street.

The contract tests speak to it over HTTP as outside clients do (schemathesis, the authorization
matrix). It runs apart from the test session's event loop and its database: on SQLite a file in a
temporary folder, on PostgreSQL a database of its own named after WUGONG_TEST_DATABASE_URL's. The
demo (app/demo.py) gives it a community with people in every role and objects of every kind.
Tokens are minted here with the server's secret, afresh for each request, so that a fuzzed
"sign out everywhere" does not lock the tests out.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app import demo
from app.core import db
from app.core.security import create_access_token
from app.models import Base

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 120

# The people of the demo the tests act as, by what they are to the compound 幸福里社区.
PEOPLE = {
    "committee": demo.COMMITTEE.phone,
    "resident": demo.RESIDENT.phone,
    "handler": demo.HANDLER.phone,
    "grid_worker": demo.GRID_WORKER.phone,
    "other_committee": demo.VILLAGE_COMMITTEE.phone,  # the committee of the village next door
}


@dataclass
class DemoServer:
    url: str
    database_url: str
    log: Path
    engine: AsyncEngine
    community_id: str  # the compound
    people: dict[str, str] = field(default_factory=dict)  # who -> person id

    def headers(self, who: str | None, lang: str = "en") -> dict[str, str]:
        """Headers of a request by ``who`` (None: signed out), with a token minted just now."""
        headers = {"Accept-Language": lang}
        if who is not None:
            headers["Authorization"] = f"Bearer {create_access_token(self.people[who])[0]}"
        return headers

    def server_errors(self) -> str:
        """The unhandled errors the server logged (answered 500): where, and the exception, once each."""
        seen: dict[str, None] = {}
        for block in self.log.read_text(errors="replace").split("ERROR wugong: unhandled error on ")[1:]:
            lines = block.splitlines()
            exception = next((line for line in reversed(lines) if re.match(r"^[\w.]+(Error|Exception)\b", line)), "")
            seen[f"{lines[0]}\n    {exception[:300]}"] = None
        return "\n".join(seen)

    async def digest(self) -> str:
        """Every row of every table, hashed: equal digests mean nothing was written."""
        h = hashlib.sha256()
        async with self.engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                rows = (await conn.execute(select(table).order_by(*table.primary_key.columns))).all()
                h.update(f"{table.name}:{len(rows)}:".encode())
                for row in rows:
                    h.update(repr(tuple(row)).encode())
        return h.hexdigest()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _fresh_postgres_database(url: str) -> None:
    admin = create_async_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = make_url(url).database
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
        # A throwaway database need not wait for the disk on every commit (as in CI).
        await conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit TO off'))
    await admin.dispose()


async def _drop_postgres_database(url: str) -> None:
    admin = create_async_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    await admin.dispose()


async def start_demo_server(folder: Path, name: str) -> AsyncIterator[DemoServer]:
    """Migrate a database of its own, load the demo, serve it; stop and drop it afterwards."""
    test_pg = os.environ.get("WUGONG_TEST_DATABASE_URL")
    if test_pg:
        database_url = make_url(test_pg).set(database=f"{make_url(test_pg).database}_{name}")
        database_url_s = database_url.render_as_string(hide_password=False)
        await _fresh_postgres_database(database_url_s)
    else:
        database_url_s = f"sqlite+aiosqlite:///{folder}/wugong.db"
    port = _free_port()
    env = {**os.environ, "WUGONG_DATABASE_URL": database_url_s, "WUGONG_DATA_DIR": str(folder),
           "WUGONG_SWEEP_SECONDS": "0", "WUGONG_SMS_BACKEND": "memory", "WUGONG_ENV": "test"}
    log = folder / "server.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "wugong"), "serve", "--demo", "--port", str(port), "--no-access-log",
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    engine = db.make_engine(database_url_s, pool_size=2, max_overflow=0)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                if process.returncode is not None:
                    pytest.fail(f"the server stopped (exit {process.returncode}):\n{log.read_text(errors='replace')}")
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"the server did not start in {STARTUP_SECONDS}s:\n{log.read_text(errors='replace')}")
                await asyncio.sleep(0.1)
        server = DemoServer(url=url, database_url=database_url_s, log=log, engine=engine, community_id="")
        async with engine.connect() as conn:
            server.community_id = (await conn.execute(
                text("SELECT id FROM communities WHERE name = :n"), {"n": demo.COMPOUND})).scalar_one()
            for who, phone in PEOPLE.items():
                server.people[who] = (await conn.execute(
                    text("SELECT id FROM people WHERE phone = :p"), {"p": phone})).scalar_one()
        yield server
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)  # uvicorn's graceful stop
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
        await engine.dispose()
        if test_pg:
            await _drop_postgres_database(database_url_s)


async def ids_by_kind(server: DemoServer) -> dict[str, list[str]]:
    """Real ids of the compound's objects, by the name a parameter or body field gives them."""
    cid = server.community_id
    queries = {
        "issue_id": "SELECT id FROM issues WHERE community_id = :cid",
        "poll_id": "SELECT id FROM polls WHERE community_id = :cid",
        "member_id": "SELECT id FROM memberships WHERE community_id = :cid",
        "invite_id": "SELECT id FROM invites WHERE community_id = :cid",
        "request_id": "SELECT id FROM join_requests WHERE community_id = :cid",
        "upload_id": "SELECT id FROM uploads WHERE community_id = :cid",
        "objection_id": "SELECT o.id FROM poll_objections o JOIN polls p ON p.id = o.poll_id "
                        "WHERE p.community_id = :cid",
        "building_id": "SELECT id FROM buildings WHERE community_id = :cid",
        "grid_id": "SELECT id FROM grids WHERE community_id = :cid",
        "household_id": "SELECT id FROM households WHERE community_id = :cid",
        "category_id": "SELECT id FROM issue_categories WHERE community_id = :cid",
        "handler_id": "SELECT id FROM issue_handlers WHERE community_id = :cid",
        "elector_id": "SELECT e.id FROM poll_electors e JOIN polls p ON p.id = e.poll_id "
                      "WHERE p.community_id = :cid",
        "option_id": "SELECT o.id FROM poll_options o JOIN polls p ON p.id = o.poll_id WHERE p.community_id = :cid",
        "person_id": "SELECT person_id FROM memberships WHERE community_id = :cid",
        "region_id": "SELECT id FROM regions",
        "community_id": "SELECT id FROM communities",
        "code": "SELECT code FROM invites WHERE community_id = :cid UNION SELECT code FROM short_links",
        "task_id": "SELECT id FROM tasks WHERE community_id = :cid",
        "claim_id": "SELECT id FROM task_claims WHERE community_id = :cid",
    }
    out: dict[str, list[str]] = {}
    async with server.engine.connect() as conn:
        for kind, sql in queries.items():
            rows = (await conn.execute(text(sql), {"cid": cid})).scalars().all()
            out[kind] = sorted(str(r) for r in rows)[:50]
    return out


@pytest.fixture(scope="module")
async def demo_server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
                      ) -> AsyncIterator[DemoServer]:
    """One seeded server for the whole test module."""
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    async for server in start_demo_server(tmp_path_factory.mktemp(name), name):
        yield server

