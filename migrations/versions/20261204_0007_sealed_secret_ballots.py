"""Sealed secret ballots: a secret poll's chain entries hold commitments, its choices are sealed
under a per-poll key while it is open, and the close publishes them, unlinked, in the ballot box
(app/polls/secrecy.py). A poll may have no closing time (closed by hand).

Polls that had started before this revision keep their plain chain entries and are counted from
them, as before.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('poll_keys',
    sa.Column('poll_id', sa.String(length=26), nullable=False),
    sa.Column('sealed_key', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['poll_id'], ['polls.id'], name=op.f('fk_poll_keys_poll_id_polls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('poll_id', name=op.f('pk_poll_keys'))
    )
    op.create_table('poll_box',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('poll_id', sa.String(length=26), nullable=False),
    sa.Column('check_code', sa.String(length=20), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('weight_area', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['poll_id'], ['polls.id'], name=op.f('fk_poll_box_poll_id_polls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_box'))
    )
    with op.batch_alter_table('poll_box', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_poll_box_poll_id'), ['poll_id'], unique=False)
    with op.batch_alter_table('poll_ballots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('commitment', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('sealed', sa.LargeBinary(), nullable=True))
        batch_op.alter_column('choices', existing_type=sa.JSON(), nullable=True)
    with op.batch_alter_table('polls', schema=None) as batch_op:
        batch_op.alter_column('closes_at', existing_type=app.core.db.UTCDateTime(timezone=True), nullable=True)
        batch_op.add_column(sa.Column('sealed', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('polls', schema=None) as batch_op:
        batch_op.drop_column('sealed')
        batch_op.alter_column('closes_at', existing_type=app.core.db.UTCDateTime(timezone=True), nullable=False)
    with op.batch_alter_table('poll_ballots', schema=None) as batch_op:
        batch_op.alter_column('choices', existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column('sealed')
        batch_op.drop_column('commitment')
    with op.batch_alter_table('poll_box', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_poll_box_poll_id'))
    op.drop_table('poll_box')
    op.drop_table('poll_keys')
