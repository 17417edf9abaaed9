from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.core.ids import Id


class NotificationRead(BaseModel):
    id: str
    kind: str
    community_id: str | None
    data: dict[str, object]
    text: str  # rendered in the caller's language
    read: bool
    created_at: datetime


class UnreadCount(BaseModel):
    unread: int


class MarkRead(BaseModel):
    """``{"ids": [...]}`` marks those (only the caller's own); ``{"all": true}`` marks every one."""

    model_config = ConfigDict(extra="forbid")
    ids: list[Id] | None = Field(default=None, max_length=100)
    all: bool = False


class MarkedRead(BaseModel):
    marked: int
    unread: int
