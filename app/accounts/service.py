"""Identity: one-time codes, passwords, token families, sign-out.

Rules: a code is 6 digits, kept only as a keyed hash, lives 5 minutes and is spent on use;
5 wrong codes lock the phone for 15 minutes; sending is throttled per phone and per IP.
A refresh token rotates on each use; presenting a rotated one revokes its whole family.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as repo
from app.accounts.models import OtpCode, Person, RefreshToken
from app.accounts.schemas import TokenPair
from app.accounts.sms import get_sender
from app.core import clock, security
from app.core.config import get_settings
from app.core.errors import AppError, TooMany, Unauthorized
from app.core.ids import new_id


def _locked(until: datetime, *, keep_changes: bool = False) -> TooMany:
    seconds = max(1, int((until - clock.now()).total_seconds()) + 1)
    return TooMany("sign_in_locked", minutes=max(1, -(-seconds // 60)), headers={"Retry-After": str(seconds)},
                   keep_changes=keep_changes)


async def _take_attempt(session: AsyncSession, subject: str) -> int:
    """Count one sign-in attempt before checking it; its number, or 429 while the subject is locked.

    Counting first, in one statement that holds the row until commit, means that parallel
    guesses queue behind each other and none slips past the limit.
    """
    failures, locked_until = await repo.count_attempt(session, subject)
    if locked_until is not None and locked_until > clock.now():
        raise _locked(locked_until)
    return failures


async def _wrong(session: AsyncSession, subject: str, failures: int, code: str) -> AppError:
    """The refusal for a wrong code or password: 401 with tries left, or 429 on the one that locks."""
    s = get_settings()
    if failures >= s.otp_max_attempts:
        until = clock.now() + timedelta(seconds=s.otp_lock_seconds)
        await repo.set_lock(session, subject, until)
        return _locked(until, keep_changes=True)
    return Unauthorized(code, keep_changes=True, left=s.otp_max_attempts - failures)


async def request_code(session: AsyncSession, phone: str, ip: str) -> None:
    s = get_settings()
    # Holding the phone's lock row makes concurrent requests for one phone queue, so the
    # throttles below count every code that was sent.
    _, locked_until = await repo.count_attempt(session, f"phone:{phone}", by=0)
    now = clock.now()
    if locked_until is not None and locked_until > now:
        raise _locked(locked_until)
    last = await repo.last_code_at(session, phone)
    if last and (now - last).total_seconds() < s.otp_resend_seconds:
        wait = max(1, s.otp_resend_seconds - int((now - last).total_seconds()))
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
    failures = await _take_attempt(session, subject)
    # A missing, spent or expired code is refused without counting: there was nothing to guess.
    otp = await repo.latest_code(session, phone)
    now = clock.now()
    if otp is None or otp.used_at is not None:
        raise Unauthorized("otp_invalid")
    if otp.expires_at <= now:
        raise Unauthorized("otp_expired")
    if not hmac.compare_digest(otp.code_hash, security.keyed_hash(f"{phone}:{code}")):
        refusal = await _wrong(session, subject, failures, "otp_wrong")
        if isinstance(refusal, TooMany):
            await repo.spend_code(session, otp.id, now, wrong=True)  # a locked phone needs a new code
        else:
            await repo.count_code_attempt(session, otp.id)
        raise refusal
    if not await repo.spend_code(session, otp.id, now, wrong=False):
        raise Unauthorized("otp_invalid")
    await repo.set_lock(session, subject, None)
    person = await repo.person_by_phone(session, phone)
    if person is None:
        person = Person(phone=phone, name="")
        session.add(person)
        await session.flush()
    return await issue_tokens(session, person)


async def sign_in_with_password(session: AsyncSession, username: str, password: str) -> TokenPair:
    subject = f"user:{username.lower()}"
    failures = await _take_attempt(session, subject)
    person = await repo.person_by_username(session, username)
    if person is None or not security.verify_password(person.password_hash, password):
        if person is None:
            security.verify_password(None, password)  # the same time as a real check
        raise await _wrong(session, subject, failures, "bad_credentials")
    await repo.set_lock(session, subject, None)
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
    claims = token_claims(bearer)
    return still_valid(await repo.person_by_id(session, claims["sub"]), claims)


def token_claims(bearer: str | None) -> dict[str, Any]:
    """The bearer token's claims (401 when missing, expired or forged); who it names is not checked yet."""
    if not bearer:
        raise Unauthorized("token_missing")
    try:
        return security.decode_access_token(bearer)
    except security.BadToken as exc:
        raise Unauthorized("token_expired" if "expired" in str(exc).lower() else "token_invalid") from exc


def still_valid(person: Person | None, claims: dict[str, Any]) -> Person:
    """The person the claims name, unless they are gone or signed out everywhere since (401)."""
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
