from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.core.ids import Id

Kind = Literal["volunteer", "adoption", "wish", "timebank"]
Unit = Literal["points", "hours"]
Eligible = Literal["community", "grid", "building", "role"]
RoleName = Literal["resident", "owner", "building_leader", "grid_worker", "handler", "committee"]

MAX_PEOPLE = 500
MAX_REWARD = 100_000  # points, or minutes (about 1,666 hours)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Eligibility(_In):
    """Who may claim: everyone in the community, the people of one grid or one building, or of one role."""

    scope: Eligible = "community"
    grid_id: Id | None = None
    building_id: Id | None = None
    role: RoleName | None = None


class Reward(_In):
    unit: Unit = "points"
    amount: int = Field(default=0, ge=0, le=MAX_REWARD, description="Points, or minutes when the unit is hours")


class TaskFields(_In):
    """What a task says; every field is optional on an edit."""

    title: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=4000)
    photo_ids: list[Id] | None = Field(default=None, max_length=9)
    building_id: Id | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    location_text: str | None = Field(default=None, max_length=200)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    people_needed: int | None = Field(default=None, ge=1, le=MAX_PEOPLE)
    reward: Reward | None = None
    evidence_required: bool | None = None
    eligibility: Eligibility | None = None
    organiser_ids: list[Id] | None = Field(default=None, max_length=10)
    checkin_every_days: int | None = Field(default=None, ge=1, le=90)
    checkin_rotating: bool | None = None


class TaskCreate(TaskFields):
    kind: Kind
    title: str = Field(min_length=1, max_length=100)
    # A wish or a time-bank request posted by a facilitator for a resident without a phone.
    for_person_id: Id | None = None
    publish: bool = False  # publish at once instead of keeping a draft


class TaskUpdate(TaskFields):
    pass


class TaskFromIssue(TaskFields):
    """A volunteer task made from an issue: what is not given comes from the issue."""

    publish: bool = False


class TaskTransitionIn(_In):
    action: str = Field(min_length=1, max_length=20)
    reason: str = Field(default="", max_length=1000)


class ClaimCreate(_In):
    for_person_id: Id | None = None  # a facilitator claiming for a resident without a phone
    organisation: str = Field(default="", max_length=60)  # a unit taking up a wish (幸福里物业 …)
    note: str = Field(default="", max_length=500)


class ClaimTransitionIn(_In):
    action: str = Field(min_length=1, max_length=20)
    code: str | None = Field(default=None, min_length=1, max_length=12)  # the check-in QR's code
    photo_ids: list[Id] = Field(default_factory=list, max_length=9)
    note: str = Field(default="", max_length=2000)
    minutes: int | None = Field(default=None, ge=0, le=24 * 60)
    reason: str = Field(default="", max_length=1000)
    to_person_id: Id | None = None  # hand_over
    days: int | None = Field(default=None, ge=1, le=366)  # renew: by how many days (default: the same period)


class RulesIn(_In):
    auto_verify_days: int = Field(ge=1, le=60)


class RulesRead(BaseModel):
    auto_verify_days: int
    updated_at: datetime | None


class Photo(BaseModel):
    id: str
    url: str
    thumb_url: str


class PersonRef(BaseModel):
    id: str
    name: str


class ClaimRead(BaseModel):
    id: str
    task_id: str
    person: PersonRef
    status: str
    acted_by: PersonRef | None = Field(None, description="A facilitator who claimed for the person")
    organisation: str
    note: str
    claimed_at: datetime
    checked_in_at: datetime | None
    checked_in_by: PersonRef | None
    checkin_method: str
    last_checkin_at: datetime | None
    checkins: int
    next_checkin_due_at: datetime | None
    checkin_overdue: bool
    submitted_at: datetime | None
    submitted_by: PersonRef | None
    evidence_note: str
    evidence_photos: list[Photo] = []
    minutes: int
    verified_at: datetime | None
    verified_by: PersonRef | None
    auto_verified: bool
    rejected_reason: str
    paid_at: datetime | None
    paid_unit: str
    paid_amount: int
    handed_to: PersonRef | None
    allowed_actions: list[str] = []


class MyClaimRead(ClaimRead):
    task: TaskSummary


class TaskSummary(BaseModel):
    id: str
    kind: str
    status: str
    title: str
    starts_at: datetime | None
    ends_at: datetime | None
    location_text: str
    building_name: str | None
    reward_unit: str
    reward_amount: int


class Place(BaseModel):
    building_id: str | None
    building_name: str | None
    lat: float | None
    lng: float | None
    location_text: str
    distance_m: float | None = None


class TaskRead(BaseModel):
    id: str
    community_id: str
    kind: str
    status: str
    title: str
    description: str
    photos: list[Photo] = []
    place: Place
    starts_at: datetime | None
    ends_at: datetime | None
    people_needed: int
    claimed_count: int
    places_left: int
    reward: dict[str, object]
    evidence_required: bool
    eligibility: dict[str, object]
    checkin_every_days: int | None
    checkin_rotating: bool
    organisers: list[PersonRef]
    created_by: PersonRef | None
    requester: PersonRef | None
    issue_id: str | None
    hours_held: int
    published_at: datetime | None
    approved_at: datetime | None
    closed_at: datetime | None
    close_reason: str
    created_at: datetime
    updated_at: datetime
    i_organise: bool = False
    my_claim: ClaimRead | None = None
    claims_for_others: list[ClaimRead] = Field([], description="Claims the caller made for residents without a phone")
    request_claims: list[ClaimRead] = Field([], description=(
        "A wish's or a time-bank request's claims (who took it up, where it stands, their photos and note), "
        "for the one it is for and a facilitator acting for them; on the task's own read, not in lists"))
    allowed_actions: list[str] = Field([], description="Task actions the caller may take now")
    can_claim: bool = False
    claim_refusal: str | None = Field(None, description="Why the caller may not claim now (an error code)")


class CheckinCode(BaseModel):
    code: str
    rotating: bool
    valid_until: datetime | None = Field(None, description="When a rotating code changes (a new one is fetched)")
    checkin_url: str = Field(description="What the QR code opens: the task's check-in page with the code")
    qr_svg: str = Field(description="The QR code of checkin_url, as an SVG document")


class ConsoleRead(BaseModel):
    """An organiser's view of one task: counts by claim state, who came, what waits for verification."""

    task: TaskRead
    counts: dict[str, int]
    claimants: list[ClaimRead]
    attendance: dict[str, int]
    verification_queue: list[ClaimRead]


class QueueItem(BaseModel):
    claim: ClaimRead
    task: TaskSummary
    auto_verify_at: datetime | None


class TaskShareLink(BaseModel):
    code: str
    url: str
    qr_url: str
    qr_png_url: str


MyClaimRead.model_rebuild()
