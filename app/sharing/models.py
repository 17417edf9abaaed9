"""Short links: every public object gets ``/s/{code}`` with Open Graph tags and a QR code."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, TimestampMixin


class ShortLink(TimestampMixin, Base):
    __tablename__ = "short_links"
    __table_args__ = (Index("ix_short_links_target", "kind", "target_id"),)

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    community_id: Mapped[str | None] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # invite | issue | poll | meeting | project | ...
    target_id: Mapped[str] = mapped_column(String(26))
