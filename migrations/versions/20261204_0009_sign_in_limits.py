"""Sign-in limits that a stranger cannot turn against the owner, and revoked token families.

A code counts the wrong guesses from its own address and from all others apart; wrong codes and
passwords are logged (subject, address, time) for sliding-window limits instead of locking a phone
or an account; sign_in_locks keeps only the row that parallel attempts queue on; a partial index
finds a revoked token family in one probe.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('otp_codes', schema=None) as batch_op:
        # The server default fills the rows that exist; new rows get theirs from the model.
        batch_op.add_column(sa.Column('foreign_attempts', sa.Integer(), nullable=False, server_default='0'))

    op.create_table('sign_in_failures',
    sa.Column('subject', sa.String(length=80), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failures'))
    )
    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_failures_created', ['created_at'], unique=False)
        batch_op.create_index('ix_sign_in_failures_ip_created', ['ip', 'created_at'], unique=False)
        batch_op.create_index('ix_sign_in_failures_subject_created', ['subject', 'created_at'], unique=False)

    # Locks and failure counts of the old rules end with them: nobody stays locked out.
    op.execute(sa.text('DELETE FROM sign_in_locks'))
    with op.batch_alter_table('sign_in_locks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_at', app.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_column('failures')
        batch_op.drop_column('locked_until')

    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_refresh_tokens_revoked_family', ['family_id'], unique=False,
                              postgresql_where=sa.text('revoked_at IS NOT NULL'),
                              sqlite_where=sa.text('revoked_at IS NOT NULL'))


def downgrade() -> None:
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_refresh_tokens_revoked_family',
                            postgresql_where=sa.text('revoked_at IS NOT NULL'),
                            sqlite_where=sa.text('revoked_at IS NOT NULL'))

    op.execute(sa.text('DELETE FROM sign_in_locks'))
    with op.batch_alter_table('sign_in_locks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked_until', app.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('failures', sa.Integer(), nullable=False, server_default='0'))
        batch_op.drop_column('held_at')

    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_failures_subject_created')
        batch_op.drop_index('ix_sign_in_failures_ip_created')
        batch_op.drop_index('ix_sign_in_failures_created')
    op.drop_table('sign_in_failures')

    with op.batch_alter_table('otp_codes', schema=None) as batch_op:
        batch_op.drop_column('foreign_attempts')
