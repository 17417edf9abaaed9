"""The rules of places and people: who sees which community, joining, roles, the roster."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import service as accounts
from app.accounts.models import Person
from app.communities import repository as repo
from app.communities import roster as roster_file
from app.communities.models import (
    Building,
    Community,
    Grid,
    Household,
    Invite,
    JoinRequest,
    Membership,
    Region,
    RegionAdmin,
    RosterEntry,
)
from app.communities.schemas import (
    BuildingCreate,
    CommunityCreate,
    CommunityUpdate,
    GridCreate,
    HouseholdCreate,
    InviteCreate,
    JoinResult,
    MemberUpdate,
    RegionCreate,
    RosterImportResult,
)
from app.core import audit, clock, policy
from app.core.errors import Conflict, Forbidden, Invalid, Msg, NotFound, UnknownReference
from app.core.i18n import DEFAULT, t
from app.core.models import Upload
from app.core.pagination import PageParams
from app.core.security import mask_phone
from app.core.sorting import natural_key
from app.sharing import service as sharing

REGION_LEVELS = ("city", "district", "street")  # 市 → 区/县 → 街道/镇, top down

# What the audit log records here, and how it reads (app/core/audit.py).
audit.declare("region", ["region.create"], name=audit.TEXT, level=audit.enum("ui.audit.value.level", REGION_LEVELS),
              parent_id=audit.ref("region"))
audit.declare("community", ["community.create", "community.update", "roster.import"],
              name=audit.TEXT, kind=audit.enum("ui.kind", ("community", "village")), region_id=audit.ref("region"),
              address=audit.TEXT, description=audit.TEXT, cover_upload_id=audit.SET, file=audit.TEXT,
              households_created=audit.NUMBER, households_updated=audit.NUMBER, residents=audit.NUMBER,
              members_linked=audit.NUMBER)
audit.declare("grid", ["grid.create"], name=audit.TEXT)
audit.declare("building", ["building.create"], name=audit.TEXT, grid_id=audit.ref("grid"),
              kind=audit.Field("enum", labels={"building": "ui.places.community.one",
                                               "village_group": "ui.places.village.one"}))
audit.declare("household", ["household.create"], building_id=audit.ref("building"), unit=audit.TEXT,
              room=audit.TEXT, owner_area_m2=audit.AREA)
audit.declare("membership", ["member.update", "member.remove"], person_id=audit.ref("person"), roles=audit.ROLES,
              household_id=audit.ref("household"), building_id=audit.ref("building"), grid_ids=audit.refs("grid"),
              display_name=audit.TEXT)
audit.declare("invite", ["invite.create", "invite.revoke"], building_id=audit.ref("building"),
              expires_in_days=audit.NUMBER, max_uses=audit.NUMBER, note=audit.TEXT, revoked=audit.FLAG)
audit.declare("join_request", ["join_request.approve", "join_request.reject"],
              status=audit.enum("ui.join_requests.status", ("pending", "approved", "rejected")),
              reason=audit.TEXT, household_id=audit.ref("household"))


async def _household_labels(session: AsyncSession, cid: str, ids: list[str], locale: str) -> dict[str, str]:
    return {h.id: household_label(h.building_name, h, locale)
            for h in await repo.households_with_building(session, cid, ids)}


audit.resolver("person", lambda session, cid, ids, locale: repo.people_names_in(session, cid, ids))
audit.resolver("membership", lambda session, cid, ids, locale: repo.member_names(session, cid, ids))
audit.resolver("join_request", lambda session, cid, ids, locale: repo.join_request_names(session, cid, ids))
audit.resolver("region", lambda session, cid, ids, locale: repo.region_names(session, ids))
audit.resolver("grid", lambda session, cid, ids, locale: repo.names_in(session, Grid, cid, ids))
audit.resolver("building", lambda session, cid, ids, locale: repo.names_in(session, Building, cid, ids))
audit.resolver("household", _household_labels)


# --- visibility -------------------------------------------------------------------------

async def get_community(session: AsyncSession, cid: str) -> Community | None:
    return await repo.community(session, cid)


async def upload_as_cover(session: AsyncSession, upload: Upload) -> bool | None:
    """For app/core/media.py: a community's cover is public (invitation pages show it); None if not one."""
    community = await repo.community(session, upload.community_id)
    return True if community is not None and community.cover_upload_id == upload.id else None


