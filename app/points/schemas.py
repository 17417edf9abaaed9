"""What the points, time-bank and store API reads and answers. Amounts are integers: points, or
minutes for hours (``amount_text`` says it in words, e.g. "+1.5 小时")."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.accounts.schemas import Phone
from app.core.ids import Id

UnitName = Literal["points", "hours"]
MAX_AMOUNT = 1_000_000  # points or minutes in one entry


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- the ledger --------------------------------------------------------------------------------

class EntryRead(BaseModel):
    id: str
    kind: str  # earned | bonus | redeemed | refunded | adjusted | expired | held | released | donated
    unit: UnitName
    amount: int  # signed; minutes for hours
    balance_after: int
    amount_text: str  # "+20 积分", "−1.5 小时"
    text: str  # what it is, in the caller's language
    title: str
    reason: str
    ref_type: str | None
    ref_id: str | None
    counterpart_id: str | None
    counterpart_name: str | None
    actor_id: str | None
    actor_name: str | None  # who did it, when not the person themselves (a committee member, a facilitator)
    auto: bool  # paid by the system (an automatic verification, a sweep)
    created_at: datetime


class Balances(BaseModel):
    points: int
    hours: int  # minutes
    hours_text: str  # "1.5"


class MyPoints(BaseModel):
    community_id: str
    person_id: str
    balances: Balances
    show_name: bool  # on the honour board
    entries: list[EntryRead]  # the first page of history, newest first
    next_cursor: str | None


class PersonPoints(BaseModel):
    person_id: str
    name: str
    balances: Balances
    entries: list[EntryRead]
    next_cursor: str | None


class AdjustmentCreate(_In):
    person_id: Id
    unit: UnitName = "points"
    amount: int = Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT)  # ± ; never takes a balance below zero
    reason: str = Field(min_length=1, max_length=200)


class BonusCreate(_In):
    person_ids: list[Id] = Field(min_length=1, max_length=100)
    unit: UnitName = "points"
    amount: int = Field(ge=1, le=MAX_AMOUNT)
    reason: str = Field(min_length=1, max_length=200)


class BonusResult(BaseModel):
    entries: list[EntryRead]


class DonationCreate(_In):
    to_person_id: Id
    minutes: int = Field(ge=1, le=MAX_AMOUNT)
    note: str = Field(default="", max_length=200)


class RecipientLookup(_In):
    phone: Phone


class RecipientRead(BaseModel):
    """The neighbour a phone number names: an id to give to and a masked name to confirm (王*英)."""

    person_id: str
    masked_name: str


class BoardShareLink(BaseModel):
    code: str
    url: str
    qr_url: str
    qr_png_url: str


class DonationResult(BaseModel):
    given: EntryRead  # the giver's entry (−)
    balances: Balances


class RulesRead(BaseModel):
    points_per_hour: int
    monthly_cap: int | None
    expiry_years: int | None  # points gained in a year expire at the end of that year + this; None: never
    pickup_days: int
    updated_at: datetime | None
    text: str  # the rules in words


class RulesUpdate(_In):
    points_per_hour: int = Field(ge=0, le=10_000)
    monthly_cap: int | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    expiry_years: int | None = Field(default=None, ge=0, le=10)
    pickup_days: int = Field(default=14, ge=1, le=365)


class BoardVisibility(_In):
    show_name: bool


class BoardVisibilityRead(BaseModel):
    show_name: bool


class BoardRow(BaseModel):
    rank: int
    name: str  # "一位邻居" / "A neighbour" for one who chose not to be named
    named: bool
    me: bool
    amount: int
    amount_text: str


class BoardRead(BaseModel):
    period: Literal["month", "year", "all"]
    label: str  # "2026年11月", "2026年", "累计"
    unit: UnitName
    grid_id: str | None
    rows: list[BoardRow]
    my_row: BoardRow | None  # where the caller stands, even below the list


# --- the store ---------------------------------------------------------------------------------

SponsorKind = Literal["merchant", "organisation", ""]


class ItemCreate(_In):
    name: str = Field(min_length=1, max_length=60)
    description: str = Field(default="", max_length=1000)
    photo_upload_id: Id | None = None
    price: int = Field(ge=1, le=MAX_AMOUNT)
    stock: int = Field(ge=0, le=100_000)
    per_person_limit: int | None = Field(default=None, ge=1, le=1000)
    on_sale: bool = True
    sponsor: str = Field(default="", max_length=60)
    sponsor_kind: SponsorKind = ""


class ItemUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=60)
    description: str | None = Field(default=None, max_length=1000)
    photo_upload_id: Id | None = None
    price: int | None = Field(default=None, ge=1, le=MAX_AMOUNT)
    stock: int | None = Field(default=None, ge=0, le=100_000)  # the count now on the shelf
    per_person_limit: int | None = Field(default=None, ge=1, le=1000)
    on_sale: bool | None = None
    sponsor: str | None = Field(default=None, max_length=60)
    sponsor_kind: SponsorKind | None = None


class Photo(BaseModel):
    id: str
    url: str
    thumb_url: str


class ItemRead(BaseModel):
    id: str
    name: str
    description: str
    photo: Photo | None
    price: int
    stock: int
    per_person_limit: int | None
    on_sale: bool
    sponsor: str
    sponsor_kind: str
    sponsor_text: str  # "由 幸福超市（商家）捐赠" / ""
    mine: int  # pieces the caller holds in live and fulfilled orders
    can_redeem: bool
    created_at: datetime
    updated_at: datetime


class OrderCreate(_In):
    item_id: Id
    quantity: int = Field(default=1, ge=1, le=100)


class OrderTransitionIn(_In):
    action: Literal["fulfil", "cancel", "reissue"]
    reason: str = Field(default="", max_length=200)


class PickupIn(_In):
    code: str = Field(min_length=1, max_length=40)


class OrderRead(BaseModel):
    id: str
    item_id: str
    item_name: str
    person_id: str
    person_name: str | None
    quantity: int
    price: int
    total: int
    status: str  # ready | fulfilled | cancelled | expired
    status_text: str
    code: str | None  # the pickup code 核销码: its owner only, while it can be picked up
    qr_url: str | None  # the code as a QR (SVG), its owner only
    prefix: str  # which order, without the secret part: the committee reads this on its list
    locked: bool
    wrong_tries: int
    expires_at: datetime
    closed_at: datetime | None
    close_reason: str
    actions: list[str]  # what the caller may do now
    created_at: datetime
