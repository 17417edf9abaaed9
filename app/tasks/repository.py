"""Every query of tasks and claims. Tasks are always fetched with their community id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.accounts.models import Person
from app.communities.models import Building, Household, Membership
from app.tasks.flows import ACTIVE_CLAIMS, ClaimStatus, Status
from app.tasks.models import Task, TaskClaim, TaskEvent, TaskOrganiser, TaskPhoto, TaskRules

# --- tasks ----------------------------------------------------------------------------------------

def written(obj: Any, values: dict[str, Any]) -> None:
    """What an UPDATE statement just wrote, set on the loaded object as the database's own values:
    the object shows it, and the next flush does not write it again (a counter written back from
    memory would be a read-then-write)."""
    for k, v in values.items():
        set_committed_value(obj, k, v)



async def task_in(session: AsyncSession, community_id: str, task_id: str) -> Task | None:
    q = select(Task).where(Task.id == task_id, Task.community_id == community_id)
    return (await session.execute(q)).scalar_one_or_none()


async def task_fresh(session: AsyncSession, task_id: str) -> Task | None:
    """The task as the database has it now (the sweep, after another transaction changed it)."""
    q = select(Task).where(Task.id == task_id).execution_options(populate_existing=True)
    return (await session.execute(q)).scalar_one_or_none()


async def tasks_by_ids(session: AsyncSession, ids: Sequence[str]) -> dict[str, Task]:
    if not ids:
        return {}
    q = select(Task).where(Task.id.in_(set(ids)))
    return {t.id: t for t in (await session.execute(q)).scalars()}


async def names_in(session: AsyncSession, community_id: str, ids: Sequence[str]) -> dict[str, str]:
    q = select(Task.id, Task.title).where(Task.community_id == community_id, Task.id.in_(list(ids)))
    return {i: n for i, n in (await session.execute(q)).all()}


async def move_task(session: AsyncSession, task: Task, expected: str, values: dict[str, Any]) -> bool:
    """Change a task only if it is still in ``expected``: of two people acting at once, one wins."""
    result = await session.execute(update(Task).where(Task.id == task.id, Task.status == expected).values(**values)
                                   .execution_options(synchronize_session=False))
    if getattr(result, "rowcount", 0) != 1:
        return False
    written(task, values)
    return True


async def take_place(session: AsyncSession, task_id: str, now: datetime) -> tuple[int, str] | None:
    """One more place taken on an open task, if one is free: one conditional UPDATE, never a read
    and then a write, so a thousand claims at once on fifty places take exactly fifty (PostgreSQL
    re-checks the condition under the row lock; SQLite has one writer at a time). The task turns
    full with its last place. Returns (claimed_count, status) after, or None when none was free."""
    new_count = Task.claimed_count + 1
    result = await session.execute(
        update(Task).where(Task.id == task_id, Task.status == Status.open.value,
                           Task.claimed_count < Task.people_needed)
        .values(claimed_count=new_count,
                status=case((new_count >= Task.people_needed, Status.full.value), else_=Status.open.value),
                updated_at=now)
        .returning(Task.claimed_count, Task.status).execution_options(synchronize_session=False))
    row = result.first()
    return (int(row[0]), str(row[1])) if row is not None else None


async def free_place(session: AsyncSession, task_id: str, now: datetime) -> None:
    """A place given back (a withdrawal): a full task opens again."""
    await session.execute(
        update(Task).where(Task.id == task_id, Task.claimed_count > 0)
        .values(claimed_count=Task.claimed_count - 1,
                status=case((Task.status == Status.full.value, Status.open.value), else_=Task.status),
                updated_at=now)
        .execution_options(synchronize_session=False))


async def set_needed(session: AsyncSession, task: Task, needed: int, now: datetime) -> bool:
    """Change how many people a task needs, not below the places already taken; open or full follows."""
    result = await session.execute(
        update(Task).where(Task.id == task.id, Task.claimed_count <= needed)
        .values(people_needed=needed, updated_at=now,
                status=case((and_(Task.status.in_([Status.open.value, Status.full.value]),
                                  Task.claimed_count >= needed), Status.full.value),
                            (Task.status.in_([Status.open.value, Status.full.value]), Status.open.value),
                            else_=Task.status))
        .returning(Task.status).execution_options(synchronize_session=False))
    row = result.first()
    if row is None:
        return False
    written(task, {"people_needed": needed, "status": str(row[0])})
    return True


def tasks_query(community_id: str) -> Select[Any]:
    return select(Task).where(Task.community_id == community_id)


def visible_clause(person_id: str, sees_all: bool) -> ColumnElement[bool] | None:
    """Drafts are their organisers' (and the committee's); a wish waiting for approval is also its
    wisher's and its poster's. None: the caller sees every task."""
    if sees_all:
        return None
    mine = Task.id.in_(select(TaskOrganiser.task_id).where(TaskOrganiser.person_id == person_id))
    return or_(Task.status.not_in([Status.draft.value, Status.pending.value]), mine,
               and_(Task.status == Status.pending.value,
                    or_(Task.requester_id == person_id, Task.created_by == person_id)))


def organised_by(person_id: str) -> ColumnElement[bool]:
    return Task.id.in_(select(TaskOrganiser.task_id).where(TaskOrganiser.person_id == person_id))


def claimed_by(person_id: str) -> ColumnElement[bool]:
    return Task.id.in_(select(TaskClaim.task_id).where(TaskClaim.person_id == person_id))


async def page_of(session: AsyncSession, stmt: Select[Any], limit: int) -> list[Task]:
    return list((await session.execute(stmt.limit(limit))).scalars().all())


# --- organisers and photos -----------------------------------------------------------------------

async def organisers(session: AsyncSession, task_ids: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if not task_ids:
        return out
    q = (select(TaskOrganiser.task_id, TaskOrganiser.person_id).where(TaskOrganiser.task_id.in_(list(task_ids)))
         .order_by(TaskOrganiser.id))
    for tid, pid in (await session.execute(q)).all():
        out.setdefault(tid, []).append(pid)
    return out


async def replace_organisers(session: AsyncSession, task_id: str, person_ids: Sequence[str]) -> None:
    from sqlalchemy import delete

    await session.execute(delete(TaskOrganiser).where(TaskOrganiser.task_id == task_id))
    for pid in dict.fromkeys(person_ids):
        session.add(TaskOrganiser(task_id=task_id, person_id=pid))
    await session.flush()


async def photos_of(session: AsyncSession, task_ids: Sequence[str], claim_ids: Sequence[str] = ()
                    ) -> list[TaskPhoto]:
    if not task_ids and not claim_ids:
        return []
    clauses = []
    if task_ids:
        clauses.append(and_(TaskPhoto.task_id.in_(list(task_ids)), TaskPhoto.claim_id.is_(None)))
    if claim_ids:
        clauses.append(TaskPhoto.claim_id.in_(list(claim_ids)))
    q = select(TaskPhoto).where(or_(*clauses)).order_by(TaskPhoto.position, TaskPhoto.id)
    return list((await session.execute(q)).scalars().all())


async def replace_task_photos(session: AsyncSession, task_id: str, upload_ids: Sequence[str]) -> None:
    from sqlalchemy import delete

    await session.execute(delete(TaskPhoto).where(TaskPhoto.task_id == task_id, TaskPhoto.claim_id.is_(None)))
    for i, uid in enumerate(upload_ids):
        session.add(TaskPhoto(task_id=task_id, upload_id=uid, kind="task", position=i))
    await session.flush()


async def showing_upload(session: AsyncSession, upload_id: str) -> list[tuple[str, str | None]]:
    """(task status, claim id) of each place this upload is shown on tasks."""
    q = (select(Task.status, TaskPhoto.claim_id).join(Task, Task.id == TaskPhoto.task_id)
         .where(TaskPhoto.upload_id == upload_id))
    return [(s, c) for s, c in (await session.execute(q)).all()]


# --- claims --------------------------------------------------------------------------------------

async def claim_in(session: AsyncSession, task_id: str, claim_id: str) -> TaskClaim | None:
    q = select(TaskClaim).where(TaskClaim.id == claim_id, TaskClaim.task_id == task_id)
    return (await session.execute(q)).scalar_one_or_none()


async def claim_fresh(session: AsyncSession, claim_id: str) -> TaskClaim | None:
    q = select(TaskClaim).where(TaskClaim.id == claim_id).execution_options(populate_existing=True)
    return (await session.execute(q)).scalar_one_or_none()


async def claim_of(session: AsyncSession, task_id: str, person_id: str) -> TaskClaim | None:
    q = select(TaskClaim).where(TaskClaim.task_id == task_id, TaskClaim.person_id == person_id)
    return (await session.execute(q)).scalar_one_or_none()


async def claims_of(session: AsyncSession, task_ids: Sequence[str], person_id: str) -> dict[str, TaskClaim]:
    if not task_ids:
        return {}
    q = select(TaskClaim).where(TaskClaim.task_id.in_(list(task_ids)), TaskClaim.person_id == person_id)
    return {c.task_id: c for c in (await session.execute(q)).scalars()}


async def move_claim(session: AsyncSession, claim: TaskClaim, expected: str, values: dict[str, Any]) -> bool:
    """Change a claim only if it is still in ``expected``: the organiser and the sweep verifying at
    once, or a double tap, change it once."""
    result = await session.execute(
        update(TaskClaim).where(TaskClaim.id == claim.id, TaskClaim.status == expected).values(**values)
        .execution_options(synchronize_session=False))
    if getattr(result, "rowcount", 0) != 1:
        return False
    written(claim, values)
    return True


async def mark_once(session: AsyncSession, claim_id: str, column: str, value: Any, *,
                    unless: Any = None) -> bool:
    """Set a claim's reminder mark if it is not already set (to ``value``): a reminder goes once
    however many sweeps run at once."""
    col = getattr(TaskClaim, column)
    cond = col.is_(None) if unless is None else or_(col.is_(None), col != unless)
    result = await session.execute(update(TaskClaim).where(TaskClaim.id == claim_id, cond).values({column: value})
                                   .execution_options(synchronize_session=False))
    return bool(getattr(result, "rowcount", 0) == 1)


async def reset_reminders(session: AsyncSession, claim_ids: Sequence[str]) -> None:
    if claim_ids:
        await session.execute(update(TaskClaim).where(TaskClaim.id.in_(list(claim_ids)))
                              .values(reminded_day_at=None, reminded_hour_at=None)
                              .execution_options(synchronize_session=False))


def claims_query(task_id: str, statuses: Sequence[str] | None = None) -> Select[Any]:
    q = select(TaskClaim).where(TaskClaim.task_id == task_id)
    return q.where(TaskClaim.status.in_(list(statuses))) if statuses else q


def my_claims_query(community_id: str, person_id: str, statuses: Sequence[str] | None, *,
                    for_others: bool = False) -> Select[Any]:
    """The person's own claims; ``for_others``: those they made for someone else (a facilitator)."""
    q = select(TaskClaim).where(TaskClaim.community_id == community_id)
    if for_others:
        q = q.where(TaskClaim.acted_by == person_id, TaskClaim.person_id != person_id)
    else:
        q = q.where(TaskClaim.person_id == person_id)
    return q.where(TaskClaim.status.in_(list(statuses))) if statuses else q


