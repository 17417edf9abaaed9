"""Issue #11's pages at phone size (360 and 390 px, zh-CN and English, normal and elder mode): the
issue page's three buttons keep their labels whole and say which is on, the audit log reads in
words, the issue list searches and leads to a usable plain map, buildings come in the order
people number them, and the wrong doors (an applicant awaiting approval, a resident on a staff
page) say what is going on and where to go."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests import factories as f
from tests.e2e.helpers import give_tokens
from tests.issues.support import act, photo, place, report
from tests.polls.support import close, create, open_now

pytestmark = pytest.mark.e2e

SIZES = [(360, 740), (390, 844)]
RAW_KEY = re.compile(r"\b(ui|map|inbox|error)\.[a-z_]+\.[a-z_.]+")


async def phone(new_page: Any, client: Any, who: Any, *, lang: str = "zh-CN", elder: bool = False,
                width: int = 390) -> Any:
    """A signed-in phone (one sign-in per person: codes are rationed); `look` changes how it shows pages."""
    page = await new_page(locale=lang, service_workers="block")
    await give_tokens(client, page, who.phone)
    await look(page, lang=lang, elder=elder, width=width)
    return page


async def look(page: Any, *, lang: str = "zh-CN", elder: bool = False, width: int = 390) -> None:
    await page.set_viewport_size({"width": width, "height": 844 if width == 390 else 740})
    base = re.match(r"https?://[^/]+", page.url).group(0)  # type: ignore[union-attr]
    await page.context.add_cookies([{"name": "wg_lang", "value": lang, "url": base},
                                    {"name": "wg_elder", "value": "1" if elder else "0", "url": base}])


# What a person sees of each control: on how many lines its words sit, and whether it spills.
LINES = """(selector) => [...document.querySelectorAll(selector)].filter((el) => el.offsetParent).map((el) => {
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  const rows = new Set();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) if (r.width > 0) rows.add(Math.round((r.top + r.bottom) / 16));
  }
  return { text: el.textContent.trim().replace(/\\s+/g, " "), lines: rows.size,
           spills: el.scrollWidth > el.clientWidth + 1 };
})"""


async def no_sideways_scroll(page: Any) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert width <= 0, f"{page.url} scrolls sideways by {width}px"


async def quiet(page: Any) -> None:
    await page.evaluate("document.querySelectorAll('.toast').forEach((toast) => toast.remove())")


async def test_issue_page_buttons_keep_their_labels_and_say_which_is_on(new_page, client, session, shot):
    p = await place(client, session)
    issue = await report(client, p, photo_ids=[await photo(client, p.c, p.resident)])
    for _ in range(11):
        supporter = await f.member(session, p.c)
        assert (await client.post(f"/api/v1/communities/{p.c.id}/issues/{issue['id']}/support",
                                  headers=f.auth(supporter))).status_code in (200, 201)
    path = f"/c/{p.c.id}/issues/{issue['id']}"
    page = await phone(new_page, client, p.neighbour)
    for lang in ("zh-CN", "en"):
        for elder in (False, True):
            for width, _ in SIZES:
                await look(page, lang=lang, elder=elder, width=width)
                await page.goto(path)
                await expect(page.locator("[data-issue]")).to_be_visible()
                buttons = await page.evaluate(LINES, ".action-row .btn")
                assert len(buttons) == 3, buttons
                assert all(b["lines"] == 1 and not b["spills"] for b in buttons), (lang, elder, width, buttons)
                await no_sideways_scroll(page)
                if width == 390 and not elder:
                    await shot(page, f"issue-detail-{lang}")
                if width == 360 and elder:
                    await shot(page, f"issue-detail-{lang}-elder-360")

    await look(page)
    await page.goto(path)
    support, follow = page.locator("[data-support]"), page.locator("[data-follow]")
    await expect(support).to_have_attribute("aria-pressed", "false")
    await support.click()
    await expect(support).to_have_attribute("aria-pressed", "true")
    await expect(support).to_have_text(re.compile(r"已支持\s*12"))
    await expect(follow).to_have_attribute("aria-pressed", "true")  # supporting follows too
    await expect(follow).to_have_text("已关注")  # ... and the two read differently
    await expect(page.get_by_role("link", name="查看第 1 张照片")).to_have_count(1)
    await quiet(page)
    buttons = await page.evaluate(LINES, ".action-row .btn")
    assert all(b["lines"] == 1 for b in buttons), buttons
    await shot(page, "issue-detail-supported")


async def test_the_audit_log_page_reads_in_words(new_page, client, session, shot):
    p = await place(client, session)
    issue = await report(client, p)
    assert (await act(client, p, issue["id"], p.committee, "dispatch", handler_id=p.handler_id)).status_code == 200
    poll = await create(client, p.c, p.committee, kind="ranked", ranked_method="irv",
                        options=[{"label": "修路"}, {"label": "装灯"}, {"label": "种树"}])
    await open_now(client, p.c, p.committee, poll["id"])
    await close(client, p.c, p.committee, poll["id"])
    assert (await client.post(f"/api/v1/communities/{p.c.id}/polls/{poll['id']}/publish", json={},
                              headers=f.auth(p.committee))).status_code == 200
    page = await phone(new_page, client, p.committee)
    for lang, words in (("zh-CN", ("派单", "幸福里物业", "待受理 → 已派单", "排序投票", "公示截止")),
                        ("en", ("Dispatched an issue", "幸福里物业", "Reported → Dispatched", "Ranked choice",
                                "Public notice ends"))):
        for elder, width in ((False, 390), (True, 360)):
            await look(page, lang=lang, elder=elder, width=width)
            await page.goto(f"/c/{p.c.id}/admin/audit")
            await expect(page.locator("[data-list] .card").first).to_be_visible()
            text = await page.locator("main").inner_text()
            assert not RAW_KEY.search(text), RAW_KEY.search(text)
            assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text), "a raw ISO time"
            assert "none → set" not in text and "无 → 已指定" not in text
            for word in words:
                assert word in text, (lang, word)
            link = page.get_by_role("link", name="3栋路灯不亮").first
            assert (await link.get_attribute("href")).endswith(f"/issues/{issue['id']}")
            await no_sideways_scroll(page)
            await shot(page, f"audit-{lang}{'-elder-360' if elder else ''}")


async def test_the_issue_list_searches_and_leads_to_a_plain_map_with_a_legend(new_page, client, session, shot):
    p = await place(client, session)
    await report(client, p, title="3栋路灯不亮", lat=30.5801, lng=114.3001)
    await report(client, p, title="小区门口垃圾堆积", description="好几天没人清理", lat=30.5811, lng=114.3021)
    page = await phone(new_page, client, p.resident, width=360)
    await page.goto(f"/c/{p.c.id}/issues")
    await expect(page.locator("[data-list] [data-issue-id]")).to_have_count(2)
    search = page.get_by_role("searchbox", name="搜索问题")
    await search.fill("路灯")
    await search.press("Enter")
    await expect(page.locator("[data-list] [data-issue-id]")).to_have_count(1)
    await expect(page.locator("[data-list]")).to_contain_text("3栋路灯不亮")
    assert "q=%E8%B7%AF%E7%81%AF" in page.url  # the search is in the address, to share or come back to
    await shot(page, "issue-list-search")
    await search.fill("电梯")
    await page.get_by_role("button", name="搜索", exact=True).click()
    await expect(page.locator("[data-empty-search]")).to_be_visible()
    await expect(page.locator("[data-empty-search]")).to_contain_text("没有找到与「电梯」有关的问题")
    await expect(page.locator("[data-empty-all]")).to_be_hidden()
    await no_sideways_scroll(page)
    await shot(page, "issue-list-search-empty")
    await page.click("[data-search-clear]")
    await expect(page.locator("[data-list] [data-issue-id]")).to_have_count(2)

    await page.click("[data-map-link]")
    await expect(page).to_have_url(re.compile(rf"/c/{p.c.id}/issues/map$"))
    await expect(page.locator("[data-map] svg .map-point")).to_have_count(2)
    await expect(page.locator("[data-map-legend]")).to_contain_text("等待受理")
    await expect(page.locator("[data-map-legend]")).to_contain_text("红圈：已超期")
    # No coordinates for a resident to puzzle over, and every word of the drawing inside its box.
    labels = await page.evaluate("""() => {
      const svg = document.querySelector('[data-map] svg').getBoundingClientRect();
      return [...document.querySelectorAll('[data-map] svg text')].map((t) => {
        const r = t.getBoundingClientRect();
        return { text: t.textContent, inside: r.left >= svg.left - 0.5 && r.right <= svg.right + 0.5
                 && r.top >= svg.top - 0.5 && r.bottom <= svg.bottom + 0.5 };
      });
    }""")
    assert labels and all(label["inside"] for label in labels), labels
    assert not any(re.fullmatch(r"-?\d+\.\d{3,}", label["text"]) for label in labels), labels
    assert {"1", "2"} <= {label["text"] for label in labels}  # numbered dots, as the list below
    assert any(re.fullmatch(r"\d+ (米|公里)", label["text"]) for label in labels), labels  # a scale
    await expect(page.locator("[data-map-list] [data-dot]").first).to_have_text("1")
    await no_sideways_scroll(page)
    await shot(page, "issues-map-plain")

    await page.goto(f"/c/{p.c.id}")
    await expect(page.locator("[data-tile-map]")).to_have_attribute("href", f"/c/{p.c.id}/issues/map")

    for lang, elder, width in (("en", False, 390), ("en", True, 360), ("zh-CN", True, 390)):
        await look(page, lang=lang, elder=elder, width=width)
        await page.goto(f"/c/{p.c.id}/issues")
        await expect(page.locator("[data-list] [data-issue-id]")).to_have_count(2)
        controls = await page.evaluate(LINES, "[data-report-link], [data-map-link], .search-row .btn")
        assert len(controls) == 3 and all(c["lines"] == 1 and not c["spills"] for c in controls), controls
        await no_sideways_scroll(page)
        await shot(page, f"issue-list-{lang}{'-elder' if elder else ''}-{width}")
        await page.goto(f"/c/{p.c.id}/issues/map")
        await expect(page.locator("[data-map] svg .map-point")).to_have_count(2)
        await no_sideways_scroll(page)
        await shot(page, f"issues-map-{lang}{'-elder' if elder else ''}-{width}")


async def test_buildings_are_listed_as_people_number_them_and_households_say_unit_once(new_page, client, session,
                                                                                      shot):
    p = await place(client, session)
    for name in ("10栋", "2栋", "11栋"):
        await f.building(session, p.c, name=name)
    page = await phone(new_page, client, p.committee)
    await page.goto(f"/c/{p.c.id}/admin/places")
    names = page.locator("[data-groups] .card__title[data-slot='name']")
    await expect(names).to_have_count(4)
    assert await names.all_inner_texts() == ["1栋", "2栋", "10栋", "11栋"]
    await page.fill("[data-building-form] [name='name']", "3栋")
    await page.click("[data-building-form] [type='submit']")
    await expect(names).to_have_count(5)
    assert await names.all_inner_texts() == ["1栋", "2栋", "3栋", "10栋", "11栋"]
    r = await client.post(f"/api/v1/communities/{p.c.id}/households", headers=f.auth(p.committee),
                          json={"building_id": p.building_id, "unit": "1单元", "room": "101"})
    assert r.status_code == 201, r.text
    await page.reload()
    card = page.locator("[data-groups] article.card").first
    await card.locator("[data-toggle]").click()
    await expect(card.locator("[data-household-list]")).to_contain_text("1单元101")
    await expect(card.locator("[data-household-list]")).not_to_contain_text("单元 单元")
    await shot(page, "places-natural-order")


async def test_an_applicant_awaiting_approval_is_told_so_not_not_found(new_page, client, session, shot):
    p = await place(client, session)
    invite = (await client.post(f"/api/v1/communities/{p.c.id}/invites", json={},
                                headers=f.auth(p.committee))).json()
    applicant = await f.person(session, name="", phone="13800000091")
    r = await client.post("/api/v1/join", json={"code": invite["code"], "name": "新住户"}, headers=f.auth(applicant))
    assert r.json()["status"] == "pending", r.text
    page = await phone(new_page, client, applicant)
    for lang, title, body in (("zh-CN", "等待社区两委审核", "正在等社区审核"),
                              ("en", "waiting", "waiting for the committee")):
        await look(page, lang=lang)
        for path in (f"/c/{p.c.id}/issues", f"/c/{p.c.id}", f"/c/{p.c.id}/polls"):
            await page.goto(path)
            failure = page.locator("[data-failure]")
            await expect(failure).to_be_visible()
            await expect(failure.locator("[data-failure-title]")).to_contain_text(title)
            await expect(failure).to_contain_text(body)
            await expect(failure).not_to_contain_text("找不到")
            await expect(failure).not_to_contain_text("not a member")
            shown = await page.evaluate("[...document.querySelectorAll('#main > *')].filter((el) => el.offsetParent)"
                                        ".map((el) => el.dataset ? Object.keys(el.dataset).join() : el.tagName)")
            assert shown == ["failure"], (path, shown)  # the community's pages stay closed, only the answer shows
        await shot(page, f"wrong-door-pending-{lang}")


async def test_a_resident_on_a_staff_page_is_told_it_is_for_staff(new_page, client, session, shot):
    p = await place(client, session)
    await report(client, p)
    page = await phone(new_page, client, p.resident)
    for lang, words in (("zh-CN", "是工作人员用的页面"), ("en", "is for staff")):
        await look(page, lang=lang, width=360)
        for name in ("triage", "patrol", "queue"):
            await page.goto(f"/c/{p.c.id}/{name}")
            notice = page.locator("[data-staff-only]")
            await expect(notice).to_be_visible()
            await expect(notice).to_contain_text(words)
            shown = await page.evaluate(
                "[...document.querySelectorAll('[data-open-actions], [data-action], [role=tab]')]"
                ".filter((el) => el.offsetParent).length")
            assert shown == 0, f"{name}: {shown} staff controls shown to a resident"
            await expect(page.locator("[data-staff-only-issues]")).to_have_attribute("href", f"/c/{p.c.id}/issues")
            await expect(page.locator("[data-loading]")).to_be_hidden()
            await no_sideways_scroll(page)
            await shot(page, f"wrong-door-{name}-{lang}")
    # The committee still gets its board.
    page = await phone(new_page, client, p.committee)
    await page.goto(f"/c/{p.c.id}/triage")
    await expect(page.locator("[data-list] [data-issue-id]")).to_have_count(1)
    await expect(page.locator("[data-staff-only]")).to_be_hidden()
