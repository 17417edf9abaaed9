"""The inbox and the region view through the pages, at phone size: a resident's report is
dispatched, the top bar's badge says 1, the inbox lists it, tapping it opens the issue and
the badge clears; a street admin finds an escalated issue in the region view from home."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.async_api import expect
from sqlalchemy import update

from app.communities.models import Community, RegionAdmin
from app.core import clock
from app.issues import scheduled
from app.issues.models import Issue
from tests import factories as f
from tests.e2e.test_issues import phone_of, quiet
from tests.issues.support import act, place, report

pytestmark = pytest.mark.e2e


async def test_a_dispatched_report_reaches_the_residents_inbox_and_opens_the_issue(new_page, client, session, shot):
    p = await place(client, session)
    issue = await report(client, p)
    resident = await phone_of(client, p.resident, new_page)
    await resident.goto("/")
    badge = resident.locator("[data-inbox-count]")
    await expect(resident.locator("[data-signed-in]")).to_be_visible()
    await expect(badge).to_be_hidden()  # nothing yet: the report itself tells the committee only

    assert (await act(client, p, issue["id"], p.committee, "dispatch", handler_id=p.handler_id)).status_code == 200
    await resident.reload()
    await expect(badge).to_have_text("1")
    await expect(resident.locator("[data-inbox-link]")).to_have_attribute("aria-label", "消息，1 条未读")

    await resident.click("[data-inbox-link]")
    await expect(resident).to_have_url(re.compile(r"/notifications$"))
    item = resident.locator(".inbox-item")
    await expect(item).to_have_count(1)
    await expect(item).to_have_class(re.compile(r"\bis-unread\b"))
    await expect(item).to_contain_text("3栋路灯不亮")
    await expect(resident.locator("[data-mark-all]")).to_be_visible()
    await shot(resident, "inbox")

    await item.locator("[data-link]").click()
    await resident.wait_for_url(re.compile(rf"/c/{p.c.id}/issues/{issue['id']}$"))
    await expect(resident.locator('[data-slot="title"]')).to_have_text("3栋路灯不亮")
    await expect(resident.locator("[data-follow]")).to_have_attribute("aria-pressed", "true")  # reporters follow
    await expect(badge).to_be_hidden()

    # Another change: one unread above one read; in elder mode, then all marked read at once.
    assert (await act(client, p, issue["id"], p.handler, "start")).status_code == 200
    await resident.evaluate("import('/static/js/prefs.js').then((prefs) => prefs.setElder(true))")
    await resident.goto("/notifications")
    assert await resident.evaluate("document.documentElement.classList.contains('elder')")
    await expect(resident.locator(".inbox-item")).to_have_count(2)
    await expect(resident.locator(".inbox-item.is-unread")).to_have_count(1)
    await expect(badge).to_have_text("1")
    await quiet(resident)
    await shot(resident, "inbox-elder")
    await resident.click("[data-mark-all]")
    await expect(resident.locator(".inbox-item.is-unread")).to_have_count(0)
    await expect(badge).to_be_hidden()
    await expect(resident.locator("[data-mark-all]")).to_be_hidden()


async def test_a_neighbour_follows_from_the_detail_page_and_hears_of_the_next_step(new_page, client, session):
    p = await place(client, session)
    issue = await report(client, p)
    neighbour = await phone_of(client, p.neighbour, new_page)
    await neighbour.goto(f"/c/{p.c.id}/issues/{issue['id']}")
    follow = neighbour.locator("[data-follow]")
    await expect(follow).to_have_attribute("aria-pressed", "false")
    await expect(follow).to_have_text("关注")
    await follow.click()
    await expect(follow).to_have_attribute("aria-pressed", "true")
    await expect(follow).to_have_text("已关注")

    assert (await act(client, p, issue["id"], p.committee, "dispatch", handler_id=p.handler_id)).status_code == 200
    await neighbour.goto("/notifications")
    await expect(neighbour.locator(".inbox-item.is-unread")).to_have_count(1)
    await expect(neighbour.locator("[data-inbox-count]")).to_have_text("1")


async def test_signed_out_there_is_no_badge_and_the_inbox_offers_sign_in(new_page):
    page = await new_page(service_workers="block")
    await page.goto("/notifications")
    await expect(page.locator("[data-signed-out]")).to_be_visible()
    await expect(page.locator("[data-inbox-count]")).to_be_hidden()


async def test_a_street_admin_sees_an_escalated_issue_in_the_region_view(new_page, client, session, shot):
    p = await place(client, session)
    street = await f.region(session, "花山街道", "street")
    await session.execute(update(Community).where(Community.id == p.c.id).values(region_id=street.id))
    admin = await f.person(session, name="街道王科长")
    session.add(RegionAdmin(region_id=street.id, person_id=admin.id))
    await session.commit()
    late = await report(client, p)
    assert (await act(client, p, late["id"], p.committee, "dispatch", handler_id=p.handler_id)).status_code == 200
    await session.execute(update(Issue).where(Issue.id == late["id"])
                          .values(deadline_at=clock.now() - timedelta(days=2, hours=3)))
    await session.commit()
    await report(client, p, title="没有超期的问题")
    assert (await scheduled.run_once()).escalated == [late["id"]]

    page = await phone_of(client, admin, new_page)
    await page.goto("/")
    await page.click("[data-region-link]")
    await expect(page).to_have_url(re.compile(rf"/regions/{street.id}/escalations$"))
    group = page.locator(f'[data-community="{p.c.id}"]')
    await expect(group).to_contain_text("幸福里社区")
    card = group.locator(f'[data-issue-id="{late["id"]}"]')
    await expect(card).to_contain_text("3栋路灯不亮")
    await expect(card.locator('[data-reason="overdue"]')).to_have_text("超期")
    await expect(card).to_contain_text("已超期 2 天")
    await expect(page.locator("[data-groups] li")).to_have_count(1)
    await expect(page.locator("[data-inbox-count]")).to_have_text("1")  # told of the escalation too
    await quiet(page)
    await shot(page, "region-escalations")
    await card.locator("[data-link]").click()
    await page.wait_for_url(re.compile(rf"/c/{p.c.id}/issues/{late['id']}$"))
