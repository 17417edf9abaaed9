"""Language and elder mode: chosen once on the phone, kept across pages and reloads."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests import factories as f
from tests.e2e.helpers import give_tokens, neighbourhood

pytestmark = pytest.mark.e2e


async def cookie(page, name):
    return next((c["value"] for c in await page.context.cookies() if c["name"] == name), None)


async def test_language_switch_persists_and_is_kept_on_the_account(new_page, client, session, shot):
    page = await new_page()
    await give_tokens(client, page, "13800138011")
    await page.goto("/settings")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await expect(page.locator("[data-signed-in]")).to_be_visible()

    async with page.expect_navigation():
        await page.click('label[for="lang-en"]')
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator(".topbar__title")).to_have_text("Settings")
    assert await cookie(page, "wg_lang") == "en"
    await shot(page, "settings-en")

    await page.goto("/")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("[data-no-communities]")).to_contain_text("Not in a community yet")

    access = await page.evaluate("localStorage.getItem('wg_access')")
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {access}"})
    assert me.json()["locale"] == "en"

    await page.goto("/settings")
    async with page.expect_navigation():
        await page.click('label[for="lang-zh-CN"]')
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await expect(page.locator(".topbar__title")).to_have_text("设置")


async def test_language_choice_survives_lost_cookies(new_page):
    # WeChat's browser may clear cookies but keep localStorage: the page puts the cookie back.
    page = await new_page()
    await page.goto("/settings")
    async with page.expect_navigation():
        await page.click('label[for="lang-en"]')
    await page.context.clear_cookies()
    await page.goto("/login")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator(".topbar__title")).to_have_text("Sign in")


async def test_elder_mode_is_large_and_persists(new_page, client, session, shot):
    place = await neighbourhood(session, client)
    member = await f.member(session, place.community, name="周奶奶")
    page = await new_page()
    await give_tokens(client, page, member.phone)
    await page.goto("/settings")
    await page.click("label.switch")
    await expect(page.locator("html")).to_have_class(re.compile(r"\belder\b"))
    assert await page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 20
    box = await page.locator("[data-sign-out]").bounding_box()
    assert box and box["height"] >= 48
    assert await cookie(page, "wg_elder") == "1"

    response = await page.goto(f"/c/{place.cid}")
    assert response and 'class="elder"' in await response.text()  # large from the first byte
    await expect(page.locator("[data-community]")).to_be_visible()
    assert await page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 20
    for selector in (".bottomnav__item >> nth=0", ".tile >> nth=0", ".topbar .icon-btn >> nth=0"):
        target = await page.locator(selector).bounding_box()
        assert target and target["height"] >= 48, selector
    await expect(page.locator(".stats")).to_be_hidden()  # simpler screen: secondary facts go
    await shot(page, "elder-mode")

    await page.reload()
    await expect(page.locator("html")).to_have_class(re.compile(r"\belder\b"))

    await page.goto("/settings")
    await page.click("label.switch")
    await expect(page.locator("html")).not_to_have_class(re.compile(r"\belder\b"))
    assert await cookie(page, "wg_elder") == "0"
    assert await page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") < 20
