"""The issue list through the pages, at phone size: a resident reports with a photo, a neighbour
supports, the committee dispatches, the handler unit starts and resolves with an after-photo,
the reporter reopens, the handler resolves again, the reporter verifies and it closes; a third
reopen escalates; a report made offline is sent once when the network returns; and a staff-only
issue's photo shows to the committee by its signed URL."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests import factories as f
from tests.e2e.helpers import give_tokens
from tests.issues.support import act, jpeg, photo, place, report

pytestmark = pytest.mark.e2e


def picture(name: str = "photo.jpg") -> list[dict[str, Any]]:
    return [{"name": name, "mimeType": "image/jpeg", "buffer": jpeg()}]


async def quiet(page: Any) -> None:
    """Toasts float over the middle of a full-page screenshot; they have said their piece."""
    await page.evaluate("document.querySelectorAll('.toast').forEach((toast) => toast.remove())")


async def phone_of(client: Any, person: Any, new_page: Any) -> Any:
    page = await new_page(service_workers="block")
    await give_tokens(client, page, person.phone)
    return page


async def take_action(scope: Any, action: str, *, fill: dict[str, str] | None = None,
                      select: dict[str, str] | None = None, photo: bool = False) -> None:
    await scope.locator(f'[data-action="{action}"]').click()
    form = scope.locator(f'[data-action-form="{action}"]')
    for name, label in (select or {}).items():
        await form.locator(f'[name="{name}"]').select_option(label=label)
    for name, text in (fill or {}).items():
        await form.locator(f'[name="{name}"]').fill(text)
    if photo:
        await form.locator("[data-file]").set_input_files(files=picture("after.jpg"))
        await expect(form.locator("[data-uploaded]")).to_have_count(1)
    await form.locator('[type="submit"]').click()


async def test_the_whole_story_from_report_to_closed_through_the_pages(new_page, client, session, shot):
    p = await place(client, session)
    cid = p.c.id

    # A resident finds the issue list on the community page and reports with a photo.
    resident = await phone_of(client, p.resident, new_page)
    await resident.goto(f"/c/{cid}")
    await resident.click("[data-tile-issues]")
    await expect(resident).to_have_url(re.compile(rf"/c/{cid}/issues$"))
    await resident.click("[data-report-link]")
    await resident.fill("#issue-title", "3栋路灯不亮")
    await resident.select_option("#issue-category", label="照明")
    await resident.fill("#issue-description", "晚上很黑，老人走路不方便")
    await resident.locator("[data-report-form] [data-file]").set_input_files(files=picture())
    await expect(resident.locator("[data-report-form] [data-uploaded]")).to_have_count(1)
    await resident.select_option("#issue-building", label="1栋")
    await expect(resident.locator("[data-staff]")).to_be_hidden()  # residents choose no source
    await shot(resident, "issue-report")
    await resident.click('[data-report-form] [type="submit"]')
    await resident.wait_for_url(re.compile(rf"/c/{cid}/issues/(?!new$)[0-9A-Za-z]+$"))
    issue_id = resident.url.rsplit("/", 1)[1]
    await expect(resident.locator("[data-badges] [data-status]")).to_have_text("待受理")
    await expect(resident.locator("[data-photos] img")).to_have_count(1)
    await expect(resident.locator("[data-photos] img")).to_have_js_property("naturalWidth", 64)  # it loaded
    await expect(resident.locator("[data-timeline] li")).to_have_count(1)

    # A neighbour sees it in the list and presses 我也关注.
    neighbour = await phone_of(client, p.neighbour, new_page)
    await neighbour.goto(f"/c/{cid}/issues")
    card = neighbour.locator(f'[data-issue-id="{issue_id}"]')
    await expect(card).to_contain_text("3栋路灯不亮")
    await expect(card.locator("[data-thumb]")).to_be_visible()
    await expect(card.locator("[data-thumb]")).to_have_js_property("complete", True)
    await shot(neighbour, "issue-list")
    await card.locator("[data-link]").click()
    await neighbour.click("[data-support]")
    await expect(neighbour.locator("[data-support]")).to_have_attribute("aria-pressed", "true")
    await expect(neighbour.locator("[data-support-count]")).to_have_text("1")
    await expect(neighbour.locator("[data-actions-section]")).to_be_hidden()  # nothing for a neighbour to do

    # The committee dispatches it to the property company from the triage board.
    committee = await phone_of(client, p.committee, new_page)
    await committee.goto(f"/c/{cid}")
    await committee.click('[data-permission="issues.triage"]')
    card = committee.locator(f'[data-issue-id="{issue_id}"]')
    await card.locator("[data-open-actions]").click()
    await expect(card.locator('[data-action="accept"]')).to_be_visible()
    await card.locator('[data-action="dispatch"]').click()
    await card.locator('[data-action-form="dispatch"] [name="handler_id"]').select_option(label="幸福里物业")
    await shot(committee, "issue-triage")
    await card.locator('[data-action-form="dispatch"] [type="submit"]').click()
    await expect(committee.locator(f'[data-issue-id="{issue_id}"]')).to_have_count(0)  # gone from 待受理 at once
    await committee.click('[data-tab="working"]')
    await expect(committee.locator(f'[data-issue-id="{issue_id}"] [data-status]')).to_have_text("已派单")

    # The handler starts and resolves it with an after-photo from the queue.
    handler = await phone_of(client, p.handler, new_page)
    await handler.goto(f"/c/{cid}/queue")
    card = handler.locator(f'[data-issue-id="{issue_id}"]')
    await card.locator("[data-open-actions]").click()
    await take_action(card, "start")
    card = handler.locator(f'[data-issue-id="{issue_id}"]')
    await expect(card.locator("[data-status]")).to_have_text("处置中")
    await card.locator("[data-open-actions]").click()
    # Resolving without a photo or a note is stopped on the phone, at the fields.
    await card.locator('[data-action="resolve"]').click()
    await card.locator('[data-action-form="resolve"] [type="submit"]').click()
    resolve_form = card.locator('[data-action-form="resolve"]')
    await expect(resolve_form.locator('[data-error-for="photo_ids"]')).to_have_text("请上传现场照片")
    await card.locator('[data-action-form="resolve"] [name="note"]').fill("换了新灯泡")
    await card.locator('[data-action-form="resolve"] [data-file]').set_input_files(files=picture("after.jpg"))
    await expect(card.locator('[data-action-form="resolve"] [data-uploaded]')).to_have_count(1)
    await card.locator('[data-action-form="resolve"] [type="submit"]').click()
    await expect(handler.locator(f'[data-issue-id="{issue_id}"]')).to_have_count(0)  # resolved: off the queue

    # The reporter is not satisfied: reopens with a reason.
    await resident.reload()
    await expect(resident.locator("[data-after-photos] img")).to_have_count(1)
    await expect(resident.locator('[data-slot="resolution"]')).to_have_text("换了新灯泡")
    await take_action(resident, "reopen", fill={"reason": "晚上还是不亮"})
    await expect(resident.locator("[data-badges] [data-status]")).to_have_text("重新办理")

    # The handler resolves again; the reporter verifies; it is closed.
    await handler.reload()
    card = handler.locator(f'[data-issue-id="{issue_id}"]')
    await expect(card.locator("[data-status]")).to_have_text("重新办理")
    await card.locator("[data-open-actions]").click()
    await take_action(card, "resolve", fill={"note": "线路修好了"}, photo=True)
    await expect(handler.locator(f'[data-issue-id="{issue_id}"]')).to_have_count(0)

    await resident.reload()
    await take_action(resident, "verify")
    await expect(resident.locator("[data-badges] [data-status]")).to_have_text("已关闭")
    await expect(resident.locator("[data-actions-section]")).to_be_hidden()
    timeline = resident.locator("[data-timeline] li")
    await expect(timeline).to_have_count(7)
    assert [await li.get_attribute("data-event") for li in await timeline.all()] == [
        "report", "dispatch", "start", "resolve", "reopen", "resolve", "verify"]
    await expect(timeline.nth(1)).to_contain_text("幸福里物业")
    await expect(timeline.nth(4)).to_contain_text("晚上还是不亮")

    # A comment with words; then the share link and its QR code.
    await resident.fill("#comment-body", "谢谢物业师傅！")
    await resident.click('[data-comment-form] [type="submit"]')
    await expect(resident.locator("[data-comments] .comment")).to_have_count(1)
    await resident.click("[data-share]")
    await expect(resident.locator("[data-share-url]")).to_have_text(re.compile(r"^http://127\.0\.0\.1:\d+/s/\w+$"))
    await expect(resident.locator("[data-share-qr]")).to_have_js_property("complete", True)
    assert await resident.locator("[data-share-qr]").evaluate("(img) => img.naturalWidth") > 100
    await quiet(resident)
    await shot(resident, "issue-detail")

    # The same screen in elder mode: large type, one action per row, still complete.
    await resident.evaluate("import('/static/js/prefs.js').then((prefs) => prefs.setElder(true))")
    await resident.reload()
    assert await resident.evaluate("document.documentElement.classList.contains('elder')")
    await expect(resident.locator("[data-badges] [data-status]")).to_have_text("已关闭")
    await quiet(resident)
    await shot(resident, "issue-detail-elder")

    r = await client.get(f"/api/v1/communities/{cid}/issues/{issue_id}", headers=f.auth(p.resident))
    assert r.json()["status"] == "closed" and r.json()["supports_count"] == 1 and r.json()["reopen_count"] == 1


async def test_a_third_reopen_shows_the_escalated_flag(new_page, client, session):
    p = await place(client, session)
    issue = await report(client, p)
    assert (await act(client, p, issue["id"], p.committee, "dispatch", handler_id=p.handler_id)).status_code == 200
    for round_ in range(3):
        photo_ids = [await photo(client, p.c, p.handler)]
        r = await act(client, p, issue["id"], p.handler, "resolve", note=f"第{round_ + 1}次处理", photo_ids=photo_ids)
        assert r.status_code == 200, r.text
        if round_ < 2:
            assert (await act(client, p, issue["id"], p.resident, "reopen", reason="没修好")).status_code == 200

    resident = await phone_of(client, p.resident, new_page)
    await resident.goto(f"/c/{p.c.id}/issues/{issue['id']}")
    await expect(resident.locator("[data-badges] [data-escalated]")).to_have_count(0)
    await take_action(resident, "reopen", fill={"reason": "第三次了，还是没修好"})
    await expect(resident.locator("[data-badges] [data-status]")).to_have_text("重新办理")
    await expect(resident.locator("[data-badges] [data-escalated]")).to_have_text("督办")
    await expect(resident.locator('[data-timeline] li[data-event="escalate"]')).to_contain_text("督办")

    # The committee sees the flag on the board too.
    committee = await phone_of(client, p.committee, new_page)
    await committee.goto(f"/c/{p.c.id}/triage")
    await committee.click('[data-tab="working"]')
    await expect(committee.locator(f'[data-issue-id="{issue["id"]}"] [data-escalated]')).to_be_visible()


async def test_a_report_made_offline_is_queued_and_sent_once_when_back_online(new_page, client, session, shot):
    p = await place(client, session)
    resident = await phone_of(client, p.resident, new_page)
    await resident.goto(f"/c/{p.c.id}/issues/new")
    await expect(resident.locator("[data-report-form]")).to_be_visible()
    await resident.context.set_offline(True)
    await expect(resident.locator("[data-photo-offline]")).to_be_visible()  # photos need the network: said so
    await resident.fill("#issue-title", "东门垃圾满了")
    await resident.select_option("#issue-category", label="环境卫生")
    await resident.click('[data-report-form] [type="submit"]')
    await expect(resident.locator("[data-queued-done]")).to_be_visible()
    await expect(resident.locator("[data-queue-count]")).to_have_text("1")
    await shot(resident, "issue-report-queued")

    await resident.context.set_offline(False)
    await expect(resident.locator("[data-queue-badge]")).to_be_hidden()
    await resident.evaluate("import('/static/js/queue.js').then((q) => q.replay())")  # again: must not send twice
    await resident.goto(f"/c/{p.c.id}/issues")
    await expect(resident.locator("[data-list] .issue-card", has_text="东门垃圾满了")).to_have_count(1)
    await expect(resident.locator("[data-queued]")).to_be_hidden()
    listed = await client.get(f"/api/v1/communities/{p.c.id}/issues", headers=f.auth(p.resident))
    assert [i["title"] for i in listed.json()["items"]].count("东门垃圾满了") == 1


async def test_grid_worker_closes_a_small_thing_on_the_spot_from_patrol(new_page, client, session):
    p = await place(client, session)
    issue = await report(client, p, title="楼道里有一袋垃圾")
    worker = await phone_of(client, p.grid_worker, new_page)
    await worker.goto(f"/c/{p.c.id}")
    await worker.click('[data-permission="issues.report_as_staff"][href$="/patrol"]')
    card = worker.locator(f'[data-issue-id="{issue["id"]}"]')
    await card.locator("[data-open-actions]").click()
    await take_action(card, "close_on_spot", fill={"note": "顺手清走了"}, photo=True)
    await expect(worker.locator(f'[data-issue-id="{issue["id"]}"]')).to_have_count(0)  # closed: off the round
    r = await client.get(f"/api/v1/communities/{p.c.id}/issues/{issue['id']}", headers=f.auth(p.grid_worker))
    assert r.json()["status"] == "closed"

    # The shortcut opens the report form as a patrol report, with the staff choices.
    await worker.click("[data-patrol-report]")
    await expect(worker.locator("[data-staff]")).to_be_visible()
    await expect(worker.locator("#issue-source")).to_have_value("grid_patrol")


async def test_a_staff_only_issues_photo_shows_to_the_committee_by_its_signed_url(new_page, client, session):
    p = await place(client, session)
    pic = await photo(client, p.c, p.grid_worker)
    issue = await report(client, p, who=p.grid_worker, title="楼上漏水邻里纠纷", staff_only=True, photo_ids=[pic])
    committee = await phone_of(client, p.committee, new_page)
    await committee.goto(f"/c/{p.c.id}/issues/{issue['id']}")
    shown = committee.locator("[data-photos] img")
    await expect(shown).to_have_js_property("naturalWidth", 64)
    assert "&sig=" in str(await shown.get_attribute("src"))
