"""Idempotency records: no readable principal, and a lease on the running ones.

The plain principal (``p:<person id>``) told whose each record was; it is replaced by one keyed hash
of (principal, Idempotency-Key) in ``key``. A running record now names the request that runs it and
until when (``owner``, ``lease_until``), so that a retry can take over a record whose server died.
Records live a day and are written again by the phone's retry: the old ones are simply dropped.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM idempotency_records")
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_constraint('uq_idempotency_records_principal_key', type_='unique')
        batch_op.drop_column('principal')
        batch_op.alter_column('key', existing_type=sa.String(length=200), type_=sa.String(length=64),
                              existing_nullable=False)
        batch_op.add_column(sa.Column('owner', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('lease_until', app.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_idempotency_records_key'), ['key'])


def downgrade() -> None:
    op.execute("DELETE FROM idempotency_records")
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_idempotency_records_key'), type_='unique')
        batch_op.drop_column('lease_until')
        batch_op.drop_column('owner')
        batch_op.alter_column('key', existing_type=sa.String(length=64), type_=sa.String(length=200),
                              existing_nullable=False)
        batch_op.add_column(sa.Column('principal', sa.String(length=64), nullable=False))
        batch_op.create_unique_constraint(batch_op.f('uq_idempotency_records_principal_key'), ['principal', 'key'])
