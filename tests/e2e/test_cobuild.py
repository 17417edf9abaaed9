"""Co-build through the pages at phone size (issue 12, "Done when"): the committee posts a clean-up,
shares it (a share page with Open Graph tags and a QR code), volunteers claim it — one of them the
grid worker for an elderly neighbour without a phone — check in on site with the code, hand in
photos, the organiser verifies and the points are paid; the points are spent in the store and the
committee hands the item over at the pickup counter by its code."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from playwright.async_api import expect

from app.core import clock
from tests import factories as f
from tests.e2e.helpers import give_tokens
from tests.issues.support import jpeg
from tests.tasks.support import town

pytestmark = pytest.mark.e2e

BEIJING = timezone(timedelta(hours=8))


def picture(name: str = "photo.jpg") -> list[dict[str, Any]]:
    return [{"name": name, "mimeType": "image/jpeg", "buffer": jpeg()}]


def local(moment: datetime) -> str:
    """A datetime-local field's value for a moment, in Beijing time."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M")


async def quiet(page: Any) -> None:
    await page.evaluate("document.querySelectorAll('.toast').forEach((toast) => toast.remove())")


async def phone_of(client: Any, person: Any, new_page: Any, **options: Any) -> Any:
    page = await new_page(service_workers="block", **options)
    await give_tokens(client, page, person.phone)
    return page


async def no_overflow(page: Any) -> None:
    wide = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert wide <= 0, f"{page.url} is {wide}px wider than the screen"


