"""The points store 积分超市: items on the shelf, a redemption that spends points and sets pieces
aside, the pickup code 核销码 and its QR, handing over at the counter, cancelling (refunded once),
and the refusals: off sale, beyond one's limit, sold out, too few points."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.points import store
from app.points.models import StoreOrder
from tests import factories as f
from tests.issues.support import photo
from tests.points import support as s


async def test_a_committee_stocks_an_item_with_a_photo_and_a_sponsor(client: Any, session: Any) -> None:
    e = await s.estate(session)
    upload = await photo(client, e.c, e.committee)
    it = await s.item(client, e, name="保温杯", price=50, stock=3, per_person_limit=1, photo_upload_id=upload,
                      sponsor="幸福超市", sponsor_kind="merchant", description="不锈钢 500ml")
    assert it["photo"]["id"] == upload and it["photo"]["url"].startswith("http")
    assert it["sponsor_text"] == "由幸福超市（商家）捐赠" and it["can_redeem"] is True and it["mine"] == 0
    en = (await client.get(e.url(f"/store/items/{it['id']}"), headers=f.auth(e.resident, "en"))).json()
    assert en["sponsor_text"] == "Donated by 幸福超市 (a local business)"
    # the photo is public now that an item shows it
    assert (await client.get(it["photo"]["url"].replace("http://testserver", ""))).status_code == 200
    audit = (await client.get(e.url("/audit"), headers=f.auth(e.committee))).json()["items"]
    assert audit[0]["what"] == "上架商品"


async def test_residents_see_what_is_on_sale_and_the_committee_sees_everything(client: Any, session: Any) -> None:
    e = await s.estate(session)
    on = await s.item(client, e, name="香皂")
    off = await s.item(client, e, name="旧款雨伞", on_sale=False)
    shelf = (await client.get(e.url("/store/items"), headers=f.auth(e.resident))).json()["items"]
    assert [i["id"] for i in shelf] == [on["id"]]
    everything = (await client.get(e.url("/store/items"), headers=f.auth(e.committee))).json()["items"]
    assert [i["id"] for i in everything] == [off["id"], on["id"]]
    only_off = (await client.get(e.url("/store/items?on_sale=false"), headers=f.auth(e.committee))).json()["items"]
    assert [i["id"] for i in only_off] == [off["id"]]
    # an off-sale item can still be looked at (an old order links to it), but not redeemed
    r = await client.get(e.url(f"/store/items/{off['id']}"), headers=f.auth(e.resident))
    assert r.status_code == 200 and r.json()["can_redeem"] is False


async def test_redeeming_spends_points_sets_pieces_aside_and_gives_a_pickup_code(client: Any, session: Any) -> None:
    e = await s.estate(session)
    await s.bonus(client, e, e.resident, 100)
    it = await s.item(client, e, price=15, stock=5)
    r = await s.redeem(client, e, e.resident, it["id"], 2)
    assert r.status_code == 201, r.text
    order = r.json()
    assert (order["status"], order["status_text"], order["total"], order["quantity"]) == ("ready", "待领取", 30, 2)
    assert order["code"] and len(order["code"]) == 10 and order["code"].startswith(order["prefix"])
    assert order["qr_url"].endswith(f"/store/orders/{order['id']}/qr.svg?v=1")
    assert order["actions"] == ["cancel", "reissue"]
    assert await s.balance(client, e, e.resident) == (70, 0)
    it_now = (await client.get(e.url(f"/store/items/{it['id']}"), headers=f.auth(e.resident))).json()
    assert (it_now["stock"], it_now["mine"]) == (3, 2)
    qr = await client.get(order["qr_url"].replace("http://testserver", ""), headers=f.auth(e.resident))
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml" and b"<svg" in qr.content
    inbox = (await client.get("/api/v1/notifications", headers=f.auth(e.resident))).json()["items"]
    assert inbox[0]["text"].startswith("「洗衣液」已为您备好，请在 ")
    # the committee sees the order, without its code
    seen = (await client.get(e.url("/store/orders"), headers=f.auth(e.committee))).json()["items"]
    assert [(o["id"], o["code"], o["qr_url"], o["person_name"]) for o in seen] == [(order["id"], None, None, "李明")]
    assert seen[0]["actions"] == ["fulfil", "cancel"]
    f.assert_problem(await client.get(order["qr_url"].replace("http://testserver", ""), headers=f.auth(e.committee)),
                     404, "store.order_not_found")
    # another resident sees neither the order nor its code
    assert (await client.get(e.url("/store/orders"), headers=f.auth(e.neighbour))).json()["items"] == []
    f.assert_problem(await client.get(e.url(f"/store/orders/{order['id']}"), headers=f.auth(e.neighbour)), 404,
                     "store.order_not_found")
    home = (await client.get(e.url("/home"), headers=f.auth(e.resident))).json()
    card = next(c for c in home["cards"] if c["key"] == "store.ready")
    assert card["count"] == 1 and card["items"][0]["title"] == "洗衣液 ×2"


async def test_the_counter_hands_an_order_over_by_its_code_once(client: Any, session: Any) -> None:
    e = await s.estate(session)
    await s.bonus(client, e, e.resident, 100)
    it = await s.item(client, e)
    order = (await s.redeem(client, e, e.resident, it["id"])).json()
    typed = f"{order['code'][:6]} {order['code'][6:]}"  # as read out, with a space
    r = await client.post(e.url("/store/pickups"), headers=f.auth(e.committee), json={"code": typed})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["person_name"], r.json()["code"]) == ("fulfilled", "李明", None)
    again = await client.post(e.url("/store/pickups"), headers=f.auth(e.committee, "en"), json={"code": order["code"]})
    body = f.assert_problem(again, 409, "store.code_used")
    assert "picked up" in body["detail"]
    mine = (await client.get(e.url(f"/store/orders/{order['id']}"), headers=f.auth(e.resident))).json()
    assert (mine["status"], mine["code"], mine["qr_url"], mine["actions"]) == ("fulfilled", None, None, [])
    audit = (await client.get(e.url("/audit"), headers=f.auth(e.committee))).json()["items"]
    assert audit[0]["what"] == "核销兑换订单"
    assert await s.balance(client, e, e.resident) == (90, 0)


async def test_five_wrong_codes_lock_the_order_until_its_owner_gets_a_new_one(client: Any, session: Any) -> None:
    e = await s.estate(session)
    await s.bonus(client, e, e.resident, 100)
    it = await s.item(client, e)
    order = (await s.redeem(client, e, e.resident, it["id"])).json()
    right = order["code"]
    wrong = right[:6] + f"{(int(right[6:]) + 1) % 10000:04d}"
    lefts = []
    for i in range(4):
        r = await client.post(e.url("/store/pickups"), headers=f.auth(e.committee, "en" if i % 2 else "zh-CN"),
                              json={"code": wrong})
        body = f.assert_problem(r, 422, "store.code_wrong")
        lefts.append(body["errors"][0]["msg"])
    assert lefts == ["核销码不对，这笔订单还可以再试 4 次。", "That pickup code is wrong; 3 more tries for this order.",
                     "核销码不对，这笔订单还可以再试 2 次。", "That pickup code is wrong; 1 more tries for this order."]
    f.assert_problem(await client.post(e.url("/store/pickups"), headers=f.auth(e.committee), json={"code": wrong}),
                     409, "store.order_locked")
    # locked: even the right code no longer hands it over
    f.assert_problem(await client.post(e.url("/store/pickups"), headers=f.auth(e.committee), json={"code": right}),
                     409, "store.order_locked")
    mine = (await client.get(e.url(f"/store/orders/{order['id']}"), headers=f.auth(e.resident))).json()
    assert mine["locked"] is True and mine["code"] is None and mine["wrong_tries"] == 5
    r = await client.post(e.url(f"/store/orders/{order['id']}/transitions"), headers=f.auth(e.resident),
                          json={"action": "reissue"})
    assert r.status_code == 200, r.text
    fresh = r.json()
    assert fresh["locked"] is False and fresh["code"] != right and fresh["code"][:6] == right[:6]
    assert fresh["qr_url"].endswith("?v=2")
    f.assert_problem(await client.post(e.url("/store/pickups"), headers=f.auth(e.committee), json={"code": right}),
                     422, "store.code_wrong")  # the old code is just a wrong one now
    r = await client.post(e.url("/store/pickups"), headers=f.auth(e.committee), json={"code": fresh["code"]})
    assert r.status_code == 200 and r.json()["status"] == "fulfilled"


async def test_codes_that_name_no_order_here_are_refused_without_counting(client: Any, session: Any) -> None:
    e = await s.estate(session)
    other = await s.estate(session, name="李家墩村")
    await s.bonus(client, other, other.resident, 100)
    theirs = (await s.redeem(client, other, other.resident, (await s.item(client, other))["id"])).json()
    before = await s.fingerprint(session)
    for code, status, problem in [(theirs["code"], 404, "store.code_unknown"), ("12345", 422, "store.code_malformed"),
                                  ("abcdefghij", 422, "store.code_malformed"), ("1" * 41, 422, "invalid"),
                                  ("", 422, "invalid")]:
        for lang in ("zh-CN", "en"):
            r = await client.post(e.url("/store/pickups"), headers=f.auth(e.committee, lang), json={"code": code})
            f.assert_problem(r, status, problem)
    assert await s.fingerprint(session) == before
    # a resident cannot use the counter at all
    f.assert_problem(await client.post(e.url("/store/pickups"), headers=f.auth(e.resident),
                                       json={"code": theirs["code"]}), 403, "forbidden_role")


async def test_cancelling_refunds_once_and_puts_the_pieces_back(client: Any, session: Any) -> None:
    e = await s.estate(session)
    await s.bonus(client, e, e.resident, 100)
    it = await s.item(client, e, price=20, stock=2, per_person_limit=2)
    mine = (await s.redeem(client, e, e.resident, it["id"], 2)).json()
    r = await client.post(e.url(f"/store/orders/{mine['id']}/transitions"), headers=f.auth(e.committee),
                          json={"action": "cancel", "reason": "商品破损"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled" and r.json()["close_reason"] == "商品破损"
    again = await client.post(e.url(f"/store/orders/{mine['id']}/transitions"), headers=f.auth(e.resident, "en"),
                              json={"action": "cancel"})
    body = f.assert_problem(again, 409, "store.cancel_not_now")
    assert "cancelled" in body["detail"]
    assert await s.balance(client, e, e.resident) == (100, 0)
    it_now = (await client.get(e.url(f"/store/items/{it['id']}"), headers=f.auth(e.resident))).json()
    assert (it_now["stock"], it_now["mine"], it_now["can_redeem"]) == (2, 0, True)
    inbox = (await client.get("/api/v1/notifications", headers=f.auth(e.resident))).json()["items"]
    assert inbox[0]["text"] == "社区取消了您兑换的「洗衣液」，40 积分已退回：商品破损"
    # a refund applied twice (a retry of the service) pays once
    from app.core import db
    from app.points import service as points

    async with db.sessionmaker()() as w:
        assert await points.refund_order(w, community_id=e.c.id, person_id=e.resident.id, order_id=mine["id"],
                                         amount=40, title="洗衣液", why="cancelled", actor_id=None) is None
        await w.commit()
    assert await s.balance(client, e, e.resident) == (100, 0)


async def test_who_may_do_what_with_an_order(client: Any, session: Any) -> None:
    e = await s.estate(session)
    await s.bonus(client, e, e.resident, 100)
    it = await s.item(client, e)
    order = (await s.redeem(client, e, e.resident, it["id"])).json()
    url = e.url(f"/store/orders/{order['id']}/transitions")
    before = await s.fingerprint(session)
    f.assert_problem(await client.post(url, headers=f.auth(e.resident), json={"action": "fulfil"}), 403,
                     "store.not_yours")
    f.assert_problem(await client.post(url, headers=f.auth(e.committee), json={"action": "reissue"}), 403,
                     "store.not_yours")
    f.assert_problem(await client.post(url, headers=f.auth(e.neighbour), json={"action": "cancel"}), 404,
                     "store.order_not_found")
    f.assert_problem(await client.post(url, headers=f.auth(e.committee), json={"action": "expire"}), 422, "invalid")
    assert await s.fingerprint(session) == before
    r = await client.post(url, headers=f.auth(e.committee), json={"action": "fulfil"})
    assert r.status_code == 200 and r.json()["status"] == "fulfilled"
    for action in ("cancel", "fulfil"):
        f.assert_problem(await client.post(url, headers=f.auth(e.committee), json={"action": action}), 409,
                         f"store.{action}_not_now")
    f.assert_problem(await client.post(url, headers=f.auth(e.resident), json={"action": "reissue"}), 409,
                     "store.reissue_not_now")


async def test_redeeming_refuses_off_sale_over_limit_sold_out_and_short_and_changes_nothing(
        client: Any, session: Any) -> None:
    e = await s.estate(session)
    await s.bonus(client, e, e.resident, 100)
    off = await s.item(client, e, name="停售品", on_sale=False)
    limited = await s.item(client, e, name="限购品", per_person_limit=1, price=1)
    scarce = await s.item(client, e, name="稀缺品", stock=1, price=1)
    dear = await s.item(client, e, name="贵重品", price=101)
    assert (await s.redeem(client, e, e.resident, limited["id"])).status_code == 201
    before = await s.fingerprint(session)
    cases = [(off["id"], 1, 409, "store.item_off_sale"), (limited["id"], 1, 409, "store.limit_reached"),
             (scarce["id"], 2, 409, "store.sold_out"), (dear["id"], 1, 409, "points.insufficient")]
    for item_id, quantity, status, code in cases:
        for lang in ("zh-CN", "en"):
            r = await client.post(e.url("/store/orders"), headers=f.auth(e.resident, lang),
                                  json={"item_id": item_id, "quantity": quantity})
            body = f.assert_problem(r, status, code)
            assert body["detail"].isascii() == (lang == "en") or "品" in body["detail"]
    assert await s.fingerprint(session) == before
    stored = (await session.execute(select(StoreOrder))).scalars().all()
    assert len(stored) == 1


async def test_an_item_edit_changes_what_it_says_and_is_audited(client: Any, session: Any) -> None:
    e = await s.estate(session)
    it = await s.item(client, e, sponsor="幸福超市", sponsor_kind="merchant")
    r = await client.patch(e.url(f"/store/items/{it['id']}"), headers=f.auth(e.committee),
                           json={"price": 12, "on_sale": False, "sponsor": ""})
    assert r.status_code == 200, r.text
    assert (r.json()["price"], r.json()["on_sale"], r.json()["sponsor"], r.json()["sponsor_kind"]) == (12, False, "",
                                                                                                         "")
    audit = (await client.get(e.url("/audit"), headers=f.auth(e.committee))).json()["items"][0]
    assert audit["what"] == "修改商品"
    assert {c["field"] for c in audit["changes"]} == {"price", "on_sale", "sponsor", "sponsor_kind"}


def test_a_code_is_six_digits_naming_the_order_and_four_secret_ones() -> None:
    order = StoreOrder(id="01hzzzzzzzzzzzzzzzzzzzzzzz", prefix="123456", code_version=1)
    code = store.pickup_code(order)
    assert len(code) == 10 and code.isdigit() and code.startswith("123456")
    # a new code version draws new secret digits (of five versions, not all alike)
    assert len({store.pickup_code(StoreOrder(id=order.id, prefix="123456", code_version=v)) for v in range(5)}) > 1
    assert store.normalise_code(" 123-456 7890 ") == "1234567890"
