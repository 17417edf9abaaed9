"""The honour board shared in the group chat, opened by someone signed out; a resident (who may not
read the members list) gives time-bank hours to an elderly neighbour found by phone number."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests import factories as f
from tests.e2e.helpers import give_tokens
from tests.tasks.support import town

pytestmark = pytest.mark.e2e


async def test_a_resident_finds_a_neighbour_by_phone_and_gives_hours(new_page: Any, client: Any, session: Any,
                                                                    shot: Any) -> None:
    t = await town(session, residents=1)
    cid, me, elder = t.c.id, t.residents[0], t.elder
    assert elder is not None
    r = await client.post(f"/api/v1/communities/{cid}/points/bonuses", headers=f.auth(t.committee),
                          json={"person_ids": [me.id], "unit": "hours", "amount": 180, "reason": "帮老人买菜"})
    assert r.status_code == 201, r.text

    page = await new_page(service_workers="block")
    await give_tokens(client, page, me.phone)
    await page.goto(f"/c/{cid}/points")
    box = page.locator("[data-donate-box]")
    await expect(box).to_be_visible()
    await box.locator("summary").click()
    await page.fill("[data-phone-q]", "13000000000")  # nobody here
    await page.click("[data-phone-find]")
    await expect(page.locator("[data-error-for=phone]")).to_contain_text("本社区没有用这个手机号登记的居民")
    await page.fill("[data-phone-q]", elder.phone)
    await page.click("[data-phone-find]")
    await expect(page.locator("[data-phone-name]")).to_have_text("张*奶")
    await expect(page.locator("[data-donate-box]")).not_to_contain_text(elder.phone)
    await page.click("[data-phone-confirm]")
    await expect(page.locator("[data-phone-chosen]")).to_contain_text("张*奶")
    await page.fill("#donate-hours", "1")
    await shot(page, "cobuild-donate-by-phone")
    await page.click("[data-donate-form] [type=submit]")
    await expect(page.locator(".toast")).to_contain_text("张*奶")
    theirs = await client.get(f"/api/v1/communities/{cid}/points/me", headers=f.auth(elder))
    assert theirs.json()["balances"]["hours"] == 60
    mine = await client.get(f"/api/v1/communities/{cid}/points/me", headers=f.auth(me))
    assert mine.json()["balances"]["hours"] == 120


async def test_the_shared_honour_board_opens_signed_out(new_page: Any, client: Any, session: Any) -> None:
    t = await town(session, residents=2)
    cid = t.c.id
    a, b = t.residents
    r = await client.post(f"/api/v1/communities/{cid}/points/bonuses", headers=f.auth(t.committee),
                          json={"person_ids": [a.id], "unit": "points", "amount": 40, "reason": "清扫楼道"})
    assert r.status_code == 201, r.text
    await client.put(f"/api/v1/communities/{cid}/points/me/board-visibility", headers=f.auth(a),
                     json={"show_name": False})
    # A neighbour shares the board from its page: a short link and its QR code.
    mine = await new_page(service_workers="block")
    await give_tokens(client, mine, b.phone)
    await mine.goto(f"/c/{cid}/board")
    await expect(mine.locator("[data-board]")).to_be_visible()  # the page is wired once the board is drawn
    await mine.click("[data-share]")
    await expect(mine.locator("[data-share-url]")).to_contain_text("/s/")
    await expect(mine.locator("[data-share-qr]")).to_have_attribute("src", re.compile(r"/qr\.svg$"))
    url = await mine.locator("[data-share-url]").inner_text()
    page = await new_page(service_workers="block")  # signed out
    await page.goto(url[url.index("/s/"):])
    await expect(page.locator("h1")).to_contain_text("光荣榜")
    await expect(page.locator('[data-ranking="1"]')).to_contain_text("一位邻居")
    await expect(page.locator('[data-ranking="1"]')).not_to_contain_text(a.name)
    await expect(page.locator("body")).not_to_contain_text(a.phone)
    wide = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert wide <= 0
