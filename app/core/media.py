"""Serving uploaded photos 照片: who may fetch which, decided when a URL is handed out.

Pages show photos with ``<img src>``, which cannot carry the API's bearer token, and a shared
link's card needs an ``og:image`` that a chat app fetches signed out. So there are two kinds of
URL, and the check of who may see a photo happens where its URL is handed out — in the answer
about the issue, comment or community it belongs to, which has already checked the caller:

- **Public**: a photo attached to public things only (a public issue's photos, a comment on one,
  the community's cover). Its URL is its storage path, the same for everyone and for good, and it
  is sent ``public, max-age=1 year, immutable``: the file behind a URL never changes, so browsers,
  a CDN and WeChat's link cards keep it.
- **Private**: every other photo — any photo of a staff-only issue (report, after and comment
  photos alike), and an upload attached to nothing yet (seen by its uploader and the committee).
  Those who may see it get its path with an expiry and an HMAC of both under the secret key
  (``media_url_seconds``); it is sent ``private, no-store``.

A short-lived signed URL rather than a check of the caller at each fetch: the check stays with
the thing the photo belongs to (one rule, ``app/issues/service.py``'s ``sees_issue``, not a
second copy of it here), a fetch needs no token and, for a signed URL, no database, and an object
store can later hand out its own pre-signed URLs instead. A leaked signed URL works until it
expires, like a screenshot of the page it came in.

Everything else answers 404 with ``private, no-store`` alike — an unknown file, a private one
without a signature, an expired or altered signature — so a URL tells nothing about what exists.
A photo that turns private later (a public issue's comments merged into a staff-only one)
answers 404 at its public URL from then on; what caches kept before stays, as with any photo
once shown. Thumbnails follow their image. Which uploads are public is asked of the domains that
attach them (``register_attachment``); core imports no domain.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock
from app.core.config import get_settings
from app.core.deps import Session
from app.core.errors import NotFound
from app.core.models import Upload
from app.core.storage import Storage, get_storage, signed

router = APIRouter(include_in_schema=False)

PUBLIC = "public, max-age=31536000, immutable"
PRIVATE = "private, no-store"
_ID = re.compile(r"[0-9a-z]{26}")
_NAME = re.compile(r"(?P<upload>[0-9a-z]{26})(\.thumb)?\.(?P<ext>jpg|png)")
_CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png"}

# --- which uploads are public ----------------------------------------------------------------------

Attachment = Callable[[AsyncSession, Upload], Awaitable[bool | None]]
_attachments: dict[str, Attachment] = {}


def register_attachment(kind: str, verdict: Attachment) -> None:
    """A domain that attaches uploads to its things says, for one upload: True if it is on one
    that anyone may see, False if on one that not everyone may see, None if on none of them."""
    _attachments[kind] = verdict


async def is_public(session: AsyncSession, upload: Upload) -> bool:
    """Attached somewhere public and nowhere private. Attached to nothing yet: private."""
    verdicts = [v for verdict in _attachments.values() if (v := await verdict(session, upload)) is not None]
    return bool(verdicts) and all(verdicts)


# --- URLs --------------------------------------------------------------------------------------------

def expires_at() -> int:
    """When a URL signed now stops working: at the end of the next window of ``media_url_seconds``,
    so between one and two windows from now, and every URL of a photo signed within one window is
    the same (a page that redraws finds it in the browser's memory instead of fetching it again)."""
    window = get_settings().media_url_seconds
    return (int(clock.now().timestamp()) // window + 2) * window


def url(storage: Storage, key: str, *, public: bool) -> str:
    """The URL of a stored file for a caller who may see it; ``public`` for a public photo."""
    return storage.url(key) if public else storage.private_url(key, expires_at())


# --- serving -------------------------------------------------------------------------------------------

def _not_found() -> NotFound:
    return NotFound("upload_not_found", headers={"Cache-Control": PRIVATE})


@router.get("/media/{community_id}/{name}")
async def media(request: Request, community_id: str, name: str, session: Session,
                storage: Annotated[Storage, Depends(get_storage)]) -> Response:
    match = _NAME.fullmatch(name)
    if match is None or not _ID.fullmatch(community_id):
        raise _not_found()
    key = f"{community_id}/{name}"
    exp, sig = request.query_params.get("exp"), request.query_params.get("sig")
    if exp is not None or sig is not None:
        allowed, cache = signed(key, exp or "", sig or "", clock.now().timestamp()), PRIVATE
    else:
        upload = await session.get(Upload, match["upload"])
        allowed = (upload is not None and upload.community_id == community_id
                   and key in (upload.key, upload.thumb_key) and await is_public(session, upload))
        cache = PUBLIC
    if not allowed:
        raise _not_found()
    try:
        data = await storage.read(key)
    except FileNotFoundError:
        raise _not_found() from None
    return Response(data, media_type=_CONTENT_TYPES[match["ext"]],
                    headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"})
