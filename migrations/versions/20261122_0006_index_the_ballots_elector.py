"""Index the ballots' elector: deleting an elector (or the person behind it) checks the ballots
that name it, which without an index scanned every ballot.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 01:30:51.747099
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('poll_ballots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_poll_ballots_elector_id'), ['elector_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('poll_ballots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_poll_ballots_elector_id'))
