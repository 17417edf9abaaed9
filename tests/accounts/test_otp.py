"""Signing in with a phone and a one-time SMS code."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from app.accounts.models import OtpCode, Person, RefreshToken, SignInFailure
from app.accounts.sms import memory_outbox
from app.core import clock
from tests.accounts.support import (
    API,
    EN,
    bearer,
    client_at,
    count,
    execute,
    fetch_one,
    last_code,
    request_code,
    settings_changed,
    shift,
    sign_in,
)
from tests.factories import assert_problem

PHONE = "13800000001"


async def token(client: httpx.AsyncClient, phone: str, code: str, **kw: object) -> httpx.Response:
    return await client.post(f"{API}/auth/token", json={"phone": phone, "code": code}, **kw)  # type: ignore[arg-type]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_requesting_a_code_sends_six_digits_and_keeps_only_a_hash(client):
    r = await request_code(client, PHONE)
    assert r.status_code == 202
    code = last_code(PHONE)
    assert len(code) == 6 and code.isdigit()
    stored = await fetch_one(select(OtpCode).where(OtpCode.phone == PHONE))
    assert stored.code_hash != code and code not in stored.code_hash
    assert len(stored.code_hash) == 64
    assert stored.ip == "203.0.113.7"


async def test_the_code_lives_five_minutes(client):
    await request_code(client, PHONE)
    stored = await fetch_one(select(OtpCode).where(OtpCode.phone == PHONE))
    life = stored.expires_at - stored.created_at
    assert timedelta(minutes=4, seconds=59) <= life <= timedelta(minutes=5, seconds=1)


async def test_first_sign_in_creates_the_person_and_gives_tokens(client):
    assert await count(Person) == 0
    tokens = await sign_in(client, PHONE)
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 15 * 60
    assert tokens["access_token"] and tokens["refresh_token"]
    me = (await client.get(f"{API}/me", headers=bearer(tokens))).json()
    assert me["phone"] == PHONE and me["memberships"] == [] and me["is_platform_admin"] is False
    assert await count(Person) == 1


async def test_signing_in_again_is_the_same_person(client):
    first = await sign_in(client, PHONE)
    await execute(update(OtpCode).values(created_at=clock.now() - timedelta(minutes=2)))
    second = await sign_in(client, PHONE)
    me1 = (await client.get(f"{API}/me", headers=bearer(first))).json()
    me2 = (await client.get(f"{API}/me", headers=bearer(second))).json()
    assert me1["id"] == me2["id"]
    assert await count(Person) == 1


async def test_phone_may_be_written_with_spaces_dashes_or_plus86(client):
    r = await request_code(client, "+86 138-0000-0001")
    assert r.status_code == 202, r.text
    assert memory_outbox().last_code(PHONE)


async def test_expired_code_is_refused(client):
    await request_code(client, PHONE)
    code = last_code(PHONE)
    await execute(update(OtpCode).where(OtpCode.phone == PHONE).values(expires_at=clock.now() - timedelta(seconds=1)))
    body = assert_problem(await token(client, PHONE, code), 401, "otp_expired")
    assert "过期" in body["detail"]
    assert await count(Person) == 0 and await count(RefreshToken) == 0


async def test_a_code_works_once(client):
    await request_code(client, PHONE)
    code = last_code(PHONE)
    assert (await token(client, PHONE, code)).status_code == 200
    assert_problem(await token(client, PHONE, code), 401, "otp_invalid")
    assert await count(RefreshToken) == 1


async def test_a_code_for_a_phone_that_asked_for_none_is_refused(client):
    assert_problem(await token(client, PHONE, "123456"), 401, "otp_invalid")
    assert await count(Person) == 0


async def test_only_the_newest_code_works(client):
    await request_code(client, PHONE)
    old = last_code(PHONE)
    await execute(update(OtpCode).values(created_at=clock.now() - timedelta(minutes=2)))
    await request_code(client, PHONE)
    new = last_code(PHONE)
    if old != new:
        assert_problem(await token(client, PHONE, old), 401)
    assert (await token(client, PHONE, new)).status_code == 200


async def test_wrong_code_says_how_many_tries_are_left(client):
    await request_code(client, PHONE)
    code = last_code(PHONE)
    body = assert_problem(await token(client, PHONE, wrong(code)), 401, "otp_wrong")
    assert "4" in body["detail"]
    body = assert_problem(await token(client, PHONE, wrong(code), headers=EN), 401, "otp_wrong")
    assert body["detail"] == "Wrong code; 3 tries left."
    assert (await token(client, PHONE, code)).status_code == 200


async def test_fifth_wrong_code_spends_the_code_and_a_new_one_works(client):
    """Five wrong guesses end that code, not the phone: its owner asks for another."""
    await request_code(client, PHONE)
    code = last_code(PHONE)
    for left in (4, 3, 2, 1):
        body = assert_problem(await token(client, PHONE, wrong(code)), 401, "otp_wrong")
        assert str(left) in body["detail"]
    body = assert_problem(await token(client, PHONE, wrong(code)), 401, "otp_exhausted")
    assert "重新获取" in body["detail"]
    body = assert_problem(await token(client, PHONE, code, headers=EN), 401, "otp_exhausted")
    assert body["detail"] == "Too many wrong tries for this code; ask for a new one."
    assert await count(Person) == 0 and await count(RefreshToken) == 0

    await shift(OtpCode, -timedelta(seconds=61))  # past the resend throttle
    await sign_in(client, PHONE)


async def test_right_code_resets_the_count_of_wrong_ones(client):
    await request_code(client, PHONE)
    code = last_code(PHONE)
    for _ in range(4):
        await token(client, PHONE, wrong(code))
    assert await count(SignInFailure) == 4
    assert (await token(client, PHONE, code)).status_code == 200
    assert await count(SignInFailure) == 0  # the owner's own slips no longer count
    await execute(update(OtpCode).values(created_at=clock.now() - timedelta(minutes=2)))
    await request_code(client, PHONE)
    body = assert_problem(await token(client, PHONE, wrong(last_code(PHONE))), 401, "otp_wrong")
    assert "4" in body["detail"]


async def test_parallel_guesses_cannot_exceed_five(client):
    await request_code(client, PHONE)
    code = last_code(PHONE)
    guesses = {f"{n:06d}" for n in range(20)} - {code}
    answers = await asyncio_gather([token(client, PHONE, g) for g in sorted(guesses)[:12]])
    assert sorted(r.json()["code"] for r in answers) == ["otp_exhausted"] * 8 + ["otp_wrong"] * 4
    assert_problem(await token(client, PHONE, code), 401, "otp_exhausted")
    stored = await fetch_one(select(OtpCode))
    assert (stored.attempts, stored.foreign_attempts) == (5, 0)
    assert await fetch_one(select(func.sum(SignInFailure.weight))) == 5


async def test_two_parallel_uses_of_the_right_code_sign_in_once(client):
    await request_code(client, PHONE)
    code = last_code(PHONE)
    answers = await asyncio_gather([token(client, PHONE, code) for _ in range(5)])
    assert sorted(r.status_code for r in answers) == [200] + [401] * 4
    assert await count(RefreshToken) == 1


async def asyncio_gather(coros: list) -> list[httpx.Response]:  # type: ignore[type-arg]
    import asyncio

    return list(await asyncio.gather(*coros))


# --- throttles ---

async def test_second_request_within_a_minute_is_throttled(client):
    assert (await request_code(client, PHONE)).status_code == 202
    r = await request_code(client, PHONE)
    body = assert_problem(r, 429, "otp_resend_too_soon")
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert r.headers["Retry-After"] in body["detail"]
    assert len(memory_outbox().outbox) == 1
    assert await count(OtpCode) == 1
    # The first code still works: a throttled resend changes nothing.
    assert (await token(client, PHONE, last_code(PHONE))).status_code == 200


async def test_resend_throttle_is_per_phone(client):
    assert (await request_code(client, PHONE)).status_code == 202
    assert (await request_code(client, "13800000002")).status_code == 202


async def test_resend_throttle_is_per_address(app, client):
    """A stranger asking for a code for the owner's phone does not make the owner wait."""
    assert (await request_code(client, PHONE)).status_code == 202
    async with client_at(app, "198.51.100.20") as owner:
        assert (await request_code(owner, PHONE)).status_code == 202
        # The stranger's code did not spend the owner's, nor the other way round.
        owners = last_code(PHONE)
        assert (await token(owner, PHONE, owners)).status_code == 200