async def claims_made_for_others(session: AsyncSession, task_ids: Sequence[str], person_id: str
                                 ) -> dict[str, list[TaskClaim]]:
    if not task_ids:
        return {}
    q = (select(TaskClaim).where(TaskClaim.task_id.in_(list(task_ids)), TaskClaim.acted_by == person_id,
                                 TaskClaim.person_id != person_id).order_by(TaskClaim.id))
    out: dict[str, list[TaskClaim]] = {}
    for c in (await session.execute(q)).scalars():
        out.setdefault(c.task_id, []).append(c)
    return out


async def counts_by_status(session: AsyncSession, task_id: str) -> dict[str, int]:
    q = select(TaskClaim.status, func.count()).where(TaskClaim.task_id == task_id).group_by(TaskClaim.status)
    return {s: int(n) for s, n in (await session.execute(q)).all()}


async def all_claims(session: AsyncSession, task_id: str, statuses: Sequence[str] | None = None) -> list[TaskClaim]:
    q = claims_query(task_id, statuses).order_by(TaskClaim.id)
    return list((await session.execute(q)).scalars().all())


def queue_query(community_id: str, person_id: str | None) -> Select[Any]:
    """Submitted claims waiting for verification: on tasks ``person_id`` organises (None: every
    task of the community, for the committee), oldest first."""
    q = (select(TaskClaim).join(Task, Task.id == TaskClaim.task_id)
         .where(TaskClaim.community_id == community_id, TaskClaim.status == ClaimStatus.submitted.value))
    if person_id is not None:
        q = q.where(organised_by(person_id))
    return q


