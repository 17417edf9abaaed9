"""Importing a household roster 住户花名册 from CSV (UTF-8 or GBK) or XLSX: all or nothing."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from app.communities.models import Building, Household, Membership, RosterEntry
from app.core.audit import AuditEntry
from app.core.i18n import t
from tests import factories as f
from tests.accounts.support import API, count, fetch_all, fetch_one
from tests.factories import assert_problem

HEADER = "姓名,手机号,楼栋,单元,房号,面积,业主"
GOOD = f"""{HEADER}
陈大明,13800000001,3栋,1单元,302,89.50,是
陈小红,13800000002,3栋,1单元,302,,否
李四,13800000003,5栋,,101,120,是
王五,13800000004,一组,,12号,210.5,是
"""


@pytest.fixture
async def place(session):
    c = await f.community(session)
    boss = await f.member(session, c, "committee", name="书记")
    return c, boss


async def upload(client, c, who, content: bytes, filename: str = "roster.csv", lang: str = "zh-CN",
                 content_type: str = "text/csv"):
    return await client.post(f"{API}/communities/{c.id}/households/import",
                             files={"file": (filename, content, content_type)}, headers=f.auth(who, lang))


async def snapshot() -> tuple[int, int, int]:
    return await count(Building), await count(Household), await count(RosterEntry)


def xlsx(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


async def test_good_utf8_csv_imports_households_with_areas_and_roster(client, place):
    c, boss = place
    r = await upload(client, c, boss, GOOD.encode("utf-8"))
    assert r.status_code == 200, r.text
    assert r.json() == {"households_created": 3, "households_updated": 0, "residents": 4, "members_linked": 0}
    households = {(h.unit, h.room): h for h in await fetch_all(select(Household))}
    assert households[("1单元", "302")].owner_area_m2 == Decimal("89.50")
    assert households[("", "101")].owner_area_m2 == Decimal("120.00")
    assert households[("", "12号")].owner_area_m2 == Decimal("210.50")
    buildings = {b.name: b.kind for b in await fetch_all(select(Building))}
    assert buildings == {"3栋": "building", "5栋": "building", "一组": "village_group"}
    roster = {e.phone: (e.name, e.is_owner) for e in await fetch_all(select(RosterEntry))}
    assert roster == {"13800000001": ("陈大明", True), "13800000002": ("陈小红", False),
                      "13800000003": ("李四", True), "13800000004": ("王五", True)}
    entry = await fetch_one(select(AuditEntry).where(AuditEntry.action == "roster.import"))
    assert entry.actor_id == boss.id and entry.after["residents"] == 4


async def test_csv_saved_by_excel_with_a_bom_imports(client, place):
    c, boss = place
    r = await upload(client, c, boss, GOOD.encode("utf-8-sig"))
    assert r.status_code == 200 and r.json()["residents"] == 4


async def test_gbk_csv_imports(client, place):
    c, boss = place
    r = await upload(client, c, boss, GOOD.encode("gbk"))
    assert r.status_code == 200, r.text
    assert r.json()["households_created"] == 3
    names = {e.name for e in await fetch_all(select(RosterEntry))}
    assert "陈大明" in names


async def test_english_headers_are_understood(client, place):
    c, boss = place
    content = "name,phone,building,room,area,owner\nAnna,13800000001,B1,101,80,yes\n"
    r = await upload(client, c, boss, content.encode())
    assert r.status_code == 200 and r.json()["residents"] == 1


async def test_good_xlsx_imports(client, place):
    c, boss = place
    content = xlsx([["姓名", "手机号", "楼栋", "单元", "房号", "面积", "业主"],
                    ["陈大明", 13800000001, "3栋", "1单元", 302, 89.5, "是"],
                    ["李四", "13800000003", "5栋", None, "101", 120, "否"]])
    r = await upload(client, c, boss, content, "花名册.xlsx",
                     content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert r.status_code == 200, r.text
    assert r.json()["households_created"] == 2
    h = await fetch_one(select(Household).where(Household.room == "302"))
    assert h.owner_area_m2 == Decimal("89.50")
    assert {e.phone for e in await fetch_all(select(RosterEntry))} == {"13800000001", "13800000003"}


async def test_a_file_with_bad_rows_imports_nothing_and_lists_every_bad_row(client, place):
    c, boss = place
    await client.post(f"{API}/communities/{c.id}/grids", json={"name": "东区"}, headers=f.auth(boss))
    before = await snapshot()
    content = f"""{HEADER}
