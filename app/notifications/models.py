"""In-app notifications: an inbox per person, with an unread count."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, IdMixin, TimestampMixin


class Notification(IdMixin, TimestampMixin, Base):
    """One message to one person; ``kind`` and ``data`` are rendered in the reader's language."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_person_unread", "person_id", "read_at", "id"),)

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    community_id: Mapped[str | None] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))  # issue.status_changed | issue.dispatched | issue.escalated …
    data: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    read_at: Mapped[datetime | None] = mapped_column()
