"""Residents decide through the pages, at phone size (390×844): a household dot-vote over the
issue list end to end — two households vote by tapping dots (one of them offline, sent once when
the network returns), a second member of a household that has voted is told so and cannot vote
again, a watcher's bars move without a reload, the committee closes on the page, the counts match
a hand count and the receipt kept on the phone checks out on the public page. Also: a ranked
(instant-runoff) poll shows its rounds, hidden results show no count while open, and the elder
mode's voting targets are big enough for a thumb."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from app.communities.models import Building
from app.core import clock
from app.polls import verify
from tests import factories as f
from tests.e2e.helpers import give_tokens
from tests.issues.support import place, report

pytestmark = pytest.mark.e2e


async def phone_of(client: Any, person: Any, new_page: Any, **options: Any) -> Any:
    page = await new_page(service_workers="block", **options)
    await give_tokens(client, page, person.phone)
    return page


async def quiet(page: Any) -> None:
    await page.evaluate("document.querySelectorAll('.toast').forEach((toast) => toast.remove())")


async def make_poll(client: Any, cid: str, committee: Any, **body: Any) -> dict[str, Any]:
    body = {"closes_at": (clock.now() + timedelta(days=3)).isoformat(), **body}
    r = await client.post(f"/api/v1/communities/{cid}/polls", headers=f.auth(committee), json=body)
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/v1/communities/{cid}/polls/{r.json()['id']}/open", headers=f.auth(committee),
                          json={"now": True})
    assert r.status_code == 200 and r.json()["status"] == "open", r.text
    return dict(r.json())


async def tap_dots(page: Any, option_id: str, times: int) -> None:
    for _ in range(times):
        await page.locator(f'[data-option="{option_id}"] [data-plus]').click()


async def test_household_dot_vote_over_the_issue_list_end_to_end(new_page, client, session, shot):
    p = await place(client, session)
    cid = str(p.c.id)
    building = await session.get(Building, p.building_id)
    assert building is not None
    homes = [await f.household(session, p.c, building, room=room) for room in ("101", "102", "201")]
    wang = await f.member(session, p.c, name="王阿姨", household_id=homes[0].id)
    wang_son = await f.member(session, p.c, name="王小明", household_id=homes[0].id)
    zhou = await f.member(session, p.c, name="周大爷", household_id=homes[1].id)
    titles = ["3栋路灯不亮", "小区门口井盖松动", "电动车乱停放", "垃圾站异味"]
    issues = [await report(client, p, title=title) for title in titles]
    poll = await make_poll(client, cid, p.committee, title="先修哪几件事？", kind="approval", electorate="households",
                           description="每户 3 个点，可以都投给最急的一件。", max_choices=3, allow_stacking=True,
                           options=[{"issue_id": issue["id"]} for issue in issues])
    assert poll["electorate_size"] == 3
    pid = poll["id"]
    a, b, c, d = (o["id"] for o in poll["options"])
    url = f"/c/{cid}/polls/{pid}"

    # The committee finds the list from the community page and watches the poll (not a voter: no household).
    committee = await phone_of(client, p.committee, new_page)
    await committee.goto(f"/c/{cid}")
    await committee.click("[data-tile-polls]")
    await expect(committee).to_have_url(re.compile(rf"/c/{cid}/polls$"))
    await expect(committee.locator("[data-new-link]")).to_be_visible()
    card = committee.locator(f'[data-poll-id="{pid}"]')
    await expect(card).to_contain_text("先修哪几件事？")
    await expect(card).to_contain_text("已投 0/3 户")
    await shot(committee, "poll-list")
    await card.locator("[data-link]").click()
    await expect(committee.locator("[data-ineligible]")).to_contain_text("不在本次表决的投票名册中")
    await expect(committee.locator("[data-ballot]")).to_be_hidden()
    # A secret poll: the committee watches the turnout, never a count, until the close.
    await expect(committee.locator("[data-results-hidden]")).to_have_text(
        "无记名投票：截止前只显示参与人数，截止后公布结果。")
    await expect(committee.locator("[data-secrecy]")).to_contain_text("居委会也看不到")
    await committee.locator("[data-secrecy-more] summary").click()
    await expect(committee.locator("[data-secrecy-more]")).to_contain_text("不是端到端可验证的")
    await expect(committee.locator("[data-bars]")).to_be_hidden()

    # 王阿姨 puts two dots on the street light and one on the manhole cover.
    resident = await phone_of(client, wang, new_page)
    await resident.goto(f"/c/{cid}/polls")
    mine = resident.locator(f'[data-poll-id="{pid}"]')
    await expect(mine.locator('[data-voted="no"]')).to_have_text("未投")
    await expect(resident.locator("[data-new-link]")).to_be_hidden()
    await mine.locator("[data-link]").click()
    await expect(resident.locator("[data-counter]")).to_have_text("剩余 3 点（共 3 点）")
    issue_link = resident.locator(f'[data-options] [data-option="{a}"] [data-issue]')
    assert await issue_link.get_attribute("href") == f"/c/{cid}/issues/{issues[0]['id']}"
    await tap_dots(resident, a, 2)
    await tap_dots(resident, b, 1)
    await expect(resident.locator("[data-counter]")).to_have_text("剩余 0 点（共 3 点）")
    await expect(resident.locator(f'[data-options] [data-option="{c}"] [data-plus]')).to_be_disabled()
    await resident.locator(f'[data-options] [data-option="{b}"] [data-minus]').click()
    await tap_dots(resident, b, 1)
    await shot(resident, "poll-dots")
    await resident.click('[data-ballot] [type="submit"]')
    await expect(resident.locator("[data-receipt-box]")).to_be_visible()
    await expect(resident.locator("[data-household-voted]")).to_have_text("您家已投票")
    await expect(resident.locator("[data-ballot]")).to_be_hidden()
    receipt = await resident.evaluate(f"JSON.parse(localStorage.getItem('wg_receipt:{pid}')).receipt")
    check_code = await resident.evaluate(f"JSON.parse(localStorage.getItem('wg_receipt:{pid}')).check")
    await expect(resident.locator("[data-receipt-code]")).to_have_text(receipt)
    # What she chose, and her check code, are on her phone alone.
    await expect(resident.locator("[data-my-choice]")).to_have_text("3栋路灯不亮、3栋路灯不亮、小区门口井盖松动")
    await expect(resident.locator("[data-check-code]")).to_have_text(check_code)
    await quiet(resident)
    await shot(resident, "poll-voted")

    # The watching committee's turnout follows without a reload; still no count.
    await expect(committee.locator('[data-slot="turnout"]')).to_have_text("已投 1/3 户", timeout=2000)
    await expect(committee.locator("[data-bars]")).to_be_hidden()

    # Her son, in the same household, is told the household has voted and gets no ballot.
    son = await phone_of(client, wang_son, new_page)
    await son.goto(url)
    await expect(son.locator("[data-household-voted]")).to_have_text("您家已投票")
    await expect(son.locator("[data-ballot]")).to_be_hidden()
    await expect(son.locator("[data-change-vote]")).to_be_hidden()
    again = await client.post(f"/api/v1/communities/{cid}/polls/{pid}/ballots", headers=f.auth(wang_son),
                              json={"choices": [c]})
    assert again.status_code == 409

    # 周大爷 votes with the network gone: the ballot waits on the phone and goes out once when it returns.
    zhou_page = await phone_of(client, zhou, new_page)
    await zhou_page.goto(url)
    await expect(zhou_page.locator("[data-counter]")).to_be_visible()
    await zhou_page.context.set_offline(True)
    await tap_dots(zhou_page, a, 1)
    await tap_dots(zhou_page, c, 1)
    await zhou_page.click('[data-ballot] [type="submit"]')
    await expect(zhou_page.locator("[data-queued-note]")).to_contain_text("联网后会自动送出")
    await expect(zhou_page.locator("[data-ballot]")).to_be_hidden()
    await zhou_page.context.set_offline(False)
    await expect(zhou_page.locator("[data-receipt-box]")).to_be_visible()
    await expect(zhou_page.locator("[data-queued-note]")).to_be_hidden()
    await expect(committee.locator('[data-slot="turnout"]')).to_have_text("已投 2/3 户", timeout=2000)

    # The committee closes on the page (a second tap confirms).
    close = committee.locator('[data-do="close"]')
    await close.click()
    await expect(close).to_have_text("再点一次确认截止")
    await close.click()
    await expect(committee.locator("[data-badges] [data-status]")).to_have_text("已截止")
    # Hand count: A 2+1 = 3, B 1, C 1, D 0 dots; 5 dots in all; A wins.
    bars = committee.locator("[data-bars] .bar")
    await expect(bars).to_have_count(4)
    expected = {a: "3 点 · 60%", b: "1 点 · 20%", c: "1 点 · 20%", d: "0 点 · 0%"}
    for option, text in expected.items():
        await expect(committee.locator(f'[data-bars] [data-option="{option}"] .bar__numbers')).to_have_text(text)
    await expect(committee.locator(f'[data-bars] [data-option="{a}"]')).to_have_class(re.compile("is-winner"))
    await expect(committee.locator("[data-results-summary]")).to_have_text("得票最多：3栋路灯不亮（3票）")
    await expect(committee.locator("[data-provisional]")).to_be_hidden()
    await expect(committee.locator("[data-live]")).to_be_hidden()
    await expect(committee.locator("[data-publish-form]")).to_be_visible()
    await quiet(committee)
    await shot(committee, "poll-closed")
    res = (await client.get(f"/api/v1/communities/{cid}/polls/{pid}/results", headers=f.auth(zhou))).json()
    assert {o["id"]: o["count"] for o in res["result"]["options"]} == {a: 3, b: 1, c: 1, d: 0}

    # The chain downloads from the page (the token rides along) and re-verifies and re-counts the same.
    async with committee.expect_download() as downloading:
        await committee.click("[data-download]")
    saved = await (await downloading.value).path()
    text = await asyncio.to_thread(Path(saved).read_text, encoding="utf-8")
    checked = verify.verify_download(json.loads(text))
    assert checked.ok, checked.lines

    # The list shows it among the decided ones, with its outcome.
    await resident.goto(f"/c/{cid}/polls")
    await expect(resident.locator(f'[data-poll-id="{pid}"] [data-slot="summary"]')).to_have_text(
        "得票最多：3栋路灯不亮（3票）")

    # 王阿姨's phone finds its check code in the published ballot box: her ballot, counted as cast.
    await resident.goto(url)
    await expect(resident.locator("[data-in-box]")).to_have_text(
        "✓ 您的核对码在公布的选票中，记录为：3栋路灯不亮、3栋路灯不亮、小区门口井盖松动")
    await shot(resident, "poll-in-box")

    # The receipt checks out on the public page, signed out — counted, and not what it chose.
    stranger = await new_page(service_workers="block")
    await stranger.goto(f"/receipts/{receipt}")
    await expect(stranger.locator("[data-verdict]")).to_have_text("已记入选票链，并计入结果 ✓")
    await expect(stranger.locator('[data-slot="poll"]')).to_have_text("先修哪几件事？")
    await expect(stranger.locator("[data-result]")).not_to_contain_text("井盖")
    await expect(stranger.locator('[data-slot="seq"]')).to_have_text("第 1 张（共 2 张）")
    await shot(stranger, "poll-receipt")
    await stranger.fill("#receipt-input", "ZZZZ-ZZZZ-ZZZZ-ZZZZ")
    await stranger.click('[data-receipt-form] [type="submit"]')
    await expect(stranger.locator("[data-verdict]")).to_contain_text("找不到回执")


async def test_ranked_poll_shows_its_instant_runoff_rounds_after_close(new_page, client, session, shot):
    p = await place(client, session)
    cid = str(p.c.id)
    voters = [await f.member(session, p.c, name=f"居民{i}") for i in range(5)]
    poll = await make_poll(client, cid, p.committee, title="健身角放在哪？", kind="ranked", ranked_method="irv",
                           secret=False, options=[{"label": "东门"}, {"label": "西门"}, {"label": "中心花园"}])
    east, west, centre = (o["id"] for o in poll["options"])
    # First preferences: east 2, west 2, centre 1 → centre out, its ballot goes to west → west 3 of 5.
    for who, order in zip(voters, [[east, west], [east, centre], [west], [west, east], [centre, west]], strict=True):
        r = await client.post(f"/api/v1/communities/{cid}/polls/{poll['id']}/ballots", headers=f.auth(who),
                              json={"choices": order})
        assert r.status_code == 201, r.text
    page = await phone_of(client, voters[0], new_page)
    await page.goto(f"/c/{cid}/polls/{poll['id']}")
    await expect(page.locator("[data-rounds-box]")).to_be_visible()  # live, while open (a named poll)
    r = await client.post(f"/api/v1/communities/{cid}/polls/{poll['id']}/close", headers=f.auth(p.committee))
    assert r.status_code == 200
    await expect(page.locator("[data-badges] [data-status]")).to_have_text("已截止", timeout=3000)
    rounds = page.locator("[data-rounds] table")
    await expect(rounds).to_have_count(2)
    await expect(rounds.nth(0).locator("tr.is-eliminated")).to_contain_text("中心花园")
    await expect(rounds.nth(1).locator("tr.is-elected")).to_contain_text("西门")
    await expect(rounds.nth(1).locator("tr.is-elected td").first).to_have_text("3")
    await expect(page.locator("[data-results-summary]")).to_have_text("第2轮当选：西门")
    await shot(page, "poll-ranked")

    # A fresh voter sees the ranking ballot work: tap in order, reset.
    other = await make_poll(client, cid, p.committee, title="再排一次", kind="ranked",
                            options=[{"label": "东门"}, {"label": "西门"}, {"label": "中心花园"}])
    late = await f.member(session, p.c, name="新居民")
    await give_tokens(client, page, late.phone)
    await page.goto(f"/c/{cid}/polls/{other['id']}")
    await expect(page.locator("[data-ineligible]")).to_be_visible()  # joined after the roll was frozen
    await expect(page.locator("[data-ballot]")).to_be_hidden()
    await give_tokens(client, page, voters[1].phone)
    await page.goto(f"/c/{cid}/polls/{other['id']}")
    cards = page.locator("[data-options] .rank-card")
    await cards.nth(2).click()
    await cards.nth(0).click()
    await expect(cards.nth(2).locator("[data-place]")).to_have_text("1")
    await expect(cards.nth(0).locator("[data-place]")).to_have_text("2")
    await page.click("[data-rank-reset]")
    await expect(page.locator("[data-counter]")).to_have_text("已排 0/3 项")
    await cards.nth(1).click()
    await page.click('[data-ballot] [type="submit"]')
    await expect(page.locator("[data-person-voted]")).to_be_visible()
    await expect(page.locator("[data-change-vote]")).to_be_visible()


async def test_hidden_results_show_no_count_while_open(new_page, client, session, shot):
    p = await place(client, session)
    cid = str(p.c.id)
    poll = await make_poll(client, cid, p.committee, title="是否加装电梯", kind="proposal", options=[],
                           preset="simple_majority", hide_results=True, secret=False)
    for who in (p.resident, p.neighbour):
        r = await client.post(f"/api/v1/communities/{cid}/polls/{poll['id']}/ballots", headers=f.auth(who),
                              json={"choices": ["yes"]})
        assert r.status_code == 201, r.text
    page = await phone_of(client, p.committee, new_page)
    await page.goto(f"/c/{cid}/polls/{poll['id']}")
    await expect(page.locator("[data-results-hidden]")).to_have_text("结果将在截止后公布")
    await expect(page.locator("[data-results]")).to_be_hidden()
    await expect(page.locator("[data-bars] .bar")).to_have_count(0)
    await expect(page.locator("[data-live]")).to_be_hidden()
    assert "票 ·" not in await page.locator("main").inner_text()
    await expect(page.locator("[data-rule]")).to_be_visible()  # the rule in plain words

    # A voter uses the proposal's big buttons with a confirm step.
    await give_tokens(client, page, p.handler.phone)
    await page.goto(f"/c/{cid}/polls/{poll['id']}")
    await page.locator('[data-options] [data-option="no"]').click()
    await page.click('[data-ballot] [type="submit"]')
    await expect(page.locator("[data-confirm]")).to_contain_text("您选择了「反对」")
    await shot(page, "poll-proposal-confirm")
    await page.click('[data-ballot] [type="submit"]')
    await expect(page.locator("[data-receipt-box]")).to_be_visible()
    await expect(page.locator("[data-results-hidden]")).to_be_visible()

    r = await client.post(f"/api/v1/communities/{cid}/polls/{poll['id']}/close", headers=f.auth(p.committee))
    assert r.status_code == 200
    await page.reload()
    await expect(page.locator('[data-bars] [data-option="yes"] .bar__numbers')).to_have_text("2 票 · 66.7%")
    await expect(page.locator("[data-criteria] li")).not_to_have_count(0)
    await expect(page.locator("[data-results-summary]")).to_contain_text("通过")

    # The share link and its QR code, made on first asking; the card says nothing but the outcome.
    await page.click("[data-share]")
    await expect(page.locator("[data-share-url]")).to_have_text(re.compile(r"^http://127\.0\.0\.1:\d+/s/\w+$"))
    await expect(page.locator("[data-share-qr]")).to_have_js_property("complete", True)


async def test_elder_mode_voting_targets_are_at_least_48px_tall(new_page, client, session, shot, live_server):
    p = await place(client, session)
    cid = str(p.c.id)
    poll = await make_poll(client, cid, p.committee, title="先修哪几件事？", kind="approval", max_choices=3,
                           options=[{"label": "路灯"}, {"label": "井盖"}, {"label": "停车"}])
    page = await phone_of(client, p.resident, new_page)
    await page.context.add_cookies([{"name": "wg_elder", "value": "1", "url": live_server}])
    await page.goto(f"/c/{cid}/polls/{poll['id']}")
    await expect(page.locator("html")).to_have_class("elder")
    await expect(page.locator("[data-ballot]")).to_be_visible()
    targets = page.locator("[data-options] button, [data-ballot] [type='submit']")
    await expect(targets).to_have_count(7)
    for target in await targets.all():
        box = await target.bounding_box()
        assert box and box["height"] >= 48 and box["width"] >= 48, box
    await shot(page, "poll-elder")
    single = await make_poll(client, cid, p.committee, title="活动日期", kind="single",
                             options=[{"label": "周六"}, {"label": "周日"}])
    await page.goto(f"/c/{cid}/polls/{single['id']}")
    await expect(page.locator("[data-ballot]")).to_be_visible()
    for choice in await page.locator("[data-options] .choice").all():
        box = await choice.bounding_box()
        assert box and box["height"] >= 48, box
