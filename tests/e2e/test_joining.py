"""Signing in by phone, and joining a community by its invite link."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.e2e.helpers import give_tokens, neighbourhood, sign_in_on_page, sms_code

pytestmark = pytest.mark.e2e


async def test_resident_signs_in_with_phone_and_code(new_page, shot, live_server):
    page = await new_page()
    await page.goto("/login")
    await page.fill("#si-phone-input", "13800138001")
    await page.click("[data-send-code]")

    send = page.locator("[data-send-code]")
    await expect(send).to_be_disabled()
    await expect(send).to_contain_text("秒后可重发")
    await expect(page.locator("[data-code-sent]")).to_contain_text("138****8001")

    code = await sms_code("13800138001")
    await page.fill("#si-code", "000000" if code != "000000" else "111111")
    await page.click('[data-panel="phone"] [type="submit"]')
    await expect(page.locator('[data-panel="phone"] [data-form-error]')).to_contain_text("验证码不正确")

    await page.fill("#si-code", code)
    await shot(page, "sign-in")
    await page.click('[data-panel="phone"] [type="submit"]')
    await page.wait_for_url(f"{live_server}/")
    await expect(page.locator("[data-no-communities]")).to_be_visible()


async def test_phone_is_checked_before_a_code_is_asked_for(new_page):
    page = await new_page()
    await page.goto("/login")
    await page.fill("#si-phone-input", "12345")
    await page.click("[data-send-code]")
    await expect(page.locator('[data-error-for="phone"]')).to_contain_text("11 位手机号")
    await expect(page.locator("#si-phone-input")).to_have_attribute("aria-invalid", "true")


async def test_staff_sign_in_shows_the_servers_refusal_inline(new_page):
    page = await new_page()
    await page.goto("/login")
    await page.click('[data-tab="staff"]')
    await page.fill("#si-username", "nobody")
    await page.fill("#si-password", "wrong-password")
    await page.click('[data-panel="staff"] [type="submit"]')
    await expect(page.locator('[data-panel="staff"] [data-form-error]')).to_contain_text("用户名或密码不正确")


async def test_roster_phone_joins_by_invite_link_at_once(new_page, shot, client, session, live_server):
    place = await neighbourhood(session, client, roster=(("王建国", "13800138002"),))
    page = await new_page()
    await page.goto(f"/join/{place.invite['code']}")
    await expect(page.locator("[data-community-name]")).to_have_text("幸福里社区")
    await expect(page.locator("[data-join-signin]")).to_be_visible()
    await shot(page, "join")

    await sign_in_on_page(page, "13800138002")
    form = page.locator("[data-join-form]")
    await expect(form).to_be_visible()
    await form.locator('[name="name"]').fill("王建国")
    await form.locator('[name="room"]').fill("1栋101")
    await form.locator('[type="submit"]').click()

    await page.wait_for_url(f"{live_server}/c/{place.cid}")
    community = page.locator("[data-community]")
    await expect(community.locator('[data-slot="name"]')).to_have_text("幸福里社区")
    await expect(community.locator('[data-slot="region"]')).to_contain_text("花山街道")
    await expect(community.locator("[data-roles]")).to_contain_text("业主")
    await expect(page.locator('.tile[aria-disabled="true"]').first).to_contain_text("暂未开通")
    await expect(page.locator("[data-admin]")).to_be_hidden()
    await shot(page, "community")


async def test_unknown_phone_waits_until_the_committee_approves(new_page, client, session, live_server, shot):
    place = await neighbourhood(session, client)
    resident = await new_page()
    await resident.goto(f"/join/{place.invite['code']}")
    await sign_in_on_page(resident, "13800138003")
    form = resident.locator("[data-join-form]")
    await form.locator('[name="name"]').fill("刘阿姨")
    await form.locator('[name="room"]').fill("1栋302")
    await form.locator('[type="submit"]').click()
    await expect(resident.locator("[data-join-pending]")).to_be_visible()
    await expect(form).to_be_hidden()

    committee = await new_page()
    await give_tokens(client, committee, place.committee.phone)
    await committee.goto(f"/c/{place.cid}")
    requests_tile = committee.locator('[data-permission="join_requests.decide"]')
    await expect(requests_tile.locator("[data-pending-count]")).to_have_text("1 条待审")
    await requests_tile.click()
    await committee.wait_for_url(f"{live_server}/c/{place.cid}/admin/join-requests")
    card = committee.locator("[data-list] .card", has_text="刘阿姨")
    await expect(card).to_contain_text("1栋302")
    await expect(card).to_contain_text("13800138003")
    await card.locator("[data-approve]").click()
    await expect(committee.locator(".toast")).to_contain_text("刘阿姨 成为社区成员")
    await expect(committee.locator("[data-empty]")).to_be_visible()

    await resident.goto("/")
    await expect(resident.locator("[data-communities]")).to_contain_text("幸福里社区")
    await expect(resident.locator("[data-pending-section]")).to_be_hidden()
    await expect(resident.locator("[data-nav-community]")).to_have_attribute("href", f"/c/{place.cid}")
    await shot(resident, "home")


async def test_committee_rejects_with_a_reason(new_page, client, session):
    place = await neighbourhood(session, client)
    resident = await new_page()
    await give_tokens(client, resident, "13800138004")
    await resident.goto(f"/join/{place.invite['code']}")
    form = resident.locator("[data-join-form]")
    await form.locator('[name="name"]').fill("过路人")
    await form.locator('[type="submit"]').click()
    await expect(resident.locator("[data-join-pending]")).to_be_visible()

    committee = await new_page()
    await give_tokens(client, committee, place.committee.phone)
    await committee.goto(f"/c/{place.cid}/admin/join-requests")
    card = committee.locator("[data-list] .card", has_text="过路人")
    await card.locator("[data-reject]").click()
    await card.locator('[data-reject-form] [type="submit"]').click()
    await expect(card.locator('[data-error-for="reason"]')).to_contain_text("请写明不通过的原因")
    await card.locator('[name="reason"]').fill("不是本小区住户")
    await card.locator('[data-reject-form] [type="submit"]').click()
    await expect(committee.locator(".toast")).to_contain_text("已拒绝")

    await committee.click('[data-status="rejected"]')
    await expect(committee.locator("[data-list] .card", has_text="过路人")).to_contain_text("不是本小区住户")


async def test_signed_in_member_following_the_invite_again_lands_in_the_community(new_page, client, session,
                                                                                  live_server):
    place = await neighbourhood(session, client, roster=(("张大爷", "13800138005"),))
    page = await new_page()
    await give_tokens(client, page, "13800138005")
    await page.goto(f"/join/{place.invite['code']}")
    form = page.locator("[data-join-form]")
    await form.locator('[name="name"]').fill("张大爷")
    await form.locator('[type="submit"]').click()
    await page.wait_for_url(re.compile(r"/c/"))
    await page.goto(f"/join/{place.invite['code']}")
    await page.wait_for_url(f"{live_server}/c/{place.cid}")
