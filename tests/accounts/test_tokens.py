"""Access tokens, refresh-token rotation with family revocation, logout and signing out everywhere."""

from __future__ import annotations

import asyncio
import base64
import json
import time

from jose import jwt
from sqlalchemy import select

from app.accounts.models import RefreshToken
from app.core.config import get_settings
from app.core.security import create_access_token
from tests import factories as f
from tests.accounts.support import API, EN, bearer, count, fetch_all, shift, sign_in
from tests.factories import assert_problem

PHONE = "13800000001"


async def refresh(client, token: str, **kw):
    return await client.post(f"{API}/auth/refresh", json={"refresh_token": token}, **kw)


async def second_sign_in(client, phone: str = PHONE) -> dict:
    from datetime import timedelta

    from app.accounts.models import OtpCode

    await shift(OtpCode, -timedelta(minutes=2))  # past the resend throttle
    return await sign_in(client, phone)


# --- access tokens ---

async def test_me_without_a_token_is_401(client):
    r = await client.get(f"{API}/me")
    body = assert_problem(r, 401, "token_missing")
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert body["detail"] == "请先登录。"


async def test_other_auth_schemes_count_as_no_token(client):
    assert_problem(await client.get(f"{API}/me", headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401,
                   "token_missing")


async def test_expired_token_is_401(client, session):
    p = await f.person(session)
    token, _ = create_access_token(p.id, minutes=-1)
    body = assert_problem(await client.get(f"{API}/me", headers=bearer(token, "en")), 401, "token_expired")
    assert "expired" in body["detail"]


async def test_a_remembered_token_still_expires(client, session):
    """A token once checked is remembered (app/core/security.py), but only until its "exp"."""
    p = await f.person(session)
    now = int(time.time())
    token = jwt.encode({"sub": p.id, "iat": now, "iat_ms": now * 1000, "exp": now + 2, "typ": "access"},
                       get_settings().secret_key, algorithm="HS256")
    assert (await client.get(f"{API}/me", headers=bearer(token))).status_code == 200
    assert (await client.get(f"{API}/me", headers=bearer(token))).status_code == 200  # remembered
    await asyncio.sleep(max(0.0, now + 3.05 - time.time()))  # python-jose counts whole seconds
    assert_problem(await client.get(f"{API}/me", headers=bearer(token, "en")), 401, "token_expired")


async def test_token_signed_with_another_key_is_401(client, session):
    p = await f.person(session)
    now = int(time.time())
    forged = jwt.encode({"sub": p.id, "iat": now, "iat_ms": now * 1000, "exp": now + 600, "typ": "access"},
                        "someone-elses-key", algorithm="HS256")
    assert_problem(await client.get(f"{API}/me", headers=bearer(forged)), 401, "token_invalid")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def test_unsigned_alg_none_token_is_401(client, session):
    p = await f.person(session)
    now = int(time.time())
    claims = {"sub": p.id, "iat": now, "iat_ms": now * 1000, "exp": now + 600, "typ": "access"}
    for alg in ("none", "None", "NONE"):
        unsigned = f"{_b64({'alg': alg, 'typ': 'JWT'})}.{_b64(claims)}."
        assert_problem(await client.get(f"{API}/me", headers=bearer(unsigned)), 401, "token_invalid")


async def test_token_with_another_algorithm_is_401(client, session):
    p = await f.person(session)
    now = int(time.time())
    claims = {"sub": p.id, "iat": now, "iat_ms": now * 1000, "exp": now + 600, "typ": "access"}
    hs512 = jwt.encode(claims, get_settings().secret_key, algorithm="HS512")
    assert_problem(await client.get(f"{API}/me", headers=bearer(hs512)), 401, "token_invalid")


async def test_tampered_token_is_401(client, session):
    p = await f.person(session)
    other = await f.person(session, name="别人")
    token, _ = create_access_token(p.id)
    header, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = other.id
    assert_problem(await client.get(f"{API}/me", headers=bearer(f"{header}.{_b64(claims)}.{sig}")), 401,
                   "token_invalid")


async def test_garbage_tokens_are_401(client):
    for garbage in ("garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9..", "Bearer", "x" * 2000):
        assert_problem(await client.get(f"{API}/me", headers=bearer(garbage)), 401, "token_invalid")


async def test_a_refresh_token_is_not_an_access_token(client):
    tokens = await sign_in(client, PHONE)
    assert_problem(await client.get(f"{API}/me", headers=bearer(tokens["refresh_token"])), 401, "token_invalid")


async def test_token_of_a_person_who_no_longer_exists_is_401(client):
    token, _ = create_access_token("01h0000000000000000000000")
    assert_problem(await client.get(f"{API}/me", headers=bearer(token)), 401, "token_revoked")


# --- refresh ---

async def test_refresh_rotates_the_refresh_token(client):
    tokens = await sign_in(client, PHONE)
    r = await refresh(client, tokens["refresh_token"])
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["refresh_token"] != tokens["refresh_token"]
    assert (await client.get(f"{API}/me", headers=bearer(new))).status_code == 200
    assert (await refresh(client, new["refresh_token"])).status_code == 200


async def test_refresh_tokens_are_stored_hashed(client):
    tokens = await sign_in(client, PHONE)
    (stored,) = await fetch_all(select(RefreshToken))
    assert stored.token_hash != tokens["refresh_token"] and len(stored.token_hash) == 64


async def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(client):
    tokens = await sign_in(client, PHONE)
    first = tokens["refresh_token"]
    second = (await refresh(client, first)).json()["refresh_token"]
    third = (await refresh(client, second)).json()["refresh_token"]

    body = assert_problem(await refresh(client, first), 401, "refresh_reused")
    assert "重复使用" in body["detail"]
    # The newest token of the family no longer works either.
    assert_problem(await refresh(client, third), 401, "refresh_invalid")
    assert await count(RefreshToken, RefreshToken.revoked_at.is_(None)) == 0


async def test_reuse_revokes_only_that_family(client):
    phone_tokens = await sign_in(client, PHONE)
    tablet_tokens = await second_sign_in(client)
    rotated = (await refresh(client, phone_tokens["refresh_token"])).json()
    assert_problem(await refresh(client, phone_tokens["refresh_token"]), 401, "refresh_reused")
    assert_problem(await refresh(client, rotated["refresh_token"]), 401, "refresh_invalid")
    assert (await refresh(client, tablet_tokens["refresh_token"])).status_code == 200


async def member_of_a_community(client, session, tokens: dict) -> str:
    """A community route of a community the signed-in person is a resident of."""
    from app.communities.models import Membership

    c = await f.community(session)
    me = (await client.get(f"{API}/me", headers=bearer(tokens))).json()
    session.add(Membership(community_id=c.id, person_id=me["id"], roles=["resident"], verified=True, grid_ids=[]))
    await session.commit()
    return f"{API}/communities/{c.id}/issues"


async def test_reusing_a_rotated_refresh_token_ends_the_familys_access_tokens_at_once(client, session):
    """A thief who refreshed with a stolen token holds a fresh access token too: when the rotated
    token comes back, that access token is refused at once, on /me and in communities, though
    it was checked (and remembered) before."""
    victim = await sign_in(client, PHONE)
    other_device = await second_sign_in(client)
    route = await member_of_a_community(client, session, victim)
    thief = (await refresh(client, victim["refresh_token"])).json()
    for tokens in (victim, thief, other_device):
        assert (await client.get(f"{API}/me", headers=bearer(tokens))).status_code == 200
        assert (await client.get(route, headers=bearer(tokens))).status_code == 200

    assert_problem(await refresh(client, victim["refresh_token"]), 401, "refresh_reused")
    for tokens in (victim, thief):
        body = assert_problem(await client.get(f"{API}/me", headers=bearer(tokens, "en")), 401, "token_revoked")
        assert body["detail"] == "You have signed out; please sign in again."
        assert_problem(await client.get(route, headers=bearer(tokens)), 401, "token_revoked")
    # The person's other device, another family, goes on.
    assert (await client.get(f"{API}/me", headers=bearer(other_device))).status_code == 200
    assert (await client.get(route, headers=bearer(other_device))).status_code == 200
    assert (await refresh(client, other_device["refresh_token"])).status_code == 200


async def test_access_tokens_name_their_family(client):
    tokens = await sign_in(client, PHONE)
    claims = jwt.get_unverified_claims(tokens["access_token"])
    (stored,) = await fetch_all(select(RefreshToken))
    assert claims["fam"] == stored.family_id
    rotated = (await refresh(client, tokens["refresh_token"])).json()
    assert jwt.get_unverified_claims(rotated["access_token"])["fam"] == stored.family_id


async def test_concurrent_refreshes_with_one_token_let_exactly_one_through(client):
    tokens = await sign_in(client, PHONE)
    answers = await asyncio.gather(*[refresh(client, tokens["refresh_token"]) for _ in range(10)])
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] + [401] * 9, [r.text for r in answers]
    for r in answers:
        if r.status_code == 401:
            assert r.json()["code"] in {"refresh_reused", "refresh_invalid"}
    # Nine other uses of one token look like theft: the family, the winner's new token included, is revoked.
    winner = next(r for r in answers if r.status_code == 200).json()
    assert_problem(await refresh(client, winner["refresh_token"]), 401)


