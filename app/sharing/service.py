"""Short links for public objects, what their shared pages show, and their QR codes.

Each kind of object (invite, issue, poll, meeting, project, ...) registers one preview
function with ``register_preview``; the share page and the poster 海报 a phone draws ask the
registry and never need to know the kinds, so a new capability adds its kind without touching
either.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

import segno
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.ids import short_code
from app.sharing.models import ShortLink

MAX_CODE = 16


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
    if not code or len(code) > MAX_CODE or not code.isascii() or not code.isalnum():
        return None  # not a code we ever hand out; no need to ask the database
    return await session.get(ShortLink, code)


def share_path(code: str) -> str:
    return f"/s/{code}"


def qr_paths(code: str) -> tuple[str, str]:
    return f"/s/{code}/qr.svg", f"/s/{code}/qr.png"


# --- what a shared link shows ----------------------------------------------------------------------

@dataclass(frozen=True)
class ShareFact:
    """One line of a poster, in the reader's language: a label and what it says, or ``at``, a moment
    (a deadline, an expiry) the phone writes out itself, in the same words as its pages."""

    label: str
    value: str = ""
    at: datetime | None = None


@dataclass(frozen=True)
class SharePreview:
    """The page behind a short link, and the card a chat app draws from its Open Graph tags."""

    title: str
    description: str
    action_label: str  # the big button
    action_path: str  # where it leads: a page of the PWA
    image_url: str | None = None  # a site path or an absolute URL; None shows the default picture
    image_width: int | None = None
    image_height: int | None = None
    notice: str | None = None  # something the visitor must know first (e.g. an invite has expired)
    indexable: bool = False  # search engines stay out unless the object is meant for everyone
    # The poster 保存海报 (web/static/js/poster.js draws it): the title, the community, two or three
    # facts a passer-by needs (status, place, deadline or turnout; never a hidden count, nobody's
    # name or phone) and the QR code of the link. No poster when a picture passed around in chats
    # would mislead for good (an invite that no longer works): the share page still explains.
    community_name: str = ""
    facts: tuple[ShareFact, ...] = ()
    poster: bool = True
    rankings: tuple[ShareRanking, ...] = ()  # lists the page shows in full (never on the poster)


@dataclass(frozen=True)
class ShareRankingRow:
    rank: int
    name: str  # as the object's own page names them (someone who chose not to be named stays unnamed)
    amount: str  # in words, e.g. "1.5 小时"


@dataclass(frozen=True)
class ShareRanking:
    """A short ranked list the share page shows under the title (an honour board 光荣榜): a heading,
    its rows, and what to say when nobody is on it yet."""

    heading: str
    rows: tuple[ShareRankingRow, ...]
    empty: str = ""


PreviewLoader = Callable[[AsyncSession, ShortLink, str], Awaitable[SharePreview | None]]

_previews: dict[str, PreviewLoader] = {}


def register_preview(kind: str) -> Callable[[PreviewLoader], PreviewLoader]:
    """Declare how links of ``kind`` are shown: ``loader(session, link, locale)``, None if gone."""

    def _register(loader: PreviewLoader) -> PreviewLoader:
        if kind in _previews and _previews[kind] is not loader:
            raise ValueError(f"a share preview for {kind!r} is already registered")
        _previews[kind] = loader
        return loader

    return _register


async def preview(session: AsyncSession, code: str, locale: str) -> SharePreview | None:
    """What ``/s/{code}`` shows, or None when the code, its kind or its object is unknown."""
    link = await resolve(session, code)
    loader = _previews.get(link.kind) if link is not None else None
    if link is None or loader is None:
        return None
    return await loader(session, link, locale)


# --- QR codes ------------------------------------------------------------------------------------------

def _qr(url: str) -> segno.QRCode:
    # Error level M at least (segno raises it when the URL leaves room): a poster on a
    # noticeboard gets creased and rained on.
    return segno.make_qr(url, error="m")


def qr_svg(url: str) -> bytes:
    out = BytesIO()
    _qr(url).save(out, kind="svg", scale=8, border=4, title=url)
    return out.getvalue()


def qr_png(url: str) -> bytes:
    out = BytesIO()
    _qr(url).save(out, kind="png", scale=10, border=4)
    return out.getvalue()
