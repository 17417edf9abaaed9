"""The community's card on the home page (app/home): join requests waiting for the committee.
app/main.py registers it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.communities import repository as repo
from app.communities.deps import CommunityScope
from app.communities.models import JoinRequest
from app.core.i18n import t
from app.core.pagination import PageParams
from app.home.schemas import HomeAction, HomeCard, HomeItem
from app.home.service import MAX_ITEMS


async def join_requests_card(session: AsyncSession, scope: CommunityScope, locale: str) -> HomeCard | None:
    if not scope.can("join_requests.decide"):
        return None
    count = await repo.count(session, JoinRequest, scope.community_id, JoinRequest.status == "pending")
    rows, _ = await repo.join_requests_page(session, scope.community_id, "pending",
                                            PageParams(limit=MAX_ITEMS, cursor=None))
    page = f"/c/{scope.community_id}/admin/join-requests"
    return HomeCard(
        title=t("home.joins.title", locale), count=count,
        # The title is user content (the name and the room they gave); the note is in the caller's words.
        items=[HomeItem(title=" · ".join(filter(None, (j.name or p.name, j.room))), href=page,
                        note=t("home.joins.note", locale), tone="warning", at=j.created_at,
                        at_label=t("home.joins.asked", locale)) for j, p in rows],
        empty=t("home.joins.empty", locale),
        actions=[HomeAction(label=t("home.joins.go", locale), href=page, primary=bool(count))])
