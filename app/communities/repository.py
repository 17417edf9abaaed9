"""Every query of the communities domain. Community-owned rows are always fetched with their
community id (``get_in``), so tenancy is never remembered by hand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, String, bindparam, cast, delete, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as accounts_repo
from app.accounts.models import Person
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
from app.core.audit import AuditEntry
from app.core.models import Upload
from app.core.pagination import PageParams, paginate
from app.core.sorting import natural_key

M = TypeVar("M")


async def get_in(session: AsyncSession, model: type[M], community_id: str, obj_id: str) -> M | None:
    """A community-owned row by id, or None when it belongs to another community."""
    q = select(model).where(model.id == obj_id, model.community_id == community_id)  # type: ignore[attr-defined]
    return (await session.execute(q)).scalar_one_or_none()


# --- regions ---

async def region(session: AsyncSession, region_id: str) -> Region | None:
    return await session.get(Region, region_id)


async def region_ancestors(session: AsyncSession, region_id: str | None) -> list[Region]:
    """The region and every region above it, nearest first (one recursive query)."""
    if not region_id:
        return []
    start = select(Region.id, Region.parent_id, literal(0).label("depth")).where(Region.id == region_id)
    up = start.cte("up", recursive=True)
    up = up.union_all(
        select(Region.id, Region.parent_id, (up.c.depth + 1).label("depth"))
        .join(up, Region.id == up.c.parent_id).where(up.c.depth < 10)
    )
    q = select(Region).join(up, Region.id == up.c.id).order_by(up.c.depth)
    return list((await session.execute(q)).scalars().all())


async def region_descendant_ids(session: AsyncSession, region_id: str) -> list[str]:
    ids = [region_id]
    frontier = [region_id]
    while frontier:
        q = select(Region.id).where(Region.parent_id.in_(frontier))
        frontier = [i for i in (await session.execute(q)).scalars().all() if i not in ids]
        ids.extend(frontier)
    return ids


async def child_regions(session: AsyncSession, region_id: str | None) -> list[Region]:
    q = select(Region).where(Region.parent_id == region_id if region_id else Region.parent_id.is_(None))
    return list((await session.execute(q.order_by(Region.name))).scalars().all())


# The caller, the community, their membership, whether they administer any region and whether
# their token's family was revoked: what every community-scoped request needs, in one statement
# built once.
_CALLER_IN_COMMUNITY = (
    select(Person, Community, Membership,
           select(RegionAdmin.id).where(RegionAdmin.person_id == Person.id).exists(),
           accounts_repo.family_revoked(bindparam("fam")))
    .select_from(Person)
    .outerjoin(Community, Community.id == bindparam("cid"))
    .outerjoin(Membership, (Membership.community_id == Community.id) & (Membership.person_id == Person.id))
    .where(Person.id == bindparam("person_id"))
)


async def caller_in_community(
    session: AsyncSession, person_id: str, cid: str, family_id: str | None,
) -> tuple[Person | None, Community | None, Membership | None, bool, bool]:
    """The caller, the community, the membership, whether they administer a region, and whether
    the token's family was revoked."""
    row = (await session.execute(_CALLER_IN_COMMUNITY, {"person_id": person_id, "cid": cid, "fam": family_id})).first()
    if row is None:
        return None, None, None, False, False
    return row[0], row[1], row[2], bool(row[3]), bool(row[4])


async def admin_region_ids(session: AsyncSession, person_id: str) -> list[str]:
    q = select(RegionAdmin.region_id).where(RegionAdmin.person_id == person_id)
    return list((await session.execute(q)).scalars().all())


async def is_region_admin_of_any(session: AsyncSession, person_id: str, region_ids: Sequence[str]) -> bool:
    if not region_ids:
        return False
    q = select(func.count()).select_from(RegionAdmin).where(
        RegionAdmin.person_id == person_id, RegionAdmin.region_id.in_(region_ids))
    return int((await session.execute(q)).scalar_one()) > 0


