"""The schema exists only through Alembic, and the models never drift from it."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.core import db
from app.models import Base


def _include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    # The search index exists only through migration 0004, per dialect (FTS5 table and its
    # shadow tables on SQLite, pg_trgm GIN indexes on PostgreSQL).
    from app.issues.repository import is_search_index_object

    return not is_search_index_object(name)


def _diff(conn: Any) -> list[Any]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _include_object})
    return list(compare_metadata(ctx, Base.metadata))


async def test_models_match_the_migrated_database(app):
    async with db.get_engine().connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == [], f"models and migrations differ; regenerate the migration: {diff}"


async def test_foreign_keys_are_enforced(app, session):
    from sqlalchemy.exc import IntegrityError

    from app.communities.models import Grid

    session.add(Grid(community_id="does-not-exist", name="x"))
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
    else:
        raise AssertionError("a grid of a missing community was accepted")
