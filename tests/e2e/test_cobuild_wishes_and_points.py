"""Co-build through the pages, continued: a micro-wish's life (posted by a resident, and by a grid
worker for an elderly neighbour; approved by the committee; taken up, done and confirmed by the
wisher), my points page (balances, every entry in words, the honour board and hiding my name),
a claim and a check-in made offline that go out once when the network returns, an issue turned into
a task, a time-bank request, the site's check-in QR opened by the camera, the committee's store and
counter, and tasks near me."""

from __future__ import annotations

import re
from datetime import timedelta, timezone
from typing import Any

import pytest
from playwright.async_api import expect

from app.core import clock
from tests import factories as f
from tests.e2e.helpers import give_tokens
from tests.issues.support import jpeg, photo
from tests.tasks.support import act, claim, code, create, town

pytestmark = pytest.mark.e2e


def picture(name: str = "photo.jpg") -> list[dict[str, Any]]:
    return [{"name": name, "mimeType": "image/jpeg", "buffer": jpeg()}]


async def phone_of(client: Any, person: Any, new_page: Any, **options: Any) -> Any:
    page = await new_page(service_workers="block", **options)
    await give_tokens(client, page, person.phone)
    return page


async def no_overflow(page: Any) -> None:
    wide = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert wide <= 0, f"{page.url} is {wide}px wider than the screen"


async def quiet(page: Any) -> None:
    await page.evaluate("document.querySelectorAll('.toast').forEach((toast) => toast.remove())")


async def test_a_micro_wish_is_posted_approved_taken_up_done_and_confirmed_by_the_wisher(new_page, client, session,
                                                                                         shot):
    t = await town(session, residents=2)
    cid = t.c.id
    wisher, helper, elder = t.residents[0], t.residents[1], t.elder
    assert elder is not None

    # A resident makes a wish from the task list.
    mine = await phone_of(client, wisher, new_page)
    await mine.goto(f"/c/{cid}/tasks")
    await mine.click("[data-wish-link]")
    await expect(mine).to_have_url(re.compile(rf"/c/{cid}/wishes/new$"))
    await expect(mine.locator("[data-for-box]")).to_be_hidden()  # residents post only their own
    await expect(mine.locator("[data-reward-field]")).to_have_count(2)
    await expect(mine.locator("[data-reward-field]").first).to_be_hidden()  # the committee sets rewards
    await mine.fill("#task-title", "想要一副老花镜")
    await mine.fill("#task-description", "看报纸越来越吃力，想要一副 300 度的老花镜")
    await no_overflow(mine)
    await shot(mine, "cobuild-wish-new")
    await mine.click("[data-submit]")
    await mine.wait_for_url(re.compile(rf"/c/{cid}/tasks/[0-9a-z]{{26}}$"))
    wish_id = mine.url.rsplit("/", 1)[1]
    await expect(mine.locator("[data-badges] [data-status]")).to_have_text("待审核")

    # A grid worker makes one for an elderly neighbour without a phone.
    worker = await phone_of(client, t.grid_worker, new_page)
    await worker.goto(f"/c/{cid}/wishes/new")
    await worker.locator("[data-for-toggle]").check()
    await worker.fill("[data-for-slot] [data-person-q]", elder.name[:1])
    await worker.click(f'[data-person-id="{elder.id}"]')
    await expect(worker.locator("[data-for-slot] [data-person-chosen]")).to_contain_text(elder.name)
    await worker.fill("#task-title", "想请人帮忙换灯泡")
    await worker.click("[data-submit]")
    await worker.wait_for_url(re.compile(rf"/c/{cid}/tasks/[0-9a-z]{{26}}$"))
    await expect(worker.locator('[data-slot="byline"]')).to_contain_text(f"替{elder.name}")
    await expect(worker.locator('[data-slot="wisher"]')).to_have_text(elder.name)

    # The committee approves both from the console.
    committee = await phone_of(client, t.committee, new_page)
    await committee.goto(f"/c/{cid}/tasks/console")
    await expect(committee.locator("[data-approvals] [data-task-id]")).to_have_count(2)
    await committee.click(f'[data-approvals] [data-task-id="{wish_id}"] [data-link]')
    await committee.click('[data-task-actions] [data-do="approve"]')
    await expect(committee.locator("[data-badges] [data-status]")).to_have_text("等人认领")

    # A neighbour takes it up, then hands in a photo when it is done.
    other = await phone_of(client, helper, new_page)
    await other.goto(f"/c/{cid}/tasks?kind=wish")
    await other.click(f'[data-task-id="{wish_id}"] [data-link]')
    await expect(other.locator("[data-claim]")).to_have_text("我来帮他实现")
    await other.click("[data-claim]")
    await expect(other.locator("[data-claim-state]")).to_have_attribute("data-claim-status", "claimed")
    await expect(other.locator("[data-checkin-form]")).to_be_hidden()  # a wish needs no check-in
    form = other.locator("[data-evidence-form]")
    await form.locator("[data-file]").set_input_files(files=picture("glasses.jpg"))
    await expect(form.locator("[data-uploaded]")).to_have_count(1)
    await form.locator('[name="note"]').fill("配好了，已送到家")
    await form.locator('[type="submit"]').click()
    await expect(other.locator("[data-claim-state]")).to_have_attribute("data-claim-status", "submitted")
    await expect(other.locator("[data-claim-state]")).to_contain_text("等心愿人确认")

    # The wisher sees it and confirms: the wish came true.
    await mine.goto(f"/c/{cid}/tasks/{wish_id}")
    card = mine.locator(f'[data-claims] [data-claim-id]:has-text("{helper.name}")')
    await expect(card).to_have_attribute("data-claim-status", "submitted")
    await expect(card.locator("[data-photos] img")).to_have_count(1)
    await expect(card).to_contain_text("配好了，已送到家")
    await no_overflow(mine)
    await quiet(mine)
    await shot(mine, "cobuild-wish-confirm")
    await card.locator('[data-do="confirm"]').click()
    await expect(mine.locator(f'[data-claims] [data-claim-id]:has-text("{helper.name}")')).to_have_attribute(
        "data-claim-status", re.compile("verified|paid"))

    # The helper's tasks list it as done.
    await other.goto(f"/c/{cid}/tasks/mine")
    await expect(other.locator('[data-list="done"] [data-claim-id]')).to_have_count(1)
    await expect(other.locator('[data-list="done"]')).to_contain_text("想要一副老花镜")


