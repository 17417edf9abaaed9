"""A phone retrying POST /join with an Idempotency-Key gets the first answer, and joins once."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from app.communities.models import Invite, JoinRequest
from tests import factories as f
from tests.accounts.support import API, count, fetch_one
from tests.factories import assert_problem


async def setup(client, session, max_uses: int | None = None):
    c = await f.community(session)
    boss = await f.member(session, c, "committee")
    body = {"max_uses": max_uses} if max_uses else {}
    invite = (await client.post(f"{API}/communities/{c.id}/invites", json=body, headers=f.auth(boss))).json()
    return c, invite


async def test_retried_join_replays_the_first_answer_once(client, session):
    _, invite = await setup(client, session)
    newcomer = await f.person(session)
    headers = {**f.auth(newcomer), "Idempotency-Key": "join-1"}
    first = await client.post(f"{API}/join", json={"code": invite["code"], "name": "新住户"}, headers=headers)
    again = await client.post(f"{API}/join", json={"code": invite["code"], "name": "新住户"}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == first.headers["content-type"]
    assert await count(JoinRequest) == 1
    assert (await fetch_one(select(Invite))).uses == 1


async def test_same_key_with_another_body_is_a_422_and_changes_nothing(client, session):
    _, invite = await setup(client, session)
    newcomer = await f.person(session)
    headers = {**f.auth(newcomer), "Idempotency-Key": "join-2"}
    await client.post(f"{API}/join", json={"code": invite["code"]}, headers=headers)
    r = await client.post(f"{API}/join", json={"code": invite["code"], "room": "302"}, headers=headers)
    body = assert_problem(r, 422, "idempotency_key_reused")
    assert "Idempotency-Key" in body["detail"]
    r = await client.post(f"{API}/join", json={"code": invite["code"], "room": "302"},
                          headers={**headers, "Accept-Language": "en"})
    assert "Idempotency-Key" in assert_problem(r, 422, "idempotency_key_reused")["detail"]
    assert await count(JoinRequest) == 1
    assert (await fetch_one(select(JoinRequest))).room == ""


async def test_keys_belong_to_one_person(client, session):
    _, invite = await setup(client, session)
    a, b = await f.person(session, "甲"), await f.person(session, "乙")
    for who in (a, b):
        r = await client.post(f"{API}/join", json={"code": invite["code"]},
                              headers={**f.auth(who), "Idempotency-Key": "same-key"})
        assert r.status_code == 200 and "idempotent-replayed" not in r.headers
    assert await count(JoinRequest) == 2


async def test_a_refused_join_is_replayed_as_refused(client, session):
    _, invite = await setup(client, session, max_uses=1)
    await client.post(f"{API}/join", json={"code": invite["code"]}, headers=f.auth(await f.person(session)))
    late = await f.person(session)
    headers = {**f.auth(late), "Idempotency-Key": "join-late"}
    first = await client.post(f"{API}/join", json={"code": invite["code"]}, headers=headers)
    again = await client.post(f"{API}/join", json={"code": invite["code"]}, headers=headers)
    assert first.status_code == again.status_code == 409
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"].startswith("application/problem+json")


async def test_a_burst_of_retries_joins_once(client, session):
    _, invite = await setup(client, session)
    newcomer = await f.person(session)
    headers = {**f.auth(newcomer), "Idempotency-Key": "burst"}
    answers = await asyncio.gather(*[client.post(f"{API}/join", json={"code": invite["code"]}, headers=headers)
                                     for _ in range(8)])
    assert {r.status_code for r in answers} <= {200, 409}
    assert any(r.status_code == 200 for r in answers)
    assert await count(JoinRequest) == 1
    assert (await fetch_one(select(Invite))).uses == 1