async def caller_scope(session: AsyncSession, claims: dict[str, Any],
                       cid: str) -> tuple[Person, Community | None, Membership | None, frozenset[str]]:
    """For a bearer token's claims: the caller (401 if no longer valid), the community, their
    membership and effective roles there, in one statement unless the caller administers a region."""
    person, community, membership, administers, family_revoked = await repo.caller_in_community(
        session, claims["sub"], cid, accounts.family_of(claims))
    person = accounts.still_valid(person, claims, family_revoked)
    if community is None:
        return person, None, None, frozenset()
    return person, community, membership, await _roles(session, person, community, membership, administers)


async def awaiting_approval(session: AsyncSession, cid: str, person_id: str) -> bool:
    """Whether this person asked to join the community and the committee has not decided yet."""
    return await repo.pending_join(session, cid, person_id) is not None


async def roles_in(session: AsyncSession, person: Person,
                   community: Community) -> tuple[Membership | None, frozenset[str]]:
    """The caller's membership and effective roles; empty roles mean the community is invisible."""
    membership = await repo.membership(session, community.id, person.id)
    return membership, await _roles(session, person, community, membership, None)


async def _roles(session: AsyncSession, person: Person, community: Community, membership: Membership | None,
                 administers: bool | None) -> frozenset[str]:
    roles: set[str] = set(membership.roles) if membership else set()
    if person.is_platform_admin:
        roles |= policy.REGION_ADMIN_ROLES
    elif community.region_id and administers is not False and (
            admin_of := await repo.admin_region_ids(session, person.id)):
        # Most people administer no region: one indexed lookup, and the tree walk only for those who do.
        ancestors = {r.id for r in await repo.region_ancestors(session, community.region_id)}
        if ancestors.intersection(admin_of):
            roles |= policy.REGION_ADMIN_ROLES
    return frozenset(roles)


async def visible_communities(session: AsyncSession, person: Person,
                              admin_of: list[str] | None = None) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for m, c in await repo.memberships_of(session, person.id):
        out[c.id] = {"membership_id": m.id, "community_id": c.id, "community_name": c.name,
                     "community_kind": c.kind, "roles": list(m.roles), "via": "member"}
    region_ids: list[str] = []
    if admin_of is None:
        admin_of = await repo.admin_region_ids(session, person.id)
    for rid in admin_of:
        region_ids.extend(await repo.region_descendant_ids(session, rid))
    extra = await repo.all_communities(session) if person.is_platform_admin else \
        await repo.communities_in_regions(session, region_ids) if region_ids else []
    for c in extra:
        if c.id not in out:
            out[c.id] = {"membership_id": None, "community_id": c.id, "community_name": c.name,
                         "community_kind": c.kind, "roles": sorted(policy.REGION_ADMIN_ROLES),
                         "via": "platform_admin" if person.is_platform_admin else "region_admin"}
    return list(out.values())


async def me(session: AsyncSession, person: Person) -> dict[str, Any]:
    admin_of = await repo.admin_region_ids(session, person.id)
    regions = [r for rid in admin_of if (r := await repo.region(session, rid))]
    pending = [{"community_id": c.id, "community_name": c.name, "join_request_id": j.id}
               for j, c in await repo.pending_joins_of(session, person.id)]
    return {
        "id": person.id, "name": person.name, "phone": person.phone, "username": person.username,
        "locale": person.locale, "is_platform_admin": person.is_platform_admin,
        "current_community_id": person.current_community_id,
        "memberships": await visible_communities(session, person, admin_of),
        "region_admin_of": regions, "pending_joins": pending,
    }


async def update_me(session: AsyncSession, person: Person, changes: dict[str, Any]) -> None:
    cid = changes.get("current_community_id")
    if cid is not None:
        community = await repo.community(session, cid)
        if community is None or not (await roles_in(session, person, community))[1]:
            raise NotFound("community_not_found")
    for field, value in changes.items():
        setattr(person, field, value)
    await session.flush()


# --- regions and communities ---------------------------------------------------------------

async def _may_administer_region(session: AsyncSession, person: Person, region_id: str | None) -> bool:
    if person.is_platform_admin:
        return True
    if region_id is None:
        return False
    ancestors = [r.id for r in await repo.region_ancestors(session, region_id)]
    return await repo.is_region_admin_of_any(session, person.id, ancestors)


