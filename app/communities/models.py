"""Places and people: regions, communities, grids, buildings, households, memberships, invites."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, IdMixin, TimestampMixin


class Region(IdMixin, TimestampMixin, Base):
    """A node of the region tree: city 市 → district 区/县 → street/town 街道/镇."""

    __tablename__ = "regions"

    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(20))  # city | district | street
    # NO ACTION, not RESTRICT: a region with children still can't be deleted on its own, but the
    # check waits for the end of the statement, so a whole subtree goes in one DELETE.
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("regions.id"), index=True)


class RegionAdmin(IdMixin, TimestampMixin, Base):
    """Street or district staff who see (and manage) every community below their region."""

    __tablename__ = "region_admins"
    __table_args__ = (UniqueConstraint("region_id", "person_id"),)

    region_id: Mapped[str] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)


class Community(IdMixin, TimestampMixin, Base):
    """A community 社区 or village 村: the tenant every community row belongs to."""

    __tablename__ = "communities"

    region_id: Mapped[str | None] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default="community")  # community | village
    address: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    cover_upload_id: Mapped[str | None] = mapped_column(String(26))


class Grid(IdMixin, TimestampMixin, Base):
    """A grid 网格 within a community, looked after by grid workers."""

    __tablename__ = "grids"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))


class Building(IdMixin, TimestampMixin, Base):
    """A building 楼栋, or in a village a villager group 村民小组."""

    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    grid_id: Mapped[str | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default="building")  # building | village_group


class Household(IdMixin, TimestampMixin, Base):
    """A household 户: an address (unit and room), and the owner's exclusive area in m²."""

    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("community_id", "building_id", "unit", "room"),)

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    building_id: Mapped[str | None] = mapped_column(ForeignKey("buildings.id", ondelete="SET NULL"), index=True)
    unit: Mapped[str] = mapped_column(String(20), default="")
    room: Mapped[str] = mapped_column(String(50), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    owner_area_m2: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))


class RosterEntry(IdMixin, TimestampMixin, Base):
    """A person listed on a household roster (imported from a spreadsheet).

    A join whose phone matches a roster entry is approved at once.
    """

    __tablename__ = "roster_entries"
    __table_args__ = (Index("ix_roster_entries_community_phone", "community_id", "phone"),)

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))
    is_owner: Mapped[bool] = mapped_column(Boolean, default=False)


class Membership(IdMixin, TimestampMixin, Base):
    """A person's place in a community, with their roles there."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("community_id", "person_id"),)

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    household_id: Mapped[str | None] = mapped_column(ForeignKey("households.id", ondelete="SET NULL"), index=True)
    building_id: Mapped[str | None] = mapped_column(ForeignKey("buildings.id", ondelete="SET NULL"))
    grid_ids: Mapped[list[str]] = mapped_column(JSON, default=list)  # grids a grid worker looks after
    display_name: Mapped[str] = mapped_column(String(50), default="")
    verified: Mapped[bool] = mapped_column(Boolean, default=False)


class Invite(IdMixin, TimestampMixin, Base):
    """An invite link / QR code into a community (optionally one building)."""

    __tablename__ = "invites"

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    building_id: Mapped[str | None] = mapped_column(ForeignKey("buildings.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime | None] = mapped_column()
    max_uses: Mapped[int | None] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column()
    note: Mapped[str] = mapped_column(String(100), default="")


class JoinRequest(IdMixin, TimestampMixin, Base):
    """A join that waits for the committee (the phone was not on the roster)."""

    __tablename__ = "join_requests"

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    invite_id: Mapped[str | None] = mapped_column(ForeignKey("invites.id", ondelete="SET NULL"))
    building_id: Mapped[str | None] = mapped_column(ForeignKey("buildings.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(50), default="")
    room: Mapped[str] = mapped_column(String(50), default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | approved | rejected
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column()
    reason: Mapped[str] = mapped_column(String(200), default="")