async def test_my_points_explain_each_entry_and_the_board_shows_or_hides_my_name(new_page, client, session, shot):
    t = await town(session, residents=2)
    cid = t.c.id
    me, neighbour = t.residents
    now = clock.now()
    task = await create(client, t, t.committee, publish=True, starts_at=(now + timedelta(minutes=10)).isoformat(),
                        ends_at=(now + timedelta(hours=2)).isoformat(), reward={"unit": "points", "amount": 30})
    site = await code(client, t, t.committee, task["id"])
    for who in (me, neighbour):
        c = await claim(client, t, who, task["id"])
        await act(client, t, who, task["id"], c["id"], "checkin", code=site)
        await act(client, t, who, task["id"], c["id"], "submit", photo_ids=[await photo(client, t.c, who)])
        await act(client, t, t.committee, task["id"], c["id"], "verify")

    page = await phone_of(client, me, new_page)
    await page.goto(f"/c/{cid}")
    await page.click("[data-tile-points]")
    await expect(page.locator('[data-slot="points"]')).to_have_text("30")
    entry = page.locator("[data-list] li").first
    await expect(entry).to_contain_text("周六小区大扫除")
    await expect(entry.locator('[data-slot="amount"]')).to_have_text("+30 积分")
    await expect(entry.locator('[data-slot="amount"]')).to_have_attribute("data-sign", "+")
    await no_overflow(page)
    await shot(page, "cobuild-my-points")

    # The honour board names me; after I turn my name off it says "a neighbour" instead.
    await page.click("[data-board-link]")
    await expect(page.locator("[data-list] li")).to_have_count(2)
    await expect(page.locator("[data-list] li.is-me")).to_contain_text(me.name)
    await no_overflow(page)
    await shot(page, "cobuild-board")
    await page.goto(f"/c/{cid}/points")
    await expect(page.locator("[data-show-name]")).to_be_checked()  # drawn from the server's answer
    await page.locator("[data-show-name]").uncheck()
    await expect(page.locator(".toast")).to_have_text("光荣榜上不再显示您的名字")
    other = await phone_of(client, neighbour, new_page)
    await other.goto(f"/c/{cid}/board")
    await expect(other.locator("[data-list] li")).to_have_count(2)
    await expect(other.locator("[data-list]")).not_to_contain_text(me.name)
    await expect(other.locator("[data-list] [data-anonymous]")).to_have_count(1)
    await expect(other.locator("[data-list] li.is-me")).to_contain_text(neighbour.name)

    # In English the words are English, and the task's title stays as written.
    english = page
    await english.context.add_cookies([{"name": "wg_lang", "value": "en", "url": english.url}])
    await english.evaluate("localStorage.setItem('wg_lang', 'en')")
    await english.goto(f"/c/{cid}/points")
    await expect(english.locator("html")).to_have_attribute("lang", "en")
    await expect(english.locator("[data-list] li").first.locator('[data-slot="amount"]')).to_have_text("+30 points")
    await expect(english.locator("[data-list] li").first.locator(".ledger__what [data-user-content]")).to_have_text(
        "周六小区大扫除")


