"""Every query of the accounts domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import OtpCode, Person, RefreshToken, SignInLock


async def person_by_id(session: AsyncSession, person_id: str) -> Person | None:
    return await session.get(Person, person_id)


async def person_by_phone(session: AsyncSession, phone: str) -> Person | None:
    return (await session.execute(select(Person).where(Person.phone == phone))).scalar_one_or_none()


async def person_by_username(session: AsyncSession, username: str) -> Person | None:
    return (await session.execute(select(Person).where(Person.username == username))).scalar_one_or_none()


async def lock_for(session: AsyncSession, subject: str) -> SignInLock | None:
    return await session.get(SignInLock, subject)


async def last_code_at(session: AsyncSession, phone: str) -> datetime | None:
    return (await session.execute(select(func.max(OtpCode.created_at)).where(OtpCode.phone == phone))).scalar()


async def codes_since(session: AsyncSession, *, since: datetime, phone: str | None = None, ip: str | None = None) -> int:
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
    )


async def refresh_by_hash(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    q = select(RefreshToken).where(RefreshToken.token_hash == token_hash)
    return (await session.execute(q)).scalar_one_or_none()


async def revoke_family(session: AsyncSession, family_id: str, at: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=at)
    )


async def revoke_all(session: AsyncSession, person_id: str, at: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.person_id == person_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=at)
    )


async def claim_rotation(session: AsyncSession, token_id: str, at: datetime) -> bool:
    """Mark a live token rotated; False if another request rotated it first."""
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token_id, RefreshToken.rotated_at.is_(None), RefreshToken.revoked_at.is_(None))
        .values(rotated_at=at)
    )
    return bool(getattr(result, "rowcount", 0) == 1)
