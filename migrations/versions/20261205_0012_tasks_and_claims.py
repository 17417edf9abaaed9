"""Tasks and claims: volunteer jobs, adoptions, micro-wishes and time-bank requests (app/tasks).

A task counts the places taken (``claimed_count``) and the database refuses more than it needs
(CHECK); one claim per person and task (UNIQUE). Organisers, photos (the task's and each claim's
evidence), a record of who did what (``task_events``) and each community's rule for verifying by
itself (``task_rules``).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 01:29:31.170862
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('task_rules',
    sa.Column('community_id', sa.String(length=26), nullable=False),
    sa.Column('auto_verify_days', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.String(length=26), nullable=True),
    sa.Column('updated_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_task_rules_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by'], ['people.id'], name=op.f('fk_task_rules_updated_by_people'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('community_id', name=op.f('pk_task_rules'))
    )
    op.create_table('tasks',
    sa.Column('community_id', sa.String(length=26), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('building_id', sa.String(length=26), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lng', sa.Float(), nullable=True),
    sa.Column('location_text', sa.String(length=200), nullable=False),
    sa.Column('starts_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ends_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('people_needed', sa.Integer(), nullable=False),
    sa.Column('claimed_count', sa.Integer(), nullable=False),
    sa.Column('reward_unit', sa.String(length=10), nullable=False),
    sa.Column('reward_amount', sa.Integer(), nullable=False),
    sa.Column('evidence_required', sa.Boolean(), nullable=False),
    sa.Column('eligible', sa.String(length=10), nullable=False),
    sa.Column('eligible_grid_id', sa.String(length=26), nullable=True),
    sa.Column('eligible_building_id', sa.String(length=26), nullable=True),
    sa.Column('eligible_role', sa.String(length=20), nullable=True),
    sa.Column('checkin_every_days', sa.Integer(), nullable=True),
    sa.Column('checkin_rotating', sa.Boolean(), nullable=False),
    sa.Column('checkin_secret', sa.String(length=32), nullable=False),
    sa.Column('created_by', sa.String(length=26), nullable=True),
    sa.Column('requester_id', sa.String(length=26), nullable=True),
    sa.Column('issue_id', sa.String(length=26), nullable=True),
    sa.Column('hours_held', sa.Integer(), nullable=False),
    sa.Column('approved_by', sa.String(length=26), nullable=True),
    sa.Column('published_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approved_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('close_reason', sa.Text(), nullable=False),
    sa.Column('updated_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('claimed_count >= 0 AND claimed_count <= people_needed', name=op.f('ck_tasks_claimed_within_needed')),
    sa.CheckConstraint('reward_amount >= 0', name=op.f('ck_tasks_reward_not_negative')),
    sa.ForeignKeyConstraint(['approved_by'], ['people.id'], name=op.f('fk_tasks_approved_by_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'], name=op.f('fk_tasks_building_id_buildings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_tasks_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['people.id'], name=op.f('fk_tasks_created_by_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['eligible_building_id'], ['buildings.id'], name=op.f('fk_tasks_eligible_building_id_buildings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['eligible_grid_id'], ['grids.id'], name=op.f('fk_tasks_eligible_grid_id_grids'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_tasks_issue_id_issues'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['requester_id'], ['people.id'], name=op.f('fk_tasks_requester_id_people'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tasks_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_tasks_community_kind', ['community_id', 'kind', 'id'], unique=False)
        batch_op.create_index('ix_tasks_community_lat', ['community_id', 'lat'], unique=False)
        batch_op.create_index('ix_tasks_community_status', ['community_id', 'status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_issue_id'), ['issue_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_requester_id'), ['requester_id'], unique=False)
        batch_op.create_index('ix_tasks_status_ends', ['status', 'ends_at'], unique=False)
        batch_op.create_index('ix_tasks_status_starts', ['status', 'starts_at'], unique=False)

    op.create_table('task_claims',
    sa.Column('task_id', sa.String(length=26), nullable=False),
    sa.Column('community_id', sa.String(length=26), nullable=False),
    sa.Column('person_id', sa.String(length=26), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('acted_by', sa.String(length=26), nullable=True),
    sa.Column('organisation', sa.String(length=60), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('claimed_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('checked_in_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('checked_in_by', sa.String(length=26), nullable=True),
    sa.Column('checkin_method', sa.String(length=10), nullable=False),
    sa.Column('last_checkin_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('checkins', sa.Integer(), nullable=False),
    sa.Column('next_checkin_due_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('due_reminded_for', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('missed_flagged_for', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('submitted_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('submitted_by', sa.String(length=26), nullable=True),
    sa.Column('evidence_note', sa.Text(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('verified_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('verified_by', sa.String(length=26), nullable=True),
    sa.Column('auto_verified', sa.Boolean(), nullable=False),
    sa.Column('rejected_reason', sa.Text(), nullable=False),
    sa.Column('paid_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paid_unit', sa.String(length=10), nullable=False),
    sa.Column('paid_amount', sa.Integer(), nullable=False),
    sa.Column('ended_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('handed_to', sa.String(length=26), nullable=True),
    sa.Column('reminded_day_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reminded_hour_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claim_check', sa.String(length=32), nullable=True),
    sa.Column('updated_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('minutes >= 0', name=op.f('ck_task_claims_minutes_not_negative')),
    sa.ForeignKeyConstraint(['acted_by'], ['people.id'], name=op.f('fk_task_claims_acted_by_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['checked_in_by'], ['people.id'], name=op.f('fk_task_claims_checked_in_by_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_task_claims_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['handed_to'], ['people.id'], name=op.f('fk_task_claims_handed_to_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_task_claims_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by'], ['people.id'], name=op.f('fk_task_claims_submitted_by_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_claims_task_id_tasks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['verified_by'], ['people.id'], name=op.f('fk_task_claims_verified_by_people'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_claims')),
    sa.UniqueConstraint('task_id', 'person_id', name=op.f('uq_task_claims_task_id_person_id'))
    )
    with op.batch_alter_table('task_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_claims_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_task_claims_person_status', ['person_id', 'status'], unique=False)
        batch_op.create_index('ix_task_claims_status_due', ['status', 'next_checkin_due_at'], unique=False)
        batch_op.create_index('ix_task_claims_status_submitted', ['status', 'submitted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_claims_task_id'), ['task_id'], unique=False)

    op.create_table('task_organisers',
    sa.Column('task_id', sa.String(length=26), nullable=False),
    sa.Column('person_id', sa.String(length=26), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_task_organisers_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_organisers_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_organisers')),
    sa.UniqueConstraint('task_id', 'person_id', name=op.f('uq_task_organisers_task_id_person_id'))
    )
    with op.batch_alter_table('task_organisers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_organisers_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_organisers_task_id'), ['task_id'], unique=False)

    op.create_table('task_events',
    sa.Column('task_id', sa.String(length=26), nullable=False),
    sa.Column('claim_id', sa.String(length=26), nullable=True),
    sa.Column('actor_id', sa.String(length=26), nullable=True),
    sa.Column('for_person_id', sa.String(length=26), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['people.id'], name=op.f('fk_task_events_actor_id_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['claim_id'], ['task_claims.id'], name=op.f('fk_task_events_claim_id_task_claims'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['for_person_id'], ['people.id'], name=op.f('fk_task_events_for_person_id_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_events_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_events'))
    )
    with op.batch_alter_table('task_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_events_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_events_task_id'), ['task_id'], unique=False)

    op.create_table('task_photos',
    sa.Column('task_id', sa.String(length=26), nullable=False),
    sa.Column('claim_id', sa.String(length=26), nullable=True),
    sa.Column('upload_id', sa.String(length=26), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['task_claims.id'], name=op.f('fk_task_photos_claim_id_task_claims'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_photos_task_id_tasks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['upload_id'], ['uploads.id'], name=op.f('fk_task_photos_upload_id_uploads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_photos'))
    )
    with op.batch_alter_table('task_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_photos_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_photos_task_id'), ['task_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_photos_upload_id'), ['upload_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('task_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_photos_upload_id'))
        batch_op.drop_index(batch_op.f('ix_task_photos_task_id'))
        batch_op.drop_index(batch_op.f('ix_task_photos_claim_id'))

    op.drop_table('task_photos')
    with op.batch_alter_table('task_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_events_task_id'))
        batch_op.drop_index(batch_op.f('ix_task_events_claim_id'))

    op.drop_table('task_events')
    with op.batch_alter_table('task_organisers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_organisers_task_id'))
        batch_op.drop_index(batch_op.f('ix_task_organisers_person_id'))

    op.drop_table('task_organisers')
    with op.batch_alter_table('task_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_claims_task_id'))
        batch_op.drop_index('ix_task_claims_status_submitted')
        batch_op.drop_index('ix_task_claims_status_due')
        batch_op.drop_index('ix_task_claims_person_status')
        batch_op.drop_index(batch_op.f('ix_task_claims_community_id'))

    op.drop_table('task_claims')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_status_starts')
        batch_op.drop_index('ix_tasks_status_ends')
        batch_op.drop_index(batch_op.f('ix_tasks_requester_id'))
        batch_op.drop_index(batch_op.f('ix_tasks_issue_id'))
        batch_op.drop_index('ix_tasks_community_status')
        batch_op.drop_index('ix_tasks_community_lat')
        batch_op.drop_index('ix_tasks_community_kind')
        batch_op.drop_index(batch_op.f('ix_tasks_community_id'))

    op.drop_table('tasks')
    op.drop_table('task_rules')
