"""Time moves tasks even when nobody is watching (the sweep, every ``sweep_seconds``):

- a reminder the day before a job and an hour before it, to each claimant, once each;
- an adoption's check-in coming due (to the adopter), and one missed (to the adopter and the
  organisers), once per due date;
- a submitted claim the organiser left alone for the community's ``auto_verify_days`` is verified
  by itself — the record says so — and paid; the organiser verifying at the same moment, or a
  second sweep, changes nothing more (one conditional update, and the ledger pays a claim once);
- a job starts at its time (or, nobody having claimed it, expires); a task whose time ran out with
  nobody on it expires (a time-bank request's held hours go back), and one whose claims were all
  settled is done.

Several processes may run the loop; a lease lets one act at a time, and every step is a
conditional update besides. Each claim's and task's step commits on its own, so one refusal does
not hold up the rest. ``run_once`` runs it by hand (tests, ``wugong sweep``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import lease, periodic
from app.core.errors import AppError
from app.tasks import flows, service
from app.tasks import repository as repo
from app.tasks.flows import Actor, ClaimStatus, Kind, Status
from app.tasks.schemas import TaskTransitionIn

log = logging.getLogger("wugong.tasks")

LEASE = "tasks.sweep"
LEASE_TTL = timedelta(minutes=5)
BATCH = 200
DAY, HOUR = timedelta(days=1), timedelta(hours=1)
SOON = timedelta(days=1)  # an adoption's check-in is "due" this long before its date


@dataclass
class TaskSweep:
    ran: bool
    reminded_day: list[str] = field(default_factory=list)  # claim ids
    reminded_hour: list[str] = field(default_factory=list)
    checkin_due: list[str] = field(default_factory=list)
    checkin_missed: list[str] = field(default_factory=list)
    auto_verified: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)  # task ids
    expired: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)


async def _each(session: AsyncSession, what: str, item: str, act: Callable[[], Awaitable[bool]]) -> bool:
    """One step in its own transaction; a refusal rolls back only that step."""
    try:
        done = await act()
        await session.commit()
        return done
    except AppError as e:
        await session.rollback()
        log.warning("tasks sweep: %s %s: %s", what, item, e.code)
        return False


async def sweep(session: AsyncSession, now: datetime, *, holder: str) -> TaskSweep:
    if not await lease.acquire(session, LEASE, holder, LEASE_TTL):
        return TaskSweep(ran=False)
    out = TaskSweep(ran=True)
    await _reminders(session, now, out)
    await _adoptions(session, now, out)
    await _auto_verify(session, now, out)
    await _tasks(session, now, out)
    await lease.release(session, LEASE, holder)
    await session.commit()
    return out


async def _reminders(session: AsyncSession, now: datetime, out: TaskSweep) -> None:
    # The day before: from 24 hours to 1 hour ahead (a claim made later gets the hour's only).
    for column, (after, before), kind, done in (
            ("reminded_day_at", (now + HOUR, now + DAY), "task.reminder_day", out.reminded_day),
            ("reminded_hour_at", (now, now + HOUR), "task.reminder_hour", out.reminded_hour)):
        for claim, task in await repo.claims_starting(session, after, before, column, BATCH):
            async def step(claim=claim, task=task, column=column, kind=kind) -> bool:
                if not await repo.mark_once(session, claim.id, column, now):
                    return False
                if column == "reminded_hour_at":  # an hour before, the day's reminder is past its use
                    await repo.mark_once(session, claim.id, "reminded_day_at", now)
                await service.remind(session, claim, task, kind)
                return True
            if await _each(session, "remind", claim.id, step):
                done.append(claim.id)


async def _adoptions(session: AsyncSession, now: datetime, out: TaskSweep) -> None:
    for claim, task in await repo.adoptions_due(session, now + SOON, BATCH):
        due = claim.next_checkin_due_at
        assert due is not None
        missed = due < now

        async def step(claim=claim, task=task, due=due, missed=missed) -> bool:
            column = "missed_flagged_for" if missed else "due_reminded_for"
            if not await repo.mark_once(session, claim.id, column, due, unless=due):
                return False
            await service.flag_checkin(session, claim, task, missed=missed)
            return True
        if await _each(session, "adoption", claim.id, step):
            (out.checkin_missed if missed else out.checkin_due).append(claim.id)


async def _auto_verify(session: AsyncSession, now: datetime, out: TaskSweep) -> None:
    # Every claim submitted at least a day ago (the shortest rule), then each community's own rule.
    candidates = await repo.submitted_before(session, now - timedelta(days=1), BATCH)
    days = await repo.rules_for(session, [c.community_id for c in candidates])
    for claim in candidates:
        wait = timedelta(days=days.get(claim.community_id, service.DEFAULT_AUTO_VERIFY_DAYS))
        if claim.submitted_at is None or claim.submitted_at + wait > now:
            continue

        async def step(claim=claim) -> bool:
            return await service.auto_verify(session, claim, now)
        if await _each(session, "auto-verify", claim.id, step):
            out.auto_verified.append(claim.id)


async def _task_step(session: AsyncSession, task_id: str, action: str, now: datetime) -> bool:
    task = await repo.task_fresh(session, task_id)
    if task is None:
        return False
    organisers = (await repo.organisers(session, [task.id])).get(task.id, [])
    ctx = service.Context(task, organisers, frozenset({Actor.system}))
    await service.transition_task(session, None, ctx, TaskTransitionIn(action=action), now=now)
    return True


async def _tasks(session: AsyncSession, now: datetime, out: TaskSweep) -> None:
    # A job starts at its time; one nobody claimed by then never will be (claims close at the start).
    for task_id in await repo.tasks_to_start(session, now, [k.value for k in flows.TIMED], BATCH):
        task = await repo.task_fresh(session, task_id)
        action = "start" if task is not None and task.claimed_count else "expire"
        if await _each(session, action, task_id, partial(_task_step, session, task_id, action, now)):
            (out.started if action == "start" else out.expired).append(task_id)
    # Nobody came forward before the end (or a wish never approved): expired.
    for task_id in await repo.tasks_ended(session, now, [Status.pending.value, Status.open.value], BATCH):
        task = await repo.task_fresh(session, task_id)
        if task is not None and task.claimed_count == 0 and await _each(
                session, "expire", task_id, partial(_task_step, session, task_id, "expire", now)):
            out.expired.append(task_id)
    # Over, with people on it: once every claim is settled (or the organiser's days have passed
    # for those still waiting to submit), done; what nobody submitted expires with it.
    grace = timedelta(days=service.DEFAULT_AUTO_VERIFY_DAYS)
    for task_id in await repo.tasks_ended(session, now, [Status.open.value, Status.full.value,
                                                          Status.in_progress.value], BATCH):
        task = await repo.task_fresh(session, task_id)
        if task is None or task.ends_at is None:
            continue
        live = await repo.live_claims(session, task_id)
        waiting = [c for c in live if c.status == ClaimStatus.submitted]
        if waiting or (live and task.ends_at + grace > now):
            continue
        action = "finish" if task.claimed_count or Kind(task.kind) is Kind.adoption else "expire"
        if action == "expire" and task.status not in flows.TASK_TRANSITIONS["expire"].sources:
            action = "finish"
        if await _each(session, action, task_id, partial(_task_step, session, task_id, action, now)):
            (out.finished if action == "finish" else out.expired).append(task_id)


async def run_once(now: datetime | None = None) -> TaskSweep:
    from app.core import clock, db

    async with db.sessionmaker()() as session:
        return await sweep(session, now or clock.now(), holder=lease.holder_id())


async def run_and_log() -> None:
    result = await run_once()
    if result.auto_verified or result.checkin_missed or result.expired:
        log.info("tasks sweep: %d verified by themselves, %d missed check-ins, %d expired",
                 len(result.auto_verified), len(result.checkin_missed), len(result.expired))


def start(every_seconds: float) -> asyncio.Task[None] | None:
    """The loop the app's lifespan starts (app/core/periodic.py)."""
    return periodic.start("tasks.sweep", every_seconds, run_and_log)


stop = periodic.stop
