"""Identity: one-time codes, passwords, token families, sign-out.

Sign-in limits are built so that a stranger cannot keep the owner of a phone or an account out,
while guessing stays hopeless. Nothing is ever locked; wrong codes and passwords are counted over
sliding windows per phone or username, per address, and per both, and each refusal says (429,
Retry-After) when the window frees. With the default settings (app/core/config.py):

- A code is 6 digits, kept only as a keyed hash, lives 5 minutes and is spent on use. It takes
  5 wrong guesses from the address that asked for it, and 5 more from all other addresses
  together; then it is dead for them and a new code must be asked for, which goes to the phone.
  A stranger's guesses never use up the tries of the owner who asked for the code, and a
  stranger asking for a code does not spend the owner's (each address keeps its newest code).
- Codes are sent at most once a minute and 5 times an hour for one phone from one address, and
  30 times an hour from one address: a stranger asking for codes for the owner's phone uses up
  only their own address's allowance, never the owner's.
- Wrong codes for one phone: at most 10 from one address and 30 from all addresses together in
  24 hours; at most 20 wrong codes and passwords from one address in an hour, all phones and
  usernames together. A guess checked against several live codes counts once for each.
- Brute force: the 30 wrong codes a phone takes a day are 30 of 1,000,000 possible codes, so an
  attacker's chance of getting in is at most 0.003% a day (1 in 33,000), about 1% over a year of
  guessing without pause, and every code guessed at is one sent to the owner's phone. Spraying
  guesses over many phones from one address: at most 20 an hour, 0.05% a day of getting into
  some account.
- The owner: one address cannot reach a phone's 30, so a stranger there, however many wrong
  guesses they make, never stops the owner (at another address) from signing in with a fresh
  code. Strangers at three or more addresses can fill a phone's 24 hours; the owner then waits
  until the oldest of those guesses is a day old. That is the price of the brute-force bound:
  nothing but the code tells the owner from a stranger.
- Passwords: at most 5 wrong for one username from one address in 15 minutes, and the address
  limit above, both checked before the (deliberately slow) argon2 check, so wrong passwords
  cannot keep a server's CPU busy and a stranger cannot lock the owner out of their own address.

A refresh token rotates on each use; presenting a rotated one revokes its whole family, and the
family's access tokens (which carry its id, ``fam``) are refused from that moment.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as repo
from app.accounts.models import OtpCode, Person, RefreshToken
from app.accounts.schemas import TokenPair
from app.accounts.sms import get_sender
from app.core import clock, security
from app.core.config import get_settings
from app.core.errors import TooMany, Unauthorized
from app.core.ids import new_id

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
PASSWORD_WINDOW = timedelta(minutes=15)
FAILURES_KEPT = DAY  # the longest window


@dataclass(frozen=True)
class _Window:
    """A limit on failures: for a subject, an address or both, within ``span``."""

    refusal: str  # the error code of the 429
    limit: int
    span: timedelta
    subject: str | None = None
    ip: str | None = None


def _wait(refusal: str, oldest: datetime | None, span: timedelta, *, keep_changes: bool = False) -> TooMany:
    """429 until the oldest counted event leaves the window."""
    now = clock.now()
    seconds = max(1, int(((oldest or now) + span - now).total_seconds()) + 1)
    return TooMany(refusal, minutes=max(1, -(-seconds // 60)), headers={"Retry-After": str(seconds)},
                   keep_changes=keep_changes)


def _guess_windows(subject: str, ip: str) -> list[_Window]:
    s = get_settings()
    address = _Window("sign_in_ip_throttled", s.sign_in_failures_per_ip_hour, HOUR, ip=ip)
    if subject.startswith("user:"):
        return [address, _Window("sign_in_locked", s.password_max_attempts, PASSWORD_WINDOW, subject, ip)]
    return [address, _Window("sign_in_locked", s.otp_wrong_per_phone_ip_day, DAY, subject, ip),
            _Window("sign_in_locked", s.otp_wrong_per_phone_day, DAY, subject)]


async def _take_turn(session: AsyncSession, subject: str, ip: str) -> list[tuple[_Window, int, datetime | None]]:
    """Queue behind other attempts for this subject and address; 429 if a window is full, else
    each window with the failures it holds."""
    await repo.hold(session, subject)
    await repo.hold(session, f"ip:{ip}")
    now = clock.now()
    counted = []
    for w in _guess_windows(subject, ip):
        used, oldest = await repo.failures_since(session, since=now - w.span, subject=w.subject, ip=w.ip)
        if used >= w.limit:
            raise _wait(w.refusal, oldest, w.span)
        counted.append((w, used, oldest))
    return counted


async def _failed(session: AsyncSession, subject: str, ip: str, counted: list[tuple[_Window, int, datetime | None]],
                  refusal: Unauthorized, weight: int = 1) -> Exception:
    """Log a wrong code or password; the refusal, or 429 when this failure filled a window."""
    await repo.record_failure(session, subject, ip, weight=weight, forget_before=clock.now() - FAILURES_KEPT)
    for w, used, oldest in counted:
        if used + weight >= w.limit:
            return _wait(w.refusal, oldest, w.span, keep_changes=True)
    return refusal


async def request_code(session: AsyncSession, phone: str, ip: str) -> None:
    s = get_settings()
    # Holding the phone's and the address's rows makes concurrent requests queue, so the limits
    # below count every code that was sent; a phone or address that may not guess gets no code.
    await _take_turn(session, f"phone:{phone}", ip)
    now = clock.now()
    last = await repo.last_code_at(session, phone, ip)
    if last and (now - last).total_seconds() < s.otp_resend_seconds:
        wait = max(1, s.otp_resend_seconds - int((now - last).total_seconds()))
        raise TooMany("otp_resend_too_soon", seconds=wait, headers={"Retry-After": str(wait)})
    sent, oldest = await repo.codes_since(session, since=now - HOUR, phone=phone, ip=ip)
    if sent >= s.otp_per_phone_hour:
        raise _wait("otp_phone_hourly", oldest, HOUR)
    sent, oldest = await repo.codes_since(session, since=now - HOUR, ip=ip)
    if sent >= s.otp_per_ip_hour:
        raise _wait("otp_ip_hourly", oldest, HOUR)
    code = security.new_otp()
    # Only an address's newest code works; the codes other addresses asked for live on.
    await repo.spend_codes(session, phone, now, ip=ip)
    session.add(OtpCode(phone=phone, code_hash=security.keyed_hash(f"{phone}:{code}"),
                        expires_at=now + timedelta(seconds=s.otp_ttl_seconds), ip=ip))
    await session.flush()
    await get_sender().send_code(phone, code)


async def sign_in_with_code(session: AsyncSession, phone: str, code: str, ip: str) -> TokenPair:
    s = get_settings()
    subject = f"phone:{phone}"
    counted = await _take_turn(session, subject, ip)
    now = clock.now()

    def tries_used(c: OtpCode) -> int:
        return c.attempts if c.ip == ip else c.foreign_attempts

    # The live codes this address may still guess, no more than the windows have room for: a
    # guess checked against k codes is k guesses.
    room = min(w.limit - used for w, used, _ in counted)
    usable = [c for c in await repo.live_codes(session, phone, now) if tries_used(c) < s.otp_max_attempts][:room]
    if not usable:
        # Nothing to guess: refused without counting.
        latest = await repo.latest_code(session, phone)
        if latest is None or latest.used_at is not None:
            raise Unauthorized("otp_invalid")
        raise Unauthorized("otp_expired" if latest.expires_at <= now else "otp_exhausted")
    digest = security.keyed_hash(f"{phone}:{code}")
    if not any(hmac.compare_digest(c.code_hash, digest) for c in usable):
        await repo.count_wrong_guess(session, [c.id for c in usable if c.ip == ip],
                                     [c.id for c in usable if c.ip != ip])
        left = max(s.otp_max_attempts - tries_used(c) - 1 for c in usable)
        refusal = Unauthorized("otp_wrong", keep_changes=True, left=left) if left else \
            Unauthorized("otp_exhausted", keep_changes=True)
        raise await _failed(session, subject, ip, counted, refusal, weight=len(usable))
    await repo.spend_codes(session, phone, now)  # signed in: every code of the phone is done
    await repo.forget_failures(session, subject, ip)
    person = await repo.person_by_phone(session, phone)
    if person is None:
        person = Person(phone=phone, name="")
        session.add(person)
        await session.flush()
    return await issue_tokens(session, person)


async def sign_in_with_password(session: AsyncSession, username: str, password: str, ip: str) -> TokenPair:
    subject = f"user:{username.lower()}"
    counted = await _take_turn(session, subject, ip)  # before argon2: a refused guess costs no hashing
    person = await repo.person_by_username(session, username)
    if person is None or not security.verify_password(person.password_hash, password):
        if person is None:
            security.verify_password(None, password)  # the same time as a real check
        raise await _failed(session, subject, ip, counted, Unauthorized("bad_credentials", keep_changes=True))
    await repo.forget_failures(session, subject, ip)
    return await issue_tokens(session, person)


async def issue_tokens(session: AsyncSession, person: Person, family_id: str | None = None) -> TokenPair:
    s = get_settings()
    raw = security.new_refresh_token()
    token = RefreshToken(
        person_id=person.id, family_id=family_id or new_id(), token_hash=security.keyed_hash(raw),
        expires_at=clock.now() + timedelta(days=s.refresh_token_days),
    )
    session.add(token)
    await session.flush()
    access, ttl = security.create_access_token(person.id, family=token.family_id)
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
    person, family_revoked = await repo.caller(session, claims["sub"], family_of(claims))
    return still_valid(person, claims, family_revoked)


def token_claims(bearer: str | None) -> dict[str, Any]:
    """The bearer token's claims (401 when missing, expired or forged); who it names is not checked yet."""
    if not bearer:
        raise Unauthorized("token_missing")
    try:
        return security.decode_access_token(bearer)
    except security.BadToken as exc:
        raise Unauthorized("token_expired" if "expired" in str(exc).lower() else "token_invalid") from exc


def family_of(claims: dict[str, Any]) -> str | None:
    """The refresh-token family an access token was issued with (None in tokens from before)."""
    family = claims.get("fam")
    return family if isinstance(family, str) else None


def still_valid(person: Person | None, claims: dict[str, Any], family_revoked: bool) -> Person:
    """The person the claims name, unless they are gone, signed out everywhere since, or the
    token's family was revoked (a reused refresh token, a logout) (401). The caller's statement
    reads all three, so a revoked token is refused at once, and no cache remembers a verdict."""
    if person is None or family_revoked or security.issued_before(claims, person.tokens_valid_after):
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
