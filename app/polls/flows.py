"""A poll's life as one table. Pure: the service asks, then acts.

draft 草稿 → (open, with a future opening time) scheduled 待开始 → open 投票中 → closed 已截止 →
(publish) notice 公示中 → final 已生效. Opening freezes the electorate; closing counts; publishing
starts the notice period 公示 in which eligible voters may object; the poll becomes final when
the period has ended and every objection has an answer. Time moves polls too (scheduled.py):
opening and closing at their times, and ending the notice period.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    draft = "draft"
    scheduled = "scheduled"
    open = "open"
    closed = "closed"
    notice = "notice"
    final = "final"


# action → the states it may start from
TRANSITIONS: dict[str, frozenset[Status]] = {
    "edit": frozenset({Status.draft, Status.scheduled}),
    "open": frozenset({Status.draft, Status.scheduled}),
    "vote": frozenset({Status.open}),
    "close": frozenset({Status.open}),
    "publish": frozenset({Status.closed}),
    "object": frozenset({Status.notice}),
    "answer": frozenset({Status.notice, Status.final}),
    "finalise": frozenset({Status.notice}),
}

RESULTS_FINAL = frozenset({Status.closed, Status.notice, Status.final})
"""States in which the count is the outcome (shown even when results were hidden while open)."""

STARTED = frozenset({Status.open, *RESULTS_FINAL})
"""States in which the electorate is frozen and ballots exist."""


class NotAllowedNow(Exception):
    def __init__(self, action: str, status: Status) -> None:
        super().__init__(action)
        self.action, self.status = action, status


def check(action: str, status: Status | str) -> None:
    if Status(status) not in TRANSITIONS[action]:
        raise NotAllowedNow(action, Status(status))


def results_visible(status: Status | str, hidden_while_open: bool) -> bool:
    """Whether counts may be shown. Counts hidden while open (hidden results, and every secret
    poll: Poll.counts_hidden_while_open) stay hidden from everyone, the committee included, until
    the poll closes: a count seen early is a count that can leak."""
    s = Status(status)
    if s in RESULTS_FINAL:
        return True
    return s == Status.open and not hidden_while_open
