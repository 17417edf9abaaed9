"""Index issue photos by upload: fetching a photo at its public URL asks which issues show it
(app/core/media.py), which without an index scanned every issue photo.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('issue_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issue_photos_upload_id'), ['upload_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('issue_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issue_photos_upload_id'))
