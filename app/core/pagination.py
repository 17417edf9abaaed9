"""Cursor pagination: ``?limit=`` (default 20, max 100) and ``?cursor=``.

The answer is ``{"items": [...], "next_cursor": "..." | null}``. The default key is the
time-ordered id, so "newest first" needs no extra index; callers may pass another column
whose values are then paired with the id to keep the order total.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.core.errors import Invalid

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor: str | None


def page_params(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


Paging = Annotated[PageParams, Depends(page_params)]


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values), default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid("bad_cursor") from exc
    if not isinstance(values, list) or len(values) != size:
        raise Invalid("bad_cursor")
    return values


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    params: PageParams,
    id_col: InstrumentedAttribute[str],
    *,
    descending: bool = True,
) -> tuple[list[Any], str | None]:
    """Rows of ``stmt`` (one entity per row) ordered by id, and the next cursor."""
    if params.cursor:
        (last_id,) = decode_cursor(params.cursor, 1)
        if not isinstance(last_id, str):
            raise Invalid("bad_cursor")
        stmt = stmt.where(id_col < last_id if descending else id_col > last_id)
    stmt = stmt.order_by(id_col.desc() if descending else id_col.asc()).limit(params.limit + 1)
    rows = list((await session.execute(stmt)).scalars().all())
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    return rows, encode_cursor([rows[-1].id]) if more and rows else None


def keyset_after(col: Any, id_col: Any, value: Any, last_id: str, descending: bool) -> Any:
    """The WHERE clause for 'after (value, id)' in a (col, id) ordering."""
    if descending:
        return or_(col < value, and_(col == value, id_col < last_id))
    return or_(col > value, and_(col == value, id_col > last_id))