async def test_unknown_refresh_token_is_401(client):
    assert_problem(await refresh(client, "not-a-token-we-issued"), 401, "refresh_invalid")


async def test_expired_refresh_token_is_401(client):
    from datetime import timedelta

    tokens = await sign_in(client, PHONE)
    await shift(RefreshToken, -timedelta(days=31), "expires_at")
    assert_problem(await refresh(client, tokens["refresh_token"], headers=EN), 401, "refresh_invalid")


async def test_malformed_refresh_request_is_a_422(client):
    body = assert_problem(await refresh(client, "short"), 422, "invalid")
    assert body["errors"][0]["loc"] == ["body", "refresh_token"]
    body = assert_problem(await client.post(f"{API}/auth/refresh", json={}, headers=EN), 422, "invalid")
    assert body["errors"][0]["msg"] == "Required"


# --- logout ---

async def test_logout_revokes_that_family_only(client):
    phone_tokens = await sign_in(client, PHONE)
    tablet_tokens = await second_sign_in(client)
    r = await client.post(f"{API}/auth/logout", json={"refresh_token": phone_tokens["refresh_token"]},
                          headers=bearer(phone_tokens))
    assert r.status_code == 204
    assert_problem(await refresh(client, phone_tokens["refresh_token"]), 401, "refresh_invalid")
    # The device that signed out keeps no working access token either.
    assert_problem(await client.get(f"{API}/me", headers=bearer(phone_tokens)), 401, "token_revoked")
    assert (await client.get(f"{API}/me", headers=bearer(tablet_tokens))).status_code == 200
    assert (await refresh(client, tablet_tokens["refresh_token"])).status_code == 200


