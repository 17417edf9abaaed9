"""Tasks and claims as two tables: which action moves a task or a claim from which states to which,
who may take it, and what it needs. Pure: no I/O; the service asks and then acts.

A task 任务: draft 草稿 → open 招募中 → full 已满 → in_progress 进行中 → done 已完成, or cancelled 已取消.
A micro-wish 微心愿 waits for the committee first: draft → pending 待审核 → (approve) open. A task
nobody took when its time ran out is expired 已过期 (the sweep; a time-bank request's held hours
go back to the poster).

A claim 认领/报名: claimed 已报名 → checked_in 已签到 (the task's QR code on site, or the organiser marks
attendance; an adoption 认领 checks in again every N days) → submitted 已提交 (evidence: photos, a
note, minutes) → verified 已核实 | rejected 未通过 (reason; may be submitted again) → paid 已发放.
Or: withdrawn 已退出 (before the start), no_show 未到场 (the organiser), expired 已失效 (the sweep,
or the task was cancelled), handed_over 已转交 (an adoption passed to someone else).

A volunteer job and an adoption are verified by an organiser; a micro-wish and a time-bank
request are confirmed by the person they are for (the wisher, the one who asked for help), or a
facilitator for them. Nobody verifies their own claim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    volunteer = "volunteer"  # 志愿服务: a clean-up, a night patrol, helping at a meeting
    adoption = "adoption"  # 认领: a green patch, a stairwell, 门前三包, for a period, checked in every N days
    wish = "wish"  # 微心愿: a resident's small wish, approved by the committee
    timebank = "timebank"  # 时间银行: help asked for, paid from the asker's own hours


class Status(StrEnum):
    draft = "draft"
    pending = "pending"
    open = "open"
    full = "full"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"
    expired = "expired"


class ClaimStatus(StrEnum):
    claimed = "claimed"
    checked_in = "checked_in"
    submitted = "submitted"
    verified = "verified"
    rejected = "rejected"
    paid = "paid"
    withdrawn = "withdrawn"
    no_show = "no_show"
    expired = "expired"
    handed_over = "handed_over"


ALL_KINDS = frozenset(Kind)
CONFIRMED_BY_REQUESTER = frozenset({Kind.wish, Kind.timebank})
"""Kinds whose claims the person the task is for confirms (not an organiser)."""
TIMED = frozenset({Kind.volunteer, Kind.timebank})
"""Kinds that happen at a time: nobody claims or withdraws once they have started."""
ONE_PERSON = frozenset({Kind.wish, Kind.timebank})
"""Kinds taken up by one person (a wish is granted once; held hours pay one helper)."""

CLAIMABLE = frozenset({Status.open})
LIVE = frozenset({Status.draft, Status.pending, Status.open, Status.full, Status.in_progress})
"""Task states that are not over."""
FINAL = frozenset({Status.done, Status.cancelled, Status.expired})
ACTIVE_CLAIMS = frozenset({ClaimStatus.claimed, ClaimStatus.checked_in, ClaimStatus.submitted,
                           ClaimStatus.rejected})
"""Claims that hold a place on the task and still wait for something."""
HOLDS_PLACE = frozenset({*ACTIVE_CLAIMS, ClaimStatus.verified, ClaimStatus.paid})
"""Claims counted in the task's ``claimed_count`` (withdrawn, expired and handed-over ones free it)."""
DONE_CLAIMS = frozenset({ClaimStatus.verified, ClaimStatus.paid})


class Actor(StrEnum):
    """What the caller is to a task or a claim (one person may be several)."""

    organiser = "organiser"  # one of the task's organisers (or the committee, which backs them up)
    committee = "committee"
    requester = "requester"  # the wisher, or the one who asked the time bank for help
    claimant = "claimant"  # the person the claim is for, acting themself
    facilitator = "facilitator"  # a grid worker or building leader acting for the claimant (no phone)
    for_requester = "for_requester"  # a facilitator acting for the person a wish or request is for
    system = "system"  # the sweep


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str | None  # None: the state stays (a repeated adoption check-in, a renewal)
    actors: frozenset[Actor]
    kinds: frozenset[Kind] = ALL_KINDS
    needs: frozenset[str] = field(default_factory=frozenset)  # fields the action must carry


def _t(sources: set[str], target: str | None, actors: set[Actor], kinds: frozenset[Kind] | set[Kind] = ALL_KINDS,
       needs: set[str] | None = None) -> Transition:
    return Transition(frozenset(sources), target, frozenset(actors), frozenset(kinds), frozenset(needs or ()))


S, C, A, K = Status, ClaimStatus, Actor, Kind

TASK_TRANSITIONS: dict[str, Transition] = {
    "publish": _t({S.draft}, S.open, {A.organiser}),  # a wish goes to pending instead (PUBLISH_TO)
    "approve": _t({S.pending}, S.open, {A.committee}, {K.wish}),
    "start": _t({S.open, S.full}, S.in_progress, {A.organiser, A.system}),
    "finish": _t({S.open, S.full, S.in_progress}, S.done, {A.organiser, A.requester, A.system}),
    "cancel": _t({S.draft, S.pending, S.open, S.full, S.in_progress}, S.cancelled,
                 {A.organiser, A.committee, A.requester}),
    "expire": _t({S.pending, S.open, S.full}, S.expired, {A.system}),
}
PUBLISH_TO: dict[Kind, Status] = {K.wish: S.pending}
"""Where publishing leads, when it is not ``open``: a micro-wish waits for the committee."""

