"""Tables of the cross-cutting pieces: uploads and idempotency records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, IdMixin, TimestampMixin


class Upload(IdMixin, TimestampMixin, Base):
    """An image uploaded into a community, re-encoded without EXIF, with a thumbnail."""

    __tablename__ = "uploads"

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    uploader_id: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    content_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(200))
    thumb_key: Mapped[str] = mapped_column(String(200))


class IdempotencyRecord(IdMixin, TimestampMixin, Base):
    """The first answer to a write retried with the same ``Idempotency-Key`` (app/core/idempotency.py)."""

    __tablename__ = "idempotency_records"

    # The caller and their key, hashed together under the server's secret: nothing here says whose.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    fingerprint: Mapped[str] = mapped_column(String(64))  # method, path and body hash
    status_code: Mapped[int | None] = mapped_column(Integer)  # None while the first request runs
    # While it runs: the running request's random token, and until when it holds the key unless
    # renewed; both cleared with the answer.
    owner: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column()
    content_type: Mapped[str] = mapped_column(String(100), default="")
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    headers: Mapped[str] = mapped_column(Text, default="")
