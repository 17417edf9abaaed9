"""How an issue looks when its short link is shared: its title, where it stands, and its first
photo; on its poster, its status, category, place and deadline. A staff-only issue has no public
page and no poster, even if a link to it was made before it became so. Nobody's name: an issue
may hide its reporter, and a poster lives on in chats."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.communities import service as communities_service
from app.core import uploads
from app.core.i18n import t
from app.core.storage import get_storage
from app.issues import repository as repo
from app.issues import service as issues_service
from app.issues.flows import OPEN
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
    status = t(f"ui.issue.status.{issue.status}", locale)
    community_name = community.name if community else ""
    description = t("ui.issue.share.description", locale, status=status, category=category,
                    community=community_name)
    building = (await communities_service.get_building(session, issue.community_id, issue.building_id)
                if issue.building_id else None)
    place = " · ".join(x for x in (building.name if building else "", issue.location_text.strip()) if x)
    # Status, place, deadline; the category when one of those is missing (the poster has room for three).
    facts = [sharing.ShareFact(t("share.poster.status", locale), status)]
    if place:  # the words people use; never the raw coordinates
        facts.append(sharing.ShareFact(t("share.poster.place", locale), place))
    if issue.deadline_at is not None and issue.status in OPEN:
        facts.append(sharing.ShareFact(t("share.poster.deadline", locale), at=issue.deadline_at))
    if category:
        facts.append(sharing.ShareFact(t("share.poster.category", locale), category))
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
        image_width=width, image_height=height, community_name=community_name, facts=tuple(facts[:3]),
    )
