"""Every query of the accounts domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import OtpCode, Person, RefreshToken, SignInLock
from app.core import db


async def person_by_id(session: AsyncSession, person_id: str) -> Person | None:
    return await session.get(Person, person_id)


async def person_by_phone(session: AsyncSession, phone: str) -> Person | None:
    return (await session.execute(select(Person).where(Person.phone == phone))).scalar_one_or_none()


async def person_by_username(session: AsyncSession, username: str) -> Person | None:
    q = select(Person).where(Person.username == username)
    return (await session.execute(q)).scalar_one_or_none()


async def count_attempt(session: AsyncSession, subject: str, by: int = 1) -> tuple[int, datetime | None]:
    """Add ``by`` to the subject's failure count in one statement; the new count and the lock's end.

    The row stays locked until the transaction ends (PostgreSQL), so sign-in attempts for one
    phone or username run one at a time and parallel guesses cannot slip past the limit.
    """
    insert = db.insert_for(session.get_bind().dialect)
    await session.execute(
        insert(SignInLock).values(subject=subject, failures=0).on_conflict_do_nothing(index_elements=["subject"])
    )
    q = (update(SignInLock).where(SignInLock.subject == subject)
         .values(failures=SignInLock.failures + by)
         .returning(SignInLock.failures, SignInLock.locked_until)
         .execution_options(synchronize_session=False))
    failures, locked_until = (await session.execute(q)).one()
    return int(failures), locked_until


async def set_lock(session: AsyncSession, subject: str, until: datetime | None) -> None:
    """Lock sign-in until ``until`` (None: no lock) and start counting failures afresh."""
    await session.execute(
        update(SignInLock).where(SignInLock.subject == subject).values(failures=0, locked_until=until)
        .execution_options(synchronize_session=False)
    )


async def last_code_at(session: AsyncSession, phone: str) -> datetime | None:
    q = select(func.max(OtpCode.created_at)).where(OtpCode.phone == phone)
    return (await session.execute(q)).scalar()


async def codes_since(session: AsyncSession, *, since: datetime, phone: str | None = None,
                      ip: str | None = None) -> int:
    q = select(func.count()).select_from(OtpCode).where(OtpCode.created_at >= since)
    if phone is not None:
        q = q.where(OtpCode.phone == phone)
    if ip is not None:
        q = q.where(OtpCode.ip == ip)
    return int((await session.execute(q)).scalar_one())


async def latest_code(session: AsyncSession, phone: str) -> OtpCode | None:
    q = select(OtpCode).where(OtpCode.phone == phone).order_by(OtpCode.id.desc()).limit(1)
    return (await session.execute(q)).scalar_one_or_none()


async def spend_codes(session: AsyncSession, phone: str, at: datetime) -> None:
    await session.execute(
        update(OtpCode).where(OtpCode.phone == phone, OtpCode.used_at.is_(None)).values(used_at=at)
        .execution_options(synchronize_session=False)
    )


async def spend_code(session: AsyncSession, code_id: str, at: datetime, *, wrong: bool) -> bool:
    """Mark one code used (and count the attempt); False if it was already spent."""
    values = {"used_at": at, "attempts": OtpCode.attempts + (1 if wrong else 0)}
    result = await session.execute(
        update(OtpCode).where(OtpCode.id == code_id, OtpCode.used_at.is_(None)).values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def count_code_attempt(session: AsyncSession, code_id: str) -> None:
    await session.execute(
        update(OtpCode).where(OtpCode.id == code_id).values(attempts=OtpCode.attempts + 1)
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
