"""The committee's places and audit screens: grids, buildings, households, a grid worker's
grids, and the log that shows who did each of those."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests import factories as f
from tests.e2e.helpers import give_tokens, neighbourhood

pytestmark = pytest.mark.e2e


async def clear_toasts(page: Any) -> None:
    """Toasts float over the middle of a full-page screenshot; they have said their piece."""
    await page.evaluate("document.querySelectorAll('.toast').forEach((toast) => toast.remove())")


async def test_committee_maps_the_community_assigns_a_grid_worker_and_reads_the_audit_log(
        new_page, client, session, shot):
    place = await neighbourhood(session, client)
    await f.member(session, place.community, "grid_worker", name="网格员小林")
    page = await new_page()
    await give_tokens(client, page, place.committee.phone)
    await page.goto(f"/c/{place.cid}")
    await page.click('[data-permission="places.manage"]')
    await expect(page).to_have_url(re.compile(r"/admin/places$"))
    await expect(page.locator("[data-grids-empty]")).to_be_visible()

    # A grid; the same name again is refused with the server's reason at the field.
    grid_form = page.locator("[data-grid-form]")
    await page.fill("#grid-name", "东区网格")
    await grid_form.locator('[type="submit"]').click()
    await expect(page.locator("[data-grids] li")).to_have_text(["东区网格0 个楼栋"])
    await page.fill("#grid-name", "东区网格")
    await grid_form.locator('[type="submit"]').click()
    await expect(grid_form.locator('[data-error-for="name"]')).to_have_text("名称已被使用。")
    await expect(page.locator("#grid-name")).to_have_attribute("aria-invalid", "true")
    await expect(grid_form.locator("[data-form-error]")).to_be_empty()  # said once, at the field

    # A building in that grid: it shows under the grid's heading; 1栋 stays outside any grid.
    building_form = page.locator("[data-building-form]")
    await page.fill("#building-name", "2栋")
    await page.select_option("#building-grid", label="东区网格")
    await building_form.locator('[type="submit"]').click()
    group = page.locator("[data-groups] > section", has_text="东区网格")
    await expect(group.locator(".section-title")).to_have_text("东区网格 · 1 个楼栋")
    await expect(group.locator(".card__title")).to_have_text(["2栋"])
    await expect(page.locator("[data-groups] > section", has_text="未划分网格").locator(".card__title")) \
        .to_have_text(["1栋"])
    await expect(page.locator("[data-grids] li")).to_have_text(["东区网格1 个楼栋"])

    # Its households load on tap; a new one with its owner's area joins the list.
    card = group.locator(".card", has_text="2栋")
    await card.locator("[data-toggle]").click()
    await expect(card.locator("[data-toggle]")).to_have_attribute("aria-expanded", "true")
    await expect(card.locator("[data-households-empty]")).to_be_visible()
    form = card.locator("[data-household-form]")
    await form.locator('[name="unit"]').fill("1")
    await form.locator('[name="room"]').fill("301")
    await form.locator('[name="owner_area_m2"]').fill("八十九")
    await form.locator('[type="submit"]').click()
    await expect(form.locator('[data-error-for="owner_area_m2"]')).to_contain_text("请填写数字")
    await form.locator('[name="owner_area_m2"]').fill("89.5")
    await form.locator('[type="submit"]').click()
    await expect(card.locator("[data-household-list] li")).to_have_text(["1单元30189.5 平方米"])
    await expect(card.locator("[data-households-empty]")).to_be_hidden()
    await form.locator('[name="unit"]').fill("1")
    await form.locator('[name="room"]').fill("301")
    await form.locator('[type="submit"]').click()
    await expect(form.locator('[data-error-for="room"]')).to_have_text("这一户已经存在。")
    await clear_toasts(page)
    await shot(page, "places")

    # The same screen in elder mode: large, and the forms still work.
    await page.evaluate("import('/static/js/prefs.js').then((prefs) => prefs.setElder(true))")
    await page.reload()
    await expect(page.locator("html")).to_have_class(re.compile(r"\belder\b"))
    await expect(page.locator("[data-places]")).to_be_visible()
    await page.locator(".card", has_text="2栋").locator("[data-toggle]").click()
    await expect(page.locator(".card", has_text="2栋").locator("[data-household-list] li")) \
        .to_have_text(["1单元30189.5 平方米"])
    for selector in ("[data-toggle] >> nth=0", "#grid-name", "[data-building-form] [type=submit]"):
        box = await page.locator(selector).bounding_box()
        assert box and box["height"] >= 56, selector
    await shot(page, "places-elder")
    await page.evaluate("import('/static/js/prefs.js').then((prefs) => prefs.setElder(false))")

    # The grid worker is given the grid and a building on the members screen.
    await page.goto(f"/c/{place.cid}/admin/members")
    worker = page.locator("[data-list] .card", has_text="网格员小林")
    await worker.locator("[data-edit-places]").click()
    places_form = worker.locator("[data-places-form]")
    await expect(places_form.locator("[data-grids-field]")).to_be_visible()
    await places_form.locator("label.check", has_text="东区网格").locator("input").check()
    await places_form.locator('[name="building_id"]').select_option(label="2栋")
    await shot(page, "members-assign")
    await places_form.locator('[type="submit"]').click()
    await expect(places_form).to_be_hidden()
    await expect(worker.locator('[data-slot="places"]')).to_have_text("楼栋：2栋 · 负责网格：东区网格")
    await clear_toasts(page)
    await shot(page, "members-places")

    # Only a grid worker looks after grids; anyone else is given a building only.
    me = page.locator("[data-list] .card", has_text="陈主任")
    await me.locator("[data-edit-places]").click()
    await expect(me.locator("[data-grids-field]")).to_be_hidden()
    await expect(me.locator('[name="building_id"] option')).to_have_text(["未指定", "1栋", "2栋"])

    # The audit log: newest first, who, what, when, and what changed.
    await page.goto(f"/c/{place.cid}")
    await page.click('[data-permission="audit.read"]')
    entries = page.locator("[data-list] .card")
    await expect(entries.locator(".card__title")).to_have_text(
        ["修改成员", "添加住户", "添加楼栋", "添加网格", "生成邀请"])
    newest = entries.first
    await expect(newest).to_contain_text("陈主任")
    await expect(newest.locator("time")).to_have_text(re.compile(r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}$"))
    await expect(newest.locator("dt")).to_have_text(["楼栋", "负责网格"])
    await expect(newest.locator("dd")).to_have_text(["无 → 2栋", "无 → 东区网格"])
    household = entries.nth(1)
    await expect(household.locator("dt")).to_have_text(["楼栋", "单元", "房号", "业主面积"])
    await expect(household.locator("dd")).to_have_text(["2栋", "1", "301", "89.5 平方米"])
    await shot(page, "audit")


async def test_audit_log_loads_older_entries_with_the_cursor(new_page, client, session):
    place = await neighbourhood(session, client)
    headers = f.auth(place.committee)
    for n in range(21):
        r = await client.post(f"/api/v1/communities/{place.cid}/grids", json={"name": f"网格{n:02d}"},
                              headers=headers)
        assert r.status_code == 201, r.text
    page = await new_page()
    await give_tokens(client, page, place.committee.phone)
    await page.goto(f"/c/{place.cid}/admin/audit")
    entries = page.locator("[data-list] .card")
    await expect(entries).to_have_count(20)
    await expect(entries.first).to_contain_text("网格20")
    await page.click("[data-more]")
    await expect(entries).to_have_count(22)
    await expect(entries.last.locator(".card__title")).to_have_text("生成邀请")
    await expect(page.locator("[data-more]")).to_be_hidden()


async def test_a_village_keeps_village_groups(new_page, client, session):
    village = await f.community(session, name="石桥村", kind="village")
    secretary = await f.member(session, village, "committee", name="村支书")
    page = await new_page()
    await give_tokens(client, page, secretary.phone)
    await page.goto(f"/c/{village.id}/admin/places")
    await expect(page.locator("#buildings-heading")).to_have_text("村民小组")
    await page.fill("#building-name", "第三村民小组")
    await page.click("[data-building-form] [type=submit]")
    card = page.locator(".card", has_text="第三村民小组")
    await card.locator("[data-toggle]").click()
    await expect(card.locator("[data-household-form]")).to_contain_text("门牌号")
    listed = (await client.get(f"/api/v1/communities/{village.id}/buildings", headers=f.auth(secretary))).json()
    assert [(b["name"], b["kind"]) for b in listed] == [("第三村民小组", "village_group")]


async def test_a_grid_worker_sees_the_places_but_cannot_change_them(new_page, client, session):
    place = await neighbourhood(session, client)
    worker = await f.member(session, place.community, "grid_worker", name="网格员小林")
    page = await new_page()
    await give_tokens(client, page, worker.phone)
    await page.goto(f"/c/{place.cid}")
    await expect(page.locator('[data-permission="members.view"]')).to_be_visible()
    await expect(page.locator('[data-permission="places.manage"]')).to_be_hidden()
    await expect(page.locator('[data-permission="audit.read"]')).to_be_hidden()
    await page.goto(f"/c/{place.cid}/admin/places")
    await expect(page.locator(".card__title", has_text="1栋")).to_be_visible()
    await expect(page.locator("[data-grid-form]")).to_be_hidden()
    await expect(page.locator("[data-building-form]")).to_be_hidden()
    await page.locator(".card", has_text="1栋").locator("[data-toggle]").click()
    await expect(page.locator("[data-households-empty]")).to_be_visible()
    await expect(page.locator("[data-household-form]")).to_be_hidden()