async def test_a_claim_and_a_check_in_made_offline_go_out_once_when_the_network_returns(new_page, client, session):
    t = await town(session, residents=1)
    cid = t.c.id
    now = clock.now()
    task = await create(client, t, t.committee, publish=True, starts_at=(now + timedelta(minutes=10)).isoformat(),
                        ends_at=(now + timedelta(hours=2)).isoformat())
    site = await code(client, t, t.committee, task["id"])
    page = await phone_of(client, t.residents[0], new_page)
    await page.goto(f"/c/{cid}/tasks/{task['id']}")
    await expect(page.locator("[data-claim]")).to_be_visible()

    # No network on the stairs: the claim is kept and says so.
    await page.context.set_offline(True)
    await page.click("[data-claim]")
    await expect(page.locator("[data-queued]")).to_be_visible()
    await expect(page.locator("[data-queue-count]")).to_have_text("1")
    await page.context.set_offline(False)
    await expect(page.locator("[data-claim-state]")).to_have_attribute("data-claim-status", "claimed")
    await expect(page.locator("[data-queue-badge]")).to_be_hidden()

    # On site with a weak signal: the check-in waits on the phone too, then goes out once.
    await page.context.set_offline(True)
    await page.fill("#checkin-code", site)
    await page.click('[data-checkin-form] [type="submit"]')
    await expect(page.locator("[data-queued]")).to_be_visible()
    await page.context.set_offline(False)
    await expect(page.locator("[data-claim-state]")).to_have_attribute("data-claim-status", "checked_in")
    claims = await client.get(f"/api/v1/communities/{cid}/tasks/{task['id']}/claims", headers=f.auth(t.committee))
    assert [c["status"] for c in claims.json()["items"]] == ["checked_in"]  # one claim, checked in once


