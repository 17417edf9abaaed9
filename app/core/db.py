"""Engine, sessions and the declarative base.

One session per request, committed in one place (``session_dependency``); services only flush.
SQLite runs in WAL mode with foreign keys on; PostgreSQL goes through asyncpg.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from sqlalchemy import DateTime, MetaData, String, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from app.core import clock
from app.core.errors import AppError
from app.core.ids import new_id

try:
    import fcntl
except ImportError:  # not on Windows
    fcntl = None  # type: ignore[assignment]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always hands back an aware datetime, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else clock.aware(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class IdMixin:
    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


_engine: AsyncEngine | None = None
_sessionmaker: async_sessionmaker[AsyncSession] | None = None


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if ":memory:" not in url:
        # Connections beyond pool_size are closed when handed back, and a new connection costs a
        # PostgreSQL backend process, or on SQLite a thread and the pragmas: keep enough for the
        # requests a busy worker has in flight. On SQLite each connection is a thread contending
        # for the GIL: fewer, and never closed, serve a burst of requests better.
        sqlite = url.startswith("sqlite")
        kwargs.setdefault("pool_size", 15 if sqlite else 30)
        kwargs.setdefault("max_overflow", 0 if sqlite else 10)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            # What is deleted or overwritten is zeroed in the file, not left in free space: a
            # secret poll's key and sealed ballots are erased at its close (app/polls/secrecy.py).
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Writers take the write lock at BEGIN so concurrent writers queue (busy_timeout)
            # instead of failing when a read transaction upgrades; read-only requests ask
            # for a deferred BEGIN and never wait on writers (WAL).
            options = conn.get_execution_options()
            if options.get("sqlite_autocommit"):
                return  # every statement its own transaction
            conn.exec_driver_sql("BEGIN" if options.get("sqlite_deferred") else "BEGIN IMMEDIATE")

        # pysqlite's own transaction handling would fight the explicit BEGIN above.
        @event.listens_for(engine.sync_engine, "connect", insert=True)
        def _sqlite_autocommit(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        return engine
    # No ping before every checkout: it is a round trip per request (~0.35 ms of CPU). A connection
    # that died (the database restarted) fails its one statement, and SQLAlchemy then replaces the
    # whole pool; the phone's retry (Idempotency-Key) goes through. Old connections are recycled.
    kwargs.setdefault("pool_recycle", 1800)
    return create_async_engine(url, **kwargs)


def init_engine(url: str, **kwargs: Any) -> AsyncEngine:
    global _engine, _sessionmaker
    _engine = make_engine(url, **kwargs)
    _sessionmaker = async_sessionmaker(_engine, expire_on_commit=False, autoflush=False)
    return _engine


def get_engine() -> AsyncEngine:
    if _engine is None:
        raise RuntimeError("database engine not initialised")
    return _engine


def sessionmaker() -> async_sessionmaker[AsyncSession]:
    if _sessionmaker is None:
        raise RuntimeError("database engine not initialised")
    return _sessionmaker


async def dispose_engine() -> None:
    global _engine, _sessionmaker
    if _engine is not None:
        await _engine.dispose()
    _engine = None
    _sessionmaker = None


def insert_for(dialect: Dialect) -> Callable[..., Any]:
    """The dialect's INSERT, which knows ``ON CONFLICT DO NOTHING``: PostgreSQL's or SQLite's."""
    return pg_insert if dialect.name == "postgresql" else sqlite_insert


_turns: dict[str, int] = {}  # lock file descriptors, by database file
_turn_in_process: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None


@asynccontextmanager
async def writers_turn() -> AsyncIterator[None]:
    """Around a group committer's transaction (app/core/group_commit.py): on SQLite, where one
    writer at a time holds the database, the committers take turns, first within the process (an
    asyncio lock), then, on a file, between processes (a file lock beside the database). SQLite's
    own wait for its lock sleeps in steps (1, 2, 5, 10 … ms) and retries, holding a connection and
    leaving the machine idle between writes; a lock wakes the next writer the moment the last one
    is done. On PostgreSQL nothing: row locks order the writers there."""
    global _turn_in_process
    if get_engine().dialect.name != "sqlite":
        yield
        return
    loop = asyncio.get_running_loop()
    if _turn_in_process is None or _turn_in_process[0] is not loop:
        _turn_in_process = (loop, asyncio.Lock())
    async with _turn_in_process[1], _file_turn(get_engine().url.database):
        yield


@asynccontextmanager
async def _file_turn(database: str | None) -> AsyncIterator[None]:
    if not database or database == ":memory:" or fcntl is None:
        yield
        return
    fd = _turns.get(database)
    if fd is None:
        fd = _turns[database] = os.open(f"{database}.writers", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free: no thread needed
    except BlockingIOError:  # another process is writing: wait for it in a thread
        taking = asyncio.ensure_future(asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX))
        try:
            await asyncio.shield(taking)
        except asyncio.CancelledError:  # the thread still gets the lock: hand it straight back
            taking.add_done_callback(lambda _: fcntl.flock(fd, fcntl.LOCK_UN))
            raise
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