async def test_resend_is_allowed_after_a_minute(client):
    await request_code(client, PHONE)
    await execute(update(OtpCode).values(created_at=clock.now() - timedelta(seconds=61)))
    assert (await request_code(client, PHONE)).status_code == 202


async def test_a_phone_gets_a_limited_number_of_codes_an_hour(client):
    with settings_changed(otp_per_phone_hour=3):
        for _ in range(3):
            assert (await request_code(client, PHONE)).status_code == 202
            await shift(OtpCode, -timedelta(seconds=61))
        r = await request_code(client, PHONE, headers=EN)
        body = assert_problem(r, 429, "otp_phone_hourly")
        # Until the oldest of the three is an hour old (they were moved 3 × 61 s into the past).
        assert 3600 - 3 * 61 - 5 <= int(r.headers["Retry-After"]) <= 3600 - 3 * 61 + 1
        assert body["detail"] == "Too many codes for this number in the last hour; try again in 57 minutes."
        body = assert_problem(await request_code(client, PHONE), 429, "otp_phone_hourly")
        assert "57 分钟" in body["detail"]
        assert await count(OtpCode) == 3
        # An hour later it may ask again.
        await shift(OtpCode, -timedelta(hours=1))
        assert (await request_code(client, PHONE)).status_code == 202


