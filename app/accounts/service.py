"""Identity: one-time codes, passwords, token families, sign-out.

Rules: a code is 6 digits, kept only as a keyed hash, lives 5 minutes and is spent on use;
5 wrong codes lock the phone for 15 minutes; sending is throttled per phone and per IP.
A refresh token rotates on each use; presenting a rotated one revokes its whole family.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as repo
from app.accounts.models import OtpCode, Person, RefreshToken, SignInLock
from app.accounts.schemas import TokenPair
from app.accounts.sms import get_sender
from app.core import clock, security
from app.core.config import get_settings
from app.core.errors import TooMany, Unauthorized
from app.core.ids import new_id


async def _check_lock(session: AsyncSession, subject: str) -> SignInLock | None:
    lock = await repo.lock_for(session, subject)
    if lock and lock.locked_until and lock.locked_until > clock.now():
        minutes = max(1, int((lock.locked_until - clock.now()).total_seconds() // 60) + 1)
        raise TooMany("sign_in_locked", minutes=minutes,
                      headers={"Retry-After": str(int((lock.locked_until - clock.now()).total_seconds()) + 1)})
    return lock


async def _count_failure(session: AsyncSession, subject: str, lock: SignInLock | None) -> bool:
    """Record one wrong attempt; True when it was the one that locks."""
    s = get_settings()
    if lock is None:
        lock = SignInLock(subject=subject, failures=0)
        session.add(lock)
    lock.failures += 1
    if lock.failures >= s.otp_max_attempts:
        lock.failures = 0
        lock.locked_until = clock.now() + timedelta(seconds=s.otp_lock_seconds)
        return True
    return False


async def request_code(session: AsyncSession, phone: str, ip: str) -> None:
    s = get_settings()
    now = clock.now()
    await _check_lock(session, f"phone:{phone}")
    last = await repo.last_code_at(session, phone)
    if last and (now - last).total_seconds() < s.otp_resend_seconds:
        wait = s.otp_resend_seconds - int((now - last).total_seconds())
        raise TooMany("otp_resend_too_soon", seconds=wait, headers={"Retry-After": str(wait)})
    hour_ago = now - timedelta(hours=1)
    if await repo.codes_since(session, since=hour_ago, phone=phone) >= s.otp_per_phone_hour:
        raise TooMany("otp_phone_hourly", headers={"Retry-After": "3600"})
    if await repo.codes_since(session, since=hour_ago, ip=ip) >= s.otp_per_ip_hour:
        raise TooMany("otp_ip_hourly", headers={"Retry-After": "3600"})
    code = security.new_otp()
    await repo.spend_codes(session, phone, now)  # only the newest code works
    session.add(OtpCode(phone=phone, code_hash=security.keyed_hash(f"{phone}:{code}"),
                        expires_at=now + timedelta(seconds=s.otp_ttl_seconds), ip=ip))
    await session.flush()
    await get_sender().send_code(phone, code)


async def sign_in_with_code(session: AsyncSession, phone: str, code: str) -> TokenPair:
    subject = f"phone:{phone}"
    lock = await _check_lock(session, subject)
    otp = await repo.latest_code(session, phone)
    now = clock.now()
    if otp is None or otp.used_at is not None:
        raise Unauthorized("otp_invalid")
    if otp.expires_at <= now:
        raise Unauthorized("otp_expired")
    if not hmac.compare_digest(otp.code_hash, security.keyed_hash(f"{phone}:{code}")):
        otp.attempts += 1
        if await _count_failure(session, subject, lock):
            otp.used_at = now
            raise TooMany("sign_in_locked", minutes=get_settings().otp_lock_seconds // 60, keep_changes=True)
        raise Unauthorized("otp_wrong", keep_changes=True,
                           left=get_settings().otp_max_attempts - (lock.failures if lock else 1))
    otp.used_at = now
    if lock:
        lock.failures = 0
    person = await repo.person_by_phone(session, phone)
    if person is None:
        person = Person(phone=phone, name="")
        session.add(person)
        await session.flush()
    return await issue_tokens(session, person)


async def sign_in_with_password(session: AsyncSession, username: str, password: str) -> TokenPair:
    subject = f"user:{username.lower()}"
    lock = await _check_lock(session, subject)
    person = await repo.person_by_username(session, username)
    if not security.verify_password(person.password_hash if person else None, password) or person is None:
        if await _count_failure(session, subject, lock):
            raise TooMany("sign_in_locked", minutes=get_settings().otp_lock_seconds // 60, keep_changes=True)
        raise Unauthorized("bad_credentials", keep_changes=True)
    if lock:
        lock.failures = 0
    return await issue_tokens(session, person)


async def issue_tokens(session: AsyncSession, person: Person, family_id: str | None = None) -> TokenPair:
    s = get_settings()
    raw = security.new_refresh_token()
    session.add(RefreshToken(
        person_id=person.id, family_id=family_id or new_id(), token_hash=security.keyed_hash(raw),
        expires_at=clock.now() + timedelta(days=s.refresh_token_days),
    ))
    await session.flush()
    access, ttl = security.create_access_token(person.id)
    return TokenPair(access_token=access, refresh_token=raw, expires_in=ttl)


async def refresh(session: AsyncSession, raw: str) -> TokenPair:
    token = await repo.refresh_by_hash(session, security.keyed_hash(raw))
    now = clock.now()
    if token is None or token.revoked_at is not None:
        raise Unauthorized("refresh_invalid")
    if token.rotated_at is not None:
        await repo.revoke_family(session, token.family_id, now)
        raise Unauthorized("refresh_reused", keep_changes=True)
    if token.expires_at <= now:
        raise Unauthorized("refresh_invalid")
    if not await repo.claim_rotation(session, token.id, now):
        # Lost a race with another use of the same token: that is a reuse too.
        await repo.revoke_family(session, token.family_id, now)
        raise Unauthorized("refresh_reused", keep_changes=True)
    person = await repo.person_by_id(session, token.person_id)
    if person is None:
        raise Unauthorized("refresh_invalid")
    return await issue_tokens(session, person, family_id=token.family_id)


async def logout(session: AsyncSession, person: Person, raw: str | None, everywhere: bool) -> None:
    now = clock.now()
    if everywhere:
        await repo.revoke_all(session, person.id, now)
        person.tokens_valid_after = now
        return
    if raw:
        token = await repo.refresh_by_hash(session, security.keyed_hash(raw))
        if token is not None and token.person_id == person.id:
            await repo.revoke_family(session, token.family_id, now)


async def authenticate(session: AsyncSession, bearer: str | None) -> Person:
    if not bearer:
        raise Unauthorized("token_missing")
    try:
        claims = security.decode_access_token(bearer)
    except security.BadToken as exc:
        raise Unauthorized("token_expired" if "expired" in str(exc).lower() else "token_invalid") from exc
    person = await repo.person_by_id(session, claims["sub"])
    if person is None or security.issued_before(claims, person.tokens_valid_after):
        raise Unauthorized("token_revoked")
    return person


async def create_admin(session: AsyncSession, phone: str, *, username: str | None = None,
                       password: str | None = None, name: str = "") -> Person:
    person = await repo.person_by_phone(session, phone)
    if person is None:
        person = Person(phone=phone, name=name)
        session.add(person)
    person.is_platform_admin = True
    if name:
        person.name = name
    if username:
        person.username = username
    if password:
        person.password_hash = security.hash_password(password)
    await session.flush()
    return person


async def set_password(session: AsyncSession, person: Person, username: str, password: str) -> None:
    person.username = username
    person.password_hash = security.hash_password(password)
    await session.flush()
