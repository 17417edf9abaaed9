"""Backups 备份: ``wugong backup DIR`` and ``wugong restore DIR``.

A backup is a directory that holds everything but the secret key:

    manifest.json          what the backup is (format, time, engine, schema revision, rows per
                           table, media totals, the secret key's fingerprint) and the SHA-256
                           of every other file in it
    database.sqlite3       SQLite: a consistent copy made by SQLite's online backup API
    database.pgdump        PostgreSQL: ``pg_dump --format=custom`` of the database
    media/<key>            the uploaded photos, as under ``WUGONG_DATA_DIR/media``

Either is taken while the server keeps writing: SQLite's backup copies one read snapshot (WAL lets
writers go on meanwhile); pg_dump reads one exported snapshot, and the rows are counted in that
same snapshot. A backup is written beside ``DIR`` and renamed to it when complete, so ``DIR``
either holds a whole backup or does not exist; an existing backup is never overwritten.

Restoring checks every file against the manifest before touching anything, refuses a schema newer
than this code knows, fills an empty database (``force``: empties a non-empty one first), checks
the restored row counts, brings an older schema up to date, and puts the media in place.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from app.core import clock, db
from app.core.config import Settings

FORMAT = "wugong-backup/1"
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
MEDIA = "media"
_CHUNK = 1 << 20


class BackupError(Exception):
    """A backup or a restore refused or failed; the message tells the operator what to do."""


@dataclass
class Restored:
    manifest: dict[str, Any]
    migrated_from: str | None  # the backup's schema revision, when migrations brought it up to date
    head: str
    key_matches: bool


def key_fingerprint(secret_key: str) -> str:
    """Tells whether two secret keys are the same without revealing either: 64 bits of a labelled
    SHA-256 (a strong key cannot be guessed back from it)."""
    return hashlib.sha256(b"wugong-secret-key-fingerprint:" + secret_key.encode()).hexdigest()[:16]


# --- taking a backup ------------------------------------------------------------------------------

def take_backup(settings: Settings, target: Path) -> dict[str, Any]:
    """Write a backup of the configured database and media into the new directory ``target``."""
    target = Path(os.path.abspath(target))
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} already exists and is not empty: a backup never overwrites anything. "
                          "Give a new directory (for example one named after today's date).")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=target.parent, prefix=f"{target.name}.partial-"))
    taken_at = clock.now()  # just before the snapshot: every write acknowledged before this is in it
    try:
        files: dict[str, dict[str, Any]] = {}
        if settings.is_sqlite:
            engine_info = _sqlite_snapshot(_sqlite_path(settings), work / SQLITE_FILE)
            files[SQLITE_FILE] = _digest(work / SQLITE_FILE)
        else:
            engine_info = asyncio.run(_pg_snapshot(settings.database_url, work / PG_FILE))
            files[PG_FILE] = _digest(work / PG_FILE)
        # Media after the database, never before: a photo is written to disk before the row that
        # names it is committed (app/core/uploads.py), so every photo a row in the snapshot names
        # is already on disk now. Files that arrived since are copied too, harmlessly unnamed.
        media = _copy_media(settings.media_dir, work / MEDIA)
        files.update(media)
        manifest = {
            "format": FORMAT,
            "created_at": taken_at.isoformat(),
            "wugong_version": _wugong_version(),
            **engine_info,
            "media": {"files": len(media), "bytes": sum(f["bytes"] for f in media.values())},
            "secret_key_fingerprint": key_fingerprint(settings.secret_key),
            "files": files,
        }
        _write_file(work / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
        try:
            # Atomic: ``target`` appears whole or not at all (an empty directory is replaced).
            os.rename(work, target)
        except OSError as exc:
            raise BackupError(f"{target} appeared while the backup was being written; the backup was "
                              "not moved over it. Give a new directory.") from exc
        _fsync_dir(target.parent)
        return manifest
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.database_url).database
    if not database or database == ":memory:":
        raise BackupError("The database is in memory: there is nothing on disk to back up or restore into.")
    return Path(database)


def _sqlite_snapshot(source: Path, out: Path) -> dict[str, Any]:
    if not source.exists():
        raise BackupError(f"There is no database at {source}: nothing to back up (check WUGONG_DATA_DIR).")
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(out)
        try:
            # One step (pages=-1): the whole copy reads one snapshot, while writers go on in the WAL.
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # the copy is one self-contained file
            revision, tables = _sqlite_contents(dst)
        finally:
            dst.close()
    finally:
        src.close()
    _fsync(out)
    return {"engine": "sqlite", "database_file": SQLITE_FILE, "schema_revision": revision, "tables": tables}


def _sqlite_contents(conn: sqlite3.Connection) -> tuple[str, dict[str, int]]:
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name")]
    if "alembic_version" not in names:
        raise BackupError("The database has no schema yet (run `wugong migrate`): nothing to back up.")
    revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    return revision, {n: conn.execute(f"SELECT count(*) FROM {_quote(n)}").fetchone()[0] for n in names}


async def _pg_snapshot(url: str, out: Path) -> dict[str, Any]:
    pg_dump, tool_major = _pg_tool("pg_dump")
    engine = db.make_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            server = conn.dialect.server_version_info or (0,)
            major = int(server[0])
            if tool_major < major:
                raise BackupError(f"pg_dump {tool_major} cannot dump a PostgreSQL {major} server: install "
                                  f"pg_dump {major} or newer (Debian: postgresql-client-{major}).")
            # pg_dump reads the snapshot this transaction exports, and the rows are counted in it, so
            # the manifest's counts describe exactly the dump.
            conn = await conn.execution_options(isolation_level="REPEATABLE READ")
            snapshot = (await conn.execute(text("SELECT pg_export_snapshot()"))).scalar_one()
            conninfo, env = _libpq(url)
            await _run(pg_dump, "--format=custom", "--no-password", f"--snapshot={snapshot}",
                       f"--file={out}", f"--dbname={conninfo}", env=env)
            revision, tables = await _pg_contents(conn)
            await conn.rollback()
    finally:
        await engine.dispose()
    _fsync(out)
    return {"engine": "postgresql", "database_file": PG_FILE, "schema_revision": revision, "tables": tables,
            "server_version": ".".join(map(str, server)), "pg_dump_version": tool_major}


async def _pg_contents(conn: AsyncConnection) -> tuple[str, dict[str, int]]:
    names = list((await conn.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"))).scalars())
    if "alembic_version" not in names:
        raise BackupError("The database has no schema yet (run `wugong migrate`).")
    revision = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
    tables = {n: (await conn.execute(text(f"SELECT count(*) FROM {_quote(n)}"))).scalar_one() for n in names}
    return revision, tables


def _copy_media(media_dir: Path, out: Path) -> dict[str, dict[str, Any]]:
    copied: dict[str, dict[str, Any]] = {}
    if not media_dir.is_dir():
        return copied
    for path in sorted(media_dir.rglob("*")):
        relative = path.relative_to(media_dir)
        # Dot names are the store's half-written temporaries (app/core/storage.py); keys never are.
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        try:
            copied[f"{MEDIA}/{relative.as_posix()}"] = _copy(path, out / relative)
        except FileNotFoundError:  # removed meanwhile (a refused upload's files): no row names it
            continue
    return copied


# --- checking and restoring -----------------------------------------------------------------------

def check_backup(source: Path) -> dict[str, Any]:
    """The manifest of the backup in ``source``, once every file matches it exactly (nothing missing,
    nothing added, every SHA-256 the same)."""
    if not source.is_dir():
        raise BackupError(f"There is no backup at {source}.")
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BackupError(f"{source} is not a Wugong backup: it has no {MANIFEST} (an interrupted backup "
                          "leaves a *.partial-* directory and no manifest).") from exc
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source / MANIFEST} cannot be read: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{source} is not a backup this version of Wugong reads (format {FORMAT}).")
    listed = manifest.get("files")
    if not isinstance(listed, dict) or not all(isinstance(v, dict) for v in listed.values()):
        raise BackupError(f"{source / MANIFEST} does not list the backup's files as it should.")
    for name in listed:
        _check_name(name)
    present = {p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file()} - {MANIFEST}
    if missing := sorted(set(listed) - present):
        raise BackupError(f"The backup is incomplete: {_some(missing)} missing.")
    if extra := sorted(present - set(listed)):
        raise BackupError(f"The backup holds files its manifest does not list: {_some(extra)}. Refused.")
    if manifest.get("database_file") not in listed:
        raise BackupError("The backup's manifest names no database file.")
    for name, expected in listed.items():
        if _digest(source / name) != {"sha256": expected.get("sha256"), "bytes": expected.get("bytes")}:
            raise BackupError(f"{name} in the backup does not match its SHA-256 in the manifest: the backup "
                              "is damaged or was altered. Refused; nothing was restored.")
    return manifest


def restore_backup(settings: Settings, source: Path, *, force: bool = False) -> Restored:
    """Restore the backup in ``source`` into the configured database and media directory."""
    from alembic.script import ScriptDirectory

    from app.core.migrate import alembic_config, upgrade

    source = Path(os.path.abspath(source))
    manifest = check_backup(source)
    engine = "sqlite" if settings.is_sqlite else "postgresql"
    if manifest.get("engine") != engine:
        raise BackupError(f"This is a backup of a {manifest.get('engine')} database, and WUGONG_DATABASE_URL "
                          f"names a {engine} one: restore it into the same kind of database.")
    script = ScriptDirectory.from_config(alembic_config(settings.database_url))
    head = script.get_current_head() or ""
    revision = str(manifest.get("schema_revision"))
    if revision not in {r.revision for r in script.walk_revisions()}:
        raise BackupError(f"The backup's schema (revision {revision}) is newer than this version of Wugong "
                          f"knows (revision {head}): upgrade Wugong first, then restore.")
    if engine == "sqlite":
        _sqlite_target(settings, force)
    else:
        pg_restore, tool_major = _pg_tool("pg_restore")
        dumped_with = int(manifest.get("pg_dump_version") or 0)
        if tool_major < dumped_with:
            raise BackupError(f"The backup was written by pg_dump {dumped_with}; pg_restore {tool_major} cannot "
                              f"read it: install pg_restore {dumped_with} or newer.")
        asyncio.run(_pg_target(settings.database_url, force))
    media_dir = settings.media_dir
    if not force and media_dir.is_dir() and any(media_dir.iterdir()):
        raise BackupError(f"{media_dir} already holds files: restore into an empty data directory, or pass "
                          "--force to replace its media and database with the backup's.")

    # The media go into a directory beside the live one first, and change places with it at the end.
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(dir=settings.data_dir, prefix=".media-restoring-"))
    try:
        for name in manifest["files"]:
            if name.startswith(MEDIA + "/"):
                _copy(source / name, staged / name.removeprefix(MEDIA + "/"))
        if engine == "sqlite":
            _sqlite_restore(settings, source / SQLITE_FILE, manifest)
        else:
            asyncio.run(_pg_restore(settings.database_url, source / PG_FILE, pg_restore, manifest))
        if media_dir.exists():
            shutil.rmtree(media_dir)
        os.rename(staged, media_dir)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    migrated_from = None
    if revision != head:
        upgrade(settings.database_url)
        migrated_from = revision
    return Restored(manifest=manifest, migrated_from=migrated_from, head=head,
                    key_matches=manifest.get("secret_key_fingerprint") == key_fingerprint(settings.secret_key))


def _sqlite_target(settings: Settings, force: bool) -> None:
    path = _sqlite_path(settings)
    if path.exists() and not force:
        conn = sqlite3.connect(path, timeout=30)
        try:
            tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        finally:
            conn.close()
        if tables:
            raise BackupError(f"The database {path} is not empty: restore into an empty data directory (set "
                              "WUGONG_DATA_DIR), or pass --force to replace it with the backup. Stop the server first.")


def _sqlite_restore(settings: Settings, backup_file: Path, manifest: dict[str, Any]) -> None:
    path = _sqlite_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(path.name + ".restoring")
    staged.unlink(missing_ok=True)
    try:
        _copy(backup_file, staged)
        conn = sqlite3.connect(staged)
        try:
            _expect_tables(manifest, _sqlite_contents(conn)[1])
        finally:
            conn.close()
        # A log left by the database being replaced would be replayed into the restored one.
        for suffix in ("-wal", "-shm", "-journal"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        os.replace(staged, path)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise


async def _pg_target(url: str, force: bool) -> None:
    engine = db.make_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            schema = (await conn.execute(text("SELECT current_schema()"))).scalar_one()
            tables = (await conn.execute(text(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"))).scalar_one()
            if tables and not force:
                name = make_url(url).database
                raise BackupError(f"The database {name} is not empty: restore into an empty database (createdb a "
                                  "new one and point WUGONG_DATABASE_URL at it), or pass --force to drop "
                                  f"everything in its schema {schema!r} first. Stop the server first.")
            if tables:
                await conn.execute(text(f"DROP SCHEMA {_quote(schema)} CASCADE"))
                await conn.execute(text(f"CREATE SCHEMA {_quote(schema)}"))
    finally:
        await engine.dispose()


async def _pg_restore(url: str, dump: Path, pg_restore: str, manifest: dict[str, Any]) -> None:
    conninfo, env = _libpq(url)
    # One transaction: a restore that fails leaves the database as empty as it was.
    await _run(pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
               "--no-password", f"--dbname={conninfo}", str(dump), env=env)
    engine = db.make_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            _expect_tables(manifest, (await _pg_contents(conn))[1])
    finally:
        await engine.dispose()


def _expect_tables(manifest: dict[str, Any], tables: dict[str, int]) -> None:
    if tables != manifest.get("tables"):
        differ = sorted(n for n in {*tables, *manifest.get("tables", {})}
                        if tables.get(n) != manifest.get("tables", {}).get(n))
        raise BackupError(f"The restored database's row counts differ from the manifest's in {_some(differ)}.")


# --- small tools ------------------------------------------------------------------------------------

def _pg_tool(name: str) -> tuple[str, int]:
    """The path and major version of pg_dump or pg_restore, or a clear refusal."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (or not on PATH): install the PostgreSQL client tools of "
                          "your server's version or newer (Debian: apt-get install postgresql-client).")
    said = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30, check=False).stdout
    found = re.search(r"\)\s*(\d+)", said) or re.search(r"(\d+)\.\d+", said)
    if found is None:
        raise BackupError(f"{path} --version said {said.strip()!r}, which is not a version this can read.")
    return path, int(found.group(1))


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string for the database in a SQLAlchemy URL; the password goes in the
    environment, never on a command line that ``ps`` shows."""
    u = make_url(url)
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    query = dict(u.query)
    if "ssl" in query:  # asyncpg's name for libpq's sslmode
        query["sslmode"] = query.pop("ssl")
    return u.set(drivername="postgresql", password=None, query=query).render_as_string(hide_password=False), env


async def _run(*command: str, env: dict[str, str]) -> None:
    proc = await asyncio.create_subprocess_exec(*command, env=env, stdin=asyncio.subprocess.DEVNULL,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {err.decode(errors='replace').strip()}")


def _check_name(name: str) -> None:
    """A manifest names files inside the backup only: a forged one must not reach outside it."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or name in ("", MANIFEST) or "\\" in name:
        raise BackupError(f"The backup's manifest names {name!r}, which is not a file inside a backup. Refused.")
    if name not in (SQLITE_FILE, PG_FILE) and path.parts[0] != MEDIA:
        raise BackupError(f"The backup's manifest names {name!r}, which is not part of a backup. Refused.")


def _digest(path: Path) -> dict[str, Any]:
    h, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return {"sha256": h.hexdigest(), "bytes": size}


def _copy(source: Path, out: Path) -> dict[str, Any]:
    """Copy a file, durably, and return its digest."""
    h, size = hashlib.sha256(), 0
    with source.open("rb") as src:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("xb") as dst:
            while chunk := src.read(_CHUNK):
                h.update(chunk)
                size += len(chunk)
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
    return {"sha256": h.hexdigest(), "bytes": size}


def _write_file(path: Path, data: bytes) -> None:
    with path.open("xb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be synced
        _fsync(path)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _some(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _wugong_version() -> str:
    try:
        return version("wugong")
    except PackageNotFoundError:
        return "unknown"
