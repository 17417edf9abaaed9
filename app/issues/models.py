"""The issue list 问题清单: reports, their photos, supports, followers, comments and timeline."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core import clock
from app.core.db import Base, IdMixin, TimestampMixin


class Category(IdMixin, TimestampMixin, Base):
    """A per-community category, with the days a handler has and who handles it by default."""

    __tablename__ = "issue_categories"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(30))
    deadline_days: Mapped[int] = mapped_column(Integer, default=7)
    default_handler_id: Mapped[str | None] = mapped_column(ForeignKey("issue_handlers.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Handler(IdMixin, TimestampMixin, Base):
    """Who fixes things 处置人/责任单位: one person, or a unit (物业, 水务, 城管 …) whose members share a queue."""

    __tablename__ = "issue_handlers"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(10), default="unit")  # person | unit
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class HandlerMember(IdMixin, Base):
    __tablename__ = "issue_handler_members"
    __table_args__ = (UniqueConstraint("handler_id", "person_id"),)

    handler_id: Mapped[str] = mapped_column(ForeignKey("issue_handlers.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)


class Issue(IdMixin, TimestampMixin, Base):
    __tablename__ = "issues"
    __table_args__ = (
        Index("ix_issues_community_status", "community_id", "status"),
        Index("ix_issues_community_supports", "community_id", "supports_count", "id"),
        Index("ix_issues_community_deadline", "community_id", "deadline_at"),
        # "most supported" within one category, and the bounding box of "nearby" (duplicates.py).
        Index("ix_issues_community_category_supports", "community_id", "category_id", "supports_count", "id"),
        Index("ix_issues_community_lat", "community_id", "lat"),
        # Created only by migration 0004, per dialect (not mirrored here; see
        # app.issues.repository.SEARCH_INDEX_OBJECTS): SQLite's issues_fts FTS5 table and its
        # triggers, PostgreSQL's pg_trgm GIN indexes ix_issues_title_trgm / ix_issues_description_trgm.
    )

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[str | None] = mapped_column(ForeignKey("issue_categories.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="reported")
    source: Mapped[str] = mapped_column(String(20), default="resident")
    staff_only: Mapped[bool] = mapped_column(Boolean, default=False)
    hide_reporter: Mapped[bool] = mapped_column(Boolean, default=False)
    reporter_id: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    building_id: Mapped[str | None] = mapped_column(ForeignKey("buildings.id", ondelete="SET NULL"))
    grid_id: Mapped[str | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"), index=True)
    location_text: Mapped[str] = mapped_column(String(200), default="")
    handler_id: Mapped[str | None] = mapped_column(ForeignKey("issue_handlers.id", ondelete="SET NULL"), index=True)
    deadline_at: Mapped[datetime | None] = mapped_column()
    escalated_at: Mapped[datetime | None] = mapped_column()
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    supports_count: Mapped[int] = mapped_column(Integer, default=0)
    comments_count: Mapped[int] = mapped_column(Integer, default=0)
    merged_into_id: Mapped[str | None] = mapped_column(ForeignKey("issues.id", ondelete="SET NULL"))
    resolution_note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    closed_at: Mapped[datetime | None] = mapped_column()


class IssuePhoto(IdMixin, Base):
    """An upload attached to an issue: the report's photos, or the handler's after-photo."""

    __tablename__ = "issue_photos"
    __table_args__ = (UniqueConstraint("issue_id", "upload_id"),)

    issue_id: Mapped[str] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    upload_id: Mapped[str] = mapped_column(ForeignKey("uploads.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="report")  # report | after
    position: Mapped[int] = mapped_column(Integer, default=0)


class IssueSupport(IdMixin, TimestampMixin, Base):
    """我也关注: once per person."""

    __tablename__ = "issue_supports"
    __table_args__ = (UniqueConstraint("issue_id", "person_id"),)

    issue_id: Mapped[str] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)


class IssueFollower(IdMixin, TimestampMixin, Base):
    __tablename__ = "issue_followers"
    __table_args__ = (UniqueConstraint("issue_id", "person_id"),)

    issue_id: Mapped[str] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)


class IssueComment(IdMixin, TimestampMixin, Base):
    __tablename__ = "issue_comments"

    issue_id: Mapped[str] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    upload_ids: Mapped[list[str]] = mapped_column(JSON, default=list)


class IssueEvent(IdMixin, TimestampMixin, Base):
    """One line of the public timeline: who did what, when, from which state to which."""

    __tablename__ = "issue_events"

    issue_id: Mapped[str] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