async def test_logout_cannot_revoke_someone_elses_tokens(client):
    mine = await sign_in(client, PHONE)
    theirs = await sign_in(client, "13800000002")
    r = await client.post(f"{API}/auth/logout", json={"refresh_token": theirs["refresh_token"]},
                          headers=bearer(mine))
    assert r.status_code == 204
    assert (await refresh(client, theirs["refresh_token"])).status_code == 200


async def test_logout_needs_a_token(client):
    tokens = await sign_in(client, PHONE)
    assert_problem(await client.post(f"{API}/auth/logout", json={"refresh_token": tokens["refresh_token"]}), 401)
    assert (await refresh(client, tokens["refresh_token"])).status_code == 200


async def test_signing_out_everywhere_kills_every_token(client):
    phone_tokens = await sign_in(client, PHONE)
    tablet_tokens = await second_sign_in(client)
    r = await client.post(f"{API}/auth/logout", json={"everywhere": True}, headers=bearer(phone_tokens))
    assert r.status_code == 204
    for tokens in (phone_tokens, tablet_tokens):
        body = assert_problem(await client.get(f"{API}/me", headers=bearer(tokens)), 401, "token_revoked")
        assert body["detail"]
        assert_problem(await refresh(client, tokens["refresh_token"]), 401, "refresh_invalid")
    assert await count(RefreshToken, RefreshToken.revoked_at.is_(None)) == 0


async def test_signing_out_everywhere_also_closes_community_pages(client, session):
    """Community-scoped routes load the caller with their standing in one statement
    (app/communities/deps.py): a revoked token is refused there too, before anything else."""
    tokens = await sign_in(client, PHONE)
    me = (await client.get(f"{API}/me", headers=bearer(tokens))).json()
    c = await f.community(session)
    from app.communities.models import Membership

    session.add(Membership(community_id=c.id, person_id=me["id"], roles=["resident"], verified=True, grid_ids=[]))
    await session.commit()
    assert (await client.get(f"{API}/communities/{c.id}/issues", headers=bearer(tokens))).status_code == 200
    await client.post(f"{API}/auth/logout", json={"everywhere": True}, headers=bearer(tokens))
    assert_problem(await client.get(f"{API}/communities/{c.id}/issues", headers=bearer(tokens)), 401,
                   "token_revoked")
    assert_problem(await client.get(f"{API}/communities/{c.id}/issues"), 401, "token_missing")


async def test_signing_in_after_signing_out_everywhere_works(client):
    tokens = await sign_in(client, PHONE)
    await client.post(f"{API}/auth/logout", json={"everywhere": True}, headers=bearer(tokens))
    await asyncio.sleep(0.002)  # tokens are compared to the millisecond
    fresh = await second_sign_in(client)
    assert (await client.get(f"{API}/me", headers=bearer(fresh))).status_code == 200
