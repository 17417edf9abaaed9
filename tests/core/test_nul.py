"""The NUL character, refused wherever a request carries it (PostgreSQL cannot hold it: it was a 500)."""

from __future__ import annotations

import pytest

from app.communities.models import Grid
from app.core.idempotency import IdempotencyRecord
from tests import factories as f
from tests.accounts.support import API, count
from tests.factories import assert_problem


@pytest.fixture
async def place(session):
    c = await f.community(session)
    return c, await f.member(session, c, "committee", name="书记")


async def test_nul_in_a_json_body_is_422_naming_the_field_and_changes_nothing(client, place):
    c, boss = place
    r = await client.post(f"{API}/communities/{c.id}/grids", content=b'{"name": "\\u4e1c\\u0000\\u533a"}',
                          headers={**f.auth(boss, "en"), "Content-Type": "application/json",
                                   "Idempotency-Key": "nul-1"})
    body = assert_problem(r, 422, "invalid")
    assert body["errors"] == [{"loc": ["body", "name"], "msg": "Must not contain the NUL character (\\u0000)",
                               "type": "nul_character"}]
    assert await count(Grid) == 0
    assert await count(IdempotencyRecord) == 0


async def test_nul_deep_in_a_body_is_found(client, place):
    _, boss = place
    r = await client.patch(f"{API}/me", json={"name": "张三", "extra": [{"a": "x\x00"}]}, headers=f.auth(boss))
    assert assert_problem(r, 422)["errors"][0]["loc"] == ["body", "extra", 0, "a"]


async def test_nul_in_the_path_or_the_query_is_422_in_the_callers_language(client, place):
    c, boss = place
    r = await client.get(f"{API}/communities/{c.id}/issues/a%00b", headers=f.auth(boss))
    assert assert_problem(r, 422)["errors"] == [{"loc": ["path"], "msg": "不能包含空字符（\\u0000）",
                                                "type": "nul_character"}]
    r = await client.get(f"{API}/communities/{c.id}/issues", params={"q": "路灯\x00"}, headers=f.auth(boss))
    assert assert_problem(r, 422)["errors"][0]["loc"] == ["query", "q"]
    r = await client.get(f"{API}/communities/a%00b", headers=f.auth(boss))
    assert_problem(r, 422)


async def test_text_that_only_looks_like_an_escaped_nul_is_kept(client, place):
    c, boss = place
    r = await client.post(f"{API}/communities/{c.id}/grids", json={"name": "\\u0000 区"}, headers=f.auth(boss))
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "\\u0000 区"
