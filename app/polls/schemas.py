from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.core.ids import Id

Kind = Literal["single", "multiple", "approval", "ranked", "proposal", "score"]
ElectorateKind = Literal["residents", "households", "owners"]
ThresholdName = Literal["more_than_half", "two_thirds", "three_quarters"]
MeasureName = Literal["headcount", "area", "households"]

MAX_OPTIONS = 30
# An option a ballot names: checked against the poll's options, so that a voter hears "no such
# option" rather than "malformed".
OptionRef = Annotated[str, Field(min_length=1, max_length=26)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OptionIn(_In):
    """An option: text, or an issue picked from the issue list (its title is the label by default)."""

    label: str = Field(default="", max_length=200)
    issue_id: Id | None = None


class QuorumIn(_In):
    measure: MeasureName
    threshold: ThresholdName


class RuleIn(_In):
    """A custom rule for a proposal; presets and Civil Code matters are named instead."""

    threshold: ThresholdName = "more_than_half"
    base: Literal["participants", "electorate"] = "participants"
    measures: list[Literal["headcount", "area"]] = Field(default=["headcount"], min_length=1, max_length=2)
    quorum: list[list[QuorumIn]] = Field(default_factory=list, max_length=3)


class PollCreate(_In):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    kind: Kind
    options: list[OptionIn] = Field(default_factory=list, max_length=MAX_OPTIONS)
    max_choices: int | None = Field(default=None, ge=1, le=MAX_OPTIONS)
    allow_stacking: bool = False
    ranked_method: Literal["irv", "borda"] = "irv"
    electorate: ElectorateKind = "residents"
    scope_building_id: Id | None = None
    scope_unit: str = Field(default="", max_length=20)
    preset: str | None = Field(default=None, max_length=40)
    matter: str | None = Field(default=None, max_length=40)
    rule: RuleIn | None = None
    secret: bool = True
    allow_change: bool = True
    hide_results: bool = False
    opens_at: AwareDatetime | None = None  # with its offset: a bare local time names no moment
    closes_at: AwareDatetime | None = None  # none: the committee closes it by hand
    notice_days: int = Field(default=7, ge=0, le=60)
    issue_id: Id | None = None
    meeting_id: Id | None = None
    project_id: Id | None = None


class PollUpdate(_In):
    """Any field of a draft or scheduled poll; ``version`` guards against a stale edit."""

    version: int = Field(ge=1)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    kind: Kind | None = None
    options: list[OptionIn] | None = Field(default=None, max_length=MAX_OPTIONS)
    max_choices: int | None = Field(default=None, ge=1, le=MAX_OPTIONS)
    allow_stacking: bool | None = None
    ranked_method: Literal["irv", "borda"] | None = None
    electorate: ElectorateKind | None = None
    scope_building_id: Id | None = None
    scope_unit: str | None = Field(default=None, max_length=20)
    preset: str | None = Field(default=None, max_length=40)
    matter: str | None = Field(default=None, max_length=40)
    rule: RuleIn | None = None
    secret: bool | None = None
    allow_change: bool | None = None
    hide_results: bool | None = None
    opens_at: AwareDatetime | None = None
    closes_at: AwareDatetime | None = None
    notice_days: int | None = Field(default=None, ge=0, le=60)
    issue_id: Id | None = None


class OpenIn(_In):
    now: bool = False  # open at once even if ``opens_at`` is later


class BallotIn(_In):
    """``choices``: option ids (ranked: in order of preference; approval with stacking: an id once
    per dot). ``scores``: option id → 1..5 for a score poll. ``receipt``: to change a secret vote."""

    choices: list[OptionRef] = Field(default_factory=list, max_length=MAX_OPTIONS * 3)
    scores: dict[OptionRef, int] = Field(default_factory=dict, max_length=MAX_OPTIONS)
    receipt: str | None = Field(default=None, max_length=40)


class PaperBallotIn(BallotIn):
    elector_id: Id
    channel: Literal["paper", "proxy"] = "paper"
    witness: str = Field(min_length=1, max_length=50)
    voter_name: str = Field(default="", max_length=50)  # who handed in the paper, or the proxy


class PublishIn(_In):
    note: str = Field(default="", max_length=2000)


class ObjectionIn(_In):
    body: str = Field(min_length=1, max_length=2000)


class AnswerIn(_In):
    answer: str = Field(min_length=1, max_length=2000)


class OptionRead(BaseModel):
    id: str
    label: str
    position: int
    issue_id: str | None


class MyVote(BaseModel):
    eligible: bool
    voted: bool
    channel: str | None
    may_change: bool
    reason: str | None  # why not eligible or why the vote cannot be changed (a message key)
    reason_text: str | None


class PollRead(BaseModel):
    id: str
    community_id: str
    title: str
    description: str
    kind: str
    options: list[OptionRead]
    max_choices: int | None
    allow_stacking: bool
    ranked_method: str
    electorate: str
    scope_building_id: str | None
    scope_unit: str
    scope_label: str
    rule: dict[str, Any] | None
    rule_plain: str | None
    secret: bool
    allow_change: bool
    hide_results: bool
    opens_at: datetime | None
    closes_at: datetime | None
    notice_days: int
    status: str
    issue_id: str | None
    meeting_id: str | None
    project_id: str | None
    created_at: datetime
    opened_at: datetime | None
    closed_at: datetime | None
    notice_at: datetime | None
    notice_ends_at: datetime | None
    final_at: datetime | None
    notice_note: str
    electorate_size: int
    electorate_area: str
    electorate_households: int
    voted_count: int
    chain_seq: int
    chain_head: str
    results_visible: bool
    summary: str | None  # the outcome in one line, when results may be shown
    passed: bool | None
    identifiable_by_area: int  # secret owners' polls: units whose unique area shows in the published chain
    version: int
    me: MyVote | None
    actions: list[str]
    share_url: str | None = None


class BallotReceipt(BaseModel):
    poll_id: str
    receipt: str  # proves the ballot is in the chain and counts (GET /receipts/{receipt}); changes a secret vote
    seq: int
    hash: str
    changed: bool
    channel: str
    # A secret ballot's check code 核对码, for the voter's phone alone: after the close it finds the
    # ballot, as cast, in the published ballot box. Random, so it proves nothing to anyone else.
    check_code: str | None = None


class OptionOutcome(BaseModel):
    """One option's line: votes (and area) for choice polls, ratings for score polls."""

    id: str
    label: str
    count: int | None = None
    area: str | None = None
    raters: int | None = None
    total: int | None = None
    mean: str | None = None
    mean_exact: str | None = None
    histogram: dict[str, int] | None = None


class Lot(BaseModel):
    """A tie broken by a recorded drawing of lots 抽签: reproducible from the seed."""

    seed: str
    context: str
    tied: list[str]
    order: list[str]
    keys: dict[str, str]
    drawn: str


class Round(BaseModel):
    """A round of an instant-runoff count."""

    number: int
    counts: dict[str, int]
    continuing: int
    exhausted: int
    eliminated: str | None
    elected: str | None
    tie_break: Lot | None


class Points(BaseModel):
    id: str
    label: str
    points: int


class Criterion(BaseModel):
    """One condition of a proposal's rule: a quorum or a threshold, with its exact numbers."""

    stage: str
    name: str
    measure: str
    numerator: str
    denominator: str
    required: str
    comparator: str
    met: bool
    group: int


class ChainState(BaseModel):
    ok: bool
    head: str
    entries: int
    problems: list[str]


class Outcome(BaseModel):
    """A poll's count: the fields of its kind are set, the others null. Areas are decimal strings,
    ratios exact; ``explanation_zh``/``explanation_en`` say it in plain words."""

    model_config = ConfigDict(extra="forbid")  # a field the count adds must be described here

    kind: str
    ballots: int
    seed: str
    participating_area: str
    explanation_zh: str
    explanation_en: str
    options: list[OptionOutcome] | None = None
    winner: str | None = None
    leaders: list[str] | None = None
    tie_break: Lot | None = None
    points: list[Points] | None = None
    order: list[str] | None = None
    tie_breaks: list[Lot | None] | None = None
    rounds: list[Round] | None = None
    passed: bool | None = None
    quorum_met: bool | None = None
    approved: bool | None = None
    yes: int | None = None
    no: int | None = None
    abstain: int | None = None
    yes_area: str | None = None
    no_area: str | None = None
    abstain_area: str | None = None
    participants: int | None = None
    participating_households: int | None = None
    criteria: list[Criterion] | None = None
    chain: ChainState | None = None  # at the close: the stored chain recomputed
    voted_count: int | None = None


class ResultsRead(BaseModel):
    poll_id: str
    status: str
    visible: bool
    provisional: bool  # the poll is still open: the count may change
    voted_count: int
    electorate_size: int
    electorate_area: str
    electorate_households: int
    chain_seq: int
    chain_head: str
    rule_plain: str | None
    result: Outcome | None


class ElectorRead(BaseModel):
    id: str
    label: str
    weight_area: str
    voted: bool
    channel: str | None
    entered_by_name: str | None
    entered_at: datetime | None
    witness: str


class ObjectionRead(BaseModel):
    id: str
    body: str
    created_at: datetime
    answer: str
    answered_at: datetime | None
    mine: bool


class ReceiptCheck(BaseModel):
    receipt: str
    found: bool
    poll_id: str | None = None
    poll_title: str | None = None
    community_name: str | None = None
    status: str | None = None
    seq: int | None = None
    hash: str | None = None
    counted: bool | None = None  # False: replaced by a later vote
    chain_head: str | None = None
    chain_seq: int | None = None
