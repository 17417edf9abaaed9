"""The issue list's cards on the home page (app/home): issues waiting for my verification, my own
reports' latest changes, and the staff's work — the committee's triage, a grid worker's patrol, a
handler's queue — each leading to the page that does it. app/main.py registers them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.communities.deps import CommunityScope
from app.core import clock
from app.core.i18n import t
from app.home.schemas import HomeAction, HomeCard, HomeItem, Tone
from app.home.service import MAX_ITEMS
from app.issues import flows, listing
from app.issues import repository as repo
from app.issues.listing import IssueFilters
from app.issues.models import Issue

OPEN = sorted(str(s) for s in flows.OPEN)
WORKING = ["dispatched", "in_progress", "reopened"]  # a handler's queue, as on /c/{cid}/queue


def _page(scope: CommunityScope, rest: str = "") -> str:
    return f"/c/{scope.community_id}{rest}"


def _status(issue: Issue, locale: str) -> str:
    return t(f"ui.issue.status.{issue.status}", locale)


def _by_deadline(issue: Issue, scope: CommunityScope, locale: str) -> HomeItem:
    """An item of a staff list: its state, its deadline, and whether it is late."""
    late = listing.is_overdue(issue)
    note = _status(issue, locale) + (" · " + t("ui.issue.overdue", locale) if late else "")
    return HomeItem(title=issue.title, href=_page(scope, f"/issues/{issue.id}"), note=note,
                    tone="danger" if late else "", at=issue.deadline_at,
                    at_label=t("home.deadline", locale) if issue.deadline_at else "")


async def verify_card(session: AsyncSession, scope: CommunityScope, locale: str) -> HomeCard | None:
    """Resolved issues this person verifies: their own reports, and a grid worker's grids."""
    grid_ids = (scope.membership.grid_ids if scope.membership else []) if "grid_worker" in scope.roles else None
    stmt = (await listing.filtered(session, scope, IssueFilters(status=["resolved"]))).where(
        repo.verifier_clause(scope.person.id, grid_ids))
    count = await repo.count_of(session, stmt)
    if not count and grid_ids is None:
        return None  # a resident hears of it on their reports' card until there is something to check
    rows = await repo.first(session, stmt.order_by(Issue.updated_at, Issue.id), MAX_ITEMS)
    mine = "" if grid_ids is not None else "&mine=reported"
    return HomeCard(
        title=t("home.verify.title", locale), count=count,
        items=[HomeItem(title=i.title, href=_page(scope, f"/issues/{i.id}"), note=t("home.verify.note", locale),
                        tone="warning", at=i.updated_at, at_label=t("home.verify.resolved_at", locale))
               for i in rows],
        empty=t("home.verify.empty", locale),
        actions=[HomeAction(label=t("home.verify.all", locale), href=_page(scope, f"/issues?status=resolved{mine}"))]
        if count > MAX_ITEMS else [])


_MINE_TONE: dict[str, Tone] = {"resolved": "warning", "reopened": "info", "closed": "success", "rejected": "danger"}


async def my_reports_card(session: AsyncSession, scope: CommunityScope, locale: str) -> HomeCard | None:
    """My reports, the latest changed first: where each stands now. Staff who never reported see none."""
    stmt = await listing.filtered(session, scope, IssueFilters(mine="reported"))
    total = await repo.count_of(session, stmt)
    if not total and scope.can("issues.report_as_staff"):
        return None
    rows = await repo.first(session, stmt.order_by(Issue.updated_at.desc(), Issue.id.desc()), MAX_ITEMS)
    report = HomeAction(label=t("home.mine.report", locale), href=_page(scope, "/issues/new"), primary=not total)
    items = []
    for i in rows:
        note = t("home.mine.resolved", locale) if i.status == "resolved" else _status(i, locale)
        items.append(HomeItem(title=i.title, href=_page(scope, f"/issues/{i.id}"), note=note,
                              tone=_MINE_TONE.get(i.status, "info"), at=i.updated_at,
                              at_label=t("home.mine.updated", locale)))
    actions = [report]
    if total:
        actions.insert(0, HomeAction(label=t("home.mine.all", locale, count=total),
                                     href=_page(scope, "/issues?mine=reported")))
    return HomeCard(title=t("home.mine.title", locale), count=0, items=items, empty=t("home.mine.empty", locale),
                    actions=actions)


async def triage_card(session: AsyncSession, scope: CommunityScope, locale: str) -> HomeCard | None:
    """The committee's triage 拨: new reports to accept, accepted ones to dispatch, the overdue."""
    if not scope.can("issues.triage"):
        return None
    stmt = await listing.filtered(session, scope, IssueFilters(status=["reported", "accepted"]))
    counts = await repo.counts_by_status(session, stmt)
    overdue = await repo.count_of(session, await listing.filtered(session, scope, IssueFilters(overdue=True)))
    rows = await repo.first(session, stmt.order_by(Issue.id), MAX_ITEMS)  # the longest waiting first
    return HomeCard(
        title=t("home.triage.title", locale), count=sum(counts.values()),
        summary=t("home.triage.summary", locale, reported=counts.get("reported", 0),
                  accepted=counts.get("accepted", 0), overdue=overdue),
        items=[HomeItem(title=i.title, href=_page(scope, f"/issues/{i.id}"),
                        note=t(f"home.triage.{i.status}", locale), tone="warning", at=i.created_at,
                        at_label=t("home.reported_at", locale)) for i in rows],
        empty=t("home.triage.empty", locale),
        actions=[HomeAction(label=t("home.triage.go", locale), href=_page(scope, "/triage"), primary=True)])


async def _staff_list(session: AsyncSession, scope: CommunityScope, locale: str, f: IssueFilters,
                      name: str, page: str) -> HomeCard:
    stmt = await listing.filtered(session, scope, f)
    count = await repo.count_of(session, stmt)
    overdue = await repo.count_of(session, stmt.where(repo.overdue_clause(clock.now())))
    rows = await repo.first(session, listing.ordered(stmt, "deadline"), MAX_ITEMS)
    return HomeCard(
        title=t(f"home.{name}.title", locale), count=count,
        summary=t(f"home.{name}.summary", locale, open=count, overdue=overdue),
        items=[_by_deadline(i, scope, locale) for i in rows], empty=t(f"home.{name}.empty", locale),
        actions=[HomeAction(label=t(f"home.{name}.go", locale), href=_page(scope, page), primary=True)])


async def patrol_card(session: AsyncSession, scope: CommunityScope, locale: str) -> HomeCard | None:
    """A grid worker's round 巡: the open issues of their grids, soonest deadline first."""
    if "grid_worker" not in scope.roles:
        return None
    return await _staff_list(session, scope, locale, IssueFilters(status=OPEN, mine="grid"), "patrol", "/patrol")


async def queue_card(session: AsyncSession, scope: CommunityScope, locale: str) -> HomeCard | None:
    """A handler's queue 办: what is dispatched to their unit and not yet resolved."""
    if "handler" not in scope.roles:
        return None
    return await _staff_list(session, scope, locale, IssueFilters(status=WORKING, mine="handling"), "queue", "/queue")