async def test_codes_a_stranger_asks_for_do_not_use_up_the_owners(app, client):
    """The hourly number of codes counts per asking address: a stranger who used theirs up for
    the owner's phone leaves the owner's own untouched."""
    with settings_changed(otp_per_phone_hour=3):
        for _ in range(3):
            assert (await request_code(client, PHONE)).status_code == 202
            await shift(OtpCode, -timedelta(seconds=61))
        assert_problem(await request_code(client, PHONE), 429, "otp_phone_hourly")
        async with client_at(app, "198.51.100.20") as owner:
            assert (await request_code(owner, PHONE)).status_code == 202
            assert (await token(owner, PHONE, last_code(PHONE))).status_code == 200


async def test_one_network_gets_a_limited_number_of_codes_an_hour(app, client):
    with settings_changed(otp_per_ip_hour=3):
        for n in range(3):
            assert (await request_code(client, f"1380000010{n}")).status_code == 202
        r = await request_code(client, "13800000109", headers=EN)
        body = assert_problem(r, 429, "otp_ip_hourly")
        assert 3595 <= int(r.headers["Retry-After"]) <= 3601
        assert body["detail"] == "Too many codes from this network in the last hour; try again in 60 minutes."
        assert await count(OtpCode) == 3
        assert memory_outbox().last_code("13800000109") is None
        # Another network is not affected.
        other = httpx.ASGITransport(app=app, client=("198.51.100.20", 40000))
        async with httpx.AsyncClient(transport=other, base_url="http://testserver") as elsewhere:
            assert (await request_code(elsewhere, "13800000109")).status_code == 202


async def test_parallel_requests_for_one_phone_send_one_code(client):
    answers = await asyncio_gather([request_code(client, PHONE) for _ in range(8)])
    assert sorted(r.status_code for r in answers) == [202] + [429] * 7
    assert len(memory_outbox().outbox) == 1
    assert await count(OtpCode) == 1


# --- bad input ---

@pytest.mark.parametrize("phone", ["1380000000a", "abcdefghijk", "1380000000", "138000000011", "", "   ",
                                   "23800000001", "12800000001", "+1 2025550123"])
async def test_malformed_phone_is_a_translated_422(client, phone):
    r = await request_code(client, phone)
    body = assert_problem(r, 422, "invalid")
    assert body["errors"][0]["loc"] == ["body", "phone"]
    assert body["errors"][0]["msg"] == "请输入 11 位手机号"
    r = await request_code(client, phone, headers=EN)
    body = assert_problem(r, 422, "invalid")
    assert body["errors"][0]["msg"] == "Enter an 11-digit mobile number"
    assert await count(OtpCode) == 0 and not memory_outbox().outbox


@pytest.mark.parametrize(("payload", "loc", "kind"), [
    ({}, ["body", "phone"], "missing"),
    ({"phone": PHONE, "name": "x"}, ["body", "name"], "extra_forbidden"),
    ({"phone": 13800000001}, ["body", "phone"], "string_type"),
    ({"phone": None}, ["body", "phone"], "string_type"),
    ([PHONE], ["body"], "model_attributes_type"),
])
async def test_otp_request_with_wrong_shape_is_a_422(client, payload, loc, kind):
    for headers, lang_check in ((None, "\u4e00"), (EN, None)):
        r = await client.post(f"{API}/auth/otp", json=payload, headers=headers)
        body = assert_problem(r, 422, "invalid")
        err = body["errors"][0]
        assert err["loc"] == loc and err["type"] == kind, body
        assert err["msg"]
        has_chinese = any("\u4e00" <= ch <= "\u9fff" for ch in err["msg"])
        assert has_chinese == (lang_check is not None), err
    assert await count(OtpCode) == 0


async def test_otp_request_that_is_not_json_is_a_422(client):
    r = await client.post(f"{API}/auth/otp", content=b"phone=13800000001",
                          headers={"Content-Type": "application/json", **EN})
    body = assert_problem(r, 422, "invalid")
    assert body["errors"][0]["msg"] == "Not valid JSON"
    assert await count(OtpCode) == 0


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", "", "12 456"])
async def test_malformed_code_is_a_422_and_counts_for_nothing(client, code):
    await request_code(client, PHONE)
    body = assert_problem(await token(client, PHONE, code), 422, "invalid")
    assert body["errors"][0]["loc"] == ["body", "code"]
    assert await count(SignInFailure) == 0
    assert (await token(client, PHONE, last_code(PHONE))).status_code == 200


async def test_token_request_without_credentials_is_a_422(client):
    body = assert_problem(await client.post(f"{API}/auth/token", json={"phone": PHONE}), 422,
                          "credentials_required")
    assert "验证码" in body["detail"]
    body = assert_problem(await client.post(f"{API}/auth/token", json={}, headers=EN), 422, "credentials_required")
    assert "password" in body["detail"]
