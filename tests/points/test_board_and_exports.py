"""The honour board 光荣榜 (this month, this year, all time; points or hours; the community or one
grid; a name left out on request) and the committee's books (a month of the ledger and of orders,
as CSV and XLSX)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from openpyxl import load_workbook

from app.core import clock, db
from app.points import service as points
from tests import factories as f
from tests.points import support as s


async def board(client: Any, e: s.Estate, who: Any, query: str = "", lang: str = "zh-CN") -> dict[str, Any]:
    r = await client.get(e.url(f"/points/board{query}"), headers=f.auth(who, lang))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_the_board_ranks_what_people_gained_this_month(client: Any, session: Any) -> None:
    e = await s.estate(session)
    a, b, c, d = e.residents
    await s.bonus(client, e, a, 30)
    await s.bonus(client, e, [b, c], 50)
    await s.bonus(client, e, d, 10)
    await s.bonus(client, e, d, 600, unit="hours")
    # spending does not take anyone off the board: it shows what they gave, not what they hold
    it = await s.item(client, e, price=40)
    assert (await s.redeem(client, e, b, it["id"])).status_code == 201
    month = await board(client, e, a)
    assert [(r["rank"], r["amount"]) for r in month["rows"]] == [(1, 50), (1, 50), (3, 30), (4, 10)]
    assert {r["name"] for r in month["rows"][:2]} == {"赵敏", "王芳"}  # a tie shares its rank
    assert [r["name"] for r in month["rows"][2:]] == ["李明", "孙强"]
    assert month["my_row"]["rank"] == 3 and month["my_row"]["me"] is True
    today = clock.now().astimezone(points.arithmetic.BEIJING)
    assert month["label"] == f"{today.year}年{today.month}月"
    assert month["rows"][2]["amount_text"] == "30 积分"
    hours = await board(client, e, a, "?unit=hours")
    assert [(r["name"], r["amount_text"]) for r in hours["rows"]] == [("孙强", "10 小时")]
    assert hours["my_row"] is None
    year = await board(client, e, a, "?period=year")
    assert [r["amount"] for r in year["rows"]] == [50, 50, 30, 10]
    english = await board(client, e, a, "?period=all", "en")
    assert english["label"] == "All time" and english["rows"][0]["amount_text"] == "50 points"


async def test_the_board_of_a_grid_counts_the_people_who_live_in_it(client: Any, session: Any) -> None:
    e = await s.estate(session)
    a, _, c, d = e.residents  # the first two in the first grid, the others in the second
    await s.bonus(client, e, [a, c], 20)
    await s.bonus(client, e, d, 30)
    first = await board(client, e, c, f"?grid_id={e.grid.id}")
    assert [r["name"] for r in first["rows"]] == ["李明"] and first["my_row"] is None
    second = await board(client, e, c, f"?grid_id={e.other_grid.id}")
    assert [(r["rank"], r["name"]) for r in second["rows"]] == [(1, "孙强"), (2, "王芳")]
    assert second["my_row"]["rank"] == 2


async def test_one_who_opts_out_is_a_neighbour_to_everyone_but_themselves(client: Any, session: Any) -> None:
    e = await s.estate(session)
    await s.bonus(client, e, e.resident, 20)
    r = await client.put(e.url("/points/me/board-visibility"), headers=f.auth(e.resident), json={"show_name": False})
    assert r.status_code == 200 and r.json() == {"show_name": False}
    assert (await s.my_points(client, e, e.resident))["show_name"] is False
    seen = (await board(client, e, e.neighbour))["rows"][0]
    assert (seen["name"], seen["named"], seen["me"]) == ("一位邻居", False, False)
    assert (await board(client, e, e.neighbour, lang="en"))["rows"][0]["name"] == "A neighbour"
    own = (await board(client, e, e.resident))["rows"][0]
    assert (own["name"], own["named"], own["me"]) == ("李明", False, True)
    await client.put(e.url("/points/me/board-visibility"), headers=f.auth(e.resident), json={"show_name": True})
    assert (await board(client, e, e.neighbour))["rows"][0]["name"] == "李明"


async def test_an_earlier_month_is_read_from_its_own_totals(client: Any, session: Any) -> None:
    e = await s.estate(session)
    with clock.fixed_at(datetime(2025, 3, 15, 4, tzinfo=UTC)):
        async with db.sessionmaker()() as w:
            await points.post(w, community_id=e.c.id, person_id=e.resident.id, unit=points.Unit.points,
                              kind=points.Kind.bonus, amount=40, actor_id=None, reason="春季植树")
            await w.commit()
    await s.bonus(client, e, e.neighbour, 5)
    march = await board(client, e, e.neighbour, "?period=month&at=2025-03")
    assert march["label"] == "2025年3月" and [r["amount"] for r in march["rows"]] == [40]
    assert [r["amount"] for r in (await board(client, e, e.neighbour, "?period=year&at=2025"))["rows"]] == [40]
    assert [r["amount"] for r in (await board(client, e, e.neighbour, "?period=all"))["rows"]] == [40, 5]
    assert [r["amount"] for r in (await board(client, e, e.neighbour))["rows"]] == [5]


async def test_the_ledger_of_a_month_exports_as_csv_and_xlsx(client: Any, session: Any) -> None:
    e = await s.estate(session)
    await s.bonus(client, e, e.resident, 30, reason="清扫")
    await s.bonus(client, e, e.resident, 90, unit="hours", reason="陪诊")
    month = clock.now().astimezone(points.arithmetic.BEIJING).strftime("%Y-%m")
    r = await client.get(e.url(f"/points/exports/ledger.csv?month={month}"), headers=f.auth(e.committee))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert f"ledger-{month}.csv" in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["时间", "居民", "类型", "单位", "数额（积分或分钟）"]
    assert [(x[1], x[2], x[4], x[5]) for x in rows[1:]] == [("李明", "奖励", "30", ""), ("李明", "奖励", "90", "1.5")]
    assert rows[1][7] == "社区奖励：清扫"
    r = await client.get(e.url(f"/points/exports/ledger.xlsx?month={month}"), headers=f.auth(e.committee, "en"))
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["Time", "Resident", "Kind"] and values[1][4] == 30 and values[2][5] == 1.5
    empty = await client.get(e.url("/points/exports/ledger.csv?month=2020-01"), headers=f.auth(e.committee))
    assert len(list(csv.reader(io.StringIO(empty.content.decode("utf-8-sig"))))) == 1


async def test_the_orders_of_a_month_export_as_csv_and_xlsx(client: Any, session: Any) -> None:
    e = await s.estate(session)
    await s.bonus(client, e, e.resident, 100)
    it = await s.item(client, e, name="洗洁精", price=12)
    order = (await s.redeem(client, e, e.resident, it["id"], 2)).json()
    await client.post(e.url("/store/pickups"), headers=f.auth(e.committee), json={"code": order["code"]})
    r = await client.get(e.url("/store/orders/export.csv"), headers=f.auth(e.committee))
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["兑换时间", "订单号", "居民", "物品"]
    assert rows[1][1:8] == [order["prefix"], "李明", "洗洁精", "2", "12", "24", "已领取"] and rows[1][9] == "陈主任"
    r = await client.get(e.url("/store/orders/export.xlsx"), headers=f.auth(e.committee))
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert [c.value for c in next(sheet.iter_rows(min_row=2))][6] == 24


def test_a_cell_a_spreadsheet_would_run_is_written_as_text() -> None:
    from app.points.exports import _safe

    assert [_safe(v) for v in ("=1+1", "+86", "-x", "@SUM", "李明", -5, 3)] == ["'=1+1", "'+86", "'-x", "'@SUM",
                                                                              "李明", -5, 3]
