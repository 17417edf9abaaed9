"""Every query of the accounts domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import OtpCode, Person, RefreshToken, SignInFailure, SignInLock
from app.core import clock, db


async def person_by_id(session: AsyncSession, person_id: str) -> Person | None:
    return await session.get(Person, person_id)


def family_revoked(family_id: Any) -> ColumnElement[bool]:
    """Whether the token family was revoked (a reused refresh token, a logout): one probe of a
    partial index, for the statements that load the caller of every request."""
    return select(RefreshToken.id).where(RefreshToken.family_id == family_id,
                                         RefreshToken.revoked_at.is_not(None)).exists()


# The caller of a request and whether their token's family was revoked, in one statement built once.
_CALLER = select(Person, family_revoked(bindparam("fam"))).where(Person.id == bindparam("person_id"))


async def caller(session: AsyncSession, person_id: str, family_id: str | None) -> tuple[Person | None, bool]:
    row = (await session.execute(_CALLER, {"person_id": person_id, "fam": family_id})).first()
    return (None, False) if row is None else (row[0], bool(row[1]))


async def person_by_phone(session: AsyncSession, phone: str) -> Person | None:
    return (await session.execute(select(Person).where(Person.phone == phone))).scalar_one_or_none()


async def person_by_username(session: AsyncSession, username: str) -> Person | None:
    q = select(Person).where(Person.username == username)
    return (await session.execute(q)).scalar_one_or_none()


async def hold(session: AsyncSession, subject: str) -> None:
    """Hold the subject's row until the transaction ends (PostgreSQL; SQLite has one writer anyway),
    so that attempts for one phone, username or address run one at a time: parallel guesses
    queue behind each other and none slips past a limit. Callers hold a phone or username before
    an address, always in that order, so two attempts never wait on each other in a circle."""
    insert = db.insert_for(session.get_bind().dialect)
    await session.execute(
        insert(SignInLock).values(subject=subject).on_conflict_do_nothing(index_elements=["subject"])
    )
    await session.execute(
        update(SignInLock).where(SignInLock.subject == subject).values(held_at=clock.now())
        .execution_options(synchronize_session=False)
    )


async def failures_since(session: AsyncSession, *, since: datetime, subject: str | None = None,
                         ip: str | None = None, weighed: bool = True) -> tuple[int, datetime | None]:
    """Wrong codes or passwords since ``since`` for a subject, an address or both: their number
    (``weighed``: codes checked, else guesses) and the oldest one's time."""
    q = select(func.coalesce(func.sum(SignInFailure.weight) if weighed else func.count(), 0),
               func.min(SignInFailure.created_at)).where(SignInFailure.created_at >= since)
    if subject is not None:
        q = q.where(SignInFailure.subject == subject)
    if ip is not None:
        q = q.where(SignInFailure.ip == ip)
    total, oldest = (await session.execute(q)).one()
    return int(total), oldest


async def record_failure(session: AsyncSession, subject: str, ip: str, *, weight: int = 1,
                         forget_before: datetime) -> None:
    """Log one wrong code or password; failures older than every window are dropped on the way."""
    await session.execute(
        delete(SignInFailure).where(SignInFailure.created_at < forget_before)
        .execution_options(synchronize_session=False)
    )
    session.add(SignInFailure(subject=subject, ip=ip, weight=weight))
    await session.flush()


async def forget_failures(session: AsyncSession, subject: str, ip: str) -> None:
    """After a right code or password: the owner's own slips from this address no longer count."""
    await session.execute(
        delete(SignInFailure).where(SignInFailure.subject == subject, SignInFailure.ip == ip)
        .execution_options(synchronize_session=False)
    )


async def last_code_at(session: AsyncSession, phone: str, ip: str) -> datetime | None:
    q = select(func.max(OtpCode.created_at)).where(OtpCode.phone == phone, OtpCode.ip == ip)
    return (await session.execute(q)).scalar()


async def codes_since(session: AsyncSession, *, since: datetime, phone: str | None = None,
                      ip: str | None = None) -> tuple[int, datetime | None]:
    """Codes sent since ``since`` for a phone, an address or both: how many, and the oldest one's time."""
    q = select(func.count(), func.min(OtpCode.created_at)).select_from(OtpCode).where(OtpCode.created_at >= since)
    if phone is not None:
        q = q.where(OtpCode.phone == phone)
    if ip is not None:
        q = q.where(OtpCode.ip == ip)
    n, oldest = (await session.execute(q)).one()
    return int(n), oldest


async def latest_code(session: AsyncSession, phone: str) -> OtpCode | None:
    q = select(OtpCode).where(OtpCode.phone == phone).order_by(OtpCode.id.desc()).limit(1)
    return (await session.execute(q)).scalar_one_or_none()


LIVE_CODES_MAX = 20  # each address keeps one live code; this bounds the work of one guess


async def live_codes(session: AsyncSession, phone: str, at: datetime) -> list[OtpCode]:
    """The phone's unspent, unexpired codes, newest first: at most one per address that asked."""
    q = (select(OtpCode).where(OtpCode.phone == phone, OtpCode.used_at.is_(None), OtpCode.expires_at > at)
         .order_by(OtpCode.id.desc()).limit(LIVE_CODES_MAX))
    return list((await session.execute(q)).scalars().all())


async def spend_codes(session: AsyncSession, phone: str, at: datetime, *, ip: str | None = None) -> None:
    """Spend the phone's unspent codes (only those asked for from ``ip`` when given)."""
    q = update(OtpCode).where(OtpCode.phone == phone, OtpCode.used_at.is_(None))
    if ip is not None:
        q = q.where(OtpCode.ip == ip)
    await session.execute(q.values(used_at=at).execution_options(synchronize_session=False))


async def count_wrong_guess(session: AsyncSession, own_ids: Sequence[str], foreign_ids: Sequence[str]) -> None:
    """One wrong guess against each code given: from the address that asked for it, or from another."""
    if own_ids:
        await session.execute(
            update(OtpCode).where(OtpCode.id.in_(own_ids)).values(attempts=OtpCode.attempts + 1)
            .execution_options(synchronize_session=False)
        )
    if foreign_ids:
        await session.execute(
            update(OtpCode).where(OtpCode.id.in_(foreign_ids)).values(foreign_attempts=OtpCode.foreign_attempts + 1)
            .execution_options(synchronize_session=False)
        )


async def refresh_by_hash(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    q = select(RefreshToken).where(RefreshToken.token_hash == token_hash)
    return (await session.execute(q)).scalar_one_or_none()


async def revoke_family(session: AsyncSession, family_id: str, at: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=at)
        .execution_options(synchronize_session=False)
    )


async def revoke_all(session: AsyncSession, person_id: str, at: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.person_id == person_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=at)
        .execution_options(synchronize_session=False)
    )


async def claim_rotation(session: AsyncSession, token_id: str, at: datetime) -> bool:
    """Mark a live token rotated; False if another request rotated it first."""
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token_id, RefreshToken.rotated_at.is_(None), RefreshToken.revoked_at.is_(None))
        .values(rotated_at=at)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)
