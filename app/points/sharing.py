"""How the honour board 光荣榜 looks when its short link is shared in the community's WeChat group:
this month's board by points and by hours, read when the page is opened. Who chose not to be named
is "a neighbour" (一位邻居), as on the board itself; nobody's phone; only the community the link was
made for."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.communities import service as communities
from app.core import clock
from app.core.i18n import t
from app.points import board as honour
from app.points.service import Unit
from app.sharing import service as sharing
from app.sharing.models import ShortLink

KIND = "points_board"
SHARED_ROWS = 10  # a chat's page is read on a phone: the top ten of each list


@sharing.register_preview(KIND)
async def board_preview(session: AsyncSession, link: ShortLink, locale: str) -> sharing.SharePreview | None:
    if link.community_id is None or link.target_id != link.community_id:
        return None
    community = await communities.get_community(session, link.community_id)
    if community is None:
        return None
    key = honour.period_key("month", clock.now(), None)
    period = honour.period_label(key, locale)
    rankings = []
    for unit in (Unit.points, Unit.hours):
        # Nobody is "me" on a page anyone may open: the empty viewer is never on the board.
        rows, _ = await honour.board(session, community_id=community.id, viewer_id="", unit=unit, key=key,
                                     grid_id=None, locale=locale, size=SHARED_ROWS)
        rankings.append(sharing.ShareRanking(
            heading=t(f"points.share.by_{unit.value}", locale),
            rows=tuple(sharing.ShareRankingRow(rank=r.rank, name=r.name, amount=r.amount_text) for r in rows),
            empty=t("points.share.empty", locale)))
    title = t("points.share.title", locale, community=community.name, period=period)
    return sharing.SharePreview(
        title=title, description=t("points.share.description", locale, community=community.name, period=period),
        action_label=t("points.share.action", locale), action_path=f"/c/{community.id}/points/board",
        community_name=community.name, facts=(sharing.ShareFact(t("points.share.period", locale), period),),
        rankings=tuple(rankings))