async def region_admin(session: AsyncSession, region_id: str, person_id: str) -> RegionAdmin | None:
    q = select(RegionAdmin).where(RegionAdmin.region_id == region_id, RegionAdmin.person_id == person_id)
    return (await session.execute(q)).scalar_one_or_none()


# --- communities ---

async def communities_in_regions(session: AsyncSession, region_ids: Sequence[str]) -> list[Community]:
    q = select(Community).where(Community.region_id.in_(region_ids)).order_by(Community.name)
    return list((await session.execute(q)).scalars().all())


async def community(session: AsyncSession, cid: str) -> Community | None:
    return await session.get(Community, cid)


async def all_communities(session: AsyncSession) -> list[Community]:
    return list((await session.execute(select(Community).order_by(Community.name))).scalars().all())


async def count(session: AsyncSession, model: type[Any], community_id: str, *where: Any) -> int:
    q = select(func.count()).select_from(model).where(model.community_id == community_id, *where)
    return int((await session.execute(q)).scalar_one())


async def community_stats(session: AsyncSession, community_id: str) -> dict[str, int]:
    """The community page's counts, in one round trip."""

    def n(model: type[Any], *where: Any) -> Any:
        return (select(func.count()).select_from(model)
                .where(model.community_id == community_id, *where).scalar_subquery())

    q = select(
        n(Grid).label("grids"), n(Building).label("buildings"), n(Household).label("households"),
        n(Membership).label("members"), n(JoinRequest, JoinRequest.status == "pending").label("pending_joins"),
    )
    row = (await session.execute(q)).one()
    return {k: int(v) for k, v in row._mapping.items()}


async def counts_by_community(session: AsyncSession, model: type[Any], ids: Sequence[str],
                              *where: Any) -> dict[str, int]:
    q = (select(model.community_id, func.count()).where(model.community_id.in_(ids), *where)
         .group_by(model.community_id))
    return {cid: int(n) for cid, n in (await session.execute(q)).all()}


async def list_in(session: AsyncSession, model: type[M], community_id: str, order: Any) -> list[M]:
    q = select(model).where(model.community_id == community_id).order_by(order)  # type: ignore[attr-defined]
    return list((await session.execute(q)).scalars().all())


# --- places ---

async def building_by_name(session: AsyncSession, community_id: str, name: str) -> Building | None:
    q = select(Building).where(Building.community_id == community_id, Building.name == name)
    return (await session.execute(q)).scalar_one_or_none()


async def household_at(session: AsyncSession, community_id: str, building_id: str, unit: str,
                       room: str) -> Household | None:
    q = select(Household).where(Household.community_id == community_id, Household.building_id == building_id,
                                Household.unit == unit, Household.room == room)
    return (await session.execute(q)).scalar_one_or_none()


async def households_page(session: AsyncSession, community_id: str, paging: PageParams,
                          building_id: str | None) -> tuple[list[Household], str | None]:
    stmt = select(Household).where(Household.community_id == community_id)
    if building_id:
        stmt = stmt.where(Household.building_id == building_id)
    return await paginate(session, stmt, paging, Household.id, descending=False)


async def grids_exist(session: AsyncSession, community_id: str, grid_ids: Sequence[str]) -> bool:
    if not grid_ids:
        return True
    q = select(func.count()).select_from(Grid).where(Grid.community_id == community_id, Grid.id.in_(list(grid_ids)))
    return int((await session.execute(q)).scalar_one()) == len(set(grid_ids))


async def people_in_grid(session: AsyncSession, community_id: str, grid_id: str) -> list[str]:
    """Members whose household's building (or, with no household, whose own building) is in the grid."""
    building = func.coalesce(Household.building_id, Membership.building_id)
    q = (select(Membership.person_id)
         .outerjoin(Household, Household.id == Membership.household_id)
         .join(Building, Building.id == building)
         .where(Membership.community_id == community_id, Building.grid_id == grid_id))
    return list((await session.execute(q)).scalars())


# --- roster ---