陈大明,13800000001,3栋,1单元,302,89.50,是
坏电话,1380000000x,3栋,1单元,303,80,是
没房号,13800000005,3栋,1单元,,80,是
坏面积,13800000006,3栋,1单元,305,八十,是
重复,13800000001,3栋,1单元,306,80,否
坏业主,13800000007,3栋,1单元,307,80,也许
"""
    r = await upload(client, c, boss, content.encode())
    body = assert_problem(r, 422, "roster_rejected")
    assert "5" in body["detail"]
    got = {(e["line"], e["loc"][-1]): e["msg"] for e in body["errors"]}
    assert got == {
        (3, "phone"): "手机号“1380000000x”不正确",
        (4, "room"): "缺少房号",
        (5, "area"): "面积应为数字（平方米）",
        (6, "phone"): "手机号与第 2 行重复",
        (7, "owner"): "“是否业主”应填 是 或 否（当前：也许）",
    }
    assert all(e["loc"][:2] == ["file", e["line"]] for e in body["errors"])
    assert await snapshot() == before


async def test_bad_rows_are_explained_in_english_on_request(client, place):
    c, boss = place
    content = f"{HEADER}\n坏电话,12345,3栋,1单元,303,80,是\n"
    body = assert_problem(await upload(client, c, boss, content.encode(), lang="en"), 422, "roster_rejected")
    assert body["errors"][0]["msg"] == 'Phone "12345" is not valid'
    assert body["detail"].startswith("1 rows of the roster are wrong")
    assert await snapshot() == (0, 0, 0)


async def test_missing_required_column_is_named(client, place):
    c, boss = place
    body = assert_problem(await upload(client, c, boss, "姓名,手机号,楼栋\n陈,13800000001,3栋\n".encode()), 422,
                          "roster_rejected")
    assert [(e["loc"], e["msg"]) for e in body["errors"]] == [(["file", 1, "room"], "缺少必需的列“房号/room”")]
    assert await snapshot() == (0, 0, 0)


@pytest.mark.parametrize(("content", "filename", "reason"), [
    (b"", "roster.csv", "表格是空的"),
    (f"{HEADER}\n".encode(), "roster.csv", "表格是空的"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "photo.png", "不是 CSV 或 XLSX 表格"),
    (b"PK\x03\x04 not really a zip", "roster.xlsx", "不是 CSV 或 XLSX 表格"),
    (bytes(range(256)) * 4, "roster.xlsx", "不是 CSV 或 XLSX 表格"),
    (f"{HEADER}\n张\x00三,13900000099,1栋,1,101,80,是\n".replace(",", "\t").encode("utf-16"), "roster.txt",
     "不是 CSV 或 XLSX 表格"),  # Excel's "Unicode text", with a NUL that PostgreSQL could not store
])
async def test_unreadable_files_are_a_422(client, place, content, filename, reason):
    c, boss = place
    body = assert_problem(await upload(client, c, boss, content, filename), 422, "roster_unreadable")
    assert body["errors"] == [{"loc": ["file"], "msg": reason}]
    assert await snapshot() == (0, 0, 0)


async def test_a_zip_that_is_not_a_workbook_is_a_422(client, place):
    import zipfile

    c, boss = place
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "hello")
    assert_problem(await upload(client, c, boss, buf.getvalue(), "roster.xlsx"), 422, "roster_unreadable")


async def test_a_file_over_five_megabytes_is_413(client, place):
    c, boss = place
    content = (GOOD + "x" * (5 * 1024 * 1024)).encode()
    body = assert_problem(await upload(client, c, boss, content), 413, "file_too_large")
    assert "5" in body["detail"]
    assert await snapshot() == (0, 0, 0)


async def test_import_without_a_file_is_a_422(client, place):
    c, boss = place
    body = assert_problem(await client.post(f"{API}/communities/{c.id}/households/import", headers=f.auth(boss)),
                          422, "invalid")
    assert body["errors"][0]["loc"] == ["body", "file"]


@pytest.mark.parametrize("roles", [(), ("grid_worker",), ("building_leader",), ("owner",)])
async def test_only_the_committee_imports(client, session, place, roles):
    c, _ = place
    who = await f.member(session, c, *roles)
    assert_problem(await upload(client, c, who, GOOD.encode()), 403, "forbidden_role")
    assert await snapshot() == (0, 0, 0)


async def test_an_outsider_cannot_import_into_a_community(client, session, place):
    c, _ = place
    outsider = await f.member(session, await f.community(session, "别的社区"), "committee")
    assert_problem(await upload(client, c, outsider, GOOD.encode()), 404, "community_not_found")
    assert await snapshot() == (0, 0, 0)


async def test_importing_again_updates_instead_of_duplicating(client, place):
    c, boss = place
    assert (await upload(client, c, boss, GOOD.encode())).status_code == 200
    changed = f"""{HEADER}
