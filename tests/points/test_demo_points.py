"""The demo compound's store and ledger (app/points/demo.py): a stocked store, orders in every state,
a month of history behind the honour board, one neighbour unnamed, and a ledger that verifies."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app import demo
from app.core import db
from app.points import verify
from app.points.models import Entry, StoreOrder
from tests.test_demo import home_cards, loaded, signed_in


async def test_the_demo_store_and_ledger_live(client: Any, session: Any) -> None:
    result = await loaded(session)
    cid = result.communities[demo.COMPOUND]
    base = f"/api/v1/communities/{cid}"
    committee = await signed_in(client, demo.COMMITTEE.phone)
    items = (await client.get(f"{base}/store/items", headers=committee)).json()["items"]
    assert len(items) == 5 and sum(not i["on_sale"] for i in items) == 1
    assert {i["sponsor_kind"] for i in items if i["sponsor"]} == {"merchant", "organisation"}
    orders = (await client.get(f"{base}/store/orders?limit=100", headers=committee)).json()["items"]
    assert {o["status"] for o in orders} == {"ready", "fulfilled", "cancelled", "expired"}

    owner = await signed_in(client, demo.OWNER.phone)
    card = (await home_cards(client, cid, owner))["store.ready"]
    assert card["count"] == 1 and card["items"][0]["title"] == "保温杯"
    mine = (await client.get(f"{base}/points/me", headers=owner)).json()
    assert mine["balances"]["points"] > 0 and len(mine["entries"]) >= 5
    assert all(e["text"] for e in mine["entries"])

    board = (await client.get(f"{base}/points/board?period=all", headers=owner)).json()
    assert len(board["rows"]) >= 10 and "一位邻居" in [r["name"] for r in board["rows"]]
    hours = (await client.get(f"{base}/points/board?period=all&unit=hours", headers=owner)).json()
    assert hours["rows"] and hours["rows"][0]["amount_text"].endswith("小时")

    report = await verify.verify(db.get_engine())
    assert report.ok, report.lines()
    entries = (await session.execute(select(Entry).order_by(Entry.id))).scalars().all()
    assert [e.created_at for e in entries] == sorted(e.created_at for e in entries)
    assert {e.kind for e in entries} >= {"bonus", "adjusted", "donated", "redeemed", "refunded"}
    assert len((await session.execute(select(StoreOrder))).scalars().all()) == 5
