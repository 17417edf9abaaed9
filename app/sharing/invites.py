"""How an invite link 邀请链接 looks when shared: who is invited where, and how to join; on its
poster, who is invited, until when, and how. An invite that no longer works has no poster."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.communities import service as communities_service
from app.core import uploads
from app.core.errors import NotFound
from app.core.i18n import t
from app.core.storage import get_storage
from app.sharing import service as sharing
from app.sharing.models import ShortLink


@sharing.register_preview("invite")
async def invite_preview(session: AsyncSession, link: ShortLink, locale: str) -> sharing.SharePreview | None:
    try:
        invite = await communities_service.invite_preview(session, link.code, locale)
    except NotFound:
        return None
    community_name = invite["community_name"]
    title = t("share.invite.title", locale, community=community_name)
    if not invite["usable"]:
        # Still a page, not an error: the visitor learns why and whom to ask.
        return sharing.SharePreview(
            title=title, description=invite["reason"], notice=invite["reason"],
            action_label=t("share.open_app", locale), action_path="/", poster=False,
        )
    if invite["building_name"]:
        description = t("share.invite.description_building", locale, community=community_name,
                        building=invite["building_name"])
    else:
        description = t("share.invite.description", locale, community=community_name)
    image_url = width = height = None
    community = await communities_service.get_community(session, invite["community_id"])
    if community is not None and community.cover_upload_id:
        cover = await uploads.find_upload(session, community.id, community.cover_upload_id)
        if cover is not None:
            image_url, width, height = get_storage().url(cover.key), cover.width, cover.height
    facts = [sharing.ShareFact(t("share.poster.invited", locale),
                               invite["building_name"] or t("share.poster.whole_community", locale))]
    if invite["expires_at"] is not None:
        facts.append(sharing.ShareFact(t("share.poster.valid_until", locale), at=invite["expires_at"]))
    facts.append(sharing.ShareFact(t("share.poster.how_to_join", locale), t("share.poster.join_steps", locale)))
    return sharing.SharePreview(
        title=title, description=description, action_label=t("share.invite.action", locale),
        action_path=f"/join/{link.code}", image_url=image_url, image_width=width, image_height=height,
        community_name=community_name, facts=tuple(facts),
    )