async def test_an_issue_becomes_a_volunteer_task_and_both_keep_the_link(new_page, client, session):
    from tests.issues.support import place, report

    p = await place(client, session)
    issue = await report(client, p, title="小区绿化带堆满垃圾", description="需要大家一起清理")
    page = await phone_of(client, p.committee, new_page)
    await page.goto(f"/c/{p.c.id}/tasks/new?issue={issue['id']}")
    await expect(page.locator("[data-from-issue]")).to_contain_text("小区绿化带堆满垃圾")
    await expect(page.locator("#task-title")).to_have_value("小区绿化带堆满垃圾")
    starts = clock.now() + timedelta(days=1)
    beijing = timezone(timedelta(hours=8))
    await page.fill("#task-starts", starts.astimezone(beijing).strftime("%Y-%m-%dT%H:%M"))
    await page.fill("#task-ends", (starts + timedelta(hours=2)).astimezone(beijing).strftime("%Y-%m-%dT%H:%M"))
    await page.click("[data-submit]")
    await page.wait_for_url(re.compile(rf"/c/{p.c.id}/tasks/[0-9a-z]{{26}}$"))
    await page.click("[data-issue-link]")
    await expect(page).to_have_url(re.compile(rf"/issues/{issue['id']}$"))
    await expect(page.locator('[data-timeline] [data-event="task_created"]')).to_have_count(1)


async def test_a_time_bank_request_holds_my_hours_and_pays_them_to_the_neighbour_who_helped(new_page, client,
                                                                                             session):
    t = await town(session, residents=2)
    cid = t.c.id
    asker, helper = t.residents
    r = await client.post(f"/api/v1/communities/{cid}/points/bonuses", headers=f.auth(t.committee),
                          json={"person_ids": [asker.id], "unit": "hours", "amount": 180, "reason": "社区志愿服务记时"})
    assert r.status_code == 201, r.text

    page = await phone_of(client, asker, new_page)
    await page.goto(f"/c/{cid}/tasks")
    await page.click("[data-timebank-link]")
    await expect(page.locator("[data-amount-hint]")).to_contain_text("3 小时")
    await page.fill("#task-title", "帮忙把旧衣柜搬下楼")
    starts = clock.now() + timedelta(days=1)
    beijing = timezone(timedelta(hours=8))
    await page.fill("#task-starts", starts.astimezone(beijing).strftime("%Y-%m-%dT%H:%M"))
    await page.fill("#task-ends", (starts + timedelta(hours=2)).astimezone(beijing).strftime("%Y-%m-%dT%H:%M"))
    await page.fill("#task-amount", "1.5")
    await no_overflow(page)
    await page.click("[data-submit]")
    await page.wait_for_url(re.compile(rf"/c/{cid}/tasks/[0-9a-z]{{26}}$"))
    request_id = page.url.rsplit("/", 1)[1]
    await expect(page.locator("[data-reward] .reward")).to_have_text("+1.5 小时")
    await page.goto(f"/c/{cid}/points")
    await expect(page.locator('[data-slot="hours"]')).to_have_text("1.5 小时")  # 1.5 of 3 held

    other = await phone_of(client, helper, new_page)
    await other.goto(f"/c/{cid}/tasks/{request_id}")
    await expect(other.locator("[data-claim]")).to_have_text("我来帮忙")
    await other.click("[data-claim]")
    await expect(other.locator("[data-claim-state]")).to_have_attribute("data-claim-status", "claimed")
    await other.locator('[data-evidence-form] [name="note"]').fill("已经搬到楼下")
    await other.locator('[data-evidence-form] [type="submit"]').click()
    await expect(other.locator("[data-claim-state]")).to_have_attribute("data-claim-status", "submitted")

    await page.goto(f"/c/{cid}/tasks/{request_id}")
    await page.locator('[data-claims] [data-do="confirm"]').click()
    await expect(page.locator("[data-claims] [data-claim-id]")).to_have_attribute("data-claim-status",
                                                                                   re.compile("verified|paid"))
    await other.goto(f"/c/{cid}/points")
    await expect(other.locator('[data-slot="hours"]')).to_have_text("1.5 小时")


