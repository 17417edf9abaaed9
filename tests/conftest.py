"""The real app over HTTP against a real, migrated database.

SQLite by default; PostgreSQL when WUGONG_TEST_DATABASE_URL is given (CI runs both). The schema
comes from Alembic, as in production. Each test starts from empty tables (emptied after each
test), so tests may commit, and concurrent requests really race.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

_tmp = Path(tempfile.mkdtemp(prefix="wugong-test-"))
os.environ["WUGONG_ENV"] = "test"
os.environ["WUGONG_SMS_BACKEND"] = "memory"
os.environ["WUGONG_SECRET_KEY"] = "test-secret-key-not-for-production-0123456789"
os.environ["WUGONG_DATA_DIR"] = str(_tmp)
os.environ["WUGONG_DATABASE_URL"] = os.environ.get("WUGONG_TEST_DATABASE_URL") or f"sqlite+aiosqlite:///{_tmp}/test.db"
os.environ.pop("WUGONG_PUBLIC_BASE_URL", None)
os.environ["WUGONG_SWEEP_SECONDS"] = "0"  # no background sweep: tests run it when they mean to
if os.environ.get("WUGONG_TEST_REDIS_URL"):
    os.environ["WUGONG_REDIS_URL"] = os.environ["WUGONG_TEST_REDIS_URL"]
else:
    os.environ.pop("WUGONG_REDIS_URL", None)

import httpx  # noqa: E402
import pytest  # noqa: E402
import uvicorn  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker  # noqa: E402

from app.core import db  # noqa: E402
from app.core.config import get_settings  # noqa: E402
from app.core.migrate import upgrade  # noqa: E402
from app.main import create_app  # noqa: E402
from app.models import Base  # noqa: E402
from app.points import guard as ledger_guard  # noqa: E402

DATABASE_URL = os.environ["WUGONG_DATABASE_URL"]
IS_PG = DATABASE_URL.startswith("postgresql")


async def _reset_schema() -> None:
    engine = db.make_engine(DATABASE_URL)
    async with engine.begin() as conn:
        if IS_PG:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(scope="session")
async def app():  # type: ignore[no-untyped-def]
    await _reset_schema()
    import asyncio

    await asyncio.to_thread(upgrade, DATABASE_URL)
    db.init_engine(DATABASE_URL)
    application = create_app(get_settings())
    yield application
    await db.dispose_engine()


@pytest.fixture(autouse=True)
async def _clean_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "app" not in request.fixturenames:
        return
    async with db.get_engine().begin() as conn:
        # DELETE, children first, is several times faster than TRUNCATE for small tables.
        if not IS_PG:
            await conn.execute(text("PRAGMA defer_foreign_keys=ON"))
        # The points ledger refuses DELETE unless this transaction unlocks it (app/points/guard.py).
        async with ledger_guard.unlocked(conn, "tests: empty the tables between tests"):
            for table in reversed(Base.metadata.sorted_tables):
                if table.name != ledger_guard.UNLOCKS_TABLE:
                    await conn.execute(table.delete())
    from app.accounts.sms import memory_outbox

    memory_outbox().outbox.clear()


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def session(app) -> AsyncIterator[AsyncSession]:  # type: ignore[no-untyped-def]
    """A session for arranging data (committed by the factories) and checking what was stored."""
    # Deferred BEGIN on SQLite: the test's own reads must not hold the write lock while the
    # app, on other connections, writes (WAL lets both go on).
    engine = db.get_engine().execution_options(sqlite_deferred=True)
    async with async_sessionmaker(engine, expire_on_commit=False, autoflush=False)() as s:
        yield s


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Ctrl-C belongs to pytest, not to the server under test.
        yield


@pytest.fixture(scope="session")
async def live_server(app: Any) -> AsyncIterator[str]:
    """The app served by uvicorn on 127.0.0.1, on the test session's own loop (browser tests, and
    commands that speak HTTP to a server)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # lifespan off: the app fixture owns the engine, and the app's shutdown would dispose it.
    config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False, ws="none")
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task
    sock.close()
