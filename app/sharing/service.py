"""Short links for public objects, and the absolute URLs that point at them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.ids import short_code
from app.sharing.models import ShortLink


async def create_link(session: AsyncSession, *, kind: str, target_id: str, community_id: str | None,
                      code: str | None = None) -> ShortLink:
    link = ShortLink(code=code or short_code(8), kind=kind, target_id=target_id, community_id=community_id)
    session.add(link)
    await session.flush()
    return link


async def link_for(session: AsyncSession, kind: str, target_id: str) -> ShortLink | None:
    q = select(ShortLink).where(ShortLink.kind == kind, ShortLink.target_id == target_id).limit(1)
    return (await session.execute(q)).scalar_one_or_none()


async def ensure_link(session: AsyncSession, *, kind: str, target_id: str, community_id: str | None) -> ShortLink:
    return await link_for(session, kind, target_id) or await create_link(
        session, kind=kind, target_id=target_id, community_id=community_id)


async def resolve(session: AsyncSession, code: str) -> ShortLink | None:
    return await session.get(ShortLink, code)


def share_path(code: str) -> str:
    return f"/s/{code}"


def qr_paths(code: str) -> tuple[str, str]:
    return f"/s/{code}/qr.svg", f"/s/{code}/qr.png"
