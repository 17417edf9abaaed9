"""The committee's screens: the roster, invites, members and their roles."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests import factories as f
from tests.e2e.helpers import give_tokens, neighbourhood

pytestmark = pytest.mark.e2e


def csv_file(*rows: str) -> dict[str, object]:
    text = "\n".join(("姓名,手机号,楼栋,房号,业主", *rows))
    return {"name": "花名册.csv", "mimeType": "text/csv", "buffer": text.encode()}


async def test_roster_upload_lists_every_bad_row_then_imports_a_good_file(new_page, client, session, shot):
    place = await neighbourhood(session, client)
    page = await new_page()
    await give_tokens(client, page, place.committee.phone)
    await page.goto(f"/c/{place.cid}")
    await page.click('[data-permission="roster.import"]')

    await page.click('[data-roster-form] [type="submit"]')
    await expect(page.locator('[data-error-for="file"]')).to_contain_text("请先选择一个文件")

    await page.set_input_files("#roster-file", csv_file("王建国,13800001111,2栋,101,是", "李秀英,12345,2栋,102,否",
                                                        ",13800003333,2栋,103,否"))
    await expect(page.locator("[data-file-name]")).to_have_text("花名册.csv")
    await page.click('[data-roster-form] [type="submit"]')
    errors = page.locator("[data-roster-errors]")
    await expect(errors).to_be_visible()
    await expect(errors.locator("[data-lines] li")).to_have_count(2)
    await expect(errors.locator("[data-lines] li").nth(0)).to_contain_text("第 3 行")
    await expect(errors.locator("[data-lines] li").nth(1)).to_contain_text("第 4 行")
    await shot(page, "roster-errors")

    good = csv_file("王建国,13800001111,2栋,101,是", "李秀英,13800002222,2栋,102,否")
    await page.set_input_files("#roster-file", good)
    await page.click('[data-roster-form] [type="submit"]')
    result = page.locator("[data-roster-result]")
    await expect(result).to_be_visible()
    await expect(errors).to_be_hidden()
    await expect(result.locator('[data-slot="households_created"]')).to_have_text("2")
    await expect(result.locator('[data-slot="residents"]')).to_have_text("2")


async def test_committee_makes_an_invite_with_link_and_qr_code_and_revokes_it(new_page, client, session, shot):
    place = await neighbourhood(session, client)
    await f.building(session, place.community, name="3栋")
    page = await new_page()
    await give_tokens(client, page, place.committee.phone)
    await page.goto(f"/c/{place.cid}/admin/invites")
    await expect(page.locator("[data-list] .card")).to_have_count(1)  # the one made while arranging

    await page.select_option("#invite-building", label="3栋")
    await page.fill("#invite-uses", "0")
    await page.click('[data-invite-form] [type="submit"]')
    await expect(page.locator('[data-error-for="max_uses"]')).to_contain_text("大于 0 的整数")

    await page.fill("#invite-uses", "30")
    await page.fill("#invite-note", "3栋微信群")
    await page.click('[data-invite-form] [type="submit"]')
    created = page.locator("[data-created] .card")
    await expect(created).to_contain_text("3栋微信群")
    await expect(created.locator('[data-slot="building"]')).to_have_text("3栋")
    await expect(created.locator('[data-slot="uses"]')).to_have_text("0 / 30 次")
    await expect(created.locator('[data-slot="url"]')).to_have_text(re.compile(r"^http://127\.0\.0\.1:\d+/s/\w+$"))
    await expect(created.locator("[data-qr]")).to_have_attribute("src", re.compile(r"^/s/\w+/qr\.svg$"))
    await expect(page.locator("[data-list] .card")).to_have_count(2)
    await shot(page, "invites")

    await created.locator("[data-copy]").click()
    await expect(page.locator(".toast").last).to_contain_text("链接")

    listed = page.locator("[data-list] .card", has_text="3栋微信群")
    revoke = listed.locator("[data-revoke]")
    await revoke.click()
    await expect(revoke).to_have_text("再点一次确认撤销")
    await revoke.click()
    revoked = page.locator("[data-list] .card", has_text="3栋微信群")
    await expect(revoked.locator("[data-status]")).to_have_text("已撤销")


async def test_committee_gives_a_member_a_role(new_page, client, session, shot):
    place = await neighbourhood(session, client)
    await f.member(session, place.community, name="吴师傅")
    page = await new_page()
    await give_tokens(client, page, place.committee.phone)
    await page.goto(f"/c/{place.cid}/admin/members")
    card = page.locator("[data-list] .card", has_text="吴师傅")
    await expect(card).to_contain_text("139")  # the committee sees whole numbers
    await card.locator("[data-edit]").click()
    await card.locator('input[value="building_leader"]').check()
    await card.locator('[data-roles-form] [type="submit"]').click()
    await expect(card.locator("[data-roles]")).to_contain_text("楼栋长")
    await shot(page, "members")

    # The last committee member may not step down: the server's reason shows on the card.
    me = page.locator("[data-list] .card", has_text="陈主任")
    await me.locator("[data-edit]").click()
    await me.locator('input[value="committee"]').uncheck()
    await me.locator('[data-roles-form] [type="submit"]').click()
    await expect(me.locator("[data-form-error]")).to_contain_text("至少要保留一位")


async def test_grid_worker_sees_masked_phones_and_no_role_editing(new_page, client, session):
    place = await neighbourhood(session, client)
    worker = await f.member(session, place.community, "grid_worker", name="网格员小林")
    await f.member(session, place.community, name="吴师傅", phone="13912345678")
    page = await new_page()
    await give_tokens(client, page, worker.phone)
    await page.goto(f"/c/{place.cid}")
    await expect(page.locator('[data-permission="members.view"]')).to_be_visible()
    await expect(page.locator('[data-permission="join_requests.decide"]')).to_be_hidden()
    await page.click('[data-permission="members.view"]')
    card = page.locator("[data-list] .card", has_text="吴师傅")
    await expect(card).to_contain_text("139****5678")
    await expect(card.locator("[data-edit]")).to_be_hidden()


async def test_resident_opening_a_committee_screen_is_told_no(new_page, client, session):
    place = await neighbourhood(session, client)
    resident = await f.member(session, place.community, name="普通居民")
    page = await new_page()
    await give_tokens(client, page, resident.phone)
    await page.goto(f"/c/{place.cid}/admin/join-requests")
    await expect(page.locator("[data-failure]")).to_be_visible()
    await expect(page.locator("[data-failure-title]")).to_have_text("您没有权限查看这里")
