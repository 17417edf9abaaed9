"""The honour board 光荣榜: who gained most this month, this year or ever, in points or in hours,
in the community or one grid. Read from the per-period totals kept with every entry, never from the
ledger itself. Who chose not to be named is "a neighbour" (一位邻居), to everyone but themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.communities import service as communities
from app.core.errors import Invalid
from app.core.i18n import t
from app.points import explain
from app.points import repository as repo
from app.points import rules as arithmetic

DEFAULT_SIZE = 20


@dataclass(frozen=True)
class Row:
    rank: int
    name: str
    named: bool
    me: bool
    amount: int
    amount_text: str


def period_key(period: str, now: datetime, at: str | None) -> str:
    """The totals' period: "2026-11" (month), "2026" (year) or "all"; ``at`` picks an earlier one."""
    if period == "all":
        return "all"
    if at:
        return at
    month, year, _ = arithmetic.periods_of(now)
    return month if period == "month" else year


def period_label(key: str, locale: str) -> str:
    if key == "all":
        return t("points.board.all", locale)
    if len(key) == 4:
        return t("points.board.year", locale, year=key)
    return t("points.board.month", locale, year=key[:4], month=int(key[5:]))


async def board(session: AsyncSession, *, community_id: str, viewer_id: str, unit: str, key: str,
                grid_id: str | None, locale: str, size: int = DEFAULT_SIZE) -> tuple[list[Row], Row | None]:
    among = None
    if grid_id is not None:
        if await communities.grid_in(session, community_id, grid_id) is None:
            raise Invalid("grid_not_found", errors=[{"loc": ["query", "grid_id"], "msg_key": "error.grid_not_found"}])
        among = await communities.people_in_grid(session, community_id, grid_id)
    found = await repo.board(session, community_id, unit, key, size, among)
    ids = [pid for pid, _ in found]
    hidden = await repo.hidden_among(session, community_id, ids)
    names = await communities.names_of(session, ids)
    rows, rank, last = [], 0, None
    for position, (pid, amount) in enumerate(found, start=1):
        if amount != last:
            rank, last = position, amount
        rows.append(_row(rank, pid, amount, viewer_id, hidden, names, unit, locale))
    mine = next((r for r in rows if r.me), None)
    if mine is None and (among is None or viewer_id in among):
        amount = await repo.gained(session, community_id, viewer_id, unit, key)
        if amount > 0:
            ahead = await repo.ahead_of(session, community_id, unit, key, amount, among)
            own = await communities.names_of(session, [viewer_id])
            mine = _row(ahead + 1, viewer_id, amount, viewer_id, set(), own, unit, locale)
    return rows, mine


def _row(rank: int, pid: str, amount: int, viewer_id: str, hidden: set[str], names: dict[str, str], unit: str,
         locale: str) -> Row:
    me = pid == viewer_id
    named = pid not in hidden
    name = names.get(pid) or t("points.someone", locale)
    return Row(rank=rank, name=name if named or me else t("points.board.neighbour", locale), named=named, me=me,
               amount=amount, amount_text=explain.amount_text(unit, amount, locale, signed=False))
