"""How a poll looks when its short link is shared in a chat: the question, where it stands, and
the outcome only when results may be shown. A hidden count never reaches an Open Graph card."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.communities import service as communities_service
from app.core.i18n import t
from app.polls import flows
from app.polls import repository as repo
from app.polls.flows import Status
from app.sharing import service as sharing
from app.sharing.models import ShortLink


@sharing.register_preview("poll")
async def poll_preview(session: AsyncSession, link: ShortLink, locale: str) -> sharing.SharePreview | None:
    if link.community_id is None:
        return None
    poll = await repo.poll_in(session, link.community_id, link.target_id)
    if poll is None or poll.status == Status.draft:
        return None
    community = await communities_service.get_community(session, poll.community_id)
    status = t(f"ui.poll.status.{poll.status}", locale)
    description = t("ui.poll.share.description", locale, status=status,
                    community=community.name if community else "")
    notice = None
    if poll.status in flows.RESULTS_FINAL and poll.result is not None:
        explanation = poll.result.get("explanation_zh" if locale == "zh-CN" else "explanation_en")
        description = f"{description} {explanation or ''}".strip()
    elif poll.status == Status.open and not poll.hide_results:
        description = t("ui.poll.share.turnout", locale, description=description, voted=poll.voted_count,
                        size=poll.electorate_size)
    if poll.status == Status.notice:
        notice = t("ui.poll.share.notice", locale)
    return sharing.SharePreview(
        title=poll.title, description=description, action_label=t("ui.poll.share.action", locale),
        action_path=f"/c/{poll.community_id}/polls/{poll.id}", notice=notice,
    )