async def scalars(session: AsyncSession, stmt: Select[Any]) -> list[Any]:
    return list((await session.execute(stmt)).scalars().all())


async def count_of(session: AsyncSession, stmt: Select[Any]) -> int:
    return int((await session.execute(select(func.count()).select_from(stmt.order_by(None).subquery()))).scalar_one())


async def my_claims_on_live_tasks(session: AsyncSession, community_id: str, person_id: str,
                                  statuses: Sequence[str], live: Sequence[str], *, adoption: bool,
                                  due_before: datetime | None = None) -> list[tuple[TaskClaim, Task]]:
    """The person's claims in these states on tasks still running: adoptions or the other kinds;
    with ``due_before``, adoptions whose next check-in is due by then, soonest first."""
    q = (select(TaskClaim, Task).join(Task, Task.id == TaskClaim.task_id)
         .where(TaskClaim.community_id == community_id, TaskClaim.person_id == person_id,
                TaskClaim.status.in_(list(statuses)), Task.status.in_(list(live)),
                (Task.kind == "adoption") if adoption else (Task.kind != "adoption")))
    if due_before is not None:
        q = q.where(TaskClaim.next_checkin_due_at.is_not(None), TaskClaim.next_checkin_due_at <= due_before)
    q = q.order_by(TaskClaim.next_checkin_due_at if adoption else Task.starts_at, TaskClaim.id)
    return [(c, t) for c, t in (await session.execute(q)).all()]


