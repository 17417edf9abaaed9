"""How an issue looks when its short link is shared: its title, where it stands, and its first
photo. A staff-only issue has no public page, even if a link to it was made before it became so."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.communities import service as communities_service
from app.core import uploads
from app.core.i18n import t
from app.core.storage import get_storage
from app.issues import repository as repo
from app.issues import service as issues_service
from app.sharing import service as sharing
from app.sharing.models import ShortLink


@sharing.register_preview("issue")
async def issue_preview(session: AsyncSession, link: ShortLink, locale: str) -> sharing.SharePreview | None:
    if link.community_id is None:
        return None
    issue = await repo.issue_in(session, link.community_id, link.target_id)
    if issue is None or issue.staff_only:
        return None
    community = await communities_service.get_community(session, issue.community_id)
    category = (await repo.category_names(session, [issue.category_id] if issue.category_id else [])).get(
        issue.category_id or "", "")
    category = issues_service.category_label(category, locale) if category else ""
    description = t("ui.issue.share.description", locale, status=t(f"ui.issue.status.{issue.status}", locale),
                    category=category, community=community.name if community else "")
    image_url = width = height = None
    for photo in (await repo.photos_of(session, [issue.id])).get(issue.id, []):
        if photo.kind != "report":
            continue
        upload = await uploads.find_upload(session, issue.community_id, photo.upload_id)
        if upload is not None:
            image_url, width, height = get_storage().url(upload.key), upload.width, upload.height
            break
    return sharing.SharePreview(
        title=issue.title, description=description, action_label=t("ui.issue.share.action", locale),
        action_path=f"/c/{issue.community_id}/issues/{issue.id}", image_url=image_url,
        image_width=width, image_height=height,
    )
