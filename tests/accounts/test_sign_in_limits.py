"""Sign-in limits that a stranger cannot turn against the owner, and that keep guessing hopeless
(the rules and the numbers: app/accounts/service.py).

The ``client`` fixture calls from 203.0.113.7: here that is the stranger. The owner of the phone
or the account calls from OWNER.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import func, select

from app.accounts.models import OtpCode, Person, RefreshToken, SignInFailure
from app.accounts.sms import memory_outbox
from app.core.security import hash_password
from tests import factories as f
from tests.accounts.support import (
    API,
    EN,
    client_at,
    count,
    fetch_all,
    fetch_one,
    last_code,
    request_code,
    settings_changed,
    shift,
)
from tests.factories import assert_problem

PHONE = "13800000001"
OWNER = "198.51.100.20"
DAY = 24 * 3600


async def token(client: httpx.AsyncClient, phone: str, code: str, **kw: object) -> httpx.Response:
    return await client.post(f"{API}/auth/token", json={"phone": phone, "code": code}, **kw)  # type: ignore[arg-type]


def wrong() -> str:
    """A code that is none of those sent so far: a guess that is sure to be wrong."""
    sent = {code for _, code in memory_outbox().outbox}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in sent)


async def wrong_checks() -> int:
    """Wrong guesses the phone's codes took, each code counted apart."""
    codes = await fetch_all(select(OtpCode))
    return sum(c.attempts + c.foreign_attempts for c in codes)


def retry_after(r: httpx.Response) -> int:
    return int(r.headers["Retry-After"])


# --- one-time codes ---

async def test_a_strangers_wrong_guesses_never_keep_the_owner_out(app, client):
    """However many codes a stranger asks for and however often they guess, from their address,
    the owner asks for a fresh code and signs in."""
    answers = []
    for _ in range(6):
        await shift(OtpCode, -timedelta(seconds=61))  # past the resend throttle
        answers.append(await request_code(client, PHONE))
        for _ in range(6):
            answers.append(await token(client, PHONE, wrong()))
    refused = [r for r in answers if r.status_code == 429]
    assert refused and {r.json()["code"] for r in refused} == {"sign_in_locked"}
    assert DAY - 120 <= retry_after(refused[-1]) <= DAY + 1
    # Ten wrong codes from one address count, of the thirty that the phone takes in a day.
    assert await wrong_checks() == 10
    assert await fetch_one(select(func.sum(SignInFailure.weight))) == 10

    async with client_at(app, OWNER) as owner:
        assert (await request_code(owner, PHONE)).status_code == 202
        r = await token(owner, PHONE, last_code(PHONE))
        assert r.status_code == 200, r.text
    assert await count(Person) == 1


async def test_a_strangers_guesses_do_not_use_up_the_owners_tries(app, client):
    """The owner asked for a code; while they read the message a stranger guesses at it and asks
    for codes of their own. The owner's code still works."""
    async with client_at(app, OWNER) as owner:
        assert (await request_code(owner, PHONE)).status_code == 202
        owners = last_code(PHONE)
        for _ in range(4):
            assert_problem(await token(client, PHONE, wrong()), 401, "otp_wrong")
        assert_problem(await token(client, PHONE, wrong()), 401, "otp_exhausted")
        # Dead for the stranger's address, not for the owner's.
        assert_problem(await token(client, PHONE, owners), 401, "otp_exhausted")
        assert (await request_code(client, PHONE)).status_code == 202
        for _ in range(3):
            assert_problem(await token(client, PHONE, wrong()), 401, "otp_wrong")

        stored = await fetch_one(select(OtpCode).where(OtpCode.ip == OWNER))
        assert (stored.attempts, stored.foreign_attempts, stored.used_at) == (0, 5, None)
        r = await token(owner, PHONE, owners)
        assert r.status_code == 200, r.text
    # Signed in: every code of the phone is spent, the stranger's too.
    assert await count(OtpCode, OtpCode.used_at.is_(None)) == 0


async def test_the_owner_may_use_a_code_a_stranger_asked_for(app, client):
    """A code goes to the phone whoever asked for it, and the stranger's guesses use up only the
    tries of their own address: the owner does not need a code of their own."""
    assert (await request_code(client, PHONE)).status_code == 202
    for _ in range(4):
        assert_problem(await token(client, PHONE, wrong()), 401, "otp_wrong")
    assert_problem(await token(client, PHONE, wrong()), 401, "otp_exhausted")
    async with client_at(app, OWNER) as owner:
        r = await token(owner, PHONE, last_code(PHONE))
        assert r.status_code == 200, r.text


async def test_brute_force_against_one_phone_stops_at_thirty_wrong_codes_a_day(app):
    """Attackers at many addresses ask for codes and guess: after thirty wrong codes (a chance of
    30 in 1,000,000) the phone takes no more guesses for a day, from any address."""
    refused: list[httpx.Response] = []
    for n in range(1, 9):
        async with client_at(app, f"192.0.2.{n}") as attacker:
            for _ in range(3):
                await shift(OtpCode, -timedelta(seconds=61))
                r = await request_code(attacker, PHONE)
                if r.status_code == 429:
                    refused.append(r)
                    break
                for _ in range(6):
                    r = await token(attacker, PHONE, wrong())
                    if r.status_code == 429:
                        refused.append(r)
                    if r.status_code == 429 or r.json()["code"] == "otp_exhausted":
                        break
    assert await wrong_checks() == 30
    assert await fetch_one(select(func.sum(SignInFailure.weight))) == 30
    assert {r.json()["code"] for r in refused} == {"sign_in_locked"}

    # A new address is refused too, before any code is sent or checked, in either language.
    sent = len(memory_outbox().outbox)
    async with client_at(app, "192.0.2.99") as fresh:
        r = await request_code(fresh, PHONE, headers=EN)
        body = assert_problem(r, 429, "sign_in_locked")
        assert DAY - 600 <= retry_after(r) <= DAY + 1
        assert body["detail"] == f"Too many wrong attempts; try again in {-(-retry_after(r) // 60)} minutes."
        r = await token(fresh, PHONE, wrong())
        body = assert_problem(r, 429, "sign_in_locked")
        assert "分钟后再试" in body["detail"] and r.headers["Content-Language"] == "zh-CN"
    assert len(memory_outbox().outbox) == sent
    assert await wrong_checks() == 30

    # A day later the phone signs in again.
    await shift(SignInFailure, -timedelta(days=1))
    async with client_at(app, OWNER) as owner:
        assert (await request_code(owner, PHONE)).status_code == 202
        assert (await token(owner, PHONE, last_code(PHONE))).status_code == 200


