"""Uploads 上传: one photo into a community, checked by content, stripped of EXIF, stored with a
thumbnail. Other resources (issues, projects, a community's cover) refer to upload ids.

The body is read with a cap while it arrives, so an oversized upload is refused without
being spooled to disk first; authorisation and the per-person rate limit run before any of it
is read. An upload attached to nothing yet is seen (and attached) only by its uploader and the
committee; once attached, it is seen as what it is attached to is (app/core/media.py).
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from starlette.types import Message

from app.communities.deps import CommunityScope, Require
from app.core import images, media, ratelimit
from app.core.config import get_settings
from app.core.deps import Locale, Session
from app.core.errors import Invalid, NotFound
from app.core.i18n import t
from app.core.ids import new_id
from app.core.models import Upload
from app.core.storage import Storage, get_storage
from app.core.urls import absolute

router = APIRouter(tags=["uploads"])

StorageDep = Annotated[Storage, Depends(get_storage)]
Id = Annotated[str, Path(max_length=26)]

# Room for the multipart envelope around the file (boundary, part headers, a long filename).
MULTIPART_OVERHEAD = 64 * 1024

# Decoding a large photo takes a few hundred MB for a moment; two at a time keeps a small
# server's memory bounded while the event loop stays free for everyone else.
_IMAGE_WORKERS = anyio.CapacityLimiter(2)


class UploadRead(BaseModel):
    id: str
    url: str
    thumb_url: str
    width: int
    height: int
    content_type: str


# --- reading the request -----------------------------------------------------------------------

def too_large(max_bytes: int) -> Invalid:
    return Invalid("upload_too_large", status=413, mb=max(1, max_bytes // (1024 * 1024)))


async def receive_file(request: Request, locale: str, max_bytes: int) -> bytes:
    """The bytes of the multipart field ``file``: at most ``max_bytes`` (413), present (422)."""
    limit = max_bytes + MULTIPART_OVERHEAD
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(max_bytes)
    received = 0

    async def capped_receive() -> Message:
        nonlocal received
        message = await request.receive()
        received += len(message.get("body", b""))
        if received > limit:  # a chunked body, or a Content-Length that lied
            raise too_large(max_bytes)
        return message

    async with Request(request.scope, capped_receive).form(max_files=1, max_fields=10) as form:
        field = form.get("file")
        if not isinstance(field, UploadFile):
            raise Invalid("upload_missing", errors=[
                {"loc": ["body", "file"], "msg": t("validation.missing", locale), "type": "missing"}])
        data = await field.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    return data


# --- the rules -------------------------------------------------------------------------------------

def storage_keys(community_id: str, upload_id: str, extension: str) -> tuple[str, str]:
    """Id-based keys, grouped by community, so a community's files can be found and removed."""
    return f"{community_id}/{upload_id}.{extension}", f"{community_id}/{upload_id}.thumb.{extension}"


async def create_upload(session: AsyncSession, storage: Storage, *, community_id: str,
                        uploader_id: str | None, data: bytes) -> Upload:
    """Check and clean the image, then record it and store both files (or none of them)."""
    settings = get_settings()
    processed = await anyio.to_thread.run_sync(
        partial(images.process_image, data, max_pixels=settings.upload_max_pixels,
                max_decoded_pixels=settings.upload_max_decoded_pixels,
                max_side=settings.image_max_side, thumb_side=settings.thumb_side),
        limiter=_IMAGE_WORKERS,
    )
    upload_id = new_id()
    key, thumb_key = storage_keys(community_id, upload_id, processed.image.extension)
    upload = Upload(id=upload_id, community_id=community_id, uploader_id=uploader_id,
                    content_type=processed.image.content_type, width=processed.image.width,
                    height=processed.image.height, size_bytes=len(processed.image.data),
                    key=key, thumb_key=thumb_key)
    session.add(upload)
    await session.flush()  # a refused row leaves no files behind
    try:
        await storage.save(key, processed.image.data, processed.image.content_type)
        await storage.save(thumb_key, processed.thumb.data, processed.thumb.content_type)
    except BaseException:
        await storage.delete(key)
        await storage.delete(thumb_key)
        raise
    return upload


async def find_upload(session: AsyncSession, community_id: str, upload_id: str) -> Upload | None:
    upload = await session.get(Upload, upload_id)
    return upload if upload is not None and upload.community_id == community_id else None


async def get_upload(session: AsyncSession, community_id: str, upload_id: str) -> Upload:
    """The upload, if it belongs to this community (another community's id is unknown here)."""
    upload = await find_upload(session, community_id, upload_id)
    if upload is None:
        raise NotFound("upload_not_found")
    return upload


async def visible_upload(session: AsyncSession, scope: CommunityScope, upload_id: str) -> Upload:
    """The upload if this caller may see it, and so show it or attach it to something: their own,
    any for the committee, or one that is public already; 404 otherwise, as if it did not exist."""
    upload = await get_upload(session, scope.community_id, upload_id)
    if upload.uploader_id == scope.person.id or scope.can("uploads.view_any") or await media.is_public(session, upload):
        return upload
    raise NotFound("upload_not_found")


def public_url(request: Request, url: str) -> str:
    """Storage hands out site paths (local disk) or absolute URLs (an object store)."""
    return url if url.startswith(("https://", "http://")) else absolute(request, url)


def upload_view(request: Request, storage: Storage, upload: Upload, *, public: bool) -> UploadRead:
    """The upload with its URLs, for a caller who may see it; ``public`` when it is (media.py)."""
    return UploadRead(id=upload.id, url=public_url(request, media.url(storage, upload.key, public=public)),
                      thumb_url=public_url(request, media.url(storage, upload.thumb_key, public=public)),
                      width=upload.width, height=upload.height, content_type=upload.content_type)


# --- routes ----------------------------------------------------------------------------------------

_MULTIPART_FILE: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary",
                                    "description": "One JPEG, PNG, WebP or GIF image."}},
        }}},
    },
}


@router.post("/communities/{cid}/uploads", status_code=201, openapi_extra=_MULTIPART_FILE)
async def upload_image(request: Request, session: Session, storage: StorageDep, locale: Locale,
                       scope: CommunityScope = Require("uploads.create")) -> UploadRead:
    settings = get_settings()
    # Counted before the body is read: decoding is what costs, and a refused photo cost it too.
    await ratelimit.hit("uploads", settings.upload_rate_limit, scope.person.id, error="upload_rate_limited")
    data = await receive_file(request, locale, settings.upload_max_bytes)
    upload = await create_upload(session, storage, community_id=scope.community_id,
                                 uploader_id=scope.person.id, data=data)
    return upload_view(request, storage, upload, public=False)  # attached to nothing yet


@router.get("/communities/{cid}/uploads/{upload_id}")
async def read_upload(request: Request, upload_id: Id, session: Session, storage: StorageDep,
                      scope: CommunityScope = Require("community.view")) -> UploadRead:
    upload = await visible_upload(session, scope, upload_id)
    return upload_view(request, storage, upload, public=await media.is_public(session, upload))
