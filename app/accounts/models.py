"""People, one-time codes and refresh-token families."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core import clock
from app.core.db import Base, IdMixin, TimestampMixin


class Person(IdMixin, TimestampMixin, Base):
    """A human being who uses Wugong; memberships tie them to communities."""

    __tablename__ = "people"

    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(50), default="")
    username: Mapped[str | None] = mapped_column(String(50), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_platform_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str] = mapped_column(String(10), default="zh-CN")
    # Access tokens issued before this instant are refused ("sign out everywhere").
    tokens_valid_after: Mapped[datetime | None] = mapped_column()
    current_community_id: Mapped[str | None] = mapped_column(String(26))


class OtpCode(IdMixin, TimestampMixin, Base):
    """A one-time sign-in code; only its hash is kept.

    Wrong guesses are counted apart by where they come from: ``attempts`` from the address that
    asked for the code, ``foreign_attempts`` from every other address, so that a stranger's
    guesses never use up the tries of the owner who asked for the code.
    """

    __tablename__ = "otp_codes"
    __table_args__ = (Index("ix_otp_codes_phone_created", "phone", "created_at"),
                      Index("ix_otp_codes_ip_created", "ip", "created_at"))

    phone: Mapped[str] = mapped_column(String(20))
    code_hash: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    foreign_attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column()
    ip: Mapped[str] = mapped_column(String(64), default="")


class SignInLock(Base):
    """A row that sign-in attempts for one subject hold until their transaction ends, so that
    parallel attempts queue and none slips past a limit."""

    __tablename__ = "sign_in_locks"

    subject: Mapped[str] = mapped_column(String(80), primary_key=True)  # "phone:…", "user:…", "ip:…"
    held_at: Mapped[datetime | None] = mapped_column()


class SignInFailure(IdMixin, TimestampMixin, Base):
    """A wrong code or password: counted per subject, per address and per both over sliding
    windows (app/accounts/service.py); kept for a day."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_subject_created", "subject", "created_at"),
                      Index("ix_sign_in_failures_ip_created", "ip", "created_at"),
                      Index("ix_sign_in_failures_created", "created_at"))

    subject: Mapped[str] = mapped_column(String(80))  # "phone:…" or "user:…"
    ip: Mapped[str] = mapped_column(String(64))
    weight: Mapped[int] = mapped_column(Integer, default=1)  # codes one guess was checked against


class RefreshToken(IdMixin, TimestampMixin, Base):
    """A refresh token; each use rotates it within its family.

    Presenting a token that was already rotated means it leaked: the whole family is revoked.
    """

    __tablename__ = "refresh_tokens"
    # Every authenticated request asks whether its token's family was revoked: this index holds
    # only revoked tokens, so the answer is one probe however many times the family rotated.
    __table_args__ = (Index("ix_refresh_tokens_revoked_family", "family_id",
                            postgresql_where=text("revoked_at IS NOT NULL"),
                            sqlite_where=text("revoked_at IS NOT NULL")),)

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[str] = mapped_column(String(26), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column()
    rotated_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    def is_live(self) -> bool:
        n = clock.now()
        return self.rotated_at is None and self.revoked_at is None and self.expires_at > n
