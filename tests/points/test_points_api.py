"""My points and their history in words; the committee's bonuses and adjustments; hours given to a
neighbour; the community's rules; a member's ledger seen by the committee."""

from __future__ import annotations

import re
from typing import Any

from app.core import db
from app.points import service as points
from tests import factories as f
from tests.points import support as s


async def test_my_points_show_balances_and_history_explained_in_my_language(client: Any, session: Any) -> None:
    e = await s.estate(session)
    await s.bonus(client, e, e.resident, 30, reason="重阳节帮忙")
    await s.bonus(client, e, e.resident, 90, unit="hours", reason="陪老人聊天")
    mine = await s.my_points(client, e, e.resident)
    assert mine["balances"] == {"points": 30, "hours": 90, "hours_text": "1.5"}
    assert mine["show_name"] is True and mine["next_cursor"] is None
    newest, oldest = mine["entries"]
    assert (newest["kind"], newest["unit"], newest["amount"], newest["amount_text"]) == ("bonus", "hours", 90,
                                                                                         "+1.5 小时")
    assert newest["text"] == "社区奖励：陪老人聊天" and newest["actor_name"] == "陈主任"
    assert (oldest["amount_text"], oldest["text"], oldest["balance_after"]) == ("+30 积分", "社区奖励：重阳节帮忙", 30)
    english = await s.my_points(client, e, e.resident, "en")
    assert [x["text"] for x in english["entries"]] == ["Community bonus: 陪老人聊天", "Community bonus: 重阳节帮忙"]
    assert english["entries"][0]["amount_text"] == "+1.5 h"


async def test_history_pages_newest_first_and_filters_by_unit(client: Any, session: Any) -> None:
    e = await s.estate(session)
    for i in range(5):
        await s.bonus(client, e, e.resident, i + 1, reason=f"第{i + 1}次")
    await s.bonus(client, e, e.resident, 60, unit="hours")
    r = await client.get(e.url("/points/me/entries?limit=2&unit=points"), headers=f.auth(e.resident))
    page = r.json()
    assert [x["amount"] for x in page["items"]] == [5, 4] and page["next_cursor"]
    rest = (await client.get(e.url(f"/points/me/entries?limit=10&unit=points&cursor={page['next_cursor']}"),
                             headers=f.auth(e.resident))).json()
    assert [x["amount"] for x in rest["items"]] == [3, 2, 1] and rest["next_cursor"] is None
    hours = (await client.get(e.url("/points/me/entries?unit=hours"), headers=f.auth(e.resident))).json()
    assert [x["amount"] for x in hours["items"]] == [60]


async def test_every_kind_of_entry_explains_itself_in_both_languages(client: Any, session: Any) -> None:
    e = await s.estate(session)
    await s.bonus(client, e, e.resident, 100, unit="hours")
    await s.bonus(client, e, e.resident, 100)
    async with db.sessionmaker()() as w:
        await points.award_for_claim(w, community_id=e.c.id, person_id=e.resident.id, unit=points.Unit.points,
                                     amount=20, claim_id="c1", title="周六清扫楼道", actor_id=None, auto=True)
        await points.hold_hours(w, community_id=e.c.id, person_id=e.resident.id, minutes=30, request_id="r1",
                                title="修水管", actor_id=e.resident.id)
        await points.release_hold(w, request_id="r1", actor_id=None, reason="cancelled")
        await points.hold_hours(w, community_id=e.c.id, person_id=e.resident.id, minutes=30, request_id="r2",
                                title="陪诊", actor_id=e.resident.id)
        await points.pay_hold(w, request_id="r2", helper_id=e.neighbour.id, claim_id="c2", actor_id=None)
        await w.commit()
    await client.post(e.url("/points/adjustments"), headers=f.auth(e.committee),
                      json={"person_id": e.resident.id, "amount": -5, "reason": "重复发放"})
    await client.post(e.url("/points/donations"), headers=f.auth(e.resident),
                      json={"to_person_id": e.neighbour.id, "minutes": 20, "note": "给王奶奶"})
    item = await s.item(client, e, name="大米", price=10)
    order = (await s.redeem(client, e, e.resident, item["id"])).json()
    await client.post(e.url(f"/store/orders/{order['id']}/transitions"), headers=f.auth(e.resident),
                      json={"action": "cancel"})
    texts = {lang: [x["text"] for x in (await s.my_points(client, e, e.resident, lang))["entries"]]
             for lang in ("zh-CN", "en")}
    assert texts["zh-CN"] == [
        "订单「大米」已取消，积分退回", "兑换「大米」", "赠送给赵敏：给王奶奶", "社区调整：重复发放",
        "发布互助需求「陪诊」，暂扣时间", "互助需求「修水管」已取消，退回暂扣的时间",
        "发布互助需求「修水管」，暂扣时间",
        "完成「周六清扫楼道」（组织者逾期未确认，系统自动确认）", "社区奖励：清扫楼道", "社区奖励：清扫楼道"]
    assert texts["en"][:3] == ["Order “大米” cancelled: points refunded", "Redeemed “大米”", "Given to 赵敏: 给王奶奶"]
    assert all(not re.search(r"[\u4e00-\u9fff]", re.sub(r"“[^”]*”|: .*|赵敏", "", t)) for t in texts["en"]), texts["en"]
    helper = [x["text"] for x in (await s.my_points(client, e, e.neighbour))["entries"]]
    assert helper == ["李明赠送：给王奶奶", "帮助李明：「陪诊」"]


