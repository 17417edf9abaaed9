"""The points ledger 爱心积分 and time bank 时间银行: append-only entries in two units, the balances
they add up to, time-bank holds, and per-period totals behind the honour board 光荣榜.

``points_entries`` is append-only: triggers (migration 0011) make the database itself refuse any
UPDATE or DELETE, on SQLite and PostgreSQL alike, unless a maintenance unlock row exists in the
same transaction (``points_ledger_unlocks``, app/points/guard.py; test cleanup uses it). A balance
is a cache of its entries' sum that ``wugong verify-ledger`` recomputes; it never goes below zero
(CHECK), and every spend is one conditional UPDATE.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core import clock
from app.core.db import Base, IdMixin, TimestampMixin


class Entry(IdMixin, TimestampMixin, Base):
    """One line of a person's ledger in one community and unit: ``amount`` is signed (+ credit,
    − debit), in points or in minutes (hours). It says what it refers to (``ref_type``, ``ref_id``)
    and carries the words to explain itself (``title``, ``reason``, ``data``)."""

    __tablename__ = "points_entries"
    __table_args__ = (
        Index("ix_points_entries_person", "community_id", "person_id", "id"),
        Index("ix_points_entries_community_id_id", "community_id", "id"),
        Index("ix_points_entries_ref", "ref_type", "ref_id"),
    )

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id"))
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    unit: Mapped[str] = mapped_column(String(10))  # points | hours (minutes)
    # earned | bonus | redeemed | refunded | adjusted | expired | held | released | donated
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    ref_type: Mapped[str | None] = mapped_column(String(20))  # claim | order | request | donation | year
    ref_id: Mapped[str | None] = mapped_column(String(40))
    counterpart_id: Mapped[str | None] = mapped_column(String(26))  # the other side of a donation
    title: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor_id: Mapped[str | None] = mapped_column(String(26))  # who did it; None: the system (a sweep)
    # What may happen only once ("earned:claim:<id>"): a unique index, so that a second award,
    # refund or release (a retry, a race, a sweep against a person) inserts nothing.
    once_key: Mapped[str | None] = mapped_column(String(120), unique=True)


class Balance(Base):
    """What a person holds in a community, per unit: the sum of their entries, never below zero."""

    __tablename__ = "points_balances"
    __table_args__ = (CheckConstraint("balance >= 0", name="not_negative"),)

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)
    unit: Mapped[str] = mapped_column(String(10), primary_key=True)
    balance: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class Hold(IdMixin, TimestampMixin, Base):
    """Hours held from a person for their time-bank request: paid to the helper, or released, once."""

    __tablename__ = "points_holds"

    request_id: Mapped[str] = mapped_column(String(26), unique=True)
    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    minutes: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | paid | released
    closed_at: Mapped[datetime | None] = mapped_column()


class Total(Base):
    """What a person gained (earned and bonuses) in a period: a month "2026-11", a year "2026", or
    "all". Kept with each entry, so the honour board reads a few rows, not the ledger."""

    __tablename__ = "points_totals"
    __table_args__ = (Index("ix_points_totals_board", "community_id", "unit", "period", "gained"),)

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)
    unit: Mapped[str] = mapped_column(String(10), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    gained: Mapped[int] = mapped_column(Integer, default=0)  # earned + bonus: what the board shows
    earned: Mapped[int] = mapped_column(Integer, default=0)  # earned alone: what the monthly cap counts


class LedgerUnlock(IdMixin, TimestampMixin, Base):
    """While a row exists here, visible to a transaction, the ledger's triggers let that transaction
    delete entries: only maintenance does this, inserting and removing the row in one transaction
    (app/points/guard.py), so no other transaction ever sees it."""

    __tablename__ = "points_ledger_unlocks"

    reason: Mapped[str] = mapped_column(String(100), default="")
    by_maintenance: Mapped[bool] = mapped_column(Boolean, default=True)


class Rules(Base):
    """A community's rules for points (absent: the defaults in app/points/service.py)."""

    __tablename__ = "points_rules"

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True)
    points_per_hour: Mapped[int] = mapped_column(Integer, default=10)
    monthly_cap: Mapped[int | None] = mapped_column(Integer)  # points one person may earn a month; None: no cap
    # Points gained in year Y expire at the end of year Y + expiry_years (1: "at the end of the next
    # year"); None: they never expire. Hours never expire.
    expiry_years: Mapped[int | None] = mapped_column(Integer)
    pickup_days: Mapped[int] = mapped_column(Integer, default=14)  # an order not picked up by then expires
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_by: Mapped[str | None] = mapped_column(String(26))