# --- people and places ---------------------------------------------------------------------------

async def names(session: AsyncSession, person_ids: Sequence[str | None]) -> dict[str, str]:
    """Names as the community knows them (a member's display name, else their own)."""
    ids = {p for p in person_ids if p}
    if not ids:
        return {}
    return {i: n for i, n in (await session.execute(select(Person.id, Person.name).where(Person.id.in_(ids)))).all()}


@dataclass(frozen=True)
class Standing:
    """Where a member lives and what they are, for "who may claim" and "who may act for whom"."""

    person_id: str
    roles: frozenset[str]
    building_id: str | None
    grid_id: str | None
    grid_ids: frozenset[str]  # grids a grid worker looks after


async def standings(session: AsyncSession, community_id: str, person_ids: Sequence[str]) -> dict[str, Standing]:
    """Members of the community among ``person_ids``: their building (their own, else their
    household's) and its grid."""
    if not person_ids:
        return {}
    home = func.coalesce(Membership.building_id, Household.building_id)
    q = (select(Membership.person_id, Membership.roles, Membership.grid_ids, home, Building.grid_id)
         .outerjoin(Household, Household.id == Membership.household_id)
         .outerjoin(Building, Building.id == home)
         .where(Membership.community_id == community_id, Membership.person_id.in_(list(set(person_ids)))))
    return {pid: Standing(pid, frozenset(roles or ()), bid, gid, frozenset(grids or ()))
            for pid, roles, grids, bid, gid in (await session.execute(q)).all()}


