"""Tasks' cards on the home page (app/home): my next task, an adoption's check-in coming due, and
for organisers the claims waiting for their verification (the committee: micro-wishes waiting for
approval). app/main.py registers them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.communities.deps import CommunityScope
from app.core import clock
from app.core.i18n import t
from app.home.schemas import HomeAction, HomeCard, HomeItem
from app.home.service import MAX_ITEMS
from app.tasks import repository as repo
from app.tasks import service
from app.tasks.flows import ClaimStatus, Status
from app.tasks.models import Task, TaskClaim

SOON = timedelta(days=2)  # an adoption's check-in shows on the home this long before it is due
LIVE = [Status.open.value, Status.full.value, Status.in_progress.value]


def _page(scope: CommunityScope, rest: str = "") -> str:
    return f"/c/{scope.community_id}{rest}"


def _soonest(task: Task) -> datetime:
    return task.starts_at or task.ends_at or datetime.max.replace(tzinfo=UTC)


async def next_task_card(session: AsyncSession, scope: CommunityScope, locale: str) -> HomeCard | None:
    """My tasks still to do, the soonest first: where each stands (claimed, checked in, sent back).
    Someone with none sees the card only when there are tasks recruiting to point them to."""
    if not scope.can("tasks.claim"):
        return None
    waiting = [ClaimStatus.claimed.value, ClaimStatus.checked_in.value, ClaimStatus.rejected.value]
    rows = await repo.my_claims_on_live_tasks(session, scope.community_id, scope.person.id, waiting, LIVE,
                                              adoption=False)
    rows.sort(key=lambda r: (_soonest(r[1]), r[1].id))
    recruiting = await repo.count_of(session, repo.tasks_query(scope.community_id).where(
        Task.status == Status.open.value))
    if not rows and not recruiting:
        return None
    items = []
    for c, task in rows[:MAX_ITEMS]:
        tone = {ClaimStatus.rejected: "danger", ClaimStatus.claimed: "info"}.get(ClaimStatus(c.status), "warning")
        items.append(HomeItem(title=task.title, href=_page(scope, f"/tasks/{task.id}"),
                              note=t(f"home.tasks.next.{c.status}", locale), tone=tone, at=task.starts_at,
                              at_label=t("home.tasks.starts", locale) if task.starts_at else ""))
    return HomeCard(
        title=t("home.tasks.next.title", locale), count=len(rows), items=items,
        empty=t("home.tasks.next.empty", locale, count=recruiting),
        actions=[HomeAction(label=t("home.tasks.browse", locale, count=recruiting), href=_page(scope, "/tasks"),
                            primary=not rows)])


async def adoption_card(session: AsyncSession, scope: CommunityScope, locale: str) -> HomeCard | None:
    """My adoptions 认领 whose check-in is due within two days or missed."""
    now = clock.now()
    rows = await repo.my_claims_on_live_tasks(
        session, scope.community_id, scope.person.id, [ClaimStatus.claimed.value, ClaimStatus.checked_in.value],
        LIVE, adoption=True, due_before=now + SOON)
    if not rows:
        return None
    items = []
    for c, task in rows[:MAX_ITEMS]:
        late = c.next_checkin_due_at is not None and c.next_checkin_due_at < now
        items.append(HomeItem(title=task.title, href=_page(scope, f"/tasks/{task.id}"),
                              note=t("home.tasks.adoption.missed" if late else "home.tasks.adoption.due", locale),
                              tone="danger" if late else "warning", at=c.next_checkin_due_at,
                              at_label=t("home.tasks.adoption.due_at", locale)))
    return HomeCard(title=t("home.tasks.adoption.title", locale), count=len(rows), items=items,
                    empty="", actions=[])


async def verify_card(session: AsyncSession, scope: CommunityScope, locale: str) -> HomeCard | None:
    """An organiser's verification queue: submitted claims on the tasks they run, oldest first, with
    the day each will be verified by itself if they do nothing."""
    if not scope.can("tasks.organise"):
        return None
    who = None if service.sees_all(scope) else scope.person.id
    stmt = repo.queue_query(scope.community_id, who).where(
        TaskClaim.person_id != scope.person.id,
        (TaskClaim.acted_by.is_(None)) | (TaskClaim.acted_by != scope.person.id))
    count = await repo.count_of(session, stmt)
    if not count:
        return None
    claims = await repo.scalars(session, stmt.order_by(TaskClaim.submitted_at, TaskClaim.id).limit(MAX_ITEMS))
    tasks = await repo.tasks_by_ids(session, [c.task_id for c in claims])
    days = await service.auto_verify_days(session, scope.community_id)
    items = [HomeItem(title=tasks[c.task_id].title, href=_page(scope, f"/tasks/{c.task_id}/console"),
                      note=t("home.tasks.verify.note", locale), tone="warning",
                      at=c.submitted_at + timedelta(days=days) if c.submitted_at else None,
                      at_label=t("home.tasks.verify.auto_at", locale)) for c in claims]
    return HomeCard(title=t("home.tasks.verify.title", locale), count=count, items=items, empty="",
                    actions=[HomeAction(label=t("home.tasks.verify.all", locale), href=_page(scope, "/tasks/queue"),
                                        primary=True)])


async def approve_card(session: AsyncSession, scope: CommunityScope, locale: str) -> HomeCard | None:
    """For the committee: micro-wishes 微心愿 waiting for approval, the longest waiting first."""
    if not scope.can("tasks.manage"):
        return None
    stmt = repo.tasks_query(scope.community_id).where(Task.status == Status.pending.value)
    count = await repo.count_of(session, stmt)
    if not count:
        return None
    rows = await repo.page_of(session, stmt.order_by(Task.id), MAX_ITEMS)
    return HomeCard(
        title=t("home.tasks.approve.title", locale), count=count,
        items=[HomeItem(title=w.title, href=_page(scope, f"/tasks/{w.id}"), note=t("home.tasks.approve.note", locale),
                        tone="warning", at=w.published_at, at_label=t("home.tasks.approve.posted", locale))
               for w in rows],
        empty="", actions=[HomeAction(label=t("home.tasks.approve.all", locale),
                                      href=_page(scope, "/tasks?kind=wish&status=pending"), primary=True)])