async def roster_by_phone(session: AsyncSession, community_id: str, phone: str) -> RosterEntry | None:
    q = (select(RosterEntry).where(RosterEntry.community_id == community_id, RosterEntry.phone == phone)
         .order_by(RosterEntry.id.desc()).limit(1))
    return (await session.execute(q)).scalar_one_or_none()


async def delete_roster_entries(session: AsyncSession, community_id: str, household_ids: Sequence[str],
                                phones: Sequence[str]) -> None:
    """Forget the roster of these households, and wherever else these phones were listed."""
    await session.execute(delete(RosterEntry).where(
        RosterEntry.community_id == community_id,
        or_(RosterEntry.household_id.in_(list(household_ids)), RosterEntry.phone.in_(list(phones)))))


async def people_by_phones(session: AsyncSession, phones: Sequence[str]) -> dict[str, Person]:
    if not phones:
        return {}
    q = select(Person).where(Person.phone.in_(list(phones)))
    return {p.phone: p for p in (await session.execute(q)).scalars().all() if p.phone}


# --- members ---

def roles_contain(role: str) -> ColumnElement[bool]:
    """``Membership.roles`` (a JSON list) holds ``role``.

    Matched on the JSON text, which SQLite and PostgreSQL store alike; role names are plain
    words, so the quoted name cannot match anything but that list element.
    """
    return cast(Membership.roles, String).like(f'%"{role}"%')


async def membership(session: AsyncSession, community_id: str, person_id: str) -> Membership | None:
    q = select(Membership).where(Membership.community_id == community_id, Membership.person_id == person_id)
    return (await session.execute(q)).scalar_one_or_none()


async def memberships_of(session: AsyncSession, person_id: str) -> list[tuple[Membership, Community]]:
    q = (select(Membership, Community).join(Community, Community.id == Membership.community_id)
         .where(Membership.person_id == person_id).order_by(Membership.created_at))
    return [(m, c) for m, c in (await session.execute(q)).all()]


async def memberships_for_people(session: AsyncSession, community_id: str,
                                 person_ids: Sequence[str]) -> dict[str, Membership]:
    if not person_ids:
        return {}
    q = select(Membership).where(Membership.community_id == community_id,
                                 Membership.person_id.in_(list(person_ids)))
    return {m.person_id: m for m in (await session.execute(q)).scalars().all()}


async def member_by_phone(session: AsyncSession, community_id: str, phone: str) -> Person | None:
    q = (select(Person).join(Membership, Membership.person_id == Person.id)
         .where(Membership.community_id == community_id, Person.phone == phone).limit(1))
    return (await session.execute(q)).scalar_one_or_none()


