"""Every entry explains itself: the sentence a person reads in their history, in their language,
from the entry's machine fields and the words it carries (a task's title, a reason, a name).
The catalogue keys are ``points.entry.*`` in web/locales/*/points_server.json."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.core.i18n import catalogue, t
from app.points import rules as arithmetic
from app.points.models import Entry

KNOWN_REASONS = ("cancelled", "expired", "withdrawn", "rejected")
"""Reasons the system gives (a hold released because its request was cancelled …): shown in words."""


def amount_text(unit: str, amount: int, locale: str, *, signed: bool = True) -> str:
    """"+20 积分", "−1.5 小时" (amounts of hours are minutes)."""
    sign = ("+" if amount > 0 else "−" if amount < 0 else "") if signed else ("−" if amount < 0 else "")
    number = arithmetic.hours_text(abs(amount)) if unit == "hours" else str(abs(amount))
    return sign + t(f"points.amount.{unit}", locale, amount=number)


def reason_text(reason: str, locale: str) -> str:
    key = f"points.reason.{reason}"
    return t(key, locale) if reason in KNOWN_REASONS and key in catalogue(locale) else reason


def entry_text(e: Entry, names: Mapping[str, str], locale: str) -> str:
    """What ``e`` is, in words: "完成「周六清扫楼道」 · 本月已达上限 …"."""
    data: dict[str, Any] = e.data or {}
    counterpart = names.get(e.counterpart_id or "") or t("points.someone", locale)
    params: dict[str, Any] = {"title": e.title, "reason": reason_text(e.reason, locale), "counterpart": counterpart}
    kind = e.kind
    if kind == "earned" and e.counterpart_id:
        key = "points.entry.earned.helped"
    elif kind in ("refunded",):
        key = f"points.entry.refunded.{data.get('why', 'cancelled')}"
    elif kind == "donated":
        key = "points.entry.donated.in" if e.amount > 0 else "points.entry.donated.out"
    elif kind == "expired":
        key = "points.entry.expired"
        params["year"] = data.get("through_year", "")
    else:
        key = f"points.entry.{kind}"
    text = t(key, locale, **params)
    if kind == "earned" and "cap" in data:
        text += t("points.entry.capped", locale, cap=data["cap"], requested=data.get("requested", ""))
    if data.get("auto"):
        text += t("points.entry.auto", locale)
    if kind == "donated" and e.reason:
        text += t("points.entry.note", locale, note=e.reason)
    return text
