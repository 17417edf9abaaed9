"""Races real phones produce, as real concurrent HTTP requests on SQLite and PostgreSQL: a crowd at
the last three pieces, one person's hundred taps at once, a cancel tapped twice, two counters typing
one code, a bonus retried with its Idempotency-Key. Exactly once, nothing lost, never below zero."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from sqlalchemy import func, select

from app.points.models import Entry, StoreOrder
from tests import factories as f
from tests.points import support as s


async def test_a_hundred_people_at_the_last_three_pieces_get_three_orders(client: Any, session: Any) -> None:
    e = await s.estate(session)
    crowd = [await f.member(session, e.c, name=f"居民{i}") for i in range(100)]
    await s.bonus(client, e, crowd, 50)
    it = await s.item(client, e, name="最后三袋大米", price=20, stock=3)
    answers = await asyncio.gather(*[s.redeem(client, e, p, it["id"]) for p in crowd])
    codes = Counter(r.status_code for r in answers)
    assert codes == {201: 3, 409: 97}, codes
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"store.sold_out"}
    winners = {r.json()["person_id"] for r in answers if r.status_code == 201}
    stock = (await client.get(e.url(f"/store/items/{it['id']}"), headers=f.auth(e.committee))).json()["stock"]
    assert stock == 0
    for p in crowd:
        assert await s.balance(client, e, p) == ((30 if p.id in winners else 50), 0)
    orders = (await session.execute(select(func.count()).select_from(StoreOrder))).scalar_one()
    assert orders == 3


async def test_a_hundred_spends_at_once_by_one_person_never_go_below_zero(client: Any, session: Any) -> None:
    e = await s.estate(session)
    await s.bonus(client, e, e.resident, 30)
    it = await s.item(client, e, name="一分钱的糖", price=1, stock=1000)
    answers = await asyncio.gather(*[s.redeem(client, e, e.resident, it["id"]) for _ in range(100)])
    codes = Counter(r.status_code for r in answers)
    assert codes == {201: 30, 409: 70}, codes
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"points.insufficient"}
    assert await s.balance(client, e, e.resident) == (0, 0)
    stock = (await client.get(e.url(f"/store/items/{it['id']}"), headers=f.auth(e.committee))).json()["stock"]
    assert stock == 970
    spent = (await session.execute(select(func.sum(Entry.amount)).where(Entry.kind == "redeemed"))).scalar_one()
    assert spent == -30


async def test_a_hundred_adjustments_at_once_never_go_below_zero(client: Any, session: Any) -> None:
    e = await s.estate(session)
    await s.bonus(client, e, e.resident, 50, unit="hours")
    answers = await asyncio.gather(*[
        client.post(e.url("/points/adjustments"), headers=f.auth(e.committee),
                    json={"person_id": e.resident.id, "unit": "hours", "amount": -1, "reason": "更正"})
        for _ in range(100)])
    assert Counter(r.status_code for r in answers) == {201: 50, 409: 50}
    assert await s.balance(client, e, e.resident) == (0, 0)


async def test_a_cancel_tapped_twice_at_once_refunds_once(client: Any, session: Any) -> None:
    e = await s.estate(session)
    await s.bonus(client, e, e.resident, 100)
    it = await s.item(client, e, price=40)
    order = (await s.redeem(client, e, e.resident, it["id"])).json()
    url = e.url(f"/store/orders/{order['id']}/transitions")
    answers = await asyncio.gather(
        *[client.post(url, headers=f.auth(e.resident), json={"action": "cancel"}) for _ in range(10)],
        *[client.post(url, headers=f.auth(e.committee), json={"action": "cancel", "reason": "缺货"})
          for _ in range(10)])
    assert Counter(r.status_code for r in answers) == {200: 1, 409: 19}
    assert await s.balance(client, e, e.resident) == (100, 0)
    refunds = (await session.execute(select(func.count()).select_from(Entry).where(Entry.kind == "refunded")))
    assert refunds.scalar_one() == 1
    stock = (await client.get(e.url(f"/store/items/{it['id']}"), headers=f.auth(e.committee))).json()["stock"]
    assert stock == 5


async def test_a_code_typed_at_two_counters_and_a_cancel_at_once_hand_over_once(client: Any, session: Any) -> None:
    e = await s.estate(session)
    await s.bonus(client, e, e.resident, 100)
    it = await s.item(client, e, price=40)
    order = (await s.redeem(client, e, e.resident, it["id"])).json()
    answers = await asyncio.gather(
        *[client.post(e.url("/store/pickups"), headers=f.auth(e.committee), json={"code": order["code"]})
          for _ in range(10)],
        client.post(e.url(f"/store/orders/{order['id']}/transitions"), headers=f.auth(e.resident),
                    json={"action": "cancel"}))
    ok = [r for r in answers if r.status_code == 200]
    assert len(ok) == 1, [r.text for r in answers]
    final = ok[0].json()["status"]
    assert final in ("fulfilled", "cancelled")
    assert await s.balance(client, e, e.resident) == ((60, 0) if final == "fulfilled" else (100, 0))


async def test_a_bonus_retried_with_its_idempotency_key_is_given_once(client: Any, session: Any) -> None:
    e = await s.estate(session)
    h = {**f.auth(e.committee), "Idempotency-Key": "bonus-2026-12-05-0001"}
    body = {"person_ids": [e.resident.id], "amount": 8, "reason": "议事会"}
    answers = await asyncio.gather(*[client.post(e.url("/points/bonuses"), headers=h, json=body) for _ in range(10)])
    assert {r.status_code for r in answers} <= {201, 409}
    assert await s.balance(client, e, e.resident) == (8, 0)
    again = await client.post(e.url("/points/bonuses"), headers=h, json=body)
    assert again.status_code == 201 and await s.balance(client, e, e.resident) == (8, 0)


async def test_twenty_retries_of_one_tap_with_its_key_make_one_order(client: Any, session: Any) -> None:
    e = await s.estate(session)
    await s.bonus(client, e, e.resident, 100)
    it = await s.item(client, e, price=10, stock=100)
    h = {**f.auth(e.resident), "Idempotency-Key": "tap-1"}
    answers = await asyncio.gather(*[client.post(e.url("/store/orders"), headers=h,
                                                 json={"item_id": it["id"], "quantity": 1}) for _ in range(20)])
    assert {r.status_code for r in answers} <= {201, 409}
    assert await s.balance(client, e, e.resident) == (90, 0)


async def test_everything_at_once_for_two_neighbours_never_deadlocks_nor_miscounts(client: Any, session: Any) -> None:
    from app.core import db
    from app.points import service as points
    from app.points import verify

    e = await s.estate(session)
    a, b = e.resident, e.neighbour
    session.add(points.Rules(community_id=e.c.id, points_per_hour=10, monthly_cap=1000, pickup_days=14))
    await session.commit()
    await s.bonus(client, e, [a, b], 200)
    await s.bonus(client, e, [a, b], 600, unit="hours")
    it = await s.item(client, e, price=5, stock=100, per_person_limit=50)
    orders = [(await s.redeem(client, e, who, it["id"])).json() for who in (a, b, a, b)]

    async def award(who: Any, n: int) -> int:
        async with db.sessionmaker()() as w:
            await points.award_for_claim(w, community_id=e.c.id, person_id=who.id, unit=points.Unit.points,
                                         amount=3, claim_id=f"mix-{who.id}-{n}", title="清扫", actor_id=None)
            await w.commit()
        return 200

    def donate(giver: Any, to: Any) -> Any:
        return client.post(e.url("/points/donations"), headers=f.auth(giver), json={"to_person_id": to.id,
                                                                                      "minutes": 7})

    work = []
    for n in range(8):
        work += [s.redeem(client, e, a, it["id"]), s.redeem(client, e, b, it["id"]), donate(a, b), donate(b, a),
                 award(a, n), award(b, n),
                 client.post(e.url("/points/bonuses"), headers=f.auth(e.committee),
                             json={"person_ids": [a.id, b.id], "amount": 1, "reason": "同时"}),
                 client.post(e.url("/points/adjustments"), headers=f.auth(e.committee),
                             json={"person_id": b.id, "amount": -1, "reason": "同时"})]
    for order, who in zip(orders, (a, b, a, b), strict=True):
        work.append(client.post(e.url(f"/store/orders/{order['id']}/transitions"), headers=f.auth(who),
                                json={"action": "cancel"}))
    answers = await asyncio.gather(*work)
    statuses = Counter(r if isinstance(r, int) else r.status_code for r in answers)
    assert set(statuses) <= {200, 201}, statuses
    report = await verify.verify(db.get_engine())
    assert report.ok, report.lines()
