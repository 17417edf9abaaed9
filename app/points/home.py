"""The store's card on the home page (app/home): my orders waiting for pickup, the soonest to
expire first, each leading to the order with its pickup code. app/main.py registers it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.communities.deps import CommunityScope
from app.core.i18n import t
from app.home.schemas import HomeAction, HomeCard, HomeItem
from app.home.service import MAX_ITEMS
from app.points import repository as repo


async def orders_ready_card(session: AsyncSession, scope: CommunityScope, locale: str) -> HomeCard | None:
    """Orders ready for me to pick up; none: no card."""
    count = await repo.count_ready_of(session, scope.community_id, scope.person.id)
    if not count:
        return None
    rows = await repo.ready_orders_of(session, scope.community_id, scope.person.id, MAX_ITEMS)
    base = f"/c/{scope.community_id}/store/orders"
    return HomeCard(
        title=t("home.store.title", locale), count=count,
        items=[HomeItem(title=o.item_name if o.quantity == 1 else f"{o.item_name} ×{o.quantity}",
                        href=f"{base}/{o.id}", note=t("home.store.note", locale), tone="warning",
                        at=o.expires_at, at_label=t("home.store.expires", locale)) for o in rows],
        actions=[HomeAction(label=t("home.store.all", locale), href=base)] if count > MAX_ITEMS else [])
