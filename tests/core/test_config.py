from __future__ import annotations

import pytest
from sqlalchemy import text

from app.core import db
from app.core.config import MissingSecretKey, Settings


def test_production_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("WUGONG_SECRET_KEY", raising=False)
    with pytest.raises(MissingSecretKey, match="WUGONG_SECRET_KEY"):
        Settings(env="production", data_dir=tmp_path, secret_key="")


def test_development_generates_a_secret_once_and_keeps_it(tmp_path, monkeypatch):
    monkeypatch.delenv("WUGONG_SECRET_KEY", raising=False)
    first = Settings(env="development", data_dir=tmp_path, secret_key="")
    second = Settings(env="development", data_dir=tmp_path, secret_key="")
    assert len(first.secret_key) >= 40
    assert first.secret_key == second.secret_key
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"


def test_an_upload_rate_limit_that_does_not_parse_stops_the_start(tmp_path):
    assert Settings(data_dir=tmp_path, secret_key="x", upload_rate_limit="5 per minute;50/day").upload_rate_limit
    assert Settings(data_dir=tmp_path, secret_key="x", upload_rate_limit="").upload_rate_limit == ""  # no limit
    with pytest.raises(ValueError, match="20/minute;300/day"):
        Settings(data_dir=tmp_path, secret_key="x", upload_rate_limit="lots")


def test_sqlite_is_the_default_database(tmp_path, monkeypatch):
    monkeypatch.delenv("WUGONG_DATABASE_URL", raising=False)
    s = Settings(data_dir=tmp_path, secret_key="x")
    assert s.database_url == f"sqlite+aiosqlite:///{tmp_path / 'wugong.db'}"


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(app):
    engine = db.get_engine()
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas apply to the SQLite run only (this run is on PostgreSQL)")
    async with engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1


def test_pool_sizes_come_from_the_settings(tmp_path, monkeypatch):
    """Four workers × (30 + 10) would pass PostgreSQL's default 100 connections: an operator sets
    WUGONG_DB_POOL_SIZE and WUGONG_DB_MAX_OVERFLOW to fit."""
    from pydantic import ValidationError

    pg = "postgresql+asyncpg://wugong@127.0.0.1:5432/wugong"
    monkeypatch.setenv("WUGONG_DB_POOL_SIZE", "20")
    monkeypatch.setenv("WUGONG_DB_MAX_OVERFLOW", "4")
    given = Settings(data_dir=tmp_path, secret_key="x", database_url=pg)
    engine = db.make_engine(pg, **given.engine_options())
    assert (engine.pool.size(), engine.pool._max_overflow) == (20, 4)  # type: ignore[attr-defined]
    monkeypatch.delenv("WUGONG_DB_POOL_SIZE")
    monkeypatch.delenv("WUGONG_DB_MAX_OVERFLOW")
    unset = Settings(data_dir=tmp_path, secret_key="x", database_url=pg)
    assert unset.engine_options() == {}
    assert db.make_engine(pg).pool.size() == 30
    monkeypatch.setenv("WUGONG_DB_POOL_SIZE", "0")
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path, secret_key="x")
