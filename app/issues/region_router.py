"""The region view 街道/区 督办: escalated open issues across the communities below a region."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from app.accounts.deps import CurrentPerson
from app.core.deps import Session
from app.core.pagination import Page, Paging
from app.issues import listing, service
from app.issues import repository as repo

router = APIRouter(tags=["regions"])


class EscalationRead(BaseModel):
    id: str
    community_id: str
    community_name: str
    title: str
    status: str
    category: str | None
    handler_id: str | None
    staff_only: bool
    deadline_at: datetime | None
    overdue: bool
    escalated_at: datetime | None
    escalation_reason: str  # overdue | reopened
    reopen_count: int
    supports_count: int
    created_at: datetime


@router.get("/regions/{region_id}/escalations")
async def region_escalations(region_id: Annotated[str, Path(max_length=26)], person: CurrentPerson,
                             session: Session, paging: Paging) -> Page[EscalationRead]:
    rows, cursor = await service.escalations_below(session, person, region_id, paging)
    cats = await repo.category_names(session, [i.category_id for i, _, _ in rows if i.category_id])
    return Page(items=[EscalationRead(
        id=i.id, community_id=i.community_id, community_name=name, title=i.title, status=i.status,
        category=cats.get(i.category_id or ""), handler_id=i.handler_id, staff_only=i.staff_only,
        deadline_at=i.deadline_at, overdue=listing.is_overdue(i), escalated_at=i.escalated_at,
        escalation_reason=reason, reopen_count=i.reopen_count, supports_count=i.supports_count,
        created_at=i.created_at) for i, name, reason in rows], next_cursor=cursor)