async def test_bonuses_go_to_each_named_member_once_and_tell_them(client: Any, session: Any) -> None:
    e = await s.estate(session)
    r = await client.post(e.url("/points/bonuses"), headers=f.auth(e.committee),
                          json={"person_ids": [e.resident.id, e.neighbour.id, e.resident.id], "amount": 5,
                                "reason": "参加议事会"})
    assert r.status_code == 201 and len(r.json()["entries"]) == 2
    assert await s.balance(client, e, e.resident) == (5, 0)
    inbox = (await client.get("/api/v1/notifications", headers=f.auth(e.neighbour))).json()["items"]
    assert inbox[0]["text"] == "社区奖励您 5 积分：参加议事会"
    audit = (await client.get(e.url("/audit"), headers=f.auth(e.committee))).json()["items"]
    assert [a["what"] for a in audit[:2]] == ["发放积分奖励", "发放积分奖励"]


async def test_an_adjustment_needs_a_reason_and_never_goes_below_zero(client: Any, session: Any) -> None:
    e = await s.estate(session)
    await s.bonus(client, e, e.resident, 10)
    before = await s.fingerprint(session)
    for lang in ("zh-CN", "en"):
        r = await client.post(e.url("/points/adjustments"), headers=f.auth(e.committee, lang),
                              json={"person_id": e.resident.id, "amount": -5})
        body = f.assert_problem(r, 422, "invalid")
        assert body["errors"][0]["loc"] == ["body", "reason"]
        r = await client.post(e.url("/points/adjustments"), headers=f.auth(e.committee, lang),
                              json={"person_id": e.resident.id, "amount": -11, "reason": "多发了"})
        body = f.assert_problem(r, 409, "points.insufficient")
        assert ("余额不足" in body["detail"]) == (lang == "zh-CN")
    assert await s.fingerprint(session) == before
    r = await client.post(e.url("/points/adjustments"), headers=f.auth(e.committee),
                          json={"person_id": e.resident.id, "amount": -10, "reason": "多发了"})
    assert r.status_code == 201 and r.json()["balance_after"] == 0
    inbox = (await client.get("/api/v1/notifications", headers=f.auth(e.resident))).json()["items"]
    assert inbox[0]["text"] == "社区调整了您的积分 −10：多发了"


async def test_hours_given_to_a_neighbour_leave_one_and_reach_the_other(client: Any, session: Any) -> None:
    e = await s.estate(session)
    await s.bonus(client, e, e.resident, 120, unit="hours")
    r = await client.post(e.url("/points/donations"), headers=f.auth(e.resident),
                          json={"to_person_id": e.neighbour.id, "minutes": 90})
    assert r.status_code == 201, r.text
    assert r.json()["balances"] == {"points": 0, "hours": 30, "hours_text": "0.5"}
    assert r.json()["given"]["counterpart_name"] == "赵敏"
    assert await s.balance(client, e, e.neighbour) == (0, 90)
    inbox = (await client.get("/api/v1/notifications", headers=f.auth(e.neighbour, "en"))).json()["items"]
    assert inbox[0]["text"] == "李明 gave you 1.5 h of time"


async def test_rules_are_read_by_all_and_set_by_the_committee(client: Any, session: Any) -> None:
    e = await s.estate(session)
    r = await client.get(e.url("/points/rules"), headers=f.auth(e.resident))
    assert r.json()["points_per_hour"] == 10 and r.json()["monthly_cap"] is None and r.json()["updated_at"] is None
    body = {"points_per_hour": 12, "monthly_cap": 200, "expiry_years": 1, "pickup_days": 7}
    r = await client.put(e.url("/points/rules"), headers=f.auth(e.committee), json=body)
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in body} == body
    assert "每人每月最多获得 200 积分" in r.json()["text"] and "7 天内领取" in r.json()["text"]
    en = (await client.get(e.url("/points/rules"), headers=f.auth(e.resident, "en"))).json()["text"]
    assert "at most 200 points a month" in en
    audit = (await client.get(e.url("/audit"), headers=f.auth(e.committee))).json()["items"]
    assert audit[0]["what"] == "修改积分规则"
    assert {c["field"] for c in audit[0]["changes"]} == {"points_per_hour", "monthly_cap", "expiry_years",
                                                         "pickup_days"}


async def test_the_committee_reads_a_members_ledger_and_no_one_else_does(client: Any, session: Any) -> None:
    e = await s.estate(session)
    await s.bonus(client, e, e.resident, 7)
    r = await client.get(e.url(f"/points/people/{e.resident.id}"), headers=f.auth(e.committee))
    assert r.status_code == 200 and r.json()["balances"]["points"] == 7 and r.json()["name"] == "李明"
    f.assert_problem(await client.get(e.url(f"/points/people/{e.resident.id}"), headers=f.auth(e.neighbour)), 403,
                     "forbidden_role")
    outsider = await f.person(session, "外人")
    f.assert_problem(await client.get(e.url(f"/points/people/{outsider.id}"), headers=f.auth(e.committee)), 404,
                     "member_not_found")