async def create_region(session: AsyncSession, actor: Person, data: RegionCreate) -> Region:
    # Permission first, so that a caller who may not create regions learns nothing about ids.
    if not await _may_administer_region(session, actor, data.parent_id):
        raise Forbidden("forbidden_region")
    parent = await repo.region(session, data.parent_id) if data.parent_id else None
    if data.parent_id and parent is None:
        raise UnknownReference("region_not_found", "parent_id")
    if parent is not None and REGION_LEVELS.index(data.level) <= REGION_LEVELS.index(parent.level):
        raise Invalid("region_level", level=data.level, parent=parent.level)
    region = Region(name=data.name, level=data.level, parent_id=data.parent_id)
    session.add(region)
    await session.flush()
    await audit.record(session, actor_id=actor.id, community_id=None, action="region.create",
                       object_type="region", object_id=region.id, after=data.model_dump())
    return region


async def add_region_admin(session: AsyncSession, region_id: str, person_id: str) -> None:
    session.add(RegionAdmin(region_id=region_id, person_id=person_id))
    await session.flush()


async def list_regions(session: AsyncSession, person: Person) -> list[Region]:
    if person.is_platform_admin:
        return await repo.child_regions(session, None)
    return [r for rid in await repo.admin_region_ids(session, person.id) if (r := await repo.region(session, rid))]


async def region_detail(session: AsyncSession, person: Person, region_id: str) -> dict[str, Any]:
    region = await repo.region(session, region_id)
    if region is None or not await _may_administer_region(session, person, region_id):
        raise NotFound("region_not_found")
    ids = await repo.region_descendant_ids(session, region_id)
    communities = await repo.communities_in_regions(session, ids)
    cids = [c.id for c in communities]
    members = await repo.counts_by_community(session, Membership, cids)
    households = await repo.counts_by_community(session, Household, cids)
    pending = await repo.counts_by_community(session, JoinRequest, cids, JoinRequest.status == "pending")
    rollups = [{"id": c.id, "name": c.name, "kind": c.kind, "members": members.get(c.id, 0),
                "households": households.get(c.id, 0), "pending_joins": pending.get(c.id, 0)} for c in communities]
    return {
        "id": region.id, "name": region.name, "level": region.level, "parent_id": region.parent_id,
        "children": await repo.child_regions(session, region.id), "communities": rollups,
        "totals": {"communities": len(rollups), "members": sum(members.values()),
                   "households": sum(households.values()), "pending_joins": sum(pending.values())},
    }


async def create_community(session: AsyncSession, actor: Person, data: CommunityCreate) -> Community:
    if not await _may_administer_region(session, actor, data.region_id):
        raise Forbidden("forbidden_region")
    if data.region_id and await repo.region(session, data.region_id) is None:
        raise UnknownReference("region_not_found", "region_id")
    community = Community(**data.model_dump())
    session.add(community)
    await session.flush()
    await audit.record(session, actor_id=actor.id, community_id=community.id, action="community.create",
                       object_type="community", object_id=community.id, after=data.model_dump())
    return community


COMMUNITY_FIELDS = ("name", "address", "description", "cover_upload_id")


async def update_community(session: AsyncSession, actor: Person, community: Community,
                           data: CommunityUpdate) -> Community:
    changes = data.model_dump(exclude_unset=True)
    cover = changes.get("cover_upload_id")
    if cover is not None and not await repo.has_upload(session, community.id, cover):
        raise UnknownReference("upload_not_found", "cover_upload_id")
    before = audit.snapshot(community, tuple(changes))
    for field, value in changes.items():
        setattr(community, field, value)
    await session.flush()
    await audit.record(session, actor_id=actor.id, community_id=community.id, action="community.update",
                       object_type="community", object_id=community.id, before=before,
                       after=audit.snapshot(community, tuple(changes)))
    return community


async def community_detail(session: AsyncSession, community: Community, roles: frozenset[str]) -> dict[str, Any]:
    ancestors = await repo.region_ancestors(session, community.region_id)
    stats = await repo.community_stats(session, community.id)
    return {
        "id": community.id, "name": community.name, "kind": community.kind, "region_id": community.region_id,
        "address": community.address, "description": community.description,
        "cover_upload_id": community.cover_upload_id, "created_at": community.created_at,
        "region_path": list(reversed(ancestors)), "stats": stats, "my_roles": sorted(roles),
    }


# --- grids, buildings, households ------------------------------------------------------------

async def _insert(session: AsyncSession, obj: object, conflict: str) -> None:
    """Add a row whose unique key was checked; a concurrent twin that won the race is a 409, not a 500."""
    try:
        async with session.begin_nested():
            session.add(obj)
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(conflict) from exc


async def grids(session: AsyncSession, cid: str) -> list[Grid]:
    return sorted(await repo.list_in(session, Grid, cid, Grid.id), key=lambda g: natural_key(g.name))


