"""issue search, duplicates and map: full-text index for Chinese, and indexes for the list

SQLite: an FTS5 table with the trigram tokenizer (any substring of 3+ characters, CJK
included), kept in step with ``issues`` by triggers. PostgreSQL: pg_trgm GIN indexes on title
and description, which serve ``ILIKE '%…%'`` for 3+ characters. Shorter queries are plain
LIKE/ILIKE scans on both (see app/issues/repository.py).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 21:00:00

``down_revision`` is 0003 because no 0004 existed when this was written; if one lands first,
chain this after it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The FTS row of an issue has the rowid, so the triggers find it without a scan; the
# issue id is kept too, and deletes check both, so a renumbered rowid can never hit another row.
SQLITE_UP = (
    "CREATE VIRTUAL TABLE issues_fts USING fts5(issue_id UNINDEXED, title, description, tokenize='trigram')",
    "INSERT INTO issues_fts(rowid, issue_id, title, description) SELECT rowid, id, title, description FROM issues",
    """CREATE TRIGGER issues_fts_ai AFTER INSERT ON issues BEGIN
         INSERT INTO issues_fts(rowid, issue_id, title, description)
         VALUES (new.rowid, new.id, new.title, new.description);
       END""",
    """CREATE TRIGGER issues_fts_ad AFTER DELETE ON issues BEGIN
         DELETE FROM issues_fts WHERE rowid = old.rowid AND issue_id = old.id;
       END""",
    """CREATE TRIGGER issues_fts_au AFTER UPDATE OF title, description ON issues BEGIN
         DELETE FROM issues_fts WHERE rowid = old.rowid AND issue_id = old.id;
         INSERT INTO issues_fts(rowid, issue_id, title, description)
         VALUES (new.rowid, new.id, new.title, new.description);
       END""",
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS issues_fts_au",
    "DROP TRIGGER IF EXISTS issues_fts_ad",
    "DROP TRIGGER IF EXISTS issues_fts_ai",
    "DROP TABLE IF EXISTS issues_fts",
)
POSTGRES_UP = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_issues_title_trgm ON issues USING gin (title gin_trgm_ops)",
    "CREATE INDEX ix_issues_description_trgm ON issues USING gin (description gin_trgm_ops)",
)
POSTGRES_DOWN = (
    "DROP INDEX IF EXISTS ix_issues_description_trgm",
    "DROP INDEX IF EXISTS ix_issues_title_trgm",
)


def upgrade() -> None:
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.create_index('ix_issues_community_category_supports',
                              ['community_id', 'category_id', 'supports_count', 'id'], unique=False)
        batch_op.create_index('ix_issues_community_lat', ['community_id', 'lat'], unique=False)
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}.get(dialect, ()):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}.get(dialect, ()):
        op.execute(statement)
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_index('ix_issues_community_lat')
        batch_op.drop_index('ix_issues_community_category_supports')