async def test_a_guess_at_several_codes_counts_once_for_each_and_never_past_the_limit(app, client):
    """Two addresses asked for codes: one guess from a third is checked against both, and counts
    two; when the phone has room for one more, the guess is checked against one code only."""
    with settings_changed(otp_wrong_per_phone_day=3, otp_wrong_per_phone_ip_day=3):
        async with client_at(app, OWNER) as owner, client_at(app, "192.0.2.1") as third:
            assert (await request_code(client, PHONE)).status_code == 202
            assert (await request_code(owner, PHONE)).status_code == 202
            assert_problem(await token(third, PHONE, wrong()), 401, "otp_wrong")
            assert await wrong_checks() == 2
            assert_problem(await token(third, PHONE, wrong()), 429, "sign_in_locked")
            assert await wrong_checks() == 3
            assert await fetch_one(select(func.sum(SignInFailure.weight))) == 3


async def test_one_address_gets_twenty_wrong_guesses_an_hour_over_all_phones(app, client):
    """Guessing once at each of many phones from one address is limited too, also in parallel."""
    phones = [f"139000000{n:02d}" for n in range(25)]
    for phone in phones:
        assert (await request_code(client, phone)).status_code == 202
    answers = await asyncio.gather(*[token(client, phone, wrong()) for phone in phones])
    codes = sorted(r.json()["code"] for r in answers)
    # The twentieth wrong guess is answered with the wait it starts.
    assert codes == ["otp_wrong"] * 19 + ["sign_in_ip_throttled"] * 6
    assert await count(SignInFailure) == 20

    r = await token(client, phones[0], last_code(phones[0]), headers=EN)
    body = assert_problem(r, 429, "sign_in_ip_throttled")
    assert 3500 <= retry_after(r) <= 3601
    assert body["detail"] == "Too many wrong attempts from this network; try again in 60 minutes."
    body = assert_problem(await request_code(client, "13900000099"), 429, "sign_in_ip_throttled")
    assert "此网络" in body["detail"]
    # Another address is not affected: the owner of the first phone signs in.
    async with client_at(app, OWNER) as owner:
        assert (await token(owner, phones[0], last_code(phones[0]))).status_code == 200
    # An hour later the address may guess again.
    await shift(SignInFailure, -timedelta(hours=1))
    assert (await token(client, phones[1], last_code(phones[1]))).status_code == 200


# --- staff passwords ---

RIGHT = "correct horse battery"


async def staff(session) -> Person:
    return await f.person(session, name="王五", username="wangwu", password_hash=hash_password(RIGHT))


async def password_sign_in(client: httpx.AsyncClient, username: str, password: str, **kw: object) -> httpx.Response:
    return await client.post(f"{API}/auth/token", json={"username": username, "password": password},
                             **kw)  # type: ignore[arg-type]


async def test_a_strangers_wrong_passwords_do_not_lock_the_owner_out(app, client, session):
    await staff(session)
    for _ in range(4):
        assert_problem(await password_sign_in(client, "wangwu", "wrong"), 401, "bad_credentials")
    r = await password_sign_in(client, "WangWu", "wrong", headers=EN)
    body = assert_problem(r, 429, "sign_in_locked")
    assert 14 * 60 <= retry_after(r) <= 15 * 60 + 1
    assert body["detail"] == "Too many wrong attempts; try again in 15 minutes."
    # The stranger's address waits even with the right password: it is refused before it is
    # checked, so no argon2 work is spent on it.
    assert_problem(await password_sign_in(client, "wangwu", RIGHT), 429, "sign_in_locked")
    assert await count(RefreshToken) == 0

    async with client_at(app, OWNER) as owner:
        assert (await password_sign_in(owner, "wangwu", RIGHT)).status_code == 200
    # Fifteen minutes later the stranger's address may try again.
    await shift(SignInFailure, -timedelta(minutes=15))
    assert_problem(await password_sign_in(client, "wangwu", "wrong"), 401, "bad_credentials")


async def test_wrong_passwords_from_one_address_are_refused_before_hashing(app, client, session):
    """Twenty wrong passwords an hour from one address, whichever usernames: then every attempt
    there is refused before the slow password check, the right password too."""
    await staff(session)
    answers = [await password_sign_in(client, f"guess{n}", "wrong") for n in range(20)]
    assert [r.status_code for r in answers] == [401] * 19 + [429]
    r = await password_sign_in(client, "wangwu", RIGHT)
    body = assert_problem(r, 429, "sign_in_ip_throttled")
    assert 3500 <= retry_after(r) <= 3601 and "此网络" in body["detail"]
    assert await count(SignInFailure) == 20
    async with client_at(app, OWNER) as owner:
        assert (await password_sign_in(owner, "wangwu", RIGHT)).status_code == 200
