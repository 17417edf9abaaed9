"""The committee's books: a month of the ledger, and a month of store orders, as CSV or XLSX.

Rows are in the reader's language (kinds, statuses and each entry's words), times in Beijing time;
amounts stay integers (hours as minutes, with a column in hours beside them). CSV carries a BOM so
that Excel opens it as UTF-8."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.communities import service as communities
from app.core.i18n import t
from app.points import explain
from app.points import repository as repo
from app.points import rules as arithmetic

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _when(value: Any) -> str:
    return arithmetic.local(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


async def ledger_rows(session: AsyncSession, community_id: str, month: str, locale: str) -> list[list[Any]]:
    start, end = arithmetic.month_bounds(month)
    entries = await repo.entries_between(session, community_id, start, end)
    names = await communities.names_of(session, [p for e in entries for p in (e.person_id, e.counterpart_id,
                                                                              e.actor_id) if p])
    header = [t(f"points.export.ledger.{c}", locale) for c in (
        "time", "person", "kind", "unit", "amount", "hours", "balance_after", "text", "ref_type", "ref_id", "actor",
        "entry_id")]
    rows: list[list[Any]] = [header]
    for e in entries:
        rows.append([
            _when(e.created_at), names.get(e.person_id, ""), t(f"points.kind.{e.kind}", locale),
            t(f"points.unit.{e.unit}", locale), e.amount,
            round(e.amount / 60, 2) if e.unit == "hours" else "", e.balance_after,
            explain.entry_text(e, names, locale), e.ref_type or "", e.ref_id or "",
            names.get(e.actor_id or "", "") if e.actor_id else t("points.system", locale), e.id])
    return rows


async def order_rows(session: AsyncSession, community_id: str, month: str, locale: str) -> list[list[Any]]:
    start, end = arithmetic.month_bounds(month)
    orders = await repo.orders_between(session, community_id, start, end)
    names = await communities.names_of(session, [p for o in orders for p in (o.person_id, o.closed_by) if p])
    header = [t(f"store.export.{c}", locale) for c in (
        "time", "order", "person", "item", "quantity", "price", "total", "status", "closed_at", "closed_by",
        "reason", "order_id")]
    rows: list[list[Any]] = [header]
    for o in orders:
        rows.append([
            _when(o.created_at), o.prefix, names.get(o.person_id, ""), o.item_name, o.quantity, o.price, o.total,
            t(f"store.order.status.{o.status}", locale), _when(o.closed_at),
            names.get(o.closed_by or "", "") if o.closed_by else "", o.close_reason, o.id])
    return rows


def _safe(value: Any) -> Any:
    """A cell a spreadsheet would run as a formula (=, +, -, @ first) is written as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def as_csv(rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([_safe(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def as_xlsx(rows: Sequence[Sequence[Any]], title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    for row in rows:
        sheet.append([_safe(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
