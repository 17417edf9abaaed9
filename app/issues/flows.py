"""The issue lifecycle as one table: which action moves an issue from which states to which,
who may take it, and what it needs. Pure: no I/O; the service asks and then acts.

reported 待受理 → accepted 已受理 | rejected 不予受理 | merged 合并 → dispatched 已派单 →
in_progress 处置中 → resolved 已办结 → (verify 核查) closed 已关闭, or (reopen) reopened 重新办理.
"Resolved" is not "closed": only verification — by the reporter or the grid's grid worker,
谁上报谁核查 — closes an issue. A grid worker may close a micro-event on the spot with a photo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    reported = "reported"
    accepted = "accepted"
    rejected = "rejected"
    merged = "merged"
    dispatched = "dispatched"
    in_progress = "in_progress"
    resolved = "resolved"
    reopened = "reopened"
    closed = "closed"


OPEN = frozenset({Status.reported, Status.accepted, Status.dispatched, Status.in_progress, Status.reopened})
"""States in which an issue is still waiting for someone; only these can be overdue."""
FINAL = frozenset({Status.rejected, Status.merged, Status.closed})


class Actor(StrEnum):
    """What the caller is to this issue (one person may be several)."""

    committee = "committee"  # 两委: triage and routing
    handler = "handler"  # a member of the handler the issue is dispatched to
    reporter = "reporter"
    grid_worker = "grid_worker"  # a grid worker of the grid (or of any grid, if it has none)


@dataclass(frozen=True)
class Transition:
    sources: frozenset[Status]
    target: Status | None  # None: the state stays (re-routing)
    actors: frozenset[Actor]
    needs: frozenset[str] = field(default_factory=frozenset)  # fields the action must carry


def _t(sources: set[Status], target: Status | None, actors: set[Actor], needs: set[str] | None = None) -> Transition:
    return Transition(frozenset(sources), target, frozenset(actors), frozenset(needs or ()))


S, A = Status, Actor
VERIFIERS = {A.reporter, A.grid_worker}

TRANSITIONS: dict[str, Transition] = {
    "accept": _t({S.reported}, S.accepted, {A.committee}),
    "reject": _t({S.reported, S.accepted}, S.rejected, {A.committee}, {"reason"}),
    "merge": _t({S.reported, S.accepted}, S.merged, {A.committee, A.grid_worker}, {"into"}),
    "dispatch": _t({S.reported, S.accepted, S.reopened}, S.dispatched, {A.committee}, {"handler"}),
    "start": _t({S.dispatched, S.reopened}, S.in_progress, {A.handler}),
    "resolve": _t({S.dispatched, S.in_progress, S.reopened}, S.resolved, {A.handler}, {"photo", "note"}),
    "verify": _t({S.resolved}, S.closed, VERIFIERS),
    "reopen": _t({S.resolved}, S.reopened, VERIFIERS, {"reason"}),
    "close_on_spot": _t({S.reported}, S.closed, {A.grid_worker}, {"photo"}),
    "reroute": _t({S.accepted, S.dispatched, S.in_progress, S.reopened}, None, {A.committee}, {"reason"}),
}

ESCALATE_ON_REOPEN = 3
"""The third reopen escalates 督办 the issue to the level above, as a missed deadline does."""


class NotAllowedFrom(Exception):
    def __init__(self, action: str, status: Status, allowed: list[str]) -> None:
        super().__init__(action)
        self.action, self.status, self.allowed = action, status, allowed


class WrongActor(Exception):
    def __init__(self, action: str) -> None:
        super().__init__(action)
        self.action = action


class UnknownAction(Exception):
    pass


def allowed_actions(status: Status, actors: frozenset[Actor] | None = None) -> list[str]:
    """Actions possible from ``status`` (for ``actors``, when given), in table order."""
    return [name for name, tr in TRANSITIONS.items()
            if status in tr.sources and (actors is None or tr.actors & actors)]


def check(action: str, status: Status, actors: frozenset[Actor]) -> Transition:
    """The transition for ``action`` if this caller may take it now; raises why not otherwise.

    The state is checked first: a step that is impossible now is a conflict (409) whoever asks.
    """
    tr = TRANSITIONS.get(action)
    if tr is None:
        raise UnknownAction(action)
    if status not in tr.sources:
        raise NotAllowedFrom(action, status, allowed_actions(status))
    if not tr.actors & actors:
        raise WrongActor(action)
    return tr


def escalates_on_reopen(reopen_count: int) -> bool:
    return reopen_count >= ESCALATE_ON_REOPEN