陈大明,13800000001,3栋,1单元,302,92.00,是
李四新,13800000003,5栋,,101,120,是
"""
    r = await upload(client, c, boss, changed.encode())
    assert r.json() == {"households_created": 0, "households_updated": 2, "residents": 2, "members_linked": 0}
    assert await count(Household) == 3 and await count(Building) == 3
    h = await fetch_one(select(Household).where(Household.room == "302"))
    assert h.owner_area_m2 == Decimal("92.00")
    # The roster of each household in the file is replaced; others stay.
    roster = {e.phone: e.name for e in await fetch_all(select(RosterEntry))}
    assert roster == {"13800000001": "陈大明", "13800000003": "李四新", "13800000004": "王五"}


async def test_a_person_who_moved_is_listed_only_at_the_new_address(client, place):
    c, boss = place
    await upload(client, c, boss, GOOD.encode())
    await upload(client, c, boss, f"{HEADER}\n王五,13800000004,5栋,,102,90,是\n".encode())
    entries = await fetch_all(select(RosterEntry).where(RosterEntry.phone == "13800000004"))
    assert len(entries) == 1
    h = await fetch_one(select(Household).where(Household.id == entries[0].household_id))
    assert h.room == "102"


async def test_members_who_already_joined_are_linked_to_their_household(client, session, place):
    c, boss = place
    joined = await f.member(session, c, name="陈大明", phone="13800000001")
    r = await upload(client, c, boss, GOOD.encode())
    assert r.json()["members_linked"] == 1
    m = await fetch_one(select(Membership).where(Membership.person_id == joined.id))
    h = await fetch_one(select(Household).where(Household.room == "302"))
    assert (m.household_id, m.building_id, m.roles) == (h.id, h.building_id, ["owner", "resident"])


async def test_a_phone_on_an_imported_roster_joins_at_once(client, session, place):
    c, boss = place
    await upload(client, c, boss, GOOD.encode())
    invite = (await client.post(f"{API}/communities/{c.id}/invites", json={}, headers=f.auth(boss))).json()
    newcomer = await f.person(session, name="", phone="13800000003")
    r = await client.post(f"{API}/join", json={"code": invite["code"]}, headers=f.auth(newcomer))
    assert r.json()["status"] == "member"
    m = await fetch_one(select(Membership).where(Membership.person_id == newcomer.id))
    h = await fetch_one(select(Household).where(Household.room == "101"))
    assert (m.household_id, m.roles) == (h.id, ["owner", "resident"])


async def test_import_messages_in_english(client, place):
    c, boss = place
    body = assert_problem(await upload(client, c, boss, b"", lang="en"), 422, "roster_unreadable")
    assert body["errors"][0]["msg"] == "The table is empty"
    assert body["detail"] == "The roster file could not be read."
    body = assert_problem(await upload(client, c, boss, b"x" * (5 * 1024 * 1024 + 1), lang="en"), 413)
    assert body["detail"] == "The file is too large (at most 5 MB)."


async def test_excel_unicode_text_imports(client, place):
    c, boss = place
    content = GOOD.replace(",", "\t").encode("utf-16")
    r = await upload(client, c, boss, content, "roster.txt")
    assert r.status_code == 200, r.text
    assert r.json()["residents"] == 4


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
async def test_an_area_with_three_decimals_refuses_the_row_as_post_households_does(client, place, kind):
    """33.335 is neither 33.33 nor 33.34: rounding it could decide an owners' vote (66.66 or 66.67 of 100)."""
    c, boss = place
    rows = [["姓名", "手机号", "楼栋", "单元", "房号", "面积", "业主"],
            ["陈大明", "13800000001", "3栋", "1单元", "301", "89.50", "是"],
            ["李四", "13800000003", "3栋", "1单元", "302", 33.335 if kind == "xlsx" else "33.335", "是"]]
    if kind == "xlsx":
        r = await upload(client, c, boss, xlsx(rows), "花名册.xlsx", lang="en",
                         content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    else:
        r = await upload(client, c, boss, "\n".join(",".join(row) for row in rows).encode(), lang="en")
    body = assert_problem(r, 422, "roster_rejected")
    assert [(e["line"], e["loc"]) for e in body["errors"]] == [(3, ["file", 3, "area"])]
    same = await client.post(f"{API}/communities/{c.id}/households", headers=f.auth(boss, "en"),
                             json={"room": "302", "owner_area_m2": 33.335})
    refused = assert_problem(same, 422, "invalid")["errors"]
    assert [e["loc"] for e in refused] == [["body", "owner_area_m2"]]
    assert body["errors"][0]["msg"] == refused[0]["msg"] == t("validation.area_too_precise", "en")
    assert await snapshot() == (0, 0, 0)
