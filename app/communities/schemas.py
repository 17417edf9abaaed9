from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from app.communities.areas import floor_area
from app.core.ids import Id
from app.core.policy import Role

Name = Field(min_length=1, max_length=100)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _refuse_null(value: object) -> object:
    # Omitted means "leave as is"; an explicit null would blank a field that must have a value.
    if value is None:
        raise ValueError("validation.not_null")
    return value


def _floor_area(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError("validation.area_not_number")
    return floor_area(str(value))  # a JSON number's shortest form: 33.335 stays 33.335, and is refused


FloorArea = Annotated[Decimal, BeforeValidator(_floor_area)]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class RegionCreate(_In):
    name: str = Name
    level: Literal["city", "district", "street"]
    parent_id: Id | None = None


class RegionRead(_Out):
    id: str
    name: str
    level: str
    parent_id: str | None


class CommunityRollup(BaseModel):
    id: str
    name: str
    kind: str
    members: int
    households: int
    pending_joins: int


class RegionDetail(RegionRead):
    children: list[RegionRead]
    communities: list[CommunityRollup]
    totals: dict[str, int]


class CommunityCreate(_In):
    name: str = Name
    kind: Literal["community", "village"] = "community"
    region_id: Id | None = None
    address: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=2000)


class CommunityUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    address: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    cover_upload_id: Id | None = None  # null: no cover

    _not_null = field_validator("name", "address", "description")(_refuse_null)


class CommunityRead(_Out):
    id: str
    name: str
    kind: str
    region_id: str | None
    address: str
    description: str
    cover_upload_id: str | None
    created_at: datetime


class CommunityStats(BaseModel):
    grids: int
    buildings: int
    households: int
    members: int
    pending_joins: int


class CommunityDetail(CommunityRead):
    region_path: list[RegionRead]
    stats: CommunityStats
    my_roles: list[str]
    cover_url: str | None = None


class GridCreate(_In):
    name: str = Name


class GridRead(_Out):
    id: str
    name: str
    community_id: str


class BuildingCreate(_In):
    name: str = Name
    grid_id: Id | None = None
    kind: Literal["building", "village_group"] = "building"


class BuildingRead(_Out):
    id: str
    name: str
    kind: str
    grid_id: str | None
    community_id: str


class HouseholdCreate(_In):
    building_id: Id | None = None
    unit: str = Field(default="", max_length=20)
    room: str = Field(default="", max_length=50)
    address: str = Field(default="", max_length=200)
    owner_area_m2: FloorArea | None = None


class HouseholdRead(_Out):
    id: str
    building_id: str | None
    unit: str
    room: str
    address: str
    owner_area_m2: Decimal | None


class MemberRead(BaseModel):
    id: str
    person_id: str
    name: str
    phone: str | None
    roles: list[str]
    household_id: str | None
    building_id: str | None
    grid_ids: list[str]
    verified: bool
    created_at: datetime


class MemberUpdate(_In):
    roles: list[Role] | None = Field(default=None, max_length=6)
    household_id: Id | None = None
    building_id: Id | None = None
    grid_ids: list[Id] | None = Field(default=None, max_length=50)
    display_name: str | None = Field(default=None, max_length=50)

    _not_null = field_validator("roles", "grid_ids", "display_name")(_refuse_null)


class InviteCreate(_In):
    building_id: Id | None = None
    expires_in_days: int | None = Field(default=14, ge=1, le=365)
    max_uses: int | None = Field(default=None, ge=1, le=100000)
    note: str = Field(default="", max_length=100)


class InviteRead(BaseModel):
    id: str
    code: str
    url: str
    qr_url: str
    qr_png_url: str
    building_id: str | None
    expires_at: datetime | None
    max_uses: int | None
    uses: int
    note: str
    revoked: bool
    created_at: datetime


class InvitePreview(BaseModel):
    code: str
    community_id: str
    community_name: str
    community_kind: str
    building_id: str | None
    building_name: str | None
    usable: bool
    reason: str | None


class JoinIn(_In):
    code: str = Field(min_length=4, max_length=16)
    name: str = Field(default="", max_length=50)
    room: str = Field(default="", max_length=50)


class JoinResult(BaseModel):
    status: Literal["member", "pending"]
    community_id: str
    membership_id: str | None = None
    join_request_id: str | None = None


class JoinRequestRead(BaseModel):
    id: str
    person_id: str
    name: str
    phone: str | None
    building_id: str | None
    room: str
    status: str
    reason: str
    created_at: datetime


class JoinApproval(_In):
    reason: str = Field(default="", max_length=200)
    household_id: Id | None = None


class JoinRejection(_In):
    reason: str = Field(min_length=1, max_length=200)  # the person is told why


class RosterRowError(BaseModel):
    line: int
    field: str | None
    msg: str


class RosterImportResult(BaseModel):
    households_created: int
    households_updated: int
    residents: int
    members_linked: int


class AuditValue(BaseModel):
    """A value in words, or a moment (ISO 8601) for the phone to show in its own way."""

    text: str | None = None
    time: str | None = None
    quoted: bool = False  # the text is user content (what people wrote, a name they gave): shown as written
    quotes: list[str] = []  # user content the text quotes (an outcome naming options)


class AuditChange(BaseModel):
    field: str
    label: str
    before: AuditValue | None  # null: nothing before (what a new thing was made with)
    after: AuditValue | None  # null: nothing after (what a removed thing had)


class AuditRead(_Out):
    id: str
    actor_id: str | None
    actor_name: str | None = None
    action: str
    what: str  # the action in words
    object_type: str
    object_id: str | None
    object_name: str | None = None
    before: dict[str, object] | None
    after: dict[str, object] | None
    changes: list[AuditChange]
    created_at: datetime


class MembershipSummary(BaseModel):
    membership_id: str | None
    community_id: str
    community_name: str
    community_kind: str
    roles: list[str]
    via: Literal["member", "region_admin", "platform_admin"]


class MeRead(BaseModel):
    id: str
    name: str
    phone: str | None
    username: str | None
    locale: str
    is_platform_admin: bool
    current_community_id: str | None
    memberships: list[MembershipSummary]
    region_admin_of: list[RegionRead]
    pending_joins: list[dict[str, str]]
