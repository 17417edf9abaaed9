"""``wugong backup`` and ``wugong restore``, taken while a real server answers a burst of writes.

A server runs in a subprocess (``wugong serve``) on a data directory and database of its own, never
the test database. Residents vote, and change their votes, in an open secret poll, and others report
issues with photos, over HTTP, while ``wugong backup`` runs as an operator runs it; ``wugong restore``
puts the backup into a fresh data directory and database. On SQLite by default; on PostgreSQL, in
databases named after the test database, when WUGONG_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from app.cli import cli as wugong
from app.communities.models import Community
from app.core import backup as backups
from app.core import db
from app.core.config import Settings, get_settings
from app.core.migrate import alembic_config, upgrade
from app.core.models import Upload
from app.polls import verify
from tests import factories as f
from tests.conftest import DATABASE_URL, IS_PG
from tests.issues import support as issues
from tests.polls import adversary
from tests.polls import support as polls

ROOT = Path(__file__).resolve().parent.parent
VOTERS = 12
REPORTERS = 2
_places = itertools.count(1)


# --- places: a data directory and a database of their own ------------------------------------------

@dataclass
class Place:
    data_dir: Path
    url: str
    secret_key: str = field(default_factory=lambda: os.environ["WUGONG_SECRET_KEY"])

    def env(self, **over: str) -> dict[str, str]:
        return {**os.environ, "WUGONG_DATA_DIR": str(self.data_dir), "WUGONG_DATABASE_URL": self.url,
                "WUGONG_SECRET_KEY": self.secret_key, "WUGONG_UPLOAD_RATE_LIMIT": "", **over}  # a burst of photos

    def settings(self) -> Settings:
        return Settings(data_dir=self.data_dir, database_url=self.url, secret_key=self.secret_key)

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        engine = db.make_engine(self.url, pool_size=1, max_overflow=0).execution_options(sqlite_deferred=True)
        try:
            async with async_sessionmaker(engine, expire_on_commit=False, autoflush=False)() as session:
                yield session
        finally:
            await engine.dispose()


async def _admin(statement: str) -> None:
    engine = create_async_engine(DATABASE_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def new_place(root: Path) -> AsyncIterator[Place]:
    """A fresh data directory, with a SQLite file in it or, on PostgreSQL, a new empty database."""
    n = next(_places)
    data_dir = root / f"place{n}"
    if not IS_PG:
        yield Place(data_dir, f"sqlite+aiosqlite:///{data_dir}/wugong.db")
        return
    name = f"{make_url(DATABASE_URL).database}_{n}"
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        yield Place(data_dir, make_url(DATABASE_URL).set(database=name).render_as_string(hide_password=False))
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def run_wugong(place: Place, *args: str, **env: str) -> tuple[int, str, str]:
    """``wugong ARGS`` in a subprocess, as an operator runs it, on ``place``."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.cli", *args, cwd=ROOT, env=place.env(**env), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True)
    out, err = await asyncio.wait_for(proc.communicate(), 180)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@contextlib.asynccontextmanager
