"""Public share pages outside ``/api``: ``/s/{code}`` with Open Graph tags, its QR codes, and what
its poster shows.

A link pasted in a WeChat group is fetched by a crawler that runs no JavaScript, so the page
is rendered here, complete, in the visitor's language.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field

from app.core.deps import Locale, Session
from app.core.errors import NotFound
from app.core.i18n import t
from app.core.uploads import public_url
from app.core.urls import absolute
from app.issues import sharing as issue_sharing  # noqa: F401  (registers the "issue" preview)
from app.polls import sharing as poll_sharing  # noqa: F401  (registers the "poll" preview)
from app.sharing import invites  # noqa: F401  (registers the "invite" preview)
from app.sharing import service as sharing
from app.web.assets import static_url
from app.web.user_content import quote_in, quoted, quoting

router = APIRouter(tags=["sharing"])
templates = Jinja2Templates(directory=Path(__file__).resolve().parents[2] / "web" / "templates")
templates.env.globals.update(quoted=quoted, quote_in=quote_in)

DEFAULT_IMAGE = ("/static/img/og-default.png", 1200, 630)
OG_LOCALES = {"zh-CN": "zh_CN", "en": "en_US"}
# The page reflects live state (an invite may expire or be revoked), so caches keep it briefly.
PAGE_HEADERS = {
    "Cache-Control": "public, max-age=60",
    "Vary": "Accept-Language, Cookie",
    # No script at all; pictures may come from an object store's https URL.
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' https: data:; "
                               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
# A code's URL never changes, so neither does its QR code (about 10 ms to draw, off the event loop).
QR_HEADERS = {"Cache-Control": "public, max-age=86400"}


def render(request: Request, template: str, locale: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    def translate(key: str, **params: Any) -> str:
        return t(key, locale, **params)

    return templates.TemplateResponse(
        request, template, status_code=status_code,
        headers={**PAGE_HEADERS, "Content-Language": locale},
        context={"lang": locale, "og_locale": OG_LOCALES[locale], "t": translate, "tq": quoting(translate),
                 "elder": request.cookies.get("wg_elder") == "1", "asset": static_url, **context},
    )


@router.api_route("/s/{code}", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
async def share_page(code: str, request: Request, session: Session, locale: Locale) -> HTMLResponse:
    preview = await sharing.preview(session, code, locale)
    if preview is None:
        return render(request, "share/not_found.html", locale, status_code=404)
    image, width, height = DEFAULT_IMAGE
    if preview.image_url:
        image, width, height = preview.image_url, preview.image_width or 0, preview.image_height or 0
    return render(request, "share/page.html", locale, preview=preview,
                  share_url=absolute(request, sharing.share_path(code)),
                  image_url=public_url(request, image), image_width=width, image_height=height)


async def absolute_share_url(request: Request, session: Session, code: str) -> str:
    if await sharing.resolve(session, code) is None:
        raise NotFound("share_link_not_found")
    return absolute(request, sharing.share_path(code))


@router.get("/s/{code}/qr.svg", response_class=Response)
async def share_qr_svg(code: str, request: Request, session: Session) -> Response:
    svg = await asyncio.to_thread(sharing.qr_svg, await absolute_share_url(request, session, code))
    return Response(svg, media_type="image/svg+xml", headers=QR_HEADERS)


@router.get("/s/{code}/qr.png", response_class=Response)
async def share_qr_png(code: str, request: Request, session: Session) -> Response:
    png = await asyncio.to_thread(sharing.qr_png, await absolute_share_url(request, session, code))
    return Response(png, media_type="image/png", headers=QR_HEADERS)


class PosterFact(BaseModel):
    label: str
    value: str = Field(description="What the fact says; empty when `at` says it")
    at: datetime | None = Field(default=None, description="A moment the phone writes out in its own words")


class PosterRead(BaseModel):
    """What a phone draws on the poster 海报 of a short link, in the reader's language."""

    code: str
    url: str = Field(description="The short link the QR code leads to")
    qr_png_url: str
    title: str
    community_name: str
    facts: list[PosterFact]
    action_label: str = Field(description="What scanning the code leads to, e.g. 查看表决")


@router.get("/s/{code}/poster.json")
async def share_poster(code: str, request: Request, response: Response, session: Session,
                       locale: Locale) -> PosterRead:
    """What the poster 海报 of a short link shows, for the phone to draw: public like the share page,
    and gone when the page is (a draft, a staff-only issue, an unknown code)."""
    preview = await sharing.preview(session, code, locale)
    if preview is None:
        raise NotFound("share_link_not_found")
    if not preview.poster:
        raise NotFound("share_poster_unavailable", reason=preview.notice or "")
    response.headers.update({"Cache-Control": PAGE_HEADERS["Cache-Control"], "Vary": PAGE_HEADERS["Vary"],
                             "Content-Language": locale})
    _, png = sharing.qr_paths(code)
    return PosterRead(
        code=code, url=absolute(request, sharing.share_path(code)), qr_png_url=absolute(request, png),
        title=preview.title, community_name=preview.community_name, action_label=preview.action_label,
        facts=[PosterFact(label=f.label, value=f.value, at=f.at) for f in preview.facts],
    )
