"""Decisions' cards on the home page (app/home): the open polls the caller may vote in (or may
still change their vote in), and for the committee what running the polls waits on. app/main.py
registers them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.communities.deps import CommunityScope
from app.core import clock
from app.core.i18n import t
from app.core.pagination import PageParams
from app.home.schemas import HomeAction, HomeCard, HomeItem
from app.polls import repository as repo
from app.polls import service
from app.polls.flows import Status
from app.polls.models import Poll

ASKED = PageParams(limit=50, cursor=None)  # open polls at once in one community: a handful


def _page(scope: CommunityScope, rest: str = "") -> str:
    return f"/c/{scope.community_id}{rest}"


def _closing(poll: Poll) -> datetime:
    return poll.closes_at or datetime.max.replace(tzinfo=UTC)


async def vote_card(session: AsyncSession, scope: CommunityScope, locale: str) -> HomeCard | None:
    """Open polls I am on the roll of: first those I (or my household) have not voted in, then those
    I voted in and may still change, the soonest to close first. The count is of the unvoted."""
    if not scope.can("polls.vote"):
        return None
    now = clock.now()
    unvoted: list[Poll] = []
    changeable: list[Poll] = []
    for poll in (await repo.polls(session, scope.community_id, ASKED, [Status.open.value], None))[0]:
        if poll.closes_at is not None and poll.closes_at <= now:
            continue  # closing: the sweep will count it any second
        me = await service.my_vote(session, scope, poll)
        if "vote" in service.actions_for(scope, poll, me):
            (changeable if me["voted"] else unvoted).append(poll)
    unvoted.sort(key=_closing)
    changeable.sort(key=_closing)

    def item(poll: Poll, voted: bool) -> HomeItem:
        whose = "household" if poll.electorate != "residents" else "person"
        note = t("home.vote.may_change", locale) if voted else t(f"home.vote.not_voted.{whose}", locale)
        return HomeItem(title=poll.title, href=_page(scope, f"/polls/{poll.id}"), note=note,
                        tone="success" if voted else "warning", at=poll.closes_at,
                        at_label=t("home.vote.closes", locale) if poll.closes_at else "")

    return HomeCard(
        title=t("home.vote.title", locale), count=len(unvoted),
        items=[item(p, False) for p in unvoted] + [item(p, True) for p in changeable],
        empty=t("home.vote.empty", locale),
        actions=[HomeAction(label=t("home.vote.all", locale), href=_page(scope, "/polls"))])


async def manage_card(session: AsyncSession, scope: CommunityScope, locale: str) -> HomeCard | None:
    """For the committee: drafts not yet open, closed polls whose result waits to be published, and
    notices with objections to answer."""
    if not scope.can("polls.manage"):
        return None
    items: list[HomeItem] = []
    statuses = [Status.draft.value, Status.closed.value, Status.notice.value]
    for poll in (await repo.polls(session, scope.community_id, ASKED, statuses, None))[0]:
        href = _page(scope, f"/polls/{poll.id}")
        if poll.status == Status.notice:
            waiting = await repo.unanswered_objections(session, poll.id)
            if not waiting:
                continue
            note = t("home.polls_admin.objections", locale, count=waiting)
        else:
            note = t(f"home.polls_admin.{poll.status}", locale)
        items.append(HomeItem(title=poll.title, href=href, note=note, tone="warning", at=poll.updated_at,
                              at_label=t("home.updated", locale)))
    return HomeCard(
        title=t("home.polls_admin.title", locale), count=len(items), items=items,
        empty=t("home.polls_admin.empty", locale),
        actions=[HomeAction(label=t("home.polls_admin.new", locale), href=_page(scope, "/polls/new"),
                            primary=not items)])
