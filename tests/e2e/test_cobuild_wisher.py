"""A micro-wish a grid worker posted for a resident, through the resident's phone (390×844): she
sees on the wish who took it up, their photo and note, sends it back with a reason, and confirms it
when it is really done — without the organiser's console."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests import factories as f
from tests.e2e.helpers import give_tokens
from tests.tasks.support import act, act_task, claim, create, photo, town

pytestmark = pytest.mark.e2e


async def no_overflow(page: Any) -> None:
    wide = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert wide <= 0, f"{page.url} is {wide}px wider than the screen"


async def test_a_resident_confirms_on_her_phone_the_wish_a_grid_worker_posted_for_her(new_page, client, session,
                                                                                      shot):
    t = await town(session, residents=2)
    cid = t.c.id
    wisher, helper = t.residents
    wish = await create(client, t, t.grid_worker, kind="wish", for_person_id=wisher.id, publish=True,
                        title="想请人帮忙修好门铃")
    await act_task(client, t, t.committee, wish["id"], "approve")
    page = await new_page(service_workers="block")
    assert page.viewport_size == {"width": 390, "height": 844}
    await give_tokens(client, page, wisher.phone)
    await page.goto(f"/c/{cid}/tasks/{wish['id']}")
    section = page.locator("[data-request-section]")
    await expect(section.locator("[data-request-empty]")).to_be_visible()  # nobody yet, and she is told so
    await expect(page.locator("[data-mine-section]")).to_be_hidden()

    c = await claim(client, t, helper, wish["id"], organisation="幸福里物业")
    pic = await photo(client, t.c, helper)
    await act(client, t, helper, wish["id"], c["id"], "submit", photo_ids=[pic], note="换了电池，门铃响了")
    await page.reload()
    await expect(section).to_be_visible()
    await expect(page.locator("[data-organiser-section]")).to_be_hidden()  # the grid worker organises it
    await expect(page.locator("[data-mine-section]")).to_be_hidden()  # nothing to claim on her own wish
    await expect(section.locator("[data-request-heading]")).to_have_text("心愿进展")
    await expect(section.locator("[data-request-hint]")).to_contain_text("确认已完成")
    card = section.locator(f'[data-claim-id="{c["id"]}"]')
    await expect(card).to_have_attribute("data-claim-status", "submitted")
    await expect(card.locator('[data-slot="name"]')).to_have_text(helper.name)
    await expect(card).to_contain_text("幸福里物业")
    await expect(card).to_contain_text("换了电池，门铃响了")
    await expect(card.locator("[data-photos] img")).to_have_count(1)
    await expect(card.locator("[data-claim-actions] button")).to_have_count(2)  # confirm, send back; nothing else
    await no_overflow(page)
    await shot(page, "cobuild-wisher-confirm")

    # Not done yet: she sends it back, saying why (the reason is asked for first).
    await card.locator('[data-do="reject"]').click()
    form = card.locator("[data-claim-form] form")
    await form.locator('[type="submit"]').click()
    await expect(form.locator('[data-error-for="reason"]')).not_to_be_empty()
    await form.locator('[name="reason"]').fill("晚上还是不响")
    await form.locator('[type="submit"]').click()
    await expect(card).to_have_attribute("data-claim-status", "rejected")
    await expect(card).to_contain_text("晚上还是不响")
    await expect(card.locator("[data-claim-actions]")).to_be_hidden()

    # The helper fixes it and hands in again; she confirms: the wish came true.
    await act(client, t, helper, wish["id"], c["id"], "submit", note="换了新门铃")
    await page.reload()
    await expect(card).to_have_attribute("data-claim-status", "submitted")
    await card.locator('[data-do="confirm"]').click()
    await expect(card).to_have_attribute("data-claim-status", re.compile("verified|paid"))
    await expect(card).to_contain_text(f"{wisher.name}确认了完成")
    await expect(page.locator("[data-badges] [data-status]")).to_have_attribute("data-status", "done")
    await no_overflow(page)

    # A neighbour opening the same wish sees no claims and nothing to confirm.
    other = await new_page(service_workers="block")
    other_person = await f.member(session, t.c, name="隔壁邻居")
    await give_tokens(client, other, other_person.phone)
    await other.goto(f"/c/{cid}/tasks/{wish['id']}")
    await expect(other.locator("[data-badges] [data-status]")).to_have_attribute("data-status", "done")
    await expect(other.locator("[data-request-section]")).to_be_hidden()
    await expect(other.locator("[data-claim-id]")).to_have_count(0)