async def buildings(session: AsyncSession, cid: str) -> list[Building]:
    """In the order people number them: 1栋, 2栋, …, 10栋."""
    return sorted(await repo.list_in(session, Building, cid, Building.id), key=lambda b: natural_key(b.name))


async def get_building(session: AsyncSession, cid: str, building_id: str) -> Building | None:
    return await repo.get_in(session, Building, cid, building_id)


async def are_members(session: AsyncSession, cid: str, person_ids: list[str]) -> bool:
    """True when every one of ``person_ids`` belongs to the community."""
    return len(await repo.memberships_for_people(session, cid, person_ids)) == len(set(person_ids))


async def member_by_phone(session: AsyncSession, cid: str, phone: str) -> Person | None:
    """The member of the community with this (normalised) phone, or None: not for showing the
    phone or the full name to whoever asked, only for finding whom they mean."""
    return await repo.member_by_phone(session, cid, phone)


async def create_grid(session: AsyncSession, actor: Person, cid: str, data: GridCreate) -> Grid:
    if await repo.count(session, Grid, cid, Grid.name == data.name):
        raise Conflict("name_taken")
    grid = Grid(community_id=cid, name=data.name)
    await _insert(session, grid, "name_taken")
    await audit.record(session, actor_id=actor.id, community_id=cid, action="grid.create",
                       object_type="grid", object_id=grid.id, after=data.model_dump())
    return grid


async def create_building(session: AsyncSession, actor: Person, cid: str, data: BuildingCreate) -> Building:
    if data.grid_id and await repo.get_in(session, Grid, cid, data.grid_id) is None:
        raise UnknownReference("grid_not_found", "grid_id")
    if await repo.building_by_name(session, cid, data.name):
        raise Conflict("name_taken")
    building = Building(community_id=cid, **data.model_dump())
    await _insert(session, building, "name_taken")
    await audit.record(session, actor_id=actor.id, community_id=cid, action="building.create",
                       object_type="building", object_id=building.id, after=data.model_dump())
    return building


async def create_household(session: AsyncSession, actor: Person, cid: str, data: HouseholdCreate) -> Household:
    if data.building_id and await repo.get_in(session, Building, cid, data.building_id) is None:
        raise UnknownReference("building_not_found", "building_id")
    if data.building_id and await repo.household_at(session, cid, data.building_id, data.unit, data.room):
        raise Conflict("household_exists")
    household = Household(community_id=cid, **data.model_dump())
    await _insert(session, household, "household_exists")
    await audit.record(session, actor_id=actor.id, community_id=cid, action="household.create",
                       object_type="household", object_id=household.id,
                       after=audit.snapshot(household, ("building_id", "unit", "room", "owner_area_m2")))
    return household


async def households(session: AsyncSession, cid: str, paging: PageParams,
                     building_id: str | None) -> tuple[list[Household], str | None]:
    return await repo.households_page(session, cid, paging, building_id)


# --- members ---------------------------------------------------------------------------------

def member_view(m: Membership, p: Person, *, see_phone: bool) -> dict[str, Any]:
    return {
        "id": m.id, "person_id": p.id, "name": m.display_name or p.name, "roles": list(m.roles),
        "phone": p.phone if see_phone else mask_phone(p.phone), "household_id": m.household_id,
        "building_id": m.building_id, "grid_ids": list(m.grid_ids or []), "verified": m.verified,
        "created_at": m.created_at,
    }


