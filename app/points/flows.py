"""A store order's lifecycle as one table. Pure: no I/O; the service asks and then acts.

ready 待领取 → fulfilled 已领取 (handed over: the committee typed or scanned the pickup code 核销码,
or fulfilled it from the list) | cancelled 已取消 (by its owner or the committee: refunded once) |
expired 已过期 (not picked up in time: refunded once, by the sweep). An order whose code was typed
wrong five times is locked: the code no longer hands it over until its owner asks for a new one
(``reissue``); the committee may still fulfil or cancel it from the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class OrderStatus(StrEnum):
    ready = "ready"
    fulfilled = "fulfilled"
    cancelled = "cancelled"
    expired = "expired"


FINAL = frozenset({OrderStatus.fulfilled, OrderStatus.cancelled, OrderStatus.expired})
REFUNDED = frozenset({OrderStatus.cancelled, OrderStatus.expired})


class OrderActor(StrEnum):
    owner = "owner"  # who redeemed it
    committee = "committee"  # runs the store and its pickup counter
    system = "system"  # the sweep


@dataclass(frozen=True)
class OrderTransition:
    sources: frozenset[OrderStatus]
    target: OrderStatus
    actors: frozenset[OrderActor]


S, A = OrderStatus, OrderActor

TRANSITIONS: dict[str, OrderTransition] = {
    "fulfil": OrderTransition(frozenset({S.ready}), S.fulfilled, frozenset({A.committee})),
    "cancel": OrderTransition(frozenset({S.ready}), S.cancelled, frozenset({A.owner, A.committee})),
    "reissue": OrderTransition(frozenset({S.ready}), S.ready, frozenset({A.owner})),
    "expire": OrderTransition(frozenset({S.ready}), S.expired, frozenset({A.system})),
}
ACTIONS = ("fulfil", "cancel", "reissue")
"""What a caller may ask for over the API (``expire`` is the sweep's)."""

WRONG_TRIES_LOCK = 5
"""Wrong pickup codes for one order before the code stops working."""


class NotNow(Exception):
    def __init__(self, action: str, status: OrderStatus) -> None:
        super().__init__(action)
        self.action, self.status = action, status


class NotYours(Exception):
    pass


def check(action: str, status: OrderStatus, actors: frozenset[OrderActor]) -> OrderTransition:
    """The transition if these actors may take it now. The actor is checked first here: an order
    one may not act on is not one's to learn the state of."""
    tr = TRANSITIONS[action]
    if not tr.actors & actors:
        raise NotYours(action)
    if status not in tr.sources:
        raise NotNow(action, status)
    return tr


def allowed_actions(status: OrderStatus, actors: frozenset[OrderActor]) -> list[str]:
    return [a for a in ACTIONS if status in TRANSITIONS[a].sources and TRANSITIONS[a].actors & actors]