async def test_a_clean_up_from_posting_to_points_spent_and_handed_over(new_page, client, session, shot):
    t = await town(session, residents=2)
    cid = t.c.id
    volunteer, elder = t.residents[0], t.elder
    assert elder is not None

    # The committee posts the clean-up from the community page.
    committee = await phone_of(client, t.committee, new_page)
    await committee.goto(f"/c/{cid}")
    await committee.click("[data-tile-tasks]")
    await committee.click("[data-console-link]")
    await committee.click("[data-new-link]")
    await expect(committee).to_have_url(re.compile(rf"/c/{cid}/tasks/new$"))
    starts = clock.now() + timedelta(minutes=20)
    await committee.fill("#task-title", "周六小区大扫除")
    await committee.fill("#task-description", "清理楼道杂物和绿化带垃圾，自带手套")
    await committee.select_option("#task-building", label="1栋")
    await committee.fill("#task-location", "1栋楼下集合")
    await committee.fill("#task-starts", local(starts))
    await committee.fill("#task-ends", local(starts + timedelta(hours=2)))
    await committee.fill("#task-people", "5")
    await committee.fill("#task-amount", "20")
    await committee.locator('[name="evidence_required"]').check()
    await committee.locator("[data-task-form] [data-photo-slot] [data-file]").set_input_files(files=picture())
    await expect(committee.locator("[data-task-form] [data-uploaded]")).to_have_count(1)
    await no_overflow(committee)
    await shot(committee, "cobuild-post-task")
    await committee.click("[data-submit]")
    await committee.wait_for_url(re.compile(rf"/c/{cid}/tasks/[0-9a-z]{{26}}$"))
    task_id = committee.url.rsplit("/", 1)[1]
    await expect(committee.locator("[data-badges] [data-status]")).to_have_text("招募中")
    await expect(committee.locator("[data-reward] .reward")).to_have_text("+20 积分")
    await expect(committee.locator("[data-code]")).to_have_text(re.compile(r"^[0-9A-Z]{4,12}$"))
    await expect(committee.locator("[data-code-qr]")).to_have_js_property("complete", True)
    code = (await committee.locator("[data-code]").inner_text()).strip()

    # Shared: a short link whose page has Open Graph tags and a QR code, for the WeChat group.
    await committee.click("[data-share]")
    await expect(committee.locator("[data-share-box]")).to_be_visible()
    share_url = (await committee.locator("[data-share-url]").inner_text()).strip()
    await expect(committee.locator("[data-share-qr]")).to_have_js_property("complete", True)
    assert await committee.locator("[data-share-qr]").evaluate("img => img.naturalWidth") > 100
    await no_overflow(committee)
    await quiet(committee)
    await shot(committee, "cobuild-task-organiser")
    share = await client.get(share_url.replace("http://testserver", ""))
    assert share.status_code == 200
    for tag in ('property="og:title" content="周六小区大扫除"', 'property="og:image"', 'property="og:description"'):
        assert tag in share.text, tag
    code_path = share_url.split("/s/", 1)[1]
    qr = await client.get(f"/s/{code_path}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg")

    # A volunteer opens the shared link in WeChat's browser and signs up from it.
    phone = await phone_of(client, volunteer, new_page)
    await phone.goto(f"/s/{code_path}")
    await phone.click(".card__actions .btn--primary")
    await expect(phone).to_have_url(re.compile(rf"/c/{cid}/tasks/{task_id}$"))
    await phone.click("[data-claim]")
    await expect(phone.locator("[data-claim-state]")).to_have_attribute("data-claim-status", "claimed")
    await expect(phone.locator("[data-claim-state]")).to_contain_text("您已报名")
    await no_overflow(phone)
    await quiet(phone)
    await shot(phone, "cobuild-claimed")
    # The home page's card says what comes next and leads back to the task.
    r = await client.patch("/api/v1/me", headers=f.auth(volunteer), json={"current_community_id": cid})
    assert r.status_code == 200, r.text
    await phone.goto("/")
    next_card = phone.locator('[data-card="tasks.next"]')
    await expect(next_card).to_contain_text("周六小区大扫除")
    await next_card.locator("a.home-item").first.click()
    await expect(phone).to_have_url(re.compile(rf"/c/{cid}/tasks/{task_id}$"))

    # The grid worker signs up the elderly neighbour, who has no phone.
    worker = await phone_of(client, t.grid_worker, new_page)
    await worker.goto(f"/c/{cid}/tasks/{task_id}")
    await worker.fill("[data-for-picker] [data-person-q]", elder.name[:1])
    await worker.click(f'[data-person-id="{elder.id}"]')
    await worker.click("[data-for-claim]")
    elder_card = worker.locator("[data-for-claims] [data-claim-id]")
    await expect(elder_card).to_have_count(1)
    await expect(elder_card).to_contain_text(elder.name)
    await expect(elder_card).to_have_attribute("data-claim-status", "claimed")

    # On site: the volunteer types the code; the grid worker checks the neighbour in with it.
    await phone.fill("#checkin-code", code.lower())
    await phone.click('[data-checkin-form] [type="submit"]')
    await expect(phone.locator("[data-claim-state]")).to_have_attribute("data-claim-status", "checked_in")
    await elder_card.locator('[data-do="checkin"]').click()
    await elder_card.locator('[name="code"]').fill(code)
    await elder_card.locator('[type="submit"]').click()
    await expect(elder_card).to_have_attribute("data-claim-status", "checked_in")

    # Done: photos and a line from each.
    form = phone.locator("[data-evidence-form]")
    await form.locator("[data-file]").set_input_files(files=picture("after.jpg"))
    await expect(form.locator("[data-uploaded]")).to_have_count(1)
    await form.locator('[name="note"]').fill("清出三袋垃圾")
    await no_overflow(phone)
    await quiet(phone)
    await shot(phone, "cobuild-evidence")
    await form.locator('[type="submit"]').click()
    await expect(phone.locator("[data-claim-state]")).to_have_attribute("data-claim-status", "submitted")
    # The grid worker's tasks list what they still do for the neighbour.
    await worker.goto(f"/c/{cid}/tasks/mine")
    await expect(worker.locator('[data-list="for_others"] [data-claim-id]')).to_contain_text(elder.name)
    await worker.click('[data-list="for_others"] [data-link]')
    await expect(worker).to_have_url(re.compile(rf"/c/{cid}/tasks/{task_id}$"))
    await elder_card.locator('[data-do="submit"]').click()
    await elder_card.locator("[data-file]").set_input_files(files=picture("elder.jpg"))
    await expect(elder_card.locator("[data-uploaded]")).to_have_count(1)
    await elder_card.locator('[type="submit"]').click()
    await expect(elder_card).to_have_attribute("data-claim-status", "submitted")

    # The organiser verifies both from the console's queue: each is paid 20 points, once.
    await committee.goto(f"/c/{cid}/tasks/console")
    queue = committee.locator("[data-queue] [data-claim-id]")
    await expect(queue).to_have_count(2)
    await expect(queue.first.locator("[data-photos] img")).to_have_count(1)
    await no_overflow(committee)
    await shot(committee, "cobuild-console")
    for _ in range(2):
        await committee.locator('[data-queue] [data-do="verify"]').first.click()
        await expect(committee.locator('[data-queue] [data-claim-status="paid"], [data-queue] '
                                        '[data-claim-status="verified"]')).not_to_have_count(0)
    await expect(committee.locator('[data-queue] [data-do="verify"]')).to_have_count(0)
    await phone.goto(f"/c/{cid}/tasks/{task_id}")
    await expect(phone.locator("[data-claim-state]")).to_have_attribute("data-claim-status", "paid")
    await expect(phone.locator("[data-claim-state]")).to_contain_text("20 积分")

    # The volunteer's points: 20, explained in words.
    await phone.goto(f"/c/{cid}/points")
    await expect(phone.locator('[data-slot="points"]')).to_have_text("20")
    await expect(phone.locator("[data-list] li").first).to_contain_text("周六小区大扫除")
    await expect(phone.locator("[data-list] li").first.locator('[data-slot="amount"]')).to_have_text("+20 积分")

    # The committee stocks the store; the volunteer spends 15 points on it.
    await committee.goto(f"/c/{cid}/store/manage")
    await committee.click("[data-add-box] summary")
    add = committee.locator("[data-add-slot] form")
    await add.locator('[name="name"]').fill("洗衣液一瓶")
    await add.locator('[name="price"]').fill("15")
    await add.locator('[name="stock"]').fill("3")
    await add.locator('[name="sponsor"]').fill("幸福超市")
    await add.locator('[name="sponsor_kind"]').select_option("merchant")
    await add.locator('[type="submit"]').click()
    await expect(committee.locator("[data-items] [data-item-id]")).to_have_count(1)

    await phone.goto(f"/c/{cid}/store")
    item = phone.locator("[data-list] [data-item-id]")
    await expect(item).to_have_count(1)
    await expect(item).to_contain_text("幸福超市")
    await no_overflow(phone)
    await shot(phone, "cobuild-store")
    await item.locator("[data-redeem]").click()
    await phone.wait_for_url(re.compile(rf"/c/{cid}/store/orders\?new="))
    order = phone.locator("[data-list] [data-order-id]").first
    await expect(order).to_have_attribute("data-order-status", "ready")
    pickup = (await order.locator('[data-slot="code"]').inner_text()).strip()
    assert pickup
    await expect(order.locator("[data-qr]")).to_be_visible()
    assert await order.locator("[data-qr]").evaluate("img => img.naturalWidth") > 50
    await no_overflow(phone)
    await quiet(phone)
    await shot(phone, "cobuild-order")
    await phone.goto("/")
    ready = phone.locator('[data-card="store.ready"]')
    await expect(ready).to_contain_text("洗衣液一瓶")
    await ready.locator("a.home-item").first.click()
    await expect(phone.locator("[data-list] [data-order-id]").first).to_have_class(re.compile("card--accent"))

    # At the counter the committee types the code and hands it over.
    await committee.goto(f"/c/{cid}/store/pickup")
    await committee.fill("#pickup-code", pickup)
    await committee.click('[data-pickup-form] [type="submit"]')
    await expect(committee.locator("[data-result]")).to_contain_text("洗衣液一瓶")
    await expect(committee.locator("[data-result]")).to_contain_text(volunteer.name)
    await no_overflow(committee)
    await quiet(committee)
    await shot(committee, "cobuild-pickup")
    await phone.reload()
    await expect(phone.locator("[data-list] [data-order-id]").first).to_have_attribute("data-order-status",
                                                                                      "fulfilled")
    await phone.goto(f"/c/{cid}/points")
    await expect(phone.locator('[data-slot="points"]')).to_have_text("5")
