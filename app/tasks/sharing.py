"""How a task looks when its short link is shared in a WeChat group to recruit volunteers: its
title, what it offers and how many places are left, its first photo; on its poster, when, where
and the places left. A draft and a micro-wish waiting for approval have no public page. Nobody's
name: a micro-wish is a neighbour's own small need, and a poster lives on in chats."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.communities import service as communities_service
from app.core import uploads
from app.core.i18n import t
from app.core.storage import get_storage
from app.sharing import service as sharing
from app.sharing.models import ShortLink
from app.tasks import repository as repo
from app.tasks import service
from app.tasks.flows import Status


def reward_words(unit: str, amount: int, locale: str) -> str:
    if amount <= 0:
        return ""
    if unit == "hours":
        return t("ui.task.share.reward_hours", locale, hours=service.hours_text(amount))
    return t("ui.task.share.reward_points", locale, points=amount)


@sharing.register_preview("task")
async def task_preview(session: AsyncSession, link: ShortLink, locale: str) -> sharing.SharePreview | None:
    if link.community_id is None:
        return None
    task = await repo.task_in(session, link.community_id, link.target_id)
    if task is None or task.status in (Status.draft, Status.pending):
        return None
    community = await communities_service.get_community(session, task.community_id)
    community_name = community.name if community else ""
    kind = t(f"ui.task.kind.{task.kind}", locale)
    status = t(f"ui.task.status.{task.status}", locale)
    status = status[:1].upper() + status[1:]  # English states are written for the middle of a sentence
    left = max(0, task.people_needed - task.claimed_count)
    reward = reward_words(task.reward_unit, task.reward_amount, locale)
    # "招募中 · 志愿服务 · 幸福里社区 · 还差 3 人（共 12 人） · 20 积分": what a neighbour in the group needs to decide.
    parts = [status, kind, community_name]
    if task.status == Status.open:
        parts.append(t("ui.task.share.recruiting", locale, left=left, needed=task.people_needed))
    description = " · ".join(p for p in (*parts, reward) if p)
    building = (await communities_service.get_building(session, task.community_id, task.building_id)
                if task.building_id else None)
    place = " · ".join(x for x in (building.name if building else "", task.location_text.strip()) if x)
    facts = [sharing.ShareFact(t("share.poster.status", locale), status)]
    if task.starts_at is not None and task.status in (Status.open, Status.full):
        facts.append(sharing.ShareFact(t("ui.task.share.when", locale), at=task.starts_at))
    if place:
        facts.append(sharing.ShareFact(t("share.poster.place", locale), place))
    if task.status == Status.open:
        facts.append(sharing.ShareFact(t("ui.task.share.places", locale),
                                       t("ui.task.share.places_left", locale, left=left, needed=task.people_needed)))
    image_url = width = height = None
    for photo in await repo.photos_of(session, [task.id]):
        upload = await uploads.find_upload(session, task.community_id, photo.upload_id)
        if upload is not None:
            image_url, width, height = get_storage().url(upload.key), upload.width, upload.height
            break
    return sharing.SharePreview(
        title=task.title, description=description, action_label=t(f"ui.task.share.action.{task.kind}", locale),
        action_path=f"/c/{task.community_id}/tasks/{task.id}", image_url=image_url, image_width=width,
        image_height=height, community_name=community_name, facts=tuple(facts[:3]),
        notice=t("ui.task.share.closed", locale) if task.status not in (Status.open, Status.full,
                                                                       Status.in_progress) else None)
