"""Staff may sign in with a username and password (argon2)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.accounts.models import Person, RefreshToken, SignInFailure, SignInLock
from app.core.security import hash_password
from tests import factories as f
from tests.accounts.support import API, EN, bearer, count, fetch_one, shift
from tests.factories import assert_problem


async def staff(session, username: str = "wangwu", password: str = "correct horse battery") -> Person:
    return await f.person(session, name="王五", username=username, password_hash=hash_password(password))


async def password_sign_in(client, username: str, password: str, **kw):
    return await client.post(f"{API}/auth/token", json={"username": username, "password": password}, **kw)


async def test_staff_signs_in_with_username_and_password(client, session):
    p = await staff(session)
    r = await password_sign_in(client, "wangwu", "correct horse battery")
    assert r.status_code == 200, r.text
    me = (await client.get(f"{API}/me", headers=bearer(r.json()))).json()
    assert me["id"] == p.id and me["username"] == "wangwu"


async def test_passwords_are_stored_as_argon2_hashes(client, session):
    await staff(session)
    stored = await fetch_one(select(Person).where(Person.username == "wangwu"))
    assert stored.password_hash.startswith("$argon2")
    assert "correct horse" not in stored.password_hash


async def test_wrong_password_is_401(client, session):
    await staff(session)
    body = assert_problem(await password_sign_in(client, "wangwu", "wrong"), 401, "bad_credentials")
    assert body["detail"] == "用户名或密码不正确。"
    body = assert_problem(await password_sign_in(client, "wangwu", "wrong", headers=EN), 401, "bad_credentials")
    assert "password" in body["detail"].lower()
    assert await count(RefreshToken) == 0


async def test_unknown_username_looks_like_a_wrong_password(client, session):
    await staff(session)
    body = assert_problem(await password_sign_in(client, "nobody", "wrong"), 401, "bad_credentials")
    assert body["code"] == "bad_credentials"


async def test_a_person_without_a_password_cannot_use_one(client, session):
    await f.person(session, username="nopass")
    assert_problem(await password_sign_in(client, "nopass", ""), 422)
    assert_problem(await password_sign_in(client, "nopass", "anything"), 401, "bad_credentials")


async def test_fifth_wrong_password_makes_that_address_wait(client, session):
    await staff(session)
    for _ in range(4):
        assert_problem(await password_sign_in(client, "wangwu", "wrong"), 401, "bad_credentials")
    r = await password_sign_in(client, "wangwu", "wrong")
    assert_problem(r, 429, "sign_in_locked")
    assert int(r.headers["Retry-After"]) > 14 * 60
    # Even the right password waits out the fifteen minutes at this address.
    assert_problem(await password_sign_in(client, "wangwu", "correct horse battery"), 429, "sign_in_locked")
    assert await count(RefreshToken) == 0

    await shift(SignInFailure, -timedelta(minutes=15))
    assert (await password_sign_in(client, "wangwu", "correct horse battery")).status_code == 200


async def test_password_lock_does_not_lock_the_phone(client, session):
    p = await staff(session)
    for _ in range(5):
        await password_sign_in(client, "wangwu", "wrong")
    r = await client.post(f"{API}/auth/otp", json={"phone": p.phone})
    assert r.status_code == 202


async def test_right_password_resets_the_wrong_count(client, session):
    await staff(session)
    for _ in range(4):
        await password_sign_in(client, "wangwu", "wrong")
    assert (await password_sign_in(client, "wangwu", "correct horse battery")).status_code == 200
    for _ in range(4):
        assert_problem(await password_sign_in(client, "wangwu", "wrong"), 401)
    assert (await password_sign_in(client, "wangwu", "correct horse battery")).status_code == 200


async def test_over_long_password_is_a_422(client, session):
    await staff(session)
    body = assert_problem(await password_sign_in(client, "wangwu", "x" * 201), 422, "invalid")
    assert body["errors"][0]["loc"] == ["body", "password"]
    assert await count(SignInLock) == 0 and await count(SignInFailure) == 0