async def serving(place: Place) -> AsyncIterator[httpx.AsyncClient]:
    """``wugong serve`` on ``place`` in a subprocess, and a client of it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    place.data_dir.parent.mkdir(parents=True, exist_ok=True)
    log_path = place.data_dir.parent / f"{place.data_dir.name}-server.log"
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-access-log", cwd=ROOT,
            env=place.env(), stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT,
            start_new_session=True)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                for _ in range(1200):
                    assert proc.returncode is None, f"the server stopped: {log_path.read_text()}"
                    with contextlib.suppress(httpx.TransportError):
                        if (await client.get("/readyz")).status_code == 200:
                            break
                    await asyncio.sleep(0.05)
                else:
                    raise AssertionError(f"the server did not start: {log_path.read_text()}")
                yield client
        finally:
            if proc.returncode is None:
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 30)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()


# --- the burst ----------------------------------------------------------------------------------------

@dataclass
class Burst:
    root: Path
    source: Place
    restored: Place  # the backup as `wugong restore` put it, untouched since
    backup: Path
    restore_result: tuple[int, str, str]
    began: float  # loop time just before `wugong backup` started
    ended: float  # loop time when it had finished
    community: Community
    committee: Any
    poll_id: str
    ballots: list[tuple[float, str]]  # (answered at, receipt), every ballot the server accepted
    spot: issues.Place
    reports: list[tuple[float, dict[str, Any]]]  # (answered at, the issue as answered)
    photos: dict[str, bytes]  # photo path → bytes as the source served them, for reports before the backup

    def before(self, acked: list[tuple[float, Any]]) -> list[Any]:
        return [x for at, x in acked if at < self.began]

    def during(self, acked: list[tuple[float, Any]]) -> list[Any]:
        return [x for at, x in acked if self.began < at < self.ended]


@pytest.fixture(scope="module")
async def burst(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Burst]:
    root = tmp_path_factory.mktemp("backup")
    async with new_place(root) as source, new_place(root) as restored:
        async with serving(source) as client:
            async with source.session() as session:
                estate = await polls.estate(session, areas=["80.00"] * VOTERS)
                spot = await issues.place(client, session, name="李家墩村")
            poll = await polls.opened(client, estate.c, estate.committee, electorate="residents")
            options = polls.option_ids(poll)
            loop = asyncio.get_running_loop()
            stop = asyncio.Event()
            ballots: list[tuple[float, str]] = []
            voted: set[int] = set()
            reports: list[tuple[float, dict[str, Any]]] = []

            async def voter(i: int, who: Any) -> None:
                receipt, n = None, 0
                while not stop.is_set():
                    body: dict[str, Any] = {"choices": [options[(i + n) % 2]]}
                    if receipt:
                        body["receipt"] = receipt  # a change of mind: a new ballot supersedes the last
                    r = await client.post(polls.url(estate.c, poll["id"], "/ballots"), headers=f.auth(who), json=body)
                    assert r.status_code == 201, r.text
                    receipt, n = r.json()["receipt"], n + 1
                    ballots.append((loop.time(), receipt))
                    voted.add(i)

            async def reporter(who: Any) -> None:
                while not stop.is_set():
                    photo = await issues.photo(client, spot.c, who)
                    issue = await issues.report(client, spot, who, photo_ids=[photo],
                                                title=f"楼道灯坏了 {len(reports)}")
                    reports.append((loop.time(), issue))

            # A long read (an export, an operator's sqlite3 shell) holds SQLite's checkpoint back, so the
            # burst's writes stay in the WAL: a copy of the database file would miss them, a snapshot must not.
            held = None if IS_PG else sqlite3.connect(make_url(source.url).database or "")
            if held is not None:
                held.execute("BEGIN")
                held.execute("SELECT count(*) FROM polls").fetchone()
            tasks = [asyncio.create_task(voter(i, who)) for i, who in enumerate(estate.owners)]
            tasks += [asyncio.create_task(reporter(who)) for who in (spot.resident, spot.neighbour)[:REPORTERS]]
            backup = root / "backup-1"
            try:
                while len(voted) < VOTERS or len(ballots) < 3 * VOTERS or len(reports) < 3:  # a burst under way
                    if failed := [t for t in tasks if t.done()]:
                        failed[0].result()
                    await asyncio.sleep(0.01)
                began = loop.time()
                code, out, err = await run_wugong(source, "backup", str(backup))
                ended = loop.time()
            finally:
                stop.set()
                await asyncio.gather(*tasks)
                if held is not None:
                    held.close()
            assert code == 0, err
            assert f"Backup written to {backup}" in out and "keep it apart" in out
            photos: dict[str, bytes] = {}
            for at, issue in reports:
                for photo in (issue["photos"] if at < began else []):
                    for url in (photo["url"], photo["thumb_url"]):
                        got = await client.get(url)
                        assert got.status_code == 200
                        photos[urlsplit(url).path] = got.content
        result = await run_wugong(restored, "restore", str(backup))
        yield Burst(root, source, restored, backup, result, began, ended, estate.c, estate.committee, poll["id"],
                    ballots, spot, reports, photos)


def restored_database_path(burst: Burst) -> str:
    """The database as `wugong restore` made it from the backup taken during the burst, untouched
    since (no test writes to it): the SQLite file's path, or on PostgreSQL the database's URL. For
    checking that the backup links no voter to a choice."""
    return burst.restored.url if IS_PG else str(make_url(burst.restored.url).database)


# --- what a restore holds --------------------------------------------------------------------------------

async def test_a_backup_taken_during_a_burst_restores_every_acknowledged_write(burst: Burst) -> None:
    code, out, err = burst.restore_result
    assert code == 0, err
    assert "Restored the backup" in out and "Warning" not in err
    # The writes went on while the backup ran: some answered before it began, some while it ran.
    receipts, reported = burst.before(burst.ballots), burst.before(burst.reports)
    assert len(receipts) >= VOTERS and len(reported) >= 2
    assert burst.during(burst.ballots) and burst.during(burst.reports)

    async with serving(burst.restored) as client:
        # Every ballot answered before the backup began is in the restored chain, as its voter's receipt proves.
        for i in range(0, len(receipts), 25):
            found = await asyncio.gather(*(client.get(f"/api/v1/receipts/{r}") for r in receipts[i:i + 25]))
            assert all(r.status_code == 200 and r.json()["found"] for r in found), [r.text for r in found]
        # Every issue reported before it began is there, with its photos, served byte for byte.
        for issue in reported:
            r = await client.get(f"/api/v1/communities/{burst.spot.c.id}/issues/{issue['id']}",
                                 headers=f.auth(burst.spot.committee))
            assert r.status_code == 200, r.text
            assert [p["id"] for p in r.json()["photos"]] == [p["id"] for p in issue["photos"]]
            for photo in r.json()["photos"]:
                for url in (photo["url"], photo["thumb_url"]):
                    got = await client.get(url)
                    assert got.status_code == 200 and got.content == burst.photos[urlsplit(url).path], url

    async with burst.restored.session() as session:
        # The open poll's chain verifies from its public download.
        report = verify.verify_download(await verify.download_from_db(session, burst.poll_id))
        assert report.ok, report.lines
        # Every photo any restored row names is in the restored media, not only the ones checked above.
        media = burst.restored.settings().media_dir
        uploads = (await session.execute(select(Upload.key, Upload.thumb_key, Upload.size_bytes))).all()
        assert len(uploads) >= len(burst.before(burst.reports))
        for key, thumb_key, size in uploads:
            assert (media / key).stat().st_size == size and (media / thumb_key).is_file(), key


async def test_the_backup_links_no_voter_to_a_choice(burst: Burst, tmp_path: Path) -> None:
    """Taken while a secret poll was open, the backup holds who voted, never what: no choice in the
    clear in any table, only sealed ballots, whose key is itself sealed under the server's secret key,
    which is not in the backup (with it, a backup is worth what the running server is)."""
    engine = create_async_engine(restored_database_path(burst) if IS_PG else burst.restored.url, poolclass=NullPool)
    try:
        copy = await adversary.take_copy(tmp_path / "restored", engine)
    finally:
        await engine.dispose()
    options = {str(r["id"]) for r in copy.tables["poll_options"] if r["poll_id"] == burst.poll_id}
    assert len(options) == 2
    assert adversary.choice_rows(copy.tables, options) == {}
    assert all(adversary.choice_rows(state, options) == {} for state in copy.wal_states)
    assert adversary.opened_with_secret_key(copy, "another-secret-key-" + "0" * 32, burst.poll_id) == 0
    assert adversary.opened_with_secret_key(copy, burst.source.secret_key, burst.poll_id) > 0
    secret = burst.source.secret_key.encode()
    for path in burst.backup.rglob("*"):
        assert path.is_dir() or secret not in path.read_bytes(), path


async def test_the_restored_poll_closes_and_its_count_verifies(burst: Burst) -> None:
    async with new_place(burst.root) as live:
        await asyncio.to_thread(backups.restore_backup, live.settings(), burst.backup)
        async with serving(live) as client:
            closed = await polls.close(client, burst.community, burst.committee, burst.poll_id)
            assert closed["status"] in ("closed", "notice")
        async with live.session() as session:
            download = await verify.download_from_db(session, burst.poll_id)
    report = verify.verify_download(download)
    assert report.ok, report.lines
    assert download["result"] is not None and any("recount matches" in line for line in report.lines)
    assert download["turnout"]["voted"] == VOTERS


async def test_the_manifest_describes_the_backup_and_not_the_secret_key(burst: Burst) -> None:
    manifest = backups.check_backup(burst.backup)
    assert manifest["format"] == "wugong-backup/1"
    assert manifest["engine"] == ("postgresql" if IS_PG else "sqlite")
    assert manifest["schema_revision"] == _head()
    assert manifest["tables"]["polls"] == 1 and manifest["tables"]["alembic_version"] == 1
    assert manifest["tables"]["issues"] >= len(burst.before(burst.reports))
    media = [name for name in manifest["files"] if name.startswith("media/")]
    assert manifest["media"]["files"] == len(media) >= 2 * len(burst.before(burst.reports))
    assert manifest["media"]["bytes"] == sum(manifest["files"][name]["bytes"] for name in media)
    raw = (burst.backup / "manifest.json").read_text()
    assert burst.source.secret_key not in raw
    assert manifest["secret_key_fingerprint"] == backups.key_fingerprint(burst.source.secret_key)
    checked = CliRunner().invoke(wugong, ["restore", "--check", str(burst.backup)])
    assert checked.exit_code == 0 and "is whole" in checked.stdout, checked.output


# --- refusals ------------------------------------------------------------------------------------------

def _tamper(copy: Path, how: str) -> None:
    media = sorted(p for p in (copy / "media").rglob("*") if p.is_file())
    database = copy / ("database.pgdump" if IS_PG else "database.sqlite3")
    if how == "photo changed":
        media[0].write_bytes(media[0].read_bytes()[:-1] + b"\0")
    elif how == "database changed":
        with database.open("r+b") as fh:
            fh.seek(database.stat().st_size // 2)
            byte = fh.read(1)
            fh.seek(-1, os.SEEK_CUR)
            fh.write(bytes([byte[0] ^ 1]))
    elif how == "photo removed":
        media[0].unlink()
    elif how == "file added":
        (copy / "media" / "extra.jpg").write_bytes(b"not ours")
    elif how == "path outside":
        manifest = json.loads((copy / "manifest.json").read_text())
        manifest["files"]["media/../../outside.txt"] = {"sha256": "0" * 64, "bytes": 0}
        (copy / "manifest.json").write_text(json.dumps(manifest))
    elif how == "no manifest":
        (copy / "manifest.json").unlink()


@pytest.mark.parametrize(("how", "said"), [
    ("photo changed", "does not match its SHA-256"),
    ("database changed", "does not match its SHA-256"),
    ("photo removed", "is incomplete"),
    ("file added", "does not list"),
    ("path outside", "not a file inside a backup"),
    ("no manifest", "not a Wugong backup"),
])
async def test_a_tampered_backup_is_refused_and_nothing_is_restored(burst: Burst, how: str, said: str) -> None:
    copy = burst.root / f"tampered-{how.replace(' ', '-')}"
    shutil.copytree(burst.backup, copy)
    _tamper(copy, how)
    async with new_place(burst.root) as target:
        with pytest.raises(backups.BackupError, match=said):
            await asyncio.to_thread(backups.restore_backup, target.settings(), copy)
        assert not (target.data_dir / "media").exists() or not any((target.data_dir / "media").iterdir())
        if not IS_PG:
            assert not (target.data_dir / "wugong.db").exists()
        else:
            async with target.session() as session:
                assert (await session.execute(text(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"))).scalar_one() == 0
    checked = CliRunner().invoke(wugong, ["restore", "--check", str(copy)])
    assert checked.exit_code == 1 and said in checked.stderr


async def test_a_backup_never_overwrites_and_leaves_no_partial_directory(burst: Burst, tmp_path: Path) -> None:
    before = backups.check_backup(burst.backup)
    with pytest.raises(backups.BackupError, match="already exists"):
        await asyncio.to_thread(backups.take_backup, burst.source.settings(), burst.backup)
    assert backups.check_backup(burst.backup) == before
    # A backup that fails on the way leaves nothing behind.
    missing = Place(tmp_path / "nothing-here", f"sqlite+aiosqlite:///{tmp_path}/nothing-here/wugong.db")
    with pytest.raises(backups.BackupError, match="no database"):
        await asyncio.to_thread(backups.take_backup, missing.settings(), tmp_path / "failed")
    # An empty directory made ready for the backup is filled.
    (tmp_path / "ready").mkdir()
    await asyncio.to_thread(backups.take_backup, burst.source.settings(), tmp_path / "ready")
    taken = backups.check_backup(tmp_path / "ready")
    assert taken["tables"].keys() == before["tables"].keys() and taken["created_at"] > before["created_at"]
    assert sorted(os.listdir(tmp_path)) == ["ready"]


async def test_restore_refuses_a_database_that_is_not_empty_unless_forced(burst: Burst) -> None:
    async with new_place(burst.root) as target:
        await asyncio.to_thread(backups.restore_backup, target.settings(), burst.backup)
        async with target.session() as session:
            await f.community(session, name="恢复后新建的社区")
        with pytest.raises(backups.BackupError, match=r"is not empty.*--force"):
            await asyncio.to_thread(backups.restore_backup, target.settings(), burst.backup)
        async with target.session() as session:
            assert await _count_communities(session) == 3  # refused: nothing changed
        restored = await asyncio.to_thread(backups.restore_backup, target.settings(), burst.backup, force=True)
        assert restored.migrated_from is None and restored.key_matches
        async with target.session() as session:
            assert await _count_communities(session) == 2


async def test_restore_migrates_an_older_schema_and_refuses_a_newer_one(burst: Burst) -> None:
    previous = _previous_revision()
    async with new_place(burst.root) as old, new_place(burst.root) as target:
        old.data_dir.mkdir(parents=True)
        await asyncio.to_thread(upgrade, old.url, previous)
        await asyncio.to_thread(backups.take_backup, old.settings(), burst.root / "backup-old")
        newer = burst.root / "backup-newer"
        shutil.copytree(burst.root / "backup-old", newer)
        manifest = json.loads((newer / "manifest.json").read_text())
        manifest["schema_revision"] = "9999"
        (newer / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(backups.BackupError, match="newer than this version of Wugong knows"):
            await asyncio.to_thread(backups.restore_backup, target.settings(), newer)

        restored = await asyncio.to_thread(backups.restore_backup, target.settings(), burst.root / "backup-old")
        assert restored.migrated_from == previous and restored.head == _head()
        async with target.session() as session:
            assert (await session.execute(text("SELECT version_num FROM alembic_version"))).scalar_one() == _head()


async def test_restore_under_another_secret_key_warns_what_that_means(burst: Burst) -> None:
    async with new_place(burst.root) as target:
        target.secret_key = "another-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
        code, out, err = await run_wugong(target, "restore", str(burst.backup))
    assert code == 0, err
    assert "Restored the backup" in out
    assert "another secret key" in err and "open secret poll" in err
    assert backups.key_fingerprint(burst.source.secret_key) in err
    assert backups.key_fingerprint(target.secret_key) in err


async def test_pg_dump_missing_or_too_old_is_a_clear_error(burst: Burst, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    nowhere = Settings(data_dir=tmp_path / "data", database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none",
                       secret_key="x" * 40)
    with pytest.raises(backups.BackupError, match="pg_dump is not installed"):
        await asyncio.to_thread(backups.take_backup, nowhere, tmp_path / "b")
    if IS_PG:  # a pg_dump older than the server
        old = tmp_path / "pg_dump"
        old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
        old.chmod(0o755)
        with pytest.raises(backups.BackupError, match=r"pg_dump 9 cannot dump a PostgreSQL \d+ server"):
            await asyncio.to_thread(backups.take_backup, burst.source.settings(), tmp_path / "b")
    assert sorted(os.listdir(tmp_path)) == (["pg_dump"] if IS_PG else [])  # no partial backups


# --- helpers -------------------------------------------------------------------------------------------

def _head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(get_settings().database_url)).get_current_head() or ""


def _previous_revision() -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(get_settings().database_url))
    down = script.get_revision(_head()).down_revision
    assert isinstance(down, str)
    return down


async def _count_communities(session: AsyncSession) -> int:
    return len((await session.execute(select(Community.id))).all())
