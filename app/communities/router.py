from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, UploadFile
from sqlalchemy import select

from app.accounts.deps import CurrentPerson
from app.accounts.models import Person
from app.communities import repository as repo
from app.communities import service
from app.communities.deps import CommunityScope, Require, Scope
from app.communities.models import Building, Grid, Household, Invite, JoinRequest
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
    JoinDecision,
    JoinIn,
    JoinRequestRead,
    JoinResult,
    MemberRead,
    MemberUpdate,
    RegionCreate,
    RegionDetail,
    RegionRead,
    RosterImportResult,
)
from app.core.audit import AuditEntry
from app.core.deps import Locale, Session
from app.core.errors import Invalid
from app.core.pagination import Page, Paging, paginate
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
async def list_communities(person: CurrentPerson, session: Session) -> list[dict[str, Any]]:
    return await service.visible_communities(session, person)


@router.post("/communities", status_code=201, tags=["communities"])
async def create_community(body: CommunityCreate, person: CurrentPerson, session: Session) -> CommunityRead:
    return CommunityRead.model_validate(await service.create_community(session, person, body))


@router.get("/communities/{cid}", tags=["communities"])
async def get_community(scope: Scope, session: Session) -> CommunityDetail:
    return CommunityDetail.model_validate(await service.community_detail(session, scope.community, scope.roles))


@router.patch("/communities/{cid}", tags=["communities"])
async def update_community(body: CommunityUpdate, session: Session,
                           scope: CommunityScope = Require("community.edit")) -> CommunityRead:
    if body.cover_upload_id:
        from app.core import uploads

        await uploads.get_upload(session, scope.community_id, body.cover_upload_id)
    return CommunityRead.model_validate(
        await service.update_community(session, scope.person, scope.community, body))


@router.get("/communities/{cid}/grids", tags=["places"])
async def list_grids(session: Session, scope: CommunityScope = Require("places.view")) -> list[GridRead]:
    return [GridRead.model_validate(g) for g in await repo.list_in(session, Grid, scope.community_id, Grid.name)]


@router.post("/communities/{cid}/grids", status_code=201, tags=["places"])
async def create_grid(body: GridCreate, session: Session,
                      scope: CommunityScope = Require("places.manage")) -> GridRead:
    return GridRead.model_validate(await service.create_grid(session, scope.person, scope.community_id, body))


@router.get("/communities/{cid}/buildings", tags=["places"])
async def list_buildings(session: Session, scope: CommunityScope = Require("places.view")) -> list[BuildingRead]:
    rows = await repo.list_in(session, Building, scope.community_id, Building.name)
    return [BuildingRead.model_validate(b) for b in rows]


@router.post("/communities/{cid}/buildings", status_code=201, tags=["places"])
async def create_building(body: BuildingCreate, session: Session,
                          scope: CommunityScope = Require("places.manage")) -> BuildingRead:
    return BuildingRead.model_validate(await service.create_building(session, scope.person, scope.community_id, body))


@router.get("/communities/{cid}/households", tags=["places"])
async def list_households(session: Session, paging: Paging,
                          scope: CommunityScope = Require("households.view"),
                          building_id: Annotated[str | None, Query(max_length=26)] = None) -> Page[HouseholdRead]:
    stmt = select(Household).where(Household.community_id == scope.community_id)
    if building_id:
        stmt = stmt.where(Household.building_id == building_id)
    rows, nxt = await paginate(session, stmt, paging, Household.id, descending=False)
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
                       role: Annotated[str | None, Query(max_length=30)] = None,
                       q: Annotated[str | None, Query(max_length=50)] = None) -> Page[MemberRead]:
    from app.communities.models import Membership

    stmt = repo.members_query(scope.community_id, role, q)
    if paging.cursor:
        from app.core.pagination import decode_cursor

        (last,) = decode_cursor(paging.cursor, 1)
        stmt = stmt.where(Membership.id > str(last))
    rows = (await session.execute(stmt.order_by(Membership.id).limit(paging.limit + 1))).all()
    see = scope.can("members.see_phones")
    items = [service.member_view(m, p, see_phone=see) for m, p in rows[: paging.limit]]
    if role:
        items = [i for i in items if role in i["roles"]]
    from app.core.pagination import encode_cursor

    nxt = encode_cursor([rows[paging.limit - 1][0].id]) if len(rows) > paging.limit else None
    return Page(items=[MemberRead.model_validate(i) for i in items], next_cursor=nxt)