async def test_scanning_the_sites_qr_with_the_phones_camera_opens_the_task_and_checks_in(new_page, client, session):
    t = await town(session, residents=1)
    now = clock.now()
    task = await create(client, t, t.committee, publish=True, starts_at=(now + timedelta(minutes=10)).isoformat(),
                        ends_at=(now + timedelta(hours=2)).isoformat())
    await claim(client, t, t.residents[0], task["id"])
    r = await client.get(f"/api/v1/communities/{t.c.id}/tasks/{task['id']}/checkin-code", headers=f.auth(t.committee))
    link = r.json()["checkin_url"]
    page = await phone_of(client, t.residents[0], new_page)
    await page.goto("/" + link.split("/", 3)[3])  # what the camera opens: /c/…/tasks/…/checkin?code=…
    await expect(page.locator("[data-claim-state]")).to_have_attribute("data-claim-status", "checked_in")
    await expect(page).to_have_url(re.compile(rf"/c/{t.c.id}/tasks/{task['id']}$"))  # the code leaves the address


async def test_the_committee_keeps_the_store_and_a_wrong_pickup_code_is_refused_in_words(new_page, client, session):
    t = await town(session, residents=1)
    cid = t.c.id
    committee = await phone_of(client, t.committee, new_page)
    await committee.goto(f"/c/{cid}/store/manage")
    await committee.click("[data-add-box] summary")
    add = committee.locator("[data-add-slot] form")
    await add.locator('[name="name"]').fill("环保购物袋")
    await add.locator('[name="price"]').fill("0")
    await add.locator('[type="submit"]').click()
    await expect(add.locator('[data-error-for="price"]')).to_have_text("请填 1 或更大的整数")
    await add.locator('[name="price"]').fill("5")
    await add.locator('[name="stock"]').fill("10")
    await add.locator('[name="per_person_limit"]').fill("2")
    await add.locator('[type="submit"]').click()
    row = committee.locator("[data-items] [data-item-id]")
    await expect(row).to_contain_text("还剩 10 件")

    # Edit the stock in place, take it off sale: residents no longer see it; put it back.
    await row.locator("[data-edit]").click()
    await row.locator('[data-edit-slot] [name="stock"]').fill("4")
    await row.locator('[data-edit-slot] [type="submit"]').click()
    await expect(committee.locator("[data-items] [data-item-id]")).to_contain_text("还剩 4 件")
    await committee.locator("[data-items] [data-toggle-sale]").click()
    await expect(committee.locator("[data-items] [data-item-id]")).to_have_attribute("data-on-sale", "no")
    await no_overflow(committee)
    resident = await phone_of(client, t.residents[0], new_page)
    await resident.goto(f"/c/{cid}/store")
    await expect(resident.locator("[data-empty]")).to_be_visible()
    await committee.locator("[data-items] [data-toggle-sale]").click()
    await expect(committee.locator("[data-items] [data-item-id]")).to_have_attribute("data-on-sale", "yes")
    await resident.reload()
    await expect(resident.locator("[data-list] [data-item-id]")).to_contain_text("每人限 2 件")

    # A code nobody holds is refused, in words, and nothing is handed over.
    await committee.goto(f"/c/{cid}/store/pickup")
    await committee.fill("#pickup-code", "0000 0000 00")
    await committee.click('[data-pickup-form] [type="submit"]')
    await expect(committee.locator("[data-pickup-form] [data-form-error]")).not_to_be_empty()
    await expect(committee.locator("[data-result]")).to_be_hidden()


async def test_tasks_near_me_come_nearest_first_with_how_far(new_page, client, session):
    t = await town(session, residents=1)
    here = {"latitude": 30.5728, "longitude": 104.0668}
    near = await create(client, t, t.committee, publish=True, title="楼下花坛除草", lat=30.5730, lng=104.0670)
    await create(client, t, t.committee, publish=True, title="河边捡垃圾", lat=30.6200, lng=104.1200)
    page = await phone_of(client, t.residents[0], new_page, geolocation=here, permissions=["geolocation"])
    await page.goto(f"/c/{t.c.id}/tasks")
    await expect(page.locator("[data-list] [data-task-id]")).to_have_count(2)
    await page.locator("[data-near]").check()
    cards = page.locator("[data-list] [data-task-id]")
    await expect(cards).to_have_count(1)  # within 3 km
    await expect(cards.first).to_have_attribute("data-task-id", near["id"])
    await expect(cards.first).to_contain_text("约 30 米")
    await no_overflow(page)
