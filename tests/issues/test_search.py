"""Full-text search that works for Chinese: substrings of 1, 2 and 3+ characters, on SQLite
(FTS5 trigram) and PostgreSQL (pg_trgm), with the other filters, sorts and pagination."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from tests import factories as f
from tests.conftest import IS_PG
from tests.issues.support import Place, place, report


async def search(client: Any, p: Place, who: Any, **params: Any) -> list[dict[str, Any]]:
    r = await client.get(f"/api/v1/communities/{p.c.id}/issues", headers=f.auth(who), params=params)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def titles(items: list[dict[str, Any]]) -> list[str]:
    return [i["title"] for i in items]


@pytest.mark.parametrize("q", ["灯", "路灯", "路灯不", "3栋路灯不亮", "老人走路"])
async def test_chinese_queries_of_any_length_find_the_issue(client, session, q):
    p = await place(client, session)
    await report(client, p)  # 3栋路灯不亮 / 晚上很黑，老人走路不方便
    await report(client, p, title="垃圾桶满了", description="小区东门")
    assert titles(await search(client, p, p.resident, q=q)) == ["3栋路灯不亮"]


async def test_search_reads_the_description_and_ignores_latin_case(client, session):
    p = await place(client, session)
    await report(client, p, title="电梯故障", description="Elevator stuck at B2")
    assert titles(await search(client, p, p.resident, q="elevator")) == ["电梯故障"]
    assert titles(await search(client, p, p.resident, q="B2")) == ["电梯故障"]
    assert await search(client, p, p.resident, q="扶梯") == []


async def test_like_wildcards_in_a_query_are_plain_characters(client, session):
    p = await place(client, session)
    await report(client, p, title="100%不亮")
    await report(client, p, title="路灯a_b坏了")
    assert titles(await search(client, p, p.resident, q="%")) == ["100%不亮"]
    assert titles(await search(client, p, p.resident, q="a_b")) == ["路灯a_b坏了"]
    assert await search(client, p, p.resident, q='"') == []


async def test_edited_and_deleted_issues_leave_the_index(client, session):
    p = await place(client, session)
    issue = await report(client, p, title="井盖丢失")
    await session.execute(text("UPDATE issues SET title = '井盖已补' WHERE id = :id"), {"id": issue["id"]})
    await session.commit()
    assert await search(client, p, p.resident, q="井盖丢失") == []
    assert titles(await search(client, p, p.resident, q="井盖已补")) == ["井盖已补"]
    await session.execute(text("DELETE FROM issues WHERE id = :id"), {"id": issue["id"]})
    await session.commit()
    assert await search(client, p, p.resident, q="井盖已补") == []


async def test_staff_only_issues_are_never_found_by_residents(client, session):
    p = await place(client, session)
    await report(client, p, who=p.committee, title="路灯电缆被盗", staff_only=True)
    for q in ("灯", "路灯", "路灯电缆"):
        assert await search(client, p, p.resident, q=q) == []
        assert titles(await search(client, p, p.committee, q=q)) == ["路灯电缆被盗"]


async def test_search_stays_inside_the_community(client, session):
    p = await place(client, session)
    q = await place(client, session, name="隔壁社区")
    await report(client, q, title="隔壁路灯不亮")
    assert await search(client, p, p.committee, q="路灯不亮") == []


async def test_search_combines_with_filters_sort_and_cursor(client, session):
    p = await place(client, session)
    cats = (await client.get(f"/api/v1/communities/{p.c.id}/categories", headers=f.auth(p.committee))).json()
    roads = next(c["id"] for c in cats if c["name"] == "道路")
    ids = [(await report(client, p, title=f"{n}号楼路灯不亮"))["id"] for n in range(1, 6)]
    await report(client, p, title="路灯杆歪了", category_id=roads)
    await report(client, p, title="楼道很黑")
    for n, who in enumerate((p.neighbour, p.committee, p.grid_worker)):
        for issue_id in ids[: n + 1]:
            r = await client.post(f"/api/v1/communities/{p.c.id}/issues/{issue_id}/support", headers=f.auth(who))
            assert r.status_code == 200
    got: list[str] = []
    cursor = None
    while True:
        params = {"q": "路灯不亮", "category_id": p.category_id, "status": "reported", "sort": "-supports",
                  "limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await client.get(f"/api/v1/communities/{p.c.id}/issues", headers=f.auth(p.resident), params=params)
        body = r.json()
        got += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert got[:3] == ids[:3] and sorted(got) == sorted(ids)
    assert titles(await search(client, p, p.resident, q="路灯", category_id=roads)) == ["路灯杆歪了"]
    assert await search(client, p, p.resident, q="路灯", status="closed") == []


async def test_queries_over_50_characters_are_refused(client, session):
    p = await place(client, session)
    r = await client.get(f"/api/v1/communities/{p.c.id}/issues", headers=f.auth(p.resident), params={"q": "灯" * 51})
    assert r.status_code == 422


async def test_the_search_index_exists_after_migrations(session, app):
    if IS_PG:
        rows = await session.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'issues'"))
        assert {"ix_issues_title_trgm", "ix_issues_description_trgm"} <= {r[0] for r in rows}
    else:
        rows = await session.execute(text("SELECT name FROM sqlite_master WHERE tbl_name IN ('issues', 'issues_fts')"
                                          " AND type IN ('trigger', 'table')"))
        # A batch migration that rebuilds "issues" on SQLite drops its triggers: it must make them again.
        assert {"issues_fts", "issues_fts_ai", "issues_fts_ad", "issues_fts_au"} <= {r[0] for r in rows}
