from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.core.ids import Id

Source = Literal["resident", "grid_patrol", "meeting", "hotline", "api"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class IssueCreate(_In):
    title: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=4000)
    category_id: Id
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    building_id: Id | None = None
    location_text: str = Field(default="", max_length=200)
    photo_ids: list[Id] = Field(default_factory=list, max_length=9)
    source: Source = "resident"
    staff_only: bool = False
    hide_reporter: bool = False


class TransitionIn(_In):
    action: str = Field(min_length=1, max_length=20)
    reason: str = Field(default="", max_length=1000)
    note: str = Field(default="", max_length=2000)
    handler_id: Id | None = None
    category_id: Id | None = None
    deadline_at: AwareDatetime | None = None  # with its offset: a bare local time names no moment
    into: Id | None = None
    photo_ids: list[Id] = Field(default_factory=list, max_length=9)


class CommentCreate(_In):
    body: str = Field(min_length=1, max_length=2000)
    photo_ids: list[Id] = Field(default_factory=list, max_length=9)


class CategoryCreate(_In):
    name: str = Field(min_length=1, max_length=30)
    deadline_days: int = Field(default=7, ge=1, le=365)
    default_handler_id: Id | None = None


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    deadline_days: int
    default_handler_id: str | None


class HandlerCreate(_In):
    name: str = Field(min_length=1, max_length=50)
    kind: Literal["person", "unit"] = "unit"
    member_ids: list[Id] = Field(default_factory=list, max_length=50)  # person ids of community members


class HandlerRead(BaseModel):
    id: str
    name: str
    kind: str
    member_ids: list[str]


class Photo(BaseModel):
    id: str
    url: str
    thumb_url: str
    kind: str


class IssueRead(BaseModel):
    id: str
    community_id: str
    title: str
    description: str
    category_id: str | None
    category: str | None
    status: str
    source: str
    staff_only: bool
    reporter_id: str | None
    reporter_name: str | None
    lat: float | None
    lng: float | None
    building_id: str | None
    grid_id: str | None
    location_text: str
    handler_id: str | None
    deadline_at: datetime | None
    overdue: bool
    escalated: bool
    reopen_count: int
    supports_count: int
    comments_count: int
    merged_into_id: str | None
    resolution_note: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    photos: list[Photo] = []
    supported_by_me: bool = False
    following: bool = False
    allowed_actions: list[str] = []


class EventRead(BaseModel):
    id: str
    action: str
    from_status: str | None
    to_status: str | None
    actor_name: str | None
    note: str
    data: dict[str, object]
    created_at: datetime


class CommentRead(BaseModel):
    id: str
    author_id: str | None
    author_name: str | None
    body: str
    photos: list[Photo]
    created_at: datetime


class FollowState(BaseModel):
    following: bool


class SupportState(BaseModel):
    supported: bool
    supports_count: int


class SimilarIssue(BaseModel):
    """An open issue that may be the one being reported: ``reason`` is the strongest of
    ``reasons`` ("nearby": same category within 100 m; "similar_title")."""

    id: str
    title: str
    status: str
    category_id: str | None
    category: str | None
    supports_count: int
    created_at: datetime
    lat: float | None
    lng: float | None
    distance_m: float | None
    reason: Literal["nearby", "similar_title"]
    reasons: list[Literal["nearby", "similar_title"]]
    score: float


class SimilarIssues(BaseModel):
    items: list[SimilarIssue]
