"""The home page's cards: what waits for the signed-in person in one community.

Each domain registers the cards it can fill (``register_card``) when the app starts: app/main.py
wires them, as it wires the share previews and the photo rules. The home asks every source in
order and never knows the domains, so a later capability (tasks, meetings, projects) adds its card
by registering it, without touching this module or the page. A source returns None when it has
nothing for this person (the handler's queue, for a resident).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.communities.deps import CommunityScope
from app.home.schemas import HomeCard, HomeRead

CardSource = Callable[[AsyncSession, CommunityScope, str], Awaitable[HomeCard | None]]
"""``source(session, scope, locale)``: the caller's card in the scope's community, or None."""

MAX_ITEMS = 3
"""Items a card shows; its count and its action lead to the rest."""


@dataclass(frozen=True)
class _Registered:
    key: str
    order: int
    source: CardSource


_cards: dict[str, _Registered] = {}


def register_card(key: str, source: CardSource, *, order: int) -> None:
    """Add a card; lower ``order`` comes first (10 votes, 20 verification, 30 staff work, 50 my own
    reports: what waits for me before what I follow)."""
    known = _cards.get(key)
    if known is not None and known.source is not source:
        raise ValueError(f"a home card {key!r} is already registered")
    _cards[key] = _Registered(key, order, source)


def registered() -> list[str]:
    return [r.key for r in sorted(_cards.values(), key=lambda r: (r.order, r.key))]


async def home(session: AsyncSession, scope: CommunityScope, locale: str) -> HomeRead:
    cards = []
    for r in sorted(_cards.values(), key=lambda r: (r.order, r.key)):
        card = await r.source(session, scope, locale)
        if card is not None:
            cards.append(card.model_copy(update={"key": r.key, "items": card.items[:MAX_ITEMS]}))
    return HomeRead(community_id=scope.community_id, community_name=scope.community.name, cards=cards)
