"""Forms that help rather than scold, at phone size: an empty report marks every missing field at
once and each message goes as soon as its field is put right; a step taken on the triage board
moves the card out of its tab at once; the issue page says "located by phone" and keeps the
coordinates in a fold; English pages name the default categories in English; and Settings changes
the name neighbours see. In zh-CN, English and elder mode."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from app.core.security import create_access_token
from tests import factories as f
from tests.issues.support import place, report

pytestmark = pytest.mark.e2e


async def phone_of(new_page: Any, live_server: str, person: Any, *, lang: str = "zh-CN", elder: bool = False) -> Any:
    """A phone signed in as ``person`` in ``lang`` (and elder mode). The same person signs in on
    several phones here, faster than texted codes may be asked for: the token is made directly."""
    page = await new_page(locale=lang, service_workers="block")
    cookies = [{"name": "wg_lang", "value": lang, "url": live_server}]
    if elder:
        cookies.append({"name": "wg_elder", "value": "1", "url": live_server})
    await page.context.add_cookies(cookies)
    await page.goto("/offline")
    access, _ = create_access_token(person.id)
    await page.evaluate("(pair) => import('/static/js/api.js').then((api) => api.saveTokens(pair))",
                        {"access_token": access, "refresh_token": "none-needed-in-a-short-test"})
    return page


async def quiet(page: Any) -> None:
    await page.evaluate("document.querySelectorAll('.toast').forEach((toast) => toast.remove())")


async def test_an_empty_report_marks_every_missing_field_and_each_mark_goes_when_put_right(
        new_page, client, session, shot, live_server):
    p = await place(client, session)
    for lang, elder, words in (("zh-CN", False, ("请填写标题", "请选择类别", "照明")),
                               ("en", False, ("Please give a title", "Please choose a category", "Lighting")),
                               ("zh-CN", True, ("请填写标题", "请选择类别", "照明"))):
        page = await phone_of(new_page, live_server, p.resident, lang=lang, elder=elder)
        await page.goto(f"/c/{p.c.id}/issues/new")
        form = page.locator("[data-report-form]")
        await expect(form).to_be_visible()
        title_error, category_error = form.locator('[data-error-for="title"]'), form.locator(
            '[data-error-for="category_id"]')
        await form.locator('[type="submit"]').click()
        await expect(title_error).to_have_text(words[0])
        await expect(category_error).to_have_text(words[1])  # both at once, not one per try
        await expect(page.locator("#issue-title")).to_be_focused()  # the first one to put right
        await expect(page.locator("#issue-category")).to_have_attribute("aria-invalid", "true")
        await shot(page, f"report-missing-{lang}{'-elder' if elder else ''}")

        await page.locator("#issue-title").press_sequentially("东门")
        await expect(title_error).to_be_empty()  # gone with the first letter typed
        await expect(page.locator("#issue-title")).not_to_have_attribute("aria-invalid", "true")
        await expect(category_error).to_have_text(words[1])  # the other one still waits
        # The default categories read in the page's language.
        await page.select_option("#issue-category", label=words[2])
        await expect(category_error).to_be_empty()
        await expect(page.locator("#issue-category")).not_to_have_attribute("aria-invalid", "true")
    listed = await client.get(f"/api/v1/communities/{p.c.id}/issues", headers=f.auth(p.resident))
    assert listed.json()["items"] == []  # nothing was sent


async def test_a_dispatched_card_leaves_the_new_reports_tab_at_once(new_page, client, session, shot, live_server):
    p = await place(client, session)
    first = await report(client, p, title="3栋路灯不亮")
    second = await report(client, p, title="东门井盖松动")
    committee = await phone_of(new_page, live_server, p.committee)
    await committee.goto(f"/c/{p.c.id}/triage")
    card = committee.locator(f'[data-issue-id="{first["id"]}"]')
    await card.locator("[data-open-actions]").click()
    await card.locator('[data-action="dispatch"]').click()
    await card.locator('[data-action-form="dispatch"] [name="handler_id"]').select_option(label="幸福里物业")
    await card.locator('[data-action-form="dispatch"] [type="submit"]').click()
    await expect(committee.locator(f'[data-issue-id="{first["id"]}"]')).to_have_count(0)
    await expect(committee.locator(f'[data-issue-id="{second["id"]}"]')).to_be_visible()
    await expect(committee.locator("[data-empty]")).to_be_hidden()
    await quiet(committee)
    await shot(committee, "triage-after-dispatch")
    # It is where it now belongs, and the last one leaving leaves the tab saying it is empty.
    await committee.click('[data-tab="working"]')
    await expect(committee.locator(f'[data-issue-id="{first["id"]}"] [data-status]')).to_have_text("已派单")
    await committee.click('[data-tab="reported"]')
    card = committee.locator(f'[data-issue-id="{second["id"]}"]')
    await card.locator("[data-open-actions]").click()
    await card.locator('[data-action="reject"]').click()
    await card.locator('[data-action-form="reject"] [name="reason"]').fill("不属于社区管理范围")
    await card.locator('[data-action-form="reject"] [type="submit"]').click()
    await expect(committee.locator("[data-list] .issue-card")).to_have_count(0)
    await expect(committee.locator("[data-empty]")).to_be_visible()


async def test_the_issue_page_says_located_and_keeps_the_coordinates_in_a_fold(
        new_page, client, session, shot, live_server):
    p = await place(client, session)
    issue = await report(client, p, lat=30.505551, lng=114.416295, location_text="楼顶水箱")
    for lang, elder, plain, coords, category in (
            ("zh-CN", False, "已用手机定位", "定位 30.505551, 114.416295", "照明"),
            ("en", False, "Located by phone", "GPS 30.505551, 114.416295", "Lighting"),
            ("zh-CN", True, "已用手机定位", "定位 30.505551, 114.416295", "照明")):
        page = await phone_of(new_page, live_server, p.neighbour, lang=lang, elder=elder)
        await page.goto(f"/c/{p.c.id}/issues/{issue['id']}")
        await expect(page.locator('[data-slot="location"]')).to_have_text(f"1栋 · 楼顶水箱 · {plain}")
        await expect(page.locator('[data-slot="category"]')).to_have_text(category)
        fold = page.locator("[data-gps]")
        await expect(fold.locator('[data-slot="gps"]')).to_be_hidden()  # for whoever asks
        assert "30.505551" not in await page.locator("main").inner_text()
        await shot(page, f"issue-located-{lang}{'-elder' if elder else ''}")
        await fold.locator("summary").click()
        await expect(fold.locator('[data-slot="gps"]')).to_have_text(coords)


async def test_a_person_changes_the_name_neighbours_see_in_settings(new_page, client, session, shot, live_server):
    c = await f.community(session)
    member = await f.member(session, c, name="赵敏")
    for lang, elder, blank, saved in (("zh-CN", False, "请填写名字", "名字已保存"),
                                      ("en", False, "Please enter a name", "Name saved"),
                                      ("zh-CN", True, "请填写名字", "名字已保存")):
        page = await phone_of(new_page, live_server, member, lang=lang, elder=elder)
        await page.goto("/settings")
        name = page.locator("#settings-name")
        await expect(name).to_have_value("赵敏")
        await name.fill("   ")
        await page.click("[data-name-form] [type='submit']")
        await expect(page.locator('[data-name-form] [data-error-for="name"]')).to_have_text(blank)
        await shot(page, f"settings-name-{lang}{'-elder' if elder else ''}")
        await name.fill("  赵敏（3栋） ")
        await expect(page.locator('[data-name-form] [data-error-for="name"]')).to_be_empty()
        await page.click("[data-name-form] [type='submit']")
        await expect(page.locator(".toast")).to_have_text(saved)
        await expect(name).to_have_value("赵敏（3栋）")  # as the server keeps it: trimmed
        await page.reload()
        await expect(page.locator("#settings-name")).to_have_value("赵敏（3栋）")
        await client.patch("/api/v1/me", json={"name": "赵敏"}, headers=f.auth(member))
    # The server's refusal shows under the field too (a name the phone let through).
    page = await phone_of(new_page, live_server, member)
    await page.goto("/settings")
    await page.locator("#settings-name").fill("赵\u0007敏")
    await page.click("[data-name-form] [type='submit']")
    await expect(page.locator('[data-name-form] [data-error-for="name"]')).to_have_text("名字里有无法显示的字符")
    me = (await client.get("/api/v1/me", headers=f.auth(member))).json()
    assert me["name"] == "赵敏"
