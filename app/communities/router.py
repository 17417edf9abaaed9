from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response, UploadFile

from app.accounts.deps import CurrentPerson
from app.communities import service
from app.communities.deps import CommunityScope, Require, Scope
from app.communities.models import Invite
from app.communities.schemas import (
    AuditRead,
    BuildingCreate,
    BuildingRead,
    CommunityCreate,
    CommunityDetail,
    CommunityRead,
    CommunityUpdate,
    GridCreate,
    GridRead,
    HouseholdCreate,
    HouseholdRead,
    InviteCreate,
    InvitePreview,
    InviteRead,
    JoinApproval,
    JoinIn,
    JoinRejection,
    JoinRequestRead,
    JoinResult,
    MemberRead,
    MembershipSummary,
    MemberUpdate,
    RegionCreate,
    RegionDetail,
    RegionRead,
    RosterImportResult,
)
from app.core import uploads
from app.core.deps import Locale, Session
from app.core.errors import Invalid
from app.core.pagination import Page, Paging
from app.core.policy import Role
from app.core.storage import get_storage
from app.core.urls import absolute
from app.sharing import service as sharing

router = APIRouter()
Id = Annotated[str, Path(max_length=26)]
ROSTER_MAX_BYTES = 5 * 1024 * 1024


# --- regions ---

@router.get("/regions", tags=["regions"])
async def list_regions(person: CurrentPerson, session: Session) -> list[RegionRead]:
    return [RegionRead.model_validate(r) for r in await service.list_regions(session, person)]


@router.post("/regions", status_code=201, tags=["regions"])
async def create_region(body: RegionCreate, person: CurrentPerson, session: Session) -> RegionRead:
    return RegionRead.model_validate(await service.create_region(session, person, body))


@router.get("/regions/{region_id}", tags=["regions"])
async def region_detail(region_id: Id, person: CurrentPerson, session: Session) -> RegionDetail:
    return RegionDetail.model_validate(await service.region_detail(session, person, region_id))


# --- communities ---

@router.get("/communities", tags=["communities"])
async def list_communities(person: CurrentPerson, session: Session) -> list[MembershipSummary]:
    return [MembershipSummary.model_validate(c) for c in await service.visible_communities(session, person)]


@router.post("/communities", status_code=201, tags=["communities"])
async def create_community(body: CommunityCreate, person: CurrentPerson, session: Session) -> CommunityRead:
    return CommunityRead.model_validate(await service.create_community(session, person, body))


@router.get("/communities/{cid}", tags=["communities"])
async def get_community(request: Request, scope: Scope, session: Session) -> CommunityDetail:
    detail = CommunityDetail.model_validate(await service.community_detail(session, scope.community, scope.roles))
    if scope.community.cover_upload_id:
        cover = await uploads.find_upload(session, scope.community_id, scope.community.cover_upload_id)
        if cover is not None:
            # A cover is public; if its photo is also a staff-only issue's, this URL answers 404.
            detail.cover_url = uploads.upload_view(request, get_storage(), cover, public=True).url
    return detail


@router.patch("/communities/{cid}", tags=["communities"])
async def update_community(body: CommunityUpdate, session: Session,
                           scope: CommunityScope = Require("community.edit")) -> CommunityRead:
    return CommunityRead.model_validate(
        await service.update_community(session, scope.person, scope.community, body))


@router.get("/communities/{cid}/grids", tags=["places"])
async def list_grids(session: Session, scope: CommunityScope = Require("places.view")) -> list[GridRead]:
    return [GridRead.model_validate(g) for g in await service.grids(session, scope.community_id)]


@router.post("/communities/{cid}/grids", status_code=201, tags=["places"])
async def create_grid(body: GridCreate, session: Session,
                      scope: CommunityScope = Require("places.manage")) -> GridRead:
    return GridRead.model_validate(await service.create_grid(session, scope.person, scope.community_id, body))


@router.get("/communities/{cid}/buildings", tags=["places"])
async def list_buildings(session: Session, scope: CommunityScope = Require("places.view")) -> list[BuildingRead]:
    rows = await service.buildings(session, scope.community_id)
    return [BuildingRead.model_validate(b) for b in rows]


@router.post("/communities/{cid}/buildings", status_code=201, tags=["places"])
async def create_building(body: BuildingCreate, session: Session,
                          scope: CommunityScope = Require("places.manage")) -> BuildingRead:
    return BuildingRead.model_validate(await service.create_building(session, scope.person, scope.community_id, body))


@router.get("/communities/{cid}/households", tags=["places"])
async def list_households(session: Session, paging: Paging,
                          scope: CommunityScope = Require("households.view"),
                          building_id: Annotated[str | None, Query(max_length=26)] = None) -> Page[HouseholdRead]:
    rows, nxt = await service.households(session, scope.community_id, paging, building_id)
    return Page(items=[HouseholdRead.model_validate(h) for h in rows], next_cursor=nxt)


@router.post("/communities/{cid}/households", status_code=201, tags=["places"])
async def create_household(body: HouseholdCreate, session: Session,
                           scope: CommunityScope = Require("places.manage")) -> HouseholdRead:
    return HouseholdRead.model_validate(
        await service.create_household(session, scope.person, scope.community_id, body))


