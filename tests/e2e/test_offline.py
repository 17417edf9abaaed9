"""Offline: the write queue (with and without a service worker), the offline page, and the
session surviving an expired access token."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.e2e.helpers import give_tokens, neighbourhood

pytestmark = pytest.mark.e2e

SUBMIT = "([method, url, body]) => import('/static/js/queue.js').then((q) => q.submitWrite(method, url, body))"
WECHAT_UA = ("Mozilla/5.0 (Linux; Android 12; V2118A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/107.0.5304.141 "
             "Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230303 MicroMessenger/8.0.34.2340(0x2800225B) WeChat/arm64")


async def bearer(page):
    token = await page.evaluate("localStorage.getItem('wg_access')")
    return {"Authorization": f"Bearer {token}"}


async def test_write_made_offline_is_queued_and_sent_when_back_online(new_page, client):
    # No service worker, as in WeChat: the queue must not need one.
    page = await new_page(service_workers="block")
    await give_tokens(client, page, "13800138021")
    await page.goto("/settings")
    await page.context.set_offline(True)
    await expect(page.locator("[data-netbar]")).to_be_visible()

    result = await page.evaluate(SUBMIT, ["PATCH", "/me", {"name": "赵阿姨"}])
    assert result == {"status": "queued"}
    await expect(page.locator("[data-queue-count]")).to_have_text("1")
    await expect(page.locator("[data-queue-list]")).to_contain_text("等待发送")

    await page.context.set_offline(False)
    await expect(page.locator("[data-queue-badge]")).to_be_hidden()
    await expect(page.locator("[data-queue-list]")).to_contain_text("已发送")
    await expect(page.locator("[data-netbar]")).to_be_hidden()
    me = await client.get("/api/v1/me", headers=await bearer(page))
    assert me.json()["name"] == "赵阿姨"


async def test_write_whose_answer_was_lost_is_applied_once(new_page, client, session):
    place = await neighbourhood(session, client)
    page = await new_page(service_workers="block")
    await give_tokens(client, page, place.committee.phone)
    await page.goto("/settings")
    invites = f"/api/v1/communities/{place.cid}/invites"

    async def lose_the_answer(route):
        await route.fetch()  # the server does the work…
        await route.abort("connectionreset")  # …but the phone never hears back

    await page.route(f"**{invites}", lose_the_answer)
    result = await page.evaluate(SUBMIT, ["POST", f"/communities/{place.cid}/invites", {"note": "楼下公告栏"}])
    assert result == {"status": "queued"}
    await page.unroute(f"**{invites}")

    replayed = []
    page.on("response", lambda r: replayed.append(r.headers.get("idempotent-replayed")) if invites in r.url else None)
    # A replay racing the first request's bookkeeping gets 409 "in progress" and stays queued;
    # the phone simply tries again later, as here.
    for _ in range(20):
        await page.evaluate("import('/static/js/queue.js').then((q) => q.replay())")
        if "已发送" in await page.locator("[data-queue-list]").inner_text():
            break
        await page.wait_for_timeout(100)
    await expect(page.locator("[data-queue-list]")).to_contain_text("已发送")
    assert "true" in replayed
    listed = await client.get(invites, headers=await bearer(page))
    assert [i["note"] for i in listed.json()["items"]].count("楼下公告栏") == 1


async def test_a_write_goes_out_only_under_the_person_who_made_it(new_page, client):
    page = await new_page(service_workers="block")
    await give_tokens(client, page, "13800138023")
    await page.goto("/settings")
    await page.context.set_offline(True)
    assert await page.evaluate(SUBMIT, ["PATCH", "/me", {"name": "第一位"}]) == {"status": "queued"}
    await page.evaluate("import('/static/js/api.js').then((api) => api.forgetSession())")
    await page.context.set_offline(False)
    await give_tokens(client, page, "13800138024")  # someone else signs in on this phone

    await page.goto("/settings")
    await page.evaluate("import('/static/js/queue.js').then((q) => q.replay())")
    await expect(page.locator("[data-queue-list]")).to_contain_text("等待发送")
    me = await client.get("/api/v1/me", headers=await bearer(page))
    assert me.json()["phone"] == "13800138024" and me.json()["name"] != "第一位"


async def test_service_worker_serves_the_offline_page(new_page):
    page = await new_page()
    await page.goto("/")
    assert await page.evaluate("navigator.serviceWorker.ready.then((r) => Boolean(r.active))")
    await page.context.set_offline(True)
    await page.goto("/settings")
    await expect(page.get_by_text("现在没有网络", exact=True)).to_be_visible()
    await page.context.set_offline(False)
    await page.click("[data-retry]")
    await expect(page.locator(".topbar__title")).to_have_text("设置")


async def test_no_service_worker_inside_wechat_and_the_pages_still_work(new_page, client):
    page = await new_page(user_agent=WECHAT_UA)
    await give_tokens(client, page, "13800138022")
    await page.goto("/")
    await expect(page.locator("[data-greeting]")).to_have_text("您好")
    await page.wait_for_timeout(300)
    assert await page.evaluate("navigator.serviceWorker.getRegistrations().then((r) => r.length)") == 0


async def test_expired_access_token_is_refreshed_and_a_reused_one_signs_out(new_page, client, session):
    place = await neighbourhood(session, client)
    page = await new_page()
    await give_tokens(client, page, place.committee.phone)
    first_refresh = await page.evaluate("localStorage.getItem('wg_refresh')")
    await page.evaluate("localStorage.setItem('wg_access', 'expired.or.forged')")
    await page.goto(f"/c/{place.cid}")
    await expect(page.locator('[data-community] [data-slot="name"]')).to_have_text("幸福里社区")
    assert await page.evaluate("localStorage.getItem('wg_refresh')") != first_refresh

    # Someone replays the old refresh token: the server ends the session, the page asks to sign in.
    reused = await client.post("/api/v1/auth/refresh", json={"refresh_token": first_refresh})
    assert reused.status_code == 401
    await page.evaluate("localStorage.setItem('wg_access', 'expired.or.forged')")
    await page.goto(f"/c/{place.cid}")
    await page.wait_for_url(re.compile(r"/login\?next=%2Fc%2F"))
    assert await page.evaluate("localStorage.getItem('wg_refresh')") is None
