"""Tokens and hashes: short JWT access tokens (python-jose), argon2 passwords, hashed codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from jose import JWTError, jwt

from app.core import clock
from app.core.config import get_settings

ALGORITHM = "HS256"
# OWASP's argon2id baseline (19 MiB, 2 passes): the library default of 64 MiB per check lets a
# burst of staff sign-ins swell a worker on a small server.
_hasher = PasswordHasher(memory_cost=19 * 1024, time_cost=2, parallelism=1)


class BadToken(Exception):
    pass


def create_access_token(person_id: str, *, minutes: int | None = None,
                        family: str | None = None) -> tuple[str, int]:
    """A signed access token; ``family``, the refresh-token family it came with, lets revoking
    the family refuse it too."""
    settings = get_settings()
    ttl = (minutes if minutes is not None else settings.access_token_minutes) * 60
    issued = clock.now()
    claims = {
        "sub": person_id,
        "iat": int(issued.timestamp()),
        "iat_ms": int(issued.timestamp() * 1000),
        "exp": int((issued + timedelta(seconds=ttl)).timestamp()),
        "typ": "access",
        "jti": secrets.token_hex(8),
    }
    if family:
        claims["fam"] = family
    return jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM), ttl


# Tokens whose signature and claims were checked, until they expire: a phone sends the same token
# with every request, and checking it again is ~0.3 ms of CPU each time. Keyed by the secret too.
# Only the signature is remembered: whether the token was revoked since (signed out everywhere,
# its family revoked) is read from the database with the caller on every request.
_VERIFIED: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
VERIFIED_MAX = 10_000  # ~5 MB


def decode_access_token(token: str) -> dict[str, Any]:
    key = (get_settings().secret_key, token)
    known = _VERIFIED.get(key)
    if known is not None:
        if known["exp"] > time.time():  # the clock python-jose checks "exp" against
            _VERIFIED.move_to_end(key)
            return dict(known)
        del _VERIFIED[key]  # expired: python-jose says so below
    try:
        claims: dict[str, Any] = jwt.decode(token, key[0], algorithms=[ALGORITHM])
    except JWTError as exc:
        raise BadToken(str(exc)) from exc
    if claims.get("typ") != "access" or not isinstance(claims.get("sub"), str) \
            or not isinstance(claims.get("exp"), int):
        raise BadToken("not an access token")
    _VERIFIED[key] = dict(claims)
    if len(_VERIFIED) > VERIFIED_MAX:
        _VERIFIED.popitem(last=False)
    return claims


def issued_before(claims: dict[str, Any], instant: datetime | None) -> bool:
    return instant is not None and int(claims.get("iat_ms", 0)) < int(instant.timestamp() * 1000)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # Spend the same time as a real check so a missing account is not revealed by timing.
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 with the secret key: for one-time codes and refresh tokens at rest."""
    return hmac.new(get_settings().secret_key.encode(), value.encode(), hashlib.sha256).hexdigest()


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def new_otp() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def mask_phone(phone: str | None) -> str | None:
    """138****5678: phones are personal data, shown masked to all but the committee."""
    if not phone:
        return phone
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"
