from __future__ import annotations

from fastapi import APIRouter

from app.accounts.deps import CurrentPerson
from app.core.deps import Locale, Session
from app.core.errors import Invalid
from app.core.pagination import Page, Paging
from app.notifications import service
from app.notifications.schemas import MarkedRead, MarkRead, NotificationRead, UnreadCount

router = APIRouter(tags=["notifications"])


@router.get("/notifications")
async def list_notifications(person: CurrentPerson, session: Session, locale: Locale, paging: Paging,
                             unread: bool = False) -> Page[NotificationRead]:
    rows, cursor = await service.inbox(session, person.id, unread_only=unread, paging=paging)
    return Page(items=[NotificationRead(id=n.id, kind=n.kind, community_id=n.community_id, data=n.data,
                                        text=service.render(n.kind, n.data, locale), read=n.read_at is not None,
                                        created_at=n.created_at) for n in rows], next_cursor=cursor)


@router.get("/notifications/unread-count")
async def unread_count(person: CurrentPerson, session: Session) -> UnreadCount:
    return UnreadCount(unread=await service.unread_count(session, person.id))


@router.post("/notifications/read")
async def mark_read(body: MarkRead, person: CurrentPerson, session: Session) -> MarkedRead:
    if body.all == (body.ids is not None):
        raise Invalid("notifications_read_target", errors=[
            {"loc": ["body", "ids"], "msg_key": "notification.read_target"}])
    marked = await service.mark_read(session, person.id, None if body.all else body.ids)
    return MarkedRead(marked=marked, unread=await service.unread_count(session, person.id))
