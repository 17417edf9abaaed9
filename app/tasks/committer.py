"""Group commit of claims: a task shared in a WeChat group brings a crowd at once, one transaction.

When a link goes round, the claims on one task arrive together and the task's row (its count of
places) serialises them anyway: on PostgreSQL each claim held the row's lock from its count's
update to its commit, and with many requests in flight each of those steps waited its turn on the
event loop, so fifty claims queued for seconds behind each other's locks. So each process gathers
the claims that arrive while its previous write is under way (app/core/group_commit.py) and writes
them together: the claims, their records and their confirmations first, then the task's row, locked
for one update and the commit, and the claims that found no place left removed again.

Each claimant still gets an answer of their own: their claim and the task's count after it, or
the refusal of a task that filled (or closed) meanwhile, or ``None`` when they held a claim on
it already (a double tap, or a retry), which sends the request down the one-at-a-time path for
its answer. A batch that fails is written again one claim at a time.

Only callers whose session has written nothing use this (``db.is_reading``): on SQLite a session
holding the write lock would wait on the committer that waits on it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update

from app.core import db
from app.core.errors import Conflict, Msg
from app.core.group_commit import GroupCommit
from app.core.ids import new_id
from app.notifications.models import Notification
from app.tasks.flows import ClaimStatus, Status
from app.tasks.models import Task, TaskClaim, TaskEvent


@dataclass
class NewClaim:
    """One person claiming a place for themself: the claim's row, its record and who is told."""

    row: dict[str, Any]  # every column of the claim (app/tasks/service.py claim_row)
    confirmation: dict[str, Any]  # the claimant's notification's data
    organisers: list[str] = field(default_factory=list)  # told when the claim fills the task
    full_notice: dict[str, Any] = field(default_factory=dict)

    @property
    def task_id(self) -> str:
        return str(self.row["task_id"])


@dataclass(frozen=True)
class Placed:
    claim_id: str
    claimed_count: int
    status: str


# FOR NO KEY UPDATE: the claims just inserted hold a KEY SHARE lock on their task's row (their
# foreign key), which FOR UPDATE would wait on — two processes' batches on one task would deadlock.
_LOCK_TASKS = (select(Task.id, Task.status, Task.claimed_count, Task.people_needed)
               .where(Task.id.in_(bindparam("ids", expanding=True))).order_by(Task.id)
               .with_for_update(key_share=True))


def _notification(person_id: str, community_id: str, kind: str, data: dict[str, Any], now: datetime
                  ) -> dict[str, Any]:
    return {"id": new_id(), "created_at": now, "person_id": person_id, "community_id": community_id, "kind": kind,
            "data": data, "read_at": None}


async def _write(batch: list[NewClaim]) -> list[Placed | Exception | None]:
    async with db.writers_turn(), db.get_engine().begin() as conn:  # SQLite: BEGIN IMMEDIATE, the write lock
        insert = db.insert_for(conn.dialect)
        # The claims first, each person once per task (the unique index; a double tap in the same
        # batch, or a claim made meanwhile, inserts nothing), with their records and confirmations.
        first: dict[tuple[str, str], NewClaim] = {}
        for c in batch:
            first.setdefault((c.task_id, str(c.row["person_id"])), c)
        rows = [c.row for c in first.values()]
        inserted = set((await conn.execute(
            insert(TaskClaim).values(rows).on_conflict_do_nothing(index_elements=["task_id", "person_id"])
            .returning(TaskClaim.id))).scalars())
        new = [c for c in first.values() if c.row["id"] in inserted]
        if not new:
            return [None for _ in batch]
        now = new[0].row["claimed_at"]
        await conn.execute(insert(TaskEvent).values([
            {"id": new_id(), "created_at": now, "task_id": c.task_id, "claim_id": c.row["id"],
             "actor_id": c.row["person_id"], "for_person_id": None, "action": "claim", "from_status": None,
             "to_status": ClaimStatus.claimed.value, "note": "", "data": {}} for c in new]))
        told = {c.row["id"]: _notification(str(c.row["person_id"]), str(c.row["community_id"]),
                                           "task.claim_confirmed", c.confirmation, now) for c in new}
        await conn.execute(insert(Notification).values(list(told.values())))
        # Then the places: the tasks' rows locked (in id order, as every writer takes them), for as
        # short a time as it takes to count and commit.
        by_task: dict[str, list[NewClaim]] = defaultdict(list)
        for c in new:
            by_task[c.task_id].append(c)
        answers: dict[str, Placed | Exception] = {}
        left_out: list[NewClaim] = []
        full_notices: list[dict[str, Any]] = []
        for task in await conn.execute(_LOCK_TASKS, {"ids": sorted(by_task)}):
            claims = by_task[task.id]
            free = task.people_needed - task.claimed_count if task.status == Status.open else 0
            placed, left = claims[:max(0, free)], claims[max(0, free):]
            refusal = (Conflict("task_full") if task.status in (Status.open, Status.full)
                       else Conflict("task_not_open", state=Msg(f"ui.task.status.{task.status}")))
            for c in left:
                answers[c.row["id"]] = refusal
            left_out += left
            if not placed:
                continue
            count = task.claimed_count + len(placed)
            status = Status.full.value if count >= task.people_needed else Status.open.value
            await conn.execute(update(Task).where(Task.id == task.id, Task.status == Status.open.value,
                                                  Task.claimed_count + len(placed) <= Task.people_needed)
                               .values(claimed_count=Task.claimed_count + len(placed), status=status, updated_at=now))
            for i, c in enumerate(placed):
                answers[c.row["id"]] = Placed(str(c.row["id"]), task.claimed_count + i + 1, status)
            if status == Status.full.value:
                last = placed[-1]
                full_notices += [_notification(p, str(last.row["community_id"]), "task.full", last.full_notice, now)
                                 for p in dict.fromkeys(last.organisers) if p != last.row["person_id"]]
        if left_out:  # no place left for them: their claims (and records) go again, as if never made
            gone = [c.row["id"] for c in left_out]
            await conn.execute(delete(TaskEvent).where(TaskEvent.claim_id.in_(gone)))
            await conn.execute(delete(TaskClaim).where(TaskClaim.id.in_(gone)))
            await conn.execute(delete(Notification).where(Notification.id.in_([told[g]["id"] for g in gone])))
        if full_notices:
            await conn.execute(insert(Notification).values(full_notices))
    # A claim not inserted (held already) or a second one of the same person in the batch: None.
    return [answers.get(c.row["id"]) if first.get((c.task_id, str(c.row["person_id"]))) is c else None
            for c in batch]


claims: GroupCommit[NewClaim, Placed | None] = GroupCommit(_write)
