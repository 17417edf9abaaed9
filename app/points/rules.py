"""Points arithmetic, with no I/O: periods, the monthly cap, expiry, and how minutes read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")  # no summer time: a fixed offset needs no tzdata


def local(when: datetime) -> datetime:
    return when.astimezone(BEIJING)


def month_of(when: datetime) -> str:
    """The month an instant belongs to in the community's time: "2026-11"."""
    return local(when).strftime("%Y-%m")


def periods_of(when: datetime) -> tuple[str, str, str]:
    """The honour board periods an entry counts in: its month, its year, all time."""
    day = local(when)
    return day.strftime("%Y-%m"), day.strftime("%Y"), "all"


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The instants a month "2026-11" spans, as UTC [start, end)."""
    year, mon = (int(p) for p in month.split("-"))
    start = datetime(year, mon, 1, tzinfo=BEIJING)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=BEIJING)
    return start.astimezone(UTC), end.astimezone(UTC)


def year_end(year: int) -> datetime:
    """The first instant after ``year`` ends (Beijing), in UTC."""
    return datetime(year + 1, 1, 1, tzinfo=BEIJING).astimezone(UTC)


def capped(requested: int, earned_this_month: int, cap: int | None) -> int:
    """What an award may pay under a monthly cap: never more than the room left, never below zero."""
    if cap is None:
        return requested
    return max(0, min(requested, cap - earned_this_month))


def to_expire(credits_before_cutoff: int, debits_ever: int, balance: int) -> int:
    """First in, first out: what is left of the credits made before the cutoff once every debit
    (spends, earlier expiries) has been taken from the oldest credits first; never more than is held."""
    return max(0, min(balance, credits_before_cutoff - debits_ever))


def hours_text(minutes: int) -> str:
    """90 → "1.5", 60 → "1", 20 → "0.33": hours as people say them."""
    sign = "-" if minutes < 0 else ""
    whole, rest = divmod(abs(minutes), 60)
    if not rest:
        return f"{sign}{whole}"
    text = f"{abs(minutes) / 60:.2f}".rstrip("0").rstrip(".")
    return f"{sign}{text}"
