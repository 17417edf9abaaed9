"""What time does (reminders once each, auto-verification that says so, expiry) and what people
see: lists by kind, state and distance, my claims, the organiser's console and queue, home cards,
the share page that recruits in a WeChat group, the check-in QR code, and who sees which photo."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import segno

from app.core import clock
from app.tasks import scheduled
from tests import factories as f
from tests.sharing.test_share_pages import open_page
from tests.tasks import support as s


async def test_the_day_and_hour_reminders_go_once_each(client: Any, session: Any) -> None:
    t = await s.town(session)
    task = await s.published(client, t)
    c = await s.claim(client, t, t.residents[0], task["id"])
    starts = s.parse(task["starts_at"])
    day = await scheduled.run_once(starts - timedelta(hours=20))
    assert day.reminded_day == [c["id"]]
    assert (await scheduled.run_once(starts - timedelta(hours=19))).reminded_day == []
    hour = await scheduled.run_once(starts - timedelta(minutes=50))
    assert hour.reminded_hour == [c["id"]] and hour.reminded_day == []
    assert (await scheduled.run_once(starts - timedelta(minutes=40))).reminded_hour == []
    texts = [n["text"] for n in await s.notifications(client, t.residents[0])]
    assert sum("明天" in x for x in texts) == 1 and sum("一小时后" in x for x in texts) == 1, texts


async def test_an_organisers_silence_verifies_a_claim_by_itself_after_the_communitys_days(
        client: Any, session: Any) -> None:
    t = await s.town(session)
    r = await client.put(s.url(t, "/task-rules"), headers=f.auth(t.committee), json={"auto_verify_days": 3})
    assert r.status_code == 200 and r.json()["auto_verify_days"] == 3
    assert (await client.get(s.url(t, "/task-rules"), headers=f.auth(t.residents[0]))).json()["auto_verify_days"] == 3
    task = await s.soon(client, t, reward={"unit": "points", "amount": 8})
    c = await s.claim(client, t, t.residents[0], task["id"])
    await s.act(client, t, t.committee, task["id"], c["id"], "checkin")
    await s.act(client, t, t.residents[0], task["id"], c["id"], "submit", note="完成")
    now = clock.now()
    assert (await scheduled.run_once(now + timedelta(days=2, hours=23))).auto_verified == []
    queue = (await client.get(s.url(t, "/tasks/queue"), headers=f.auth(t.committee))).json()["items"]
    assert [q["claim"]["id"] for q in queue] == [c["id"]]
    assert s.parse(queue[0]["auto_verify_at"]) - s.parse(queue[0]["claim"]["submitted_at"]) == timedelta(days=3)
    assert (await scheduled.run_once(now + timedelta(days=3, minutes=1))).auto_verified == [c["id"]]
    seen = (await s.get(client, t, t.residents[0], task["id"]))["my_claim"]
    assert seen["status"] == "paid" and seen["auto_verified"] is True and seen["verified_by"] is None
    assert (await s.balance(session, t, t.residents[0]))["points"] == 8
    audit = (await client.get(s.url(t, "/audit"), headers=f.auth(t.committee, "en"))).json()["items"]
    assert any(a["action"] == "task_claim.auto_verify" and a["actor_name"] is None for a in audit)


async def test_lists_filter_by_kind_state_and_mine_and_sort_by_distance(client: Any, session: Any) -> None:
    t = await s.town(session)
    near = await s.published(client, t, title="近处清扫", lat=30.5000, lng=114.4000)
    far = await s.published(client, t, title="远处清扫", lat=30.5200, lng=114.4000)  # about 2.2 km north
    adoption = await s.published(client, t, kind="adoption")
    await s.create(client, t, t.committee, title="草稿")
    me = t.residents[0]
    await s.claim(client, t, me, far["id"])

    async def ids(who: Any, **params: Any) -> list[str]:
        r = await client.get(s.url(t, "/tasks"), headers=f.auth(who), params=params)
        assert r.status_code == 200, r.text
        return [x["id"] for x in r.json()["items"]]

    assert set(await ids(me)) == {near["id"], far["id"], adoption["id"]}  # nobody else's draft
    assert len(await ids(t.committee)) == 4
    assert await ids(me, kind="adoption") == [adoption["id"]]
    assert await ids(me, mine="claimed") == [far["id"]]
    assert await ids(me, near="30.5005,114.4000", radius_m=5000) == [near["id"], far["id"]]
    assert await ids(me, near="30.5005,114.4000", radius_m=1000) == [near["id"]]
    page = (await client.get(s.url(t, "/tasks"), headers=f.auth(me),
                             params={"near": "30.5005,114.4", "limit": 1})).json()
    assert page["items"][0]["place"]["distance_m"] < 100 and page["next_cursor"]
    rest = (await client.get(s.url(t, "/tasks"), headers=f.auth(me),
                             params={"near": "30.5005,114.4", "limit": 1, "cursor": page["next_cursor"]})).json()
    assert [x["id"] for x in rest["items"]] == [far["id"]]
    mine = (await client.get(s.url(t, "/me/claims"), headers=f.auth(me))).json()["items"]
    assert [(m["task"]["id"], m["status"]) for m in mine] == [(far["id"], "claimed")]


async def test_home_shows_my_next_task_and_the_organisers_queue(client: Any, session: Any) -> None:
    t = await s.town(session)
    task = await s.soon(client, t, title="楼道清扫")
    c = await s.claim(client, t, t.residents[0], task["id"])

    async def cards(who: Any) -> dict[str, Any]:
        r = await client.get(s.url(t, "/home"), headers=f.auth(who))
        assert r.status_code == 200, r.text
        return {x["key"]: x for x in r.json()["cards"]}

    mine = (await cards(t.residents[0]))["tasks.next"]
    assert mine["count"] == 1 and mine["items"][0]["title"] == "楼道清扫"
    assert mine["items"][0]["href"] == f"/c/{t.c.id}/tasks/{task['id']}"
    assert "tasks.verify" not in await cards(t.committee)
    await s.act(client, t, t.committee, task["id"], c["id"], "checkin")
    await s.act(client, t, t.residents[0], task["id"], c["id"], "submit")
    queue = (await cards(t.committee))["tasks.verify"]
    assert queue["count"] == 1 and queue["items"][0]["href"].endswith(f"/tasks/{task['id']}/console")
    wish = await s.create(client, t, t.residents[1], kind="wish", publish=True)
    approve = (await cards(t.committee))["tasks.approve"]
    assert approve["count"] == 1 and approve["items"][0]["href"].endswith(wish["id"])
    assert "tasks.approve" not in await cards(t.grid_worker)


async def test_a_task_has_a_share_page_with_open_graph_tags_and_a_qr_code(client: Any, session: Any) -> None:
    t = await s.town(session)
    pic = await s.photo(client, t.c, t.committee)
    task = await s.published(client, t, photo_ids=[pic], people_needed=4, reward={"unit": "points", "amount": 10})
    r = await client.post(s.url(t, f"/tasks/{task['id']}/share"), headers=f.auth(t.residents[0]))
    assert r.status_code == 200, r.text
    link = r.json()
    status, page, _ = await open_page(client, link["code"])
    assert status == 200
    assert page.meta["og:title"] == "周六小区大扫除"
    assert page.meta["og:description"] == "招募中 · 志愿服务 · 幸福里社区 · 还差 4 人（共 4 人） · 10 积分"
    assert page.meta["og:image"] == task["photos"][0]["url"]
    assert f"/c/{t.c.id}/tasks/{task['id']}" in page.links
    _, english, _ = await open_page(client, link["code"], headers={"Accept-Language": "en"})
    assert english.meta["og:description"] == "Recruiting · Volunteer job · 幸福里社区 · 4 of 4 places left · 10 points"
    qr = await client.get(f"/s/{link['code']}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg")
    draft = await s.create(client, t, t.committee)
    hidden = await client.post(s.url(t, f"/tasks/{draft['id']}/share"), headers=f.auth(t.committee))
    f.assert_problem(hidden, 404, "task_not_found")


async def test_the_check_in_qr_code_opens_the_check_in_page_and_a_rotating_code_changes(
        client: Any, session: Any) -> None:
    t = await s.town(session)
    task = await s.soon(client, t, checkin_rotating=True)
    r = await client.get(s.url(t, f"/tasks/{task['id']}/checkin-code"), headers=f.auth(t.committee))
    body = r.json()
    assert body["rotating"] is True and len(body["code"]) == 6 and body["valid_until"]
    assert body["checkin_url"] == f"http://testserver/c/{t.c.id}/tasks/{task['id']}/checkin?code={body['code']}"
    assert body["qr_svg"].lstrip().startswith("<?xml") and "<svg" in body["qr_svg"]
    assert segno.make_qr(body["checkin_url"], error="m").designator  # the URL fits a QR code
    c = await s.claim(client, t, t.residents[0], task["id"])
    with clock.fixed_at(clock.now() + timedelta(minutes=3)):  # two windows later the code is stale
        stale = await client.post(s.url(t, f"/tasks/{task['id']}/claims/{c['id']}/transitions"),
                                  headers=f.auth(t.residents[0]), json={"action": "checkin", "code": body["code"]})
    f.assert_problem(stale, 422, "task_checkin_code_wrong")
    fresh = await s.code(client, t, t.committee, task["id"])
    checked = await s.act(client, t, t.residents[0], task["id"], c["id"], "checkin", code=fresh)
    assert checked["status"] == "checked_in"


async def test_evidence_photos_are_seen_by_the_claimant_and_organisers_only(client: Any, session: Any) -> None:
    t = await s.town(session)
    public_pic = await s.photo(client, t.c, t.committee)
    task = await s.soon(client, t, photo_ids=[public_pic])
    c = await s.claim(client, t, t.residents[0], task["id"])
    await s.act(client, t, t.committee, task["id"], c["id"], "checkin")
    evidence = await s.photo(client, t.c, t.residents[0])
    done = await s.act(client, t, t.residents[0], task["id"], c["id"], "submit", photo_ids=[evidence])
    assert "sig=" in done["evidence_photos"][0]["url"]  # private: a signed URL
    seen = await s.get(client, t, t.residents[1], task["id"])
    assert "sig=" not in seen["photos"][0]["url"]  # the task's own photo is public
    public = await client.get(seen["photos"][0]["url"].replace("http://testserver", ""))
    assert public.status_code == 200
    unsigned = done["evidence_photos"][0]["url"].split("?")[0].replace("http://testserver", "")
    assert (await client.get(unsigned)).status_code == 404
    r = await client.get(s.url(t, f"/uploads/{evidence}"), headers=f.auth(t.residents[1]))
    f.assert_problem(r, 404, "upload_not_found")