# --- events and rules ----------------------------------------------------------------------------

async def events(session: AsyncSession, task_id: str) -> list[TaskEvent]:
    q = select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)
    return list((await session.execute(q)).scalars().all())


async def rules(session: AsyncSession, community_id: str) -> TaskRules | None:
    return await session.get(TaskRules, community_id)


async def rules_for(session: AsyncSession, community_ids: Sequence[str]) -> dict[str, int]:
    if not community_ids:
        return {}
    q = select(TaskRules.community_id, TaskRules.auto_verify_days).where(
        TaskRules.community_id.in_(list(set(community_ids))))
    return {c: int(d) for c, d in (await session.execute(q)).all()}


# --- the sweep -----------------------------------------------------------------------------------

async def claims_starting(session: AsyncSession, after: datetime, before: datetime, column: str,
                          limit: int) -> list[tuple[TaskClaim, Task]]:
    """Live claims on timed tasks that start in (after, before] and have not had this reminder."""
    q = (select(TaskClaim, Task).join(Task, Task.id == TaskClaim.task_id)
         .where(Task.status.in_([Status.open.value, Status.full.value, Status.in_progress.value]),
                Task.starts_at > after, Task.starts_at <= before,
                TaskClaim.status.in_([ClaimStatus.claimed.value, ClaimStatus.checked_in.value]),
                getattr(TaskClaim, column).is_(None))
         .order_by(Task.starts_at, TaskClaim.id).limit(limit))
    return [(c, t) for c, t in (await session.execute(q)).all()]


async def adoptions_due(session: AsyncSession, before: datetime, limit: int) -> list[tuple[TaskClaim, Task]]:
    """Live adoption claims whose next check-in is due before ``before``."""
    q = (select(TaskClaim, Task).join(Task, Task.id == TaskClaim.task_id)
         .where(TaskClaim.status.in_([ClaimStatus.claimed.value, ClaimStatus.checked_in.value]),
                TaskClaim.next_checkin_due_at.is_not(None), TaskClaim.next_checkin_due_at <= before,
                Task.status.in_([Status.open.value, Status.full.value, Status.in_progress.value]))
         .order_by(TaskClaim.next_checkin_due_at, TaskClaim.id).limit(limit))
    return [(c, t) for c, t in (await session.execute(q)).all()]


async def submitted_before(session: AsyncSession, before: datetime, limit: int) -> list[TaskClaim]:
    q = (select(TaskClaim).where(TaskClaim.status == ClaimStatus.submitted.value, TaskClaim.submitted_at <= before)
         .order_by(TaskClaim.submitted_at, TaskClaim.id).limit(limit))
    return list((await session.execute(q)).scalars().all())


async def tasks_to_start(session: AsyncSession, now: datetime, kinds: Sequence[str], limit: int) -> list[str]:
    q = (select(Task.id).where(Task.status.in_([Status.open.value, Status.full.value]), Task.kind.in_(list(kinds)),
                               Task.starts_at <= now).order_by(Task.starts_at).limit(limit))
    return list((await session.execute(q)).scalars().all())


async def tasks_ended(session: AsyncSession, before: datetime, statuses: Sequence[str], limit: int) -> list[str]:
    q = (select(Task.id).where(Task.status.in_(list(statuses)), Task.ends_at.is_not(None), Task.ends_at <= before)
         .order_by(Task.ends_at).limit(limit))
    return list((await session.execute(q)).scalars().all())


async def live_claims(session: AsyncSession, task_id: str) -> list[TaskClaim]:
    return await all_claims(session, task_id, [s.value for s in ACTIVE_CLAIMS])
