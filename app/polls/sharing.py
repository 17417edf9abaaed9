"""How a poll looks when its short link is shared in a chat: the question, where it stands, and
the outcome only when results may be shown; on its poster, its status, when it opens or closes,
its turnout or its outcome, and who votes. A hidden count never reaches an Open Graph card or a
poster, and a draft has neither."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.communities import service as communities_service
from app.core.i18n import t
from app.polls import flows, views
from app.polls import repository as repo
from app.polls.flows import Status
from app.polls.models import Poll
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
        community_name=community.name if community else "", facts=await poster_facts(session, poll, status, locale),
    )


async def poster_facts(session: AsyncSession, poll: Poll, status: str, locale: str) -> tuple[sharing.ShareFact, ...]:
    fact = sharing.ShareFact
    # English statuses are written for the middle of a sentence ("open"); a fact starts a line.
    facts = [fact(t("share.poster.status", locale), status[:1].upper() + status[1:])]
    if poll.status == Status.scheduled and poll.opens_at is not None:
        facts.append(fact(t("share.poster.opens", locale), at=poll.opens_at))
    if poll.status == Status.open and poll.closes_at is not None:
        facts.append(fact(t("share.poster.closes", locale), at=poll.closes_at))
    if poll.status == Status.open and not poll.hide_results:  # turnout is public, as on the share page
        key = "share.poster.turnout_people" if poll.electorate == "residents" else "share.poster.turnout_households"
        facts.append(fact(t("share.poster.turnout", locale),
                          t(key, locale, voted=poll.voted_count, size=poll.electorate_size)))
    if poll.status in flows.RESULTS_FINAL and poll.result is not None:
        facts.append(fact(t("share.poster.result", locale), views.summary(poll, poll.result, locale) or ""))
    voters = t(f"ui.poll.electorate.{poll.electorate}", locale)
    facts.append(fact(t("share.poster.voters", locale), f"{voters} · {await views.scope_label(session, poll, locale)}"))
    return tuple(f for f in facts if f.value or f.at)[:3]