async def scrub(tables: tuple[str, ...], engine: AsyncEngine | None = None) -> bool:
    """Leave nothing deleted from ``tables`` in the database's files. SQLite zeroes deleted rows
    (secure_delete) but the WAL still holds the pages as they were until a checkpoint truncates it;
    PostgreSQL keeps dead row versions in the table's pages until it is rewritten. False when it
    could not be done now (a reader on an old snapshot, a lock held): the caller tries again later.
    On PostgreSQL the old row versions may also live in WAL segments until they are recycled, and
    in any WAL archive: keep none longer than you would keep the data itself."""
    engine = engine or get_engine()
    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            await conn.execution_options(sqlite_autocommit=True)
            await conn.exec_driver_sql("PRAGMA busy_timeout=200")
            try:
                row = (await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).first()
            finally:
                await conn.exec_driver_sql("PRAGMA busy_timeout=30000")
            return row is not None and row[0] == 0
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        try:
            await conn.exec_driver_sql("SET lock_timeout = '2s'")
            for table in tables:
                await conn.exec_driver_sql(f"VACUUM FULL {table}")
        except DBAPIError:
            return False
        finally:
            await conn.exec_driver_sql("RESET lock_timeout")
        return True


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def reads_first(endpoint: Any) -> Any:
    """Mark a write endpoint that reads first and hands its common write to a group committer
    (app/polls/appender.py): its session begins as a reader, so on SQLite it does not hold the
    write lock the committer needs; anything else it writes comes after ``begin_writing``."""
    endpoint.wugong_reads_first = True
    return endpoint


async def begin_reading(session: AsyncSession, *, autocommit: bool = False) -> None:
    """Start ``session`` as a reader: on SQLite a deferred BEGIN, which never waits on writers (WAL).
    ``autocommit``: no transaction at all, each statement on its own (two round trips fewer), for a
    request that reads a row or two before handing its write on."""
    session.info["reading"] = True
    if get_engine().dialect.name == "sqlite":
        # Not SQLAlchemy's AUTOCOMMIT level here: switching pysqlite's mode costs a PRAGMA each way.
        await session.connection(execution_options={"sqlite_autocommit" if autocommit else "sqlite_deferred": True})
    elif autocommit:
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def is_reading(session: AsyncSession) -> bool:
    """True while ``session`` has written nothing since ``begin_reading``."""
    return bool(session.info.get("reading"))


async def hand_back(session: AsyncSession) -> None:
    """A reading session about to wait (on a group committer) gives its connection back to the
    pool, so that waiting requests can never hold every connection the committer needs. Its
    transaction wrote nothing; a later statement begins another."""
    if session.in_transaction():
        await session.commit()


async def begin_writing(session: AsyncSession) -> None:
    """Before a reading session's first write: the reading ends (it wrote nothing) and the next
    statement begins a transaction of its own, which on SQLite takes the write lock at once
    (upgrading a read snapshot can fail when another writer committed meanwhile)."""
    if session.info.pop("reading", False):
        await session.commit()


COMMITS_WITH_ANSWER = "wugong.commits_with_answer"
"""Scope key: set by the Idempotency-Key middleware (app/core/idempotency.py) to a callable that
takes a request's session that wrote, to commit it together with the request's recorded answer once
the answer is known, so that a crash leaves both or neither."""


async def session_dependency(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's one session: committed when the handler returns, rolled back on error; under an
    Idempotency-Key committed by the middleware instead, with the answer."""
    session = sessionmaker()()
    handed_over = False
    try:
        if getattr(request.scope.get("endpoint"), "wugong_reads_first", False):
            await begin_reading(session, autocommit=True)
        elif request.method in READ_METHODS:
            await begin_reading(session)
        try:
            yield session
            take = request.scope.get(COMMITS_WITH_ANSWER)
            if take is not None and session.in_transaction() and not is_reading(session):
                take(session)
                handed_over = True
            else:
                await session.commit()
        except AppError as exc:
            # A refusal changes nothing, except where the refusal is itself a fact to keep
            # (a wrong one-time code counts towards the lock; a reused refresh token revokes).
            if exc.keep_changes:
                await session.commit()
            else:
                await session.rollback()
            raise
        except BaseException:
            await session.rollback()
            raise
    finally:
        if not handed_over:
            await session.close()


@asynccontextmanager
async def read_session() -> AsyncIterator[AsyncSession]:
    """A session for reading outside a request (live counts): never waits on SQLite writers."""
    async with sessionmaker()() as session:
        await begin_reading(session)
        yield session
