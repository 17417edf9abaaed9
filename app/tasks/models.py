"""Tasks 任务 and claims 认领: volunteer jobs, adoptions 认领, micro-wishes 微心愿 and time-bank requests
时间银行, who took each up, and what they did."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core import clock
from app.core.db import Base, IdMixin, TimestampMixin


class Task(IdMixin, TimestampMixin, Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_community_status", "community_id", "status", "id"),
        Index("ix_tasks_community_kind", "community_id", "kind", "id"),
        Index("ix_tasks_status_starts", "status", "starts_at"),
        Index("ix_tasks_status_ends", "status", "ends_at"),
        Index("ix_tasks_community_lat", "community_id", "lat"),
        # The places a task has: its counter never passes what it needs (the database refuses too).
        CheckConstraint("claimed_count >= 0 AND claimed_count <= people_needed", name="claimed_within_needed"),
        CheckConstraint("reward_amount >= 0", name="reward_not_negative"),
    )

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # volunteer | adoption | wish | timebank
    status: Mapped[str] = mapped_column(String(20), default="draft")
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    # Where: a building, a point, and the words people use.
    building_id: Mapped[str | None] = mapped_column(ForeignKey("buildings.id", ondelete="SET NULL"))
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    location_text: Mapped[str] = mapped_column(String(200), default="")
    # When: the job's hours; an adoption's period; a wish's or a request's latest day.
    starts_at: Mapped[datetime | None] = mapped_column()
    ends_at: Mapped[datetime | None] = mapped_column()
    people_needed: Mapped[int] = mapped_column(Integer, default=1)
    claimed_count: Mapped[int] = mapped_column(Integer, default=0)  # claims holding a place (flows.HOLDS_PLACE)
    reward_unit: Mapped[str] = mapped_column(String(10), default="points")  # points | hours
    reward_amount: Mapped[int] = mapped_column(Integer, default=0)  # points, or minutes for hours
    evidence_required: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who may claim: everyone in the community, one grid, one building, or one role.
    eligible: Mapped[str] = mapped_column(String(10), default="community")  # community | grid | building | role
    eligible_grid_id: Mapped[str | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"))
    eligible_building_id: Mapped[str | None] = mapped_column(ForeignKey("buildings.id", ondelete="SET NULL"))
    eligible_role: Mapped[str | None] = mapped_column(String(20))
    checkin_every_days: Mapped[int | None] = mapped_column(Integer)  # an adoption's check-ins
    checkin_rotating: Mapped[bool] = mapped_column(Boolean, default=False)  # the QR code changes every minute
    checkin_secret: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    # The person a wish or a time-bank request is for (who confirms, whose hours pay); a facilitator
    # may post it for them.
    requester_id: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    issue_id: Mapped[str | None] = mapped_column(ForeignKey("issues.id", ondelete="SET NULL"), index=True)
    hours_held: Mapped[int] = mapped_column(Integer, default=0)  # a time-bank request's minutes on hold
    approved_by: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column()
    approved_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()  # done, cancelled or expired
    close_reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class TaskOrganiser(IdMixin, Base):
    """An organiser 组织者 of a task: who runs it, checks people in and verifies their work."""

    __tablename__ = "task_organisers"
    __table_args__ = (UniqueConstraint("task_id", "person_id"),)

    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)


class TaskPhoto(IdMixin, Base):
    """An upload on a task: its own photos (public with the task) or a claim's evidence (seen by the
    task's organisers, the claimant and whoever confirms)."""

    __tablename__ = "task_photos"

    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    claim_id: Mapped[str | None] = mapped_column(ForeignKey("task_claims.id", ondelete="CASCADE"), index=True)
    upload_id: Mapped[str] = mapped_column(ForeignKey("uploads.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="task")  # task | evidence | checkin
    position: Mapped[int] = mapped_column(Integer, default=0)


class TaskClaim(IdMixin, TimestampMixin, Base):
    """One person's place on a task. ``acted_by`` and the ``*_by`` fields say who did each step when a
    facilitator acted for someone without a phone."""

    __tablename__ = "task_claims"
    __table_args__ = (
        # One claim per person and task, whatever arrives at once; one who withdrew claims again
        # by the same row.
        UniqueConstraint("task_id", "person_id"),
        Index("ix_task_claims_person_status", "person_id", "status"),
        Index("ix_task_claims_status_submitted", "status", "submitted_at"),
        Index("ix_task_claims_status_due", "status", "next_checkin_due_at"),
        CheckConstraint("minutes >= 0", name="minutes_not_negative"),
    )

    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default="claimed")
    acted_by: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))  # claimed for them
    organisation: Mapped[str] = mapped_column(String(60), default="")  # a unit taking up a wish
    note: Mapped[str] = mapped_column(String(500), default="")
    claimed_at: Mapped[datetime] = mapped_column(default=clock.now)
    checked_in_at: Mapped[datetime | None] = mapped_column()  # the first check-in
    checked_in_by: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    checkin_method: Mapped[str] = mapped_column(String(10), default="")  # code | organiser | photo
    last_checkin_at: Mapped[datetime | None] = mapped_column()
    checkins: Mapped[int] = mapped_column(Integer, default=0)
    next_checkin_due_at: Mapped[datetime | None] = mapped_column()  # an adoption's next check-in
    due_reminded_for: Mapped[datetime | None] = mapped_column()  # the due date the adopter was reminded of
    missed_flagged_for: Mapped[datetime | None] = mapped_column()  # the due date flagged as missed
    submitted_at: Mapped[datetime | None] = mapped_column()
    submitted_by: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    evidence_note: Mapped[str] = mapped_column(Text, default="")
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    verified_at: Mapped[datetime | None] = mapped_column()
    verified_by: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    auto_verified: Mapped[bool] = mapped_column(Boolean, default=False)  # by the sweep, the organiser silent
    rejected_reason: Mapped[str] = mapped_column(Text, default="")
    paid_at: Mapped[datetime | None] = mapped_column()
    paid_unit: Mapped[str] = mapped_column(String(10), default="")
    paid_amount: Mapped[int] = mapped_column(Integer, default=0)
    ended_at: Mapped[datetime | None] = mapped_column()  # withdrawn, no-show, expired, handed over
    handed_to: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    reminded_day_at: Mapped[datetime | None] = mapped_column()  # the reminder the day before, sent
    reminded_hour_at: Mapped[datetime | None] = mapped_column()  # and the one an hour before
    # Binds the claim to the Idempotency-Key of the request that made it (keyed by the server's
    # secret): a phone's retry recognises its own claim and gets its answer, not "claimed already".
    claim_check: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class TaskEvent(IdMixin, TimestampMixin, Base):
    """One line of a task's record: who did what to the task or to a claim, for whom, from which
    state to which; ``actor_id`` None with ``data.auto`` is the sweep."""

    __tablename__ = "task_events"

    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    claim_id: Mapped[str | None] = mapped_column(ForeignKey("task_claims.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    for_person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class TaskRules(TimestampMixin, Base):
    """A community's rules for tasks: after how many days of an organiser's silence a submitted
    claim is verified by itself."""

    __tablename__ = "task_rules"

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True)
    auto_verify_days: Mapped[int] = mapped_column(Integer, default=7)
    updated_by: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