@router.post("/communities/{cid}/households/import", tags=["places"])
async def import_households(file: UploadFile, session: Session, locale: Locale,
                            scope: CommunityScope = Require("roster.import")) -> RosterImportResult:
    content = await file.read(ROSTER_MAX_BYTES + 1)
    if len(content) > ROSTER_MAX_BYTES:
        raise Invalid("file_too_large", status=413, mb=ROSTER_MAX_BYTES // (1024 * 1024))
    return await service.import_roster(session, scope.person, scope.community_id, content,
                                       file.filename or "roster.csv", locale)


# --- members ---

@router.get("/communities/{cid}/members", tags=["members"])
async def list_members(session: Session, paging: Paging, scope: CommunityScope = Require("members.view"),
                       role: Annotated[Role | None, Query()] = None,
                       q: Annotated[str | None, Query(min_length=1, max_length=50)] = None) -> Page[MemberRead]:
    items, nxt = await service.members(session, scope.community_id, paging, role=role, q=q,
                                       see_phones=scope.can("members.see_phones"))
    return Page(items=[MemberRead.model_validate(i) for i in items], next_cursor=nxt)


@router.patch("/communities/{cid}/members/{member_id}", tags=["members"])
async def update_member(member_id: Id, body: MemberUpdate, session: Session,
                        scope: CommunityScope = Require("members.manage")) -> MemberRead:
    m = await service.update_member(session, scope.person, scope.community_id, member_id, body)
    return MemberRead.model_validate(await service.member(session, scope.community_id, m.id, see_phones=True))


@router.delete("/communities/{cid}/members/{member_id}", status_code=204, tags=["members"])
async def remove_member(member_id: Id, session: Session,
                        scope: CommunityScope = Require("members.manage")) -> Response:
    await service.remove_member(session, scope.person, scope.community_id, member_id)
    return Response(status_code=204)


# --- invites and joining ---

def invite_view(request: Request, invite: Invite) -> InviteRead:
    svg, png = sharing.qr_paths(invite.code)
    return InviteRead(
        id=invite.id, code=invite.code, url=absolute(request, sharing.share_path(invite.code)),
        qr_url=absolute(request, svg), qr_png_url=absolute(request, png), building_id=invite.building_id,
        expires_at=invite.expires_at, max_uses=invite.max_uses, uses=invite.uses, note=invite.note,
        revoked=invite.revoked_at is not None, created_at=invite.created_at,
    )


@router.post("/communities/{cid}/invites", status_code=201, tags=["members"])
async def create_invite(request: Request, body: InviteCreate, session: Session,
                        scope: CommunityScope = Require("invites.create")) -> InviteRead:
    return invite_view(request, await service.create_invite(session, scope.person, scope.community_id, body))


@router.get("/communities/{cid}/invites", tags=["members"])
async def list_invites(request: Request, session: Session, paging: Paging,
                       scope: CommunityScope = Require("invites.view")) -> Page[InviteRead]:
    rows, nxt = await service.invites(session, scope.community_id, paging)
    return Page(items=[invite_view(request, i) for i in rows], next_cursor=nxt)


@router.post("/communities/{cid}/invites/{invite_id}/revoke", tags=["members"])
async def revoke_invite(request: Request, invite_id: Id, session: Session,
                        scope: CommunityScope = Require("invites.create")) -> InviteRead:
    return invite_view(request, await service.revoke_invite(session, scope.person, scope.community_id, invite_id))


@router.get("/invites/{code}", tags=["members"])
async def preview_invite(code: Annotated[str, Path(max_length=16)], session: Session, locale: Locale) -> InvitePreview:
    return InvitePreview.model_validate(await service.invite_preview(session, code, locale))


@router.post("/join", tags=["members"])
async def join(body: JoinIn, person: CurrentPerson, session: Session) -> JoinResult:
    return await service.join(session, person, body.code, body.name, body.room)


@router.get("/communities/{cid}/join-requests", tags=["members"])
async def list_join_requests(session: Session, paging: Paging,
                             scope: CommunityScope = Require("join_requests.decide"),
                             status: Annotated[Literal["pending", "approved", "rejected"], Query()] = "pending",
                             ) -> Page[JoinRequestRead]:
    items, nxt = await service.join_requests(session, scope.community_id, status, paging)
    return Page(items=[JoinRequestRead.model_validate(i) for i in items], next_cursor=nxt)


@router.post("/communities/{cid}/join-requests/{request_id}/approve", tags=["members"])
async def approve_join(request_id: Id, session: Session, body: JoinApproval | None = None,
                       scope: CommunityScope = Require("join_requests.decide")) -> JoinRequestRead:
    body = body or JoinApproval()
    j = await service.decide_join(session, scope.person, scope.community_id, request_id, True, body.reason,
                                  body.household_id)
    return JoinRequestRead.model_validate(await service.join_request(session, j))


@router.post("/communities/{cid}/join-requests/{request_id}/reject", tags=["members"])
async def reject_join(request_id: Id, body: JoinRejection, session: Session,
                      scope: CommunityScope = Require("join_requests.decide")) -> JoinRequestRead:
    j = await service.decide_join(session, scope.person, scope.community_id, request_id, False, body.reason)
    return JoinRequestRead.model_validate(await service.join_request(session, j))


# --- audit ---

@router.get("/communities/{cid}/audit", tags=["audit"])
async def audit_log(session: Session, paging: Paging, locale: Locale,
                    scope: CommunityScope = Require("audit.read")) -> Page[AuditRead]:
    """The log in the caller's language: each entry's action, changes and the names of what it
    names, with the raw ``before``/``after`` kept for integrators."""
    items, nxt = await service.audit_log(session, scope.community_id, paging, locale)
    return Page(items=[AuditRead.model_validate(i) for i in items], next_cursor=nxt)