WORKERS = {A.claimant, A.facilitator}
VERIFIERS = {A.organiser}
CONFIRMERS = {A.requester, A.for_requester, A.committee}
ORGANISER_KINDS = ALL_KINDS - CONFIRMED_BY_REQUESTER

CLAIM_TRANSITIONS: dict[str, Transition] = {
    # Checking in again is how an adoption shows it is looked after (every N days); others check in once.
    "checkin": _t({C.claimed, C.checked_in}, C.checked_in, {*WORKERS, A.organiser}),
    "submit": _t({C.claimed, C.checked_in, C.rejected}, C.submitted, WORKERS),
    "verify": _t({C.submitted, C.checked_in}, C.verified, {*VERIFIERS, A.system}, ORGANISER_KINDS),
    "confirm": _t({C.submitted, C.claimed, C.checked_in}, C.verified, {*CONFIRMERS, A.system},
                  CONFIRMED_BY_REQUESTER),
    "reject": _t({C.submitted}, C.rejected, {*VERIFIERS, *CONFIRMERS}, needs={"reason"}),
    "withdraw": _t({C.claimed}, C.withdrawn, WORKERS),
    "no_show": _t({C.claimed}, C.no_show, {A.organiser}, ORGANISER_KINDS),
    "renew": _t({C.claimed, C.checked_in}, None, {*WORKERS, A.organiser}, {K.adoption}),
    "hand_over": _t({C.claimed, C.checked_in}, C.handed_over, {*WORKERS, A.organiser}, {K.adoption},
                    {"to_person_id"}),
    "pay": _t({C.verified}, C.paid, {A.system}),
    "expire": _t({C.claimed, C.checked_in, C.rejected}, C.expired, {A.system}),
}

CLAIM_ACTIONS = tuple(name for name in CLAIM_TRANSITIONS if name not in ("pay", "expire"))
"""What a person may ask for over the API (the others are the system's own)."""
TASK_ACTIONS = tuple(name for name in TASK_TRANSITIONS if name != "expire")


def verify_sources(kind: Kind, evidence_required: bool) -> frozenset[str]:
    """A claim is verified once its evidence is in; where none is required, attendance suffices
    (the organiser ticks off who came), and a wish or a time-bank request may be confirmed as
    soon as the wisher sees it done."""
    if kind in CONFIRMED_BY_REQUESTER:
        return CLAIM_TRANSITIONS["confirm"].sources if not evidence_required else frozenset({C.submitted})
    return CLAIM_TRANSITIONS["verify"].sources if not evidence_required else frozenset({C.submitted})


class UnknownAction(Exception):
    pass


class NotForKind(Exception):
    def __init__(self, action: str, kind: Kind) -> None:
        super().__init__(action)
        self.action, self.kind = action, kind


class NotAllowedFrom(Exception):
    def __init__(self, action: str, status: str, allowed: list[str]) -> None:
        super().__init__(action)
        self.action, self.status, self.allowed = action, status, allowed


class WrongActor(Exception):
    def __init__(self, action: str) -> None:
        super().__init__(action)
        self.action = action


def _sources(table: dict[str, Transition], action: str, kind: Kind, evidence_required: bool) -> frozenset[str]:
    if table is CLAIM_TRANSITIONS and action in ("verify", "confirm"):
        return verify_sources(kind, evidence_required)
    if table is CLAIM_TRANSITIONS and action == "checkin" and kind is not Kind.adoption:
        return frozenset({ClaimStatus.claimed})  # only an adoption checks in again
    return table[action].sources


def allowed(table: dict[str, Transition], names: tuple[str, ...], status: str, kind: Kind,
            actors: frozenset[Actor] | None = None, evidence_required: bool = False) -> list[str]:
    """Actions of ``names`` possible from ``status`` for this kind (for ``actors``, when given)."""
    return [name for name in names if kind in table[name].kinds
            and status in _sources(table, name, kind, evidence_required)
            and (actors is None or table[name].actors & actors)]


def check(table: dict[str, Transition], action: str, status: str, kind: Kind, actors: frozenset[Actor],
          evidence_required: bool = False) -> Transition:
    """The transition for ``action`` if this caller may take it now; raises why not otherwise.

    The kind first (an adoption has no ``confirm``), then the state (a step impossible now is a
    conflict whoever asks), then who asks."""
    tr = table.get(action)
    if tr is None:
        raise UnknownAction(action)
    if kind not in tr.kinds:
        raise NotForKind(action, kind)
    names = CLAIM_ACTIONS if table is CLAIM_TRANSITIONS else TASK_ACTIONS
    if status not in _sources(table, action, kind, evidence_required):
        raise NotAllowedFrom(action, status, allowed(table, names, status, kind, None, evidence_required))
    if not tr.actors & actors:
        raise WrongActor(action)
    return tr


def task_target(action: str, kind: Kind) -> Status:
    if action == "publish" and kind in PUBLISH_TO:
        return PUBLISH_TO[kind]
    target = TASK_TRANSITIONS[action].target
    assert target is not None
    return Status(target)


def status_after_claims(status: Status, claimed: int, needed: int) -> Status:
    """Open while places are free, full when they are taken (only between those two)."""
    if status not in (Status.open, Status.full):
        return status
    return Status.full if claimed >= needed else Status.open