def _like_escaped(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def members_page(session: AsyncSession, community_id: str, paging: PageParams, *, role: str | None,
                       q: str | None, search_phones: bool) -> tuple[list[tuple[Membership, Person]], str | None]:
    """One page of a community's members in joining order, filtered in SQL so pages stay full."""
    stmt = (select(Membership).join(Person, Person.id == Membership.person_id)
            .where(Membership.community_id == community_id))
    if role:
        stmt = stmt.where(roles_contain(role))
    if q:
        like = _like_escaped(q)
        fields = [Person.name.like(like, escape="\\"), Membership.display_name.like(like, escape="\\")]
        if search_phones:  # those who see masked phones must not find members by guessing digits
            fields.append(Person.phone.like(like, escape="\\"))
        stmt = stmt.where(or_(*fields))
    rows, nxt = await paginate(session, stmt, paging, Membership.id, descending=False)
    people = await people_by_ids(session, [m.person_id for m in rows])
    return [(m, people[m.person_id]) for m in rows], nxt


async def person(session: AsyncSession, person_id: str) -> Person | None:
    return await session.get(Person, person_id)


async def people_by_ids(session: AsyncSession, ids: Sequence[str]) -> dict[str, Person]:
    if not ids:
        return {}
    q = select(Person).where(Person.id.in_(set(ids)))
    return {p.id: p for p in (await session.execute(q)).scalars().all()}


async def committee_count(session: AsyncSession, community_id: str) -> int:
    """How many members sit on the committee, with their rows locked until commit (PostgreSQL),
    so that two members stepping down at once cannot both pass the "someone must remain" check."""
    q = (select(Membership.id).where(Membership.community_id == community_id, roles_contain("committee"))
         .with_for_update())
    return len((await session.execute(q)).scalars().all())


# --- invites and joining ---

async def invite_by_code(session: AsyncSession, code: str, *, for_update: bool = False) -> Invite | None:
    q = select(Invite).where(Invite.code == code)
    if for_update:
        q = q.with_for_update()
    return (await session.execute(q)).scalar_one_or_none()


async def invites_page(session: AsyncSession, community_id: str, paging: PageParams) -> tuple[list[Invite], str | None]:
    return await paginate(session, select(Invite).where(Invite.community_id == community_id), paging, Invite.id)


async def take_invite_use(session: AsyncSession, invite_id: str) -> bool:
    """Count one use, atomically, unless the limit is reached."""
    result = await session.execute(
        update(Invite).where(Invite.id == invite_id,
                             (Invite.max_uses.is_(None)) | (Invite.uses < Invite.max_uses))
        .values(uses=Invite.uses + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def pending_join(session: AsyncSession, community_id: str, person_id: str) -> JoinRequest | None:
    q = select(JoinRequest).where(JoinRequest.community_id == community_id, JoinRequest.person_id == person_id,
                                  JoinRequest.status == "pending")
    return (await session.execute(q)).scalars().first()


async def pending_joins_of(session: AsyncSession, person_id: str) -> list[tuple[JoinRequest, Community]]:
    q = (select(JoinRequest, Community).join(Community, Community.id == JoinRequest.community_id)
         .where(JoinRequest.person_id == person_id, JoinRequest.status == "pending"))
    return [(j, c) for j, c in (await session.execute(q)).all()]


async def join_requests_page(session: AsyncSession, community_id: str, status: str,
                             paging: PageParams) -> tuple[list[tuple[JoinRequest, Person]], str | None]:
    stmt = select(JoinRequest).where(JoinRequest.community_id == community_id, JoinRequest.status == status)
    rows, nxt = await paginate(session, stmt, paging, JoinRequest.id)
    people = await people_by_ids(session, [j.person_id for j in rows])
    return [(j, people[j.person_id]) for j in rows], nxt


# --- audit ---

async def audit_page(session: AsyncSession, community_id: str,
                     paging: PageParams) -> tuple[list[AuditEntry], str | None]:
    return await paginate(session, select(AuditEntry).where(AuditEntry.community_id == community_id),
                          paging, AuditEntry.id)


async def names_in(session: AsyncSession, model: Any, community_id: str, ids: Sequence[str]) -> dict[str, str]:
    """{id: name} of this community's grids or buildings (the audit log names them)."""
    q = select(model.id, model.name).where(model.community_id == community_id, model.id.in_(list(ids)))
    return {i: n for i, n in (await session.execute(q)).all()}


async def region_names(session: AsyncSession, ids: Sequence[str]) -> dict[str, str]:
    q = select(Region.id, Region.name).where(Region.id.in_(list(ids)))
    return {i: n for i, n in (await session.execute(q)).all()}


async def people_names_in(session: AsyncSession, community_id: str, ids: Sequence[str]) -> dict[str, str]:
    """{person id: the name this community knows them by}: their display name here, else their own."""
    q = (select(Person.id, func.coalesce(func.nullif(Membership.display_name, ""), Person.name))
         .outerjoin(Membership, (Membership.person_id == Person.id) & (Membership.community_id == community_id))
         .where(Person.id.in_(list(ids))))
    return {i: n for i, n in (await session.execute(q)).all()}


async def member_names(session: AsyncSession, community_id: str, ids: Sequence[str]) -> dict[str, str]:
    """{membership id: the member's name} (a removed member's row is gone: not named)."""
    q = (select(Membership.id, func.coalesce(func.nullif(Membership.display_name, ""), Person.name))
         .join(Person, Person.id == Membership.person_id)
         .where(Membership.community_id == community_id, Membership.id.in_(list(ids))))
    return {i: n for i, n in (await session.execute(q)).all()}


async def join_request_names(session: AsyncSession, community_id: str, ids: Sequence[str]) -> dict[str, str]:
    q = (select(JoinRequest.id, func.coalesce(func.nullif(JoinRequest.name, ""), Person.name))
         .join(Person, Person.id == JoinRequest.person_id)
         .where(JoinRequest.community_id == community_id, JoinRequest.id.in_(list(ids))))
    return {i: n for i, n in (await session.execute(q)).all()}


async def households_with_building(session: AsyncSession, community_id: str, ids: Sequence[str]) -> Sequence[Any]:
    """Households (id, unit, room, address, building_name) of this community, for their labels."""
    q = (select(Household.id, Household.unit, Household.room, Household.address,
                func.coalesce(Building.name, "").label("building_name"))
         .outerjoin(Building, Building.id == Household.building_id)
         .where(Household.community_id == community_id, Household.id.in_(list(ids))))
    return (await session.execute(q)).all()


# --- who is told (notifications) ---

async def member_ids_with_role(session: AsyncSession, community_id: str, role: str) -> list[str]:
    q = select(Membership.person_id).where(Membership.community_id == community_id, roles_contain(role))
    return list((await session.execute(q)).scalars().all())


async def admins_of_regions(session: AsyncSession, region_ids: Sequence[str]) -> list[str]:
    if not region_ids:
        return []
    q = select(RegionAdmin.person_id).where(RegionAdmin.region_id.in_(list(region_ids)))
    return list(dict.fromkeys((await session.execute(q)).scalars().all()))


async def platform_admin_ids(session: AsyncSession, person_ids: Sequence[str]) -> set[str]:
    if not person_ids:
        return set()
    q = select(Person.id).where(Person.id.in_(list(person_ids)), Person.is_platform_admin.is_(True))
    return set((await session.execute(q)).scalars().all())


async def households_in_scope(session: AsyncSession, cid: str, building_id: str | None,
                              unit: str) -> Sequence[Any]:
    """Households of a community (or of one building, or one unit entrance 单元 of it): id, unit,
    room, address, owner_area_m2 and building_name, in building, unit and room order (1栋 before 10栋). Rows, not
    objects: a poll's opening reads tens of thousands."""
    stmt = (select(Household.id, Household.unit, Household.room, Household.address, Household.owner_area_m2,
                   func.coalesce(Building.name, "").label("building_name"))
            .outerjoin(Building, Building.id == Household.building_id)
            .where(Household.community_id == cid))
    if building_id is not None:
        stmt = stmt.where(Household.building_id == building_id)
        if unit:
            stmt = stmt.where(Household.unit == unit)
    rows = (await session.execute(stmt.order_by(Household.id))).all()
    return sorted(rows, key=lambda h: (natural_key(h.building_name), natural_key(h.unit), natural_key(h.room)))


async def verified_members_in_scope(session: AsyncSession, cid: str, building_id: str | None,
                                    unit: str) -> Sequence[Any]:
    """Verified members (person_id, household_id, name: their display name or their own), limited to
    a building (or unit) by their household's or their own building."""
    stmt = (select(Membership.person_id, Membership.household_id,
                   func.coalesce(func.nullif(Membership.display_name, ""), Person.name).label("name"))
            .join(Person, Person.id == Membership.person_id)
            .outerjoin(Household, Household.id == Membership.household_id)
            .where(Membership.community_id == cid, Membership.verified.is_(True)))
    if building_id is not None:
        stmt = stmt.where(func.coalesce(Household.building_id, Membership.building_id) == building_id)
        if unit:
            stmt = stmt.where(Household.unit == unit)
    return (await session.execute(stmt.order_by(Membership.id))).all()


async def has_upload(session: AsyncSession, cid: str, upload_id: str) -> bool:
    """An upload of this community (a cover photo is one)."""
    return (await session.execute(select(Upload.id).where(Upload.id == upload_id, Upload.community_id == cid))
            ).first() is not None
