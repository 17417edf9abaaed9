"""Decisions 居民决策: polls, their options, the electorate frozen at opening, ballots in a hash
chain, and objections during the notice period 公示.

Secrecy is in the schema: a ballot of a secret poll has no column that names its voter, its id is
random and it carries no timestamp; and its chain entry holds only a commitment to the choices,
which are sealed under the poll's key until the close publishes them, unlinked, in the ballot box
(app/polls/secrecy.py). Who has voted is recorded apart, on the elector row of the frozen electorate.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core import clock
from app.core.db import Base, IdMixin, TimestampMixin


class Poll(IdMixin, TimestampMixin, Base):
    __tablename__ = "polls"
    __table_args__ = (
        Index("ix_polls_community_status", "community_id", "status"),
        Index("ix_polls_status_opens", "status", "opens_at"),
        Index("ix_polls_status_closes", "status", "closes_at"),
    )

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20))  # single|multiple|approval|ranked|proposal|score
    max_choices: Mapped[int | None] = mapped_column(Integer)  # k for multiple; dots for approval
    allow_stacking: Mapped[bool] = mapped_column(Boolean, default=False)  # several dots on one option
    ranked_method: Mapped[str] = mapped_column(String(10), default="irv")  # irv | borda
    electorate: Mapped[str] = mapped_column(String(20), default="residents")  # residents|households|owners
    scope_building_id: Mapped[str | None] = mapped_column(ForeignKey("buildings.id", ondelete="SET NULL"))
    scope_unit: Mapped[str] = mapped_column(String(20), default="")  # a unit entrance 单元 of that building
    rule: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)  # proposals: see rules.py
    secret: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when a secret poll opens: its ballots are sealed and the close fills the ballot box. (Not
    # set on polls that opened before sealing existed: those count from their chain, as named ones.)
    sealed: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_change: Mapped[bool] = mapped_column(Boolean, default=True)
    hide_results: Mapped[bool] = mapped_column(Boolean, default=False)
    opens_at: Mapped[datetime | None] = mapped_column()
    closes_at: Mapped[datetime | None] = mapped_column()  # None: closed by hand
    notice_days: Mapped[int] = mapped_column(Integer, default=7)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    issue_id: Mapped[str | None] = mapped_column(ForeignKey("issues.id", ondelete="SET NULL"), index=True)
    meeting_id: Mapped[str | None] = mapped_column(String(26))
    project_id: Mapped[str | None] = mapped_column(String(26))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    opened_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    notice_at: Mapped[datetime | None] = mapped_column()
    notice_ends_at: Mapped[datetime | None] = mapped_column()
    final_at: Mapped[datetime | None] = mapped_column()
    notice_note: Mapped[str] = mapped_column(Text, default="")
    # The electorate, frozen at opening.
    electorate_size: Mapped[int] = mapped_column(Integer, default=0)
    electorate_area: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))
    electorate_households: Mapped[int] = mapped_column(Integer, default=0)
    voted_count: Mapped[int] = mapped_column(Integer, default=0)  # electors who have voted
    # The hash chain: the genesis commits to the question, options, rule and electorate.
    genesis_hash: Mapped[str] = mapped_column(String(64), default="")
    chain_seq: Mapped[int] = mapped_column(Integer, default=0)
    chain_head: Mapped[str] = mapped_column(String(64), default="")
    result: Mapped[dict[str, object] | None] = mapped_column(JSON)  # the outcome, computed at close
    version: Mapped[int] = mapped_column(Integer, default=1)

    @property
    def counts_hidden_while_open(self) -> bool:
        """A secret poll shows no counts before its close, only turnout: a count that moves while
        people vote tells whoever watches who voted what (a room, the electors list)."""
        return self.secret or self.hide_results


class PollOption(IdMixin, Base):
    __tablename__ = "poll_options"

    poll_id: Mapped[str] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(200))
    issue_id: Mapped[str | None] = mapped_column(ForeignKey("issues.id", ondelete="SET NULL"))


class PollElector(IdMixin, Base):
    """One entry of the frozen electorate: a person (residents), or a household (households, owners).

    ``voted``/``channel`` record that this elector took part; never what was chosen. For the
    paper and proxy channel 纸质/代投 the facilitator, the time and the witness are recorded.
    """

    __tablename__ = "poll_electors"
    __table_args__ = (
        UniqueConstraint("poll_id", "person_id"),
        Index("ix_poll_electors_poll_household", "poll_id", "household_id"),  # unique for households/owners
        Index("ix_poll_electors_poll_voted", "poll_id", "voted"),
    )

    poll_id: Mapped[str] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    household_id: Mapped[str | None] = mapped_column(ForeignKey("households.id", ondelete="SET NULL"))
    label: Mapped[str] = mapped_column(String(100), default="")  # "3栋2单元501" or a name, for paper entry
    weight_area: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal(0))
    voted: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str | None] = mapped_column(String(10))  # app | paper | proxy
    changes: Mapped[int] = mapped_column(Integer, default=0)  # how often the vote was changed
    entered_by: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    entered_at: Mapped[datetime | None] = mapped_column()
    witness: Mapped[str] = mapped_column(String(50), default="")
    voter_name: Mapped[str] = mapped_column(String(50), default="")  # who cast a paper/proxy ballot
    # SHA-256 of "wugong-elector:" + the current receipt. It binds the receipt to this elector (only
    # this elector can change the ballot) while the database still cannot pair elector and ballot:
    # the ballot holds a different hash of the same receipt, and only the phone knows the receipt.
    receipt_check: Mapped[str] = mapped_column(String(64), default="")


class PollBallot(Base):
    """One entry of the poll's append-only hash chain.

    A named 记名 ballot carries its ``choices`` and ``elector_id``; a secret one only its
    ``commitment``, and while the poll is open its ``sealed`` choices (erased at the close). A
    random id, no timestamp. ``receipt_hash`` is SHA-256 of the receipt the voter's phone keeps.
    ``hash`` = SHA-256 of the canonical entry (app/polls/chain.py), which includes ``prev``.
    """

    __tablename__ = "poll_ballots"
    __table_args__ = (
        UniqueConstraint("poll_id", "seq"),
        UniqueConstraint("receipt_hash"),
        Index("ix_poll_ballots_poll_current", "poll_id", "superseded"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    poll_id: Mapped[str] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    choices: Mapped[list[object] | None] = mapped_column(JSON)  # named: option ids; score: [[option id, score], ...]
    commitment: Mapped[str] = mapped_column(String(64), default="")  # secret: see app/polls/secrecy.py
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)  # secret, while open: the sealed choices
    weight_area: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal(0))
    channel: Mapped[str] = mapped_column(String(10), default="app")
    receipt_hash: Mapped[str] = mapped_column(String(64))
    supersedes: Mapped[int | None] = mapped_column(Integer)  # seq of the ballot this one replaces
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # Indexed: deleting an elector (or the person behind it) checks the ballots that name it.
    elector_id: Mapped[str | None] = mapped_column(ForeignKey("poll_electors.id", ondelete="SET NULL"), index=True)


class PollKey(Base):
    """A secret poll's key while it is open, sealed under the server's secret key; erased at the
    close. A table of its own: the poll row is rewritten with every vote, and each old version of
    it would keep a copy."""

    __tablename__ = "poll_keys"

    poll_id: Mapped[str] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True)
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)


class PollBoxBallot(Base):
    """A counted ballot of a secret poll, published at the close in the ballot box 票箱: its
    choices, weight and check code, in the order of the check codes (random), with no link to the
    chain entry it came from, nor to anyone."""

    __tablename__ = "poll_box"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    poll_id: Mapped[str] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    check_code: Mapped[str] = mapped_column(String(20))
    choices: Mapped[list[object]] = mapped_column(JSON)
    weight_area: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal(0))


class PollObjection(IdMixin, TimestampMixin, Base):
    """An objection 异议 filed during the notice period; shown publicly without its author."""

    __tablename__ = "poll_objections"

    poll_id: Mapped[str] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column()
