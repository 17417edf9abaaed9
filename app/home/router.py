from __future__ import annotations

from fastapi import APIRouter

from app.communities.deps import CommunityScope, Require
from app.core.deps import Locale, Session
from app.home import service
from app.home.schemas import HomeRead

router = APIRouter(tags=["home"])


@router.get("/communities/{cid}/home")
async def community_home(session: Session, locale: Locale,
                         scope: CommunityScope = Require("community.view")) -> HomeRead:
    """What waits for the caller in this community, a card per capability: polls to vote in, issues
    to verify, the staff's triage, patrol and queue, their own reports' latest changes …"""
    return await service.home(session, scope, locale)