async def members(session: AsyncSession, cid: str, paging: PageParams, *, see_phones: bool,
                  role: str | None = None, q: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """A page of members as the caller may see them: phones masked unless ``see_phones``."""
    rows, nxt = await repo.members_page(session, cid, paging, role=role, q=q, search_phones=see_phones)
    return [member_view(m, p, see_phone=see_phones) for m, p in rows], nxt


async def member(session: AsyncSession, cid: str, member_id: str, *, see_phones: bool) -> dict[str, Any]:
    m = await repo.get_in(session, Membership, cid, member_id)
    person = await repo.person(session, m.person_id) if m else None
    if m is None or person is None:
        raise NotFound("member_not_found")
    return member_view(m, person, see_phone=see_phones)


MEMBER_FIELDS = ("roles", "household_id", "building_id", "grid_ids", "display_name")


async def update_member(session: AsyncSession, actor: Person, cid: str, member_id: str,
                        data: MemberUpdate) -> Membership:
    m = await repo.get_in(session, Membership, cid, member_id)
    if m is None:
        raise NotFound("member_not_found")
    changes = data.model_dump(exclude_unset=True)
    if "roles" in changes:
        roles = sorted({str(r) for r in changes["roles"]} | {policy.Role.resident.value})
        if "committee" in m.roles and "committee" not in roles and await repo.committee_count(session, cid) <= 1:
            raise Conflict("last_committee")
        changes["roles"] = roles
    if changes.get("household_id") and await repo.get_in(session, Household, cid, changes["household_id"]) is None:
        raise UnknownReference("household_not_found", "household_id")
    if changes.get("building_id") and await repo.get_in(session, Building, cid, changes["building_id"]) is None:
        raise UnknownReference("building_not_found", "building_id")
    if "grid_ids" in changes:
        changes["grid_ids"] = list(dict.fromkeys(changes["grid_ids"]))
        if not await repo.grids_exist(session, cid, changes["grid_ids"]):
            raise UnknownReference("grid_not_found", "grid_ids")
    before = audit.snapshot(m, tuple(changes))
    for field, value in changes.items():
        setattr(m, field, value)
    await session.flush()
    await audit.record(session, actor_id=actor.id, community_id=cid, action="member.update",
                       object_type="membership", object_id=m.id, before=before,
                       after=audit.snapshot(m, tuple(changes)))
    return m


async def remove_member(session: AsyncSession, actor: Person, cid: str, member_id: str) -> None:
    m = await repo.get_in(session, Membership, cid, member_id)
    if m is None:
        raise NotFound("member_not_found")
    if "committee" in m.roles and await repo.committee_count(session, cid) <= 1:
        raise Conflict("last_committee")
    before = audit.snapshot(m, ("person_id", *MEMBER_FIELDS))
    person = await repo.person(session, m.person_id)
    if person is not None and person.current_community_id == cid:
        person.current_community_id = None
    await session.delete(m)
    await session.flush()
    await audit.record(session, actor_id=actor.id, community_id=cid, action="member.remove",
                       object_type="membership", object_id=member_id, before=before)


async def add_member(session: AsyncSession, cid: str, person: Person, roles: list[str], *,
                     household_id: str | None = None, building_id: str | None = None,
                     display_name: str = "") -> Membership:
    """Make ``person`` a verified member (or widen their roles if they already are one)."""
    m = await repo.membership(session, cid, person.id)
    if m is None:
        m = Membership(community_id=cid, person_id=person.id, roles=sorted(set(roles) | {"resident"}),
                       household_id=household_id, building_id=building_id, verified=True,
                       display_name=display_name, grid_ids=[])
        try:
            async with session.begin_nested():
                session.add(m)
                await session.flush()
        except IntegrityError:
            # The same person joined at the same moment by another way in: keep that membership.
            found = await repo.membership(session, cid, person.id)
            if found is None:
                raise
            m = found
    m.roles = sorted(set(m.roles) | set(roles) | {"resident"})
    m.household_id = m.household_id or household_id
    m.building_id = m.building_id or building_id
    m.verified = True
    if person.current_community_id is None:
        person.current_community_id = cid
    await session.flush()
    return m


# --- invites and joining -----------------------------------------------------------------------

async def create_invite(session: AsyncSession, actor: Person, cid: str, data: InviteCreate) -> Invite:
    if data.building_id and await repo.get_in(session, Building, cid, data.building_id) is None:
        raise UnknownReference("building_not_found", "building_id")
    link = await sharing.create_link(session, kind="invite", target_id="", community_id=cid)
    invite = Invite(
        community_id=cid, code=link.code, building_id=data.building_id, max_uses=data.max_uses,
        expires_at=clock.now() + timedelta(days=data.expires_in_days) if data.expires_in_days else None,
        created_by=actor.id, note=data.note,
    )
    session.add(invite)
    await session.flush()
    link.target_id = invite.id
    await audit.record(session, actor_id=actor.id, community_id=cid, action="invite.create",
                       object_type="invite", object_id=invite.id, after=data.model_dump())
    return invite


async def invites(session: AsyncSession, cid: str, paging: PageParams) -> tuple[list[Invite], str | None]:
    return await repo.invites_page(session, cid, paging)


async def revoke_invite(session: AsyncSession, actor: Person, cid: str, invite_id: str) -> Invite:
    invite = await repo.get_in(session, Invite, cid, invite_id)
    if invite is None:
        raise NotFound("invite_not_found")
    if invite.revoked_at is None:
        invite.revoked_at = clock.now()
        await session.flush()
        await audit.record(session, actor_id=actor.id, community_id=cid, action="invite.revoke",
                           object_type="invite", object_id=invite.id, before={"revoked": False},
                           after={"revoked": True})
    return invite


def invite_problem(invite: Invite) -> str | None:
    """Why an invite can't be used now (a message key), or None."""
    if invite.revoked_at is not None:
        return "invite_revoked"
    if invite.expires_at is not None and invite.expires_at <= clock.now():
        return "invite_expired"
    if invite.max_uses is not None and invite.uses >= invite.max_uses:
        return "invite_used_up"
    return None


async def invite_preview(session: AsyncSession, code: str, locale: str) -> dict[str, Any]:
    invite = await repo.invite_by_code(session, code)
    community = await repo.community(session, invite.community_id) if invite else None
    if invite is None or community is None:
        raise NotFound("invite_not_found")
    building = await repo.get_in(session, Building, community.id, invite.building_id) if invite.building_id else None
    problem = invite_problem(invite)
    return {
        "code": code, "community_id": community.id, "community_name": community.name,
        "community_kind": community.kind, "building_id": invite.building_id,
        "building_name": building.name if building else None, "expires_at": invite.expires_at,
        "usable": problem is None,
        "reason": t(f"error.{problem}", locale) if problem else None,
    }


async def join(session: AsyncSession, person: Person, code: str, name: str, room: str) -> JoinResult:
    """Join by an invite: at once when the phone is on the roster, else as a request for the committee.

    Joining again answers the same membership or request and spends no second use.
    """
    # Locking the invite row makes joins through one invite queue (PostgreSQL), so the checks
    # below see every join that came first.
    invite = await repo.invite_by_code(session, code, for_update=True)
    if invite is None:
        raise NotFound("invite_not_found")
    cid = invite.community_id
    existing = await repo.membership(session, cid, person.id)
    if existing is not None:
        return JoinResult(status="member", community_id=cid, membership_id=existing.id)
    pending = await repo.pending_join(session, cid, person.id)
    if pending is not None:
        return JoinResult(status="pending", community_id=cid, join_request_id=pending.id)
    problem = invite_problem(invite)
    if problem:
        raise Conflict(problem)
    if not await repo.take_invite_use(session, invite.id):
        raise Conflict("invite_used_up")
    if name and not person.name:
        person.name = name
    entry = await repo.roster_by_phone(session, cid, person.phone) if person.phone else None
    if entry is not None:
        household = await repo.get_in(session, Household, cid, entry.household_id)
        m = await add_member(session, cid, person, ["owner"] if entry.is_owner else [],
                             household_id=entry.household_id,
                             building_id=household.building_id if household else invite.building_id)
        if not person.name:
            person.name = entry.name
        await session.flush()
        return JoinResult(status="member", community_id=cid, membership_id=m.id)
    request = JoinRequest(community_id=cid, person_id=person.id, invite_id=invite.id,
                          building_id=invite.building_id, name=name or person.name, room=room)
    session.add(request)
    await session.flush()
    return JoinResult(status="pending", community_id=cid, join_request_id=request.id)


def join_request_view(j: JoinRequest, p: Person, *, see_phone: bool) -> dict[str, Any]:
    return {"id": j.id, "person_id": j.person_id, "name": j.name or p.name,
            "phone": p.phone if see_phone else mask_phone(p.phone), "building_id": j.building_id,
            "room": j.room, "status": j.status, "reason": j.reason, "created_at": j.created_at}


async def join_requests(session: AsyncSession, cid: str, status: str,
                        paging: PageParams) -> tuple[list[dict[str, Any]], str | None]:
    rows, nxt = await repo.join_requests_page(session, cid, status, paging)
    return [join_request_view(j, p, see_phone=True) for j, p in rows], nxt


async def decide_join(session: AsyncSession, actor: Person, cid: str, request_id: str, approve: bool,
                      reason: str = "", household_id: str | None = None) -> JoinRequest:
    j = await repo.get_in(session, JoinRequest, cid, request_id)
    if j is None:
        raise NotFound("join_request_not_found")
    if j.status != "pending":
        raise Conflict("join_request_decided", state=Msg(f"join_request.state.{j.status}"))
    if household_id and await repo.get_in(session, Household, cid, household_id) is None:
        raise UnknownReference("household_not_found", "household_id")
    person = await repo.person(session, j.person_id)
    if person is None:
        raise NotFound("join_request_not_found")
    j.status = "approved" if approve else "rejected"
    j.decided_by, j.decided_at, j.reason = actor.id, clock.now(), reason
    if approve:
        await add_member(session, cid, person, [], household_id=household_id, building_id=j.building_id,
                         display_name=j.name)
    await session.flush()
    await audit.record(session, actor_id=actor.id, community_id=cid,
                       action="join_request.approve" if approve else "join_request.reject",
                       object_type="join_request", object_id=j.id, before={"status": "pending"},
                       after={"status": j.status, "reason": reason, "household_id": household_id})
    return j


async def join_request(session: AsyncSession, j: JoinRequest) -> dict[str, Any]:
    person = await repo.person(session, j.person_id)
    if person is None:
        raise NotFound("join_request_not_found")
    return join_request_view(j, person, see_phone=True)


# --- audit -----------------------------------------------------------------------------------

async def audit_log(session: AsyncSession, cid: str, paging: PageParams,
                    locale: str) -> tuple[list[dict[str, Any]], str | None]:
    rows, nxt = await repo.audit_page(session, cid, paging)
    return await audit.describe(session, cid, rows, locale), nxt


# --- roster import ---------------------------------------------------------------------------

async def import_roster(session: AsyncSession, actor: Person | None, cid: str, content: bytes, filename: str,
                        locale: str) -> RosterImportResult:
    """Replace the roster of every household in the file; create buildings and households as needed.

    All or nothing: any bad row rejects the whole file with every bad row's line and reason.
    Importing again updates households (area) and their rosters instead of adding twins.
    """
    try:
        # Parsing a big workbook takes a while; keep the event loop free for other requests.
        rows, errors = await asyncio.to_thread(roster_file.parse, content, filename)
    except roster_file.RosterFileError as exc:
        raise Invalid("roster_unreadable", errors=[{"loc": ["file"], "msg": t(exc.key, locale)}]) from exc
    if errors:
        raise Invalid(
            "roster_rejected", count=len({e.line for e in errors}),
            errors=[{"loc": ["file", e.line] + ([e.field] if e.field else []), "line": e.line,
                     "msg": t(e.key, locale, value=e.value)} for e in errors],
        )
    buildings = {b.name: b for b in await repo.list_in(session, Building, cid, Building.id)}
    known: dict[tuple[str | None, str, str], Household] = {
        (h.building_id, h.unit, h.room): h for h in await repo.list_in(session, Household, cid, Household.id)}
    created = updated = 0
    households: dict[tuple[str, str, str], Household] = {}
    for row in rows:
        b = buildings.get(row.building)
        if b is None:
            b = Building(community_id=cid, name=row.building,
                         kind="village_group" if row.building.endswith("组") else "building")
            session.add(b)
            await session.flush()
            buildings[row.building] = b
        key = (b.id, row.unit, row.room)
        h = households.get(key)
        if h is None:
            h = known.get(key)
            if h is None:
                h = Household(community_id=cid, building_id=b.id, unit=row.unit, room=row.room,
                              address=f"{row.building}{row.unit}{row.room}", owner_area_m2=row.area)
                session.add(h)
                created += 1
            else:
                updated += 1
            households[key] = h
        if row.area is not None:
            h.owner_area_m2 = row.area
    await session.flush()
    await repo.delete_roster_entries(session, cid, [h.id for h in households.values()], [r.phone for r in rows])
    by_phone: dict[str, tuple[roster_file.RosterRow, Household]] = {}
    for row in rows:
        h = households[(buildings[row.building].id, row.unit, row.room)]
        session.add(RosterEntry(community_id=cid, household_id=h.id, name=row.name, phone=row.phone,
                                is_owner=row.is_owner))
        by_phone[row.phone] = (row, h)
    await session.flush()
    # People who already joined are linked to their household now.
    people = await repo.people_by_phones(session, list(by_phone))
    joined = await repo.memberships_for_people(session, cid, [p.id for p in people.values()])
    linked = 0
    for phone, p in people.items():
        m = joined.get(p.id)
        if m is None:
            continue
        row, h = by_phone[phone]
        m.household_id, m.building_id, m.verified = h.id, h.building_id, True
        if row.is_owner and "owner" not in m.roles:
            m.roles = sorted({*m.roles, "owner"})
        linked += 1
    await session.flush()
    result = RosterImportResult(households_created=created, households_updated=updated,
                                residents=len(rows), members_linked=linked)
    await audit.record(session, actor_id=actor.id if actor else None, community_id=cid, action="roster.import",
                       object_type="community", object_id=cid, after={"file": filename[:100], **result.model_dump()})
    return result


# --- who may be told what (other domains' notifications) ----------------------------------------

async def member_ids_with_role(session: AsyncSession, cid: str, role: str) -> list[str]:
    return await repo.member_ids_with_role(session, cid, role)


async def region_admin_ids_above(session: AsyncSession, community: Community) -> list[str]:
    """Street and district staff 街道/区 over this community: admins of its region and every region above."""
    ancestors = [r.id for r in await repo.region_ancestors(session, community.region_id)]
    return await repo.admins_of_regions(session, ancestors)


async def roles_of_people(session: AsyncSession, community: Community,
                          person_ids: list[str]) -> dict[str, frozenset[str]]:
    """``roles_in`` for many people at once; people who may not see the community are left out."""
    ids = list(dict.fromkeys(person_ids))
    memberships = await repo.memberships_for_people(session, community.id, ids)
    out: dict[str, set[str]] = {pid: set(m.roles) for pid, m in memberships.items()}
    above = set(await region_admin_ids_above(session, community))
    for pid in set(ids) & above | await repo.platform_admin_ids(session, ids):
        out.setdefault(pid, set()).update(policy.REGION_ADMIN_ROLES)
    return {pid: frozenset(roles) for pid, roles in out.items() if roles}


async def administered_region(session: AsyncSession, person: Person, region_id: str) -> list[str]:
    """The ids of the communities below a region this person administers; 404 for anyone else."""
    if await repo.region(session, region_id) is None or not await _may_administer_region(session, person, region_id):
        raise NotFound("region_not_found")
    below = await repo.region_descendant_ids(session, region_id)
    return [c.id for c in await repo.communities_in_regions(session, below)]


# --- electorates (for polls) ---------------------------------------------------------------

def unit_number(unit: str) -> str:
    """"2" for a unit entrance 单元 written "2单元" or "2": the words around it say 单元 once."""
    return unit.strip().removesuffix("单元").strip()


def household_label(building_name: str, h: Any, locale: str = DEFAULT) -> str:
    """"3栋2单元501" ("3栋, Unit 2, 501") for a household, or a row with its unit, room, address and
    id. Poll rolls keep the Chinese label they were frozen with."""
    unit = unit_number(h.unit or "")
    place = t("ui.places.unit_room", locale, unit=unit, room=h.room) if unit else h.room
    if building_name and place:
        return t("ui.places.building_place", locale, building=building_name, place=place)
    return building_name or place or h.address or h.id


async def electorate(session: AsyncSession, cid: str, kind: str, building_id: str | None,
                     unit: str) -> list[dict[str, Any]]:
    """Who may vote, as a poll freezes it at opening.

    ``residents``: every verified member, one person one vote; ``households``: every household
    户 (any verified member casts its vote; a household without a phone votes on paper);
    ``owners``: every household with an exclusive area 专有面积, weighted by it (one unit, one
    owner). ``building_id``/``unit`` narrow it to a building or a unit entrance."""
    if kind == "residents":
        homes = {h.id: household_label(h.building_name, h)
                 for h in await repo.households_in_scope(session, cid, None, "")}
        out = []
        for m in await repo.verified_members_in_scope(session, cid, building_id, unit):
            where = homes.get(m.household_id or "", "")
            out.append({"person_id": m.person_id, "household_id": m.household_id,
                        "label": " ".join(x for x in (m.name, where) if x), "area": Decimal(0)})
        return out
    rows = await repo.households_in_scope(session, cid, building_id, unit)
    if kind == "owners":
        rows = [h for h in rows if h.owner_area_m2 is not None and h.owner_area_m2 > 0]
    return [{"person_id": None, "household_id": h.id, "label": household_label(h.building_name, h),
             "area": h.owner_area_m2 if kind == "owners" and h.owner_area_m2 is not None else Decimal(0)}
            for h in rows]


async def voter_standing(session: AsyncSession, cid: str, person_id: str) -> tuple[str | None, frozenset[str], bool]:
    """The caller's household, roles and whether the committee verified them, in one community."""
    m = await repo.membership(session, cid, person_id)
    if m is None:
        return None, frozenset(), False
    return m.household_id, frozenset(m.roles), m.verified


async def grid_in(session: AsyncSession, cid: str, grid_id: str) -> Grid | None:
    return await repo.get_in(session, Grid, cid, grid_id)


async def people_in_grid(session: AsyncSession, cid: str, grid_id: str) -> list[str]:
    """The grid's people: members whose household (or own building) lies in one of its buildings."""
    return await repo.people_in_grid(session, cid, grid_id)


async def names_of(session: AsyncSession, person_ids: list[str]) -> dict[str, str]:
    return {pid: p.name for pid, p in (await repo.people_by_ids(session, list(dict.fromkeys(person_ids)))).items()}