@router.patch("/communities/{cid}/members/{member_id}", tags=["members"])
async def update_member(member_id: Id, body: MemberUpdate, session: Session,
                        scope: CommunityScope = Require("members.manage")) -> MemberRead:
    m = await service.update_member(session, scope.person, scope.community_id, member_id, body)
    person = await session.get(Person, m.person_id)
    assert person is not None
    return MemberRead.model_validate(service.member_view(m, person, see_phone=True))


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
    stmt = select(Invite).where(Invite.community_id == scope.community_id)
    rows, nxt = await paginate(session, stmt, paging, Invite.id)
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
                             status: Annotated[str, Query(pattern="^(pending|approved|rejected)$")] = "pending",
                             ) -> Page[JoinRequestRead]:
    stmt = (select(JoinRequest, Person).join(Person, Person.id == JoinRequest.person_id)
            .where(JoinRequest.community_id == scope.community_id, JoinRequest.status == status))
    if paging.cursor:
        from app.core.pagination import decode_cursor

        (last,) = decode_cursor(paging.cursor, 1)
        stmt = stmt.where(JoinRequest.id < str(last))
    rows = (await session.execute(stmt.order_by(JoinRequest.id.desc()).limit(paging.limit + 1))).all()
    from app.core.pagination import encode_cursor

    nxt = encode_cursor([rows[paging.limit - 1][0].id]) if len(rows) > paging.limit else None
    return Page(items=[JoinRequestRead.model_validate(service.join_request_view(j, p, see_phone=True))
                       for j, p in rows[: paging.limit]], next_cursor=nxt)


@router.post("/communities/{cid}/join-requests/{request_id}/approve", tags=["members"])
async def approve_join(request_id: Id, session: Session, body: JoinDecision | None = None,
                       scope: CommunityScope = Require("join_requests.decide")) -> JoinRequestRead:
    body = body or JoinDecision()
    j = await service.decide_join(session, scope.person, scope.community_id, request_id, True,
                                  body.reason, body.household_id)
    p = await session.get(Person, j.person_id)
    assert p is not None
    return JoinRequestRead.model_validate(service.join_request_view(j, p, see_phone=True))


@router.post("/communities/{cid}/join-requests/{request_id}/reject", tags=["members"])
async def reject_join(request_id: Id, body: JoinDecision, session: Session,
                      scope: CommunityScope = Require("join_requests.decide")) -> JoinRequestRead:
    j = await service.decide_join(session, scope.person, scope.community_id, request_id, False, body.reason)
    p = await session.get(Person, j.person_id)
    assert p is not None
    return JoinRequestRead.model_validate(service.join_request_view(j, p, see_phone=True))


# --- audit ---

@router.get("/communities/{cid}/audit", tags=["audit"])
async def audit_log(session: Session, paging: Paging,
                    scope: CommunityScope = Require("audit.read")) -> Page[AuditRead]:
    stmt = select(AuditEntry).where(AuditEntry.community_id == scope.community_id)
    rows, nxt = await paginate(session, stmt, paging, AuditEntry.id)
    names = {p.id: p.name for p in (await session.execute(
        select(Person).where(Person.id.in_({r.actor_id for r in rows if r.actor_id})))).scalars()}
    items = [AuditRead.model_validate(r).model_copy(update={"actor_name": names.get(r.actor_id or "")}) for r in rows]
    return Page(items=items, next_cursor=nxt)
