"""The report page's extras at phone size: the "可能已有人报过" hint with 我也关注, a report with
photos made offline (photos kept on the phone, sent once with the report), and the map page
with no tile server (the SVG grid, the list beneath, both leading to the issue)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from app.issues import mapping
from tests import factories as f
from tests.e2e.helpers import give_tokens
from tests.issues.support import jpeg, place, report

pytestmark = pytest.mark.e2e


async def phone_of(client: Any, person: Any, new_page: Any) -> Any:
    page = await new_page(service_workers="block")  # as in WeChat: nothing may need a service worker
    await give_tokens(client, page, person.phone)
    return page


async def quiet(page: Any) -> None:
    await page.evaluate("document.querySelectorAll('.toast').forEach((toast) => toast.remove())")


async def test_similar_issue_is_offered_while_typing_and_me_too_supports_it(new_page, client, session, shot):
    p = await place(client, session)
    existing = await report(client, p, title="3栋路灯不亮")
    await report(client, p, title="东门垃圾满了")  # unrelated: must not be offered
    before = existing["supports_count"]

    neighbour = await phone_of(client, p.neighbour, new_page)
    await neighbour.goto(f"/c/{p.c.id}/issues/new")
    await expect(neighbour.locator("[data-report-form]")).to_be_visible()
    await neighbour.fill("#issue-title", "3栋的路灯不亮了")
    hint = neighbour.locator("[data-similar]")
    await expect(hint).to_be_visible()
    await expect(hint).to_contain_text("可能已有人报过")
    cards = hint.locator("[data-similar-card]")
    await expect(cards).to_have_count(1)
    card = cards.first
    await expect(card).to_contain_text("3栋路灯不亮")
    assert await card.get_attribute("data-issue-id") == existing["id"]
    assert (await card.locator("[data-link]").get_attribute("href")).endswith(f"/issues/{existing['id']}")
    await shot(neighbour, "report-similar-hint")

    await card.locator("[data-support]").click()
    await expect(card.locator("[data-support]")).to_have_text("已支持")
    await expect(card).to_contain_text(f"{before + 1} 人关注")
    fresh = await client.get(f"/api/v1/communities/{p.c.id}/issues/{existing['id']}", headers=f.auth(p.neighbour))
    assert fresh.json()["supports_count"] == before + 1 and fresh.json()["supported_by_me"] is True

    # Too short a title, or a different thing altogether: the hint goes quiet.
    await neighbour.fill("#issue-title", "树")
    await expect(hint).to_be_hidden()


async def test_report_with_two_photos_made_offline_is_sent_once_with_its_photos(new_page, client, session, shot):
    p = await place(client, session)
    resident = await phone_of(client, p.resident, new_page)
    await resident.goto(f"/c/{p.c.id}/issues/new")
    await expect(resident.locator("[data-report-form]")).to_be_visible()
    await resident.context.set_offline(True)
    notice = resident.locator("[data-photo-offline]")
    await expect(notice).to_contain_text("照片先存在手机里")
    await resident.fill("#issue-title", "西门台阶塌了一块")
    await resident.select_option("#issue-category", label="环境卫生")
    files = [{"name": f"p{i}.jpg", "mimeType": "image/jpeg", "buffer": jpeg()} for i in (1, 2)]
    await resident.locator("[data-report-form] [data-file]").set_input_files(files=files)
    await expect(resident.locator("[data-report-form] [data-kept]")).to_have_count(2)
    await resident.click('[data-report-form] [type="submit"]')
    done = resident.locator("[data-queued-done]")
    await expect(done).to_be_visible()
    await expect(done.locator("[data-queued-state]")).to_have_text("等待联网发送")
    await expect(done.locator("[data-queued-photos]")).to_have_text("带 2 张照片")
    await expect(resident.locator("[data-queue-count]")).to_have_text("1")
    await quiet(resident)
    await shot(resident, "report-queued-with-photos")

    await resident.context.set_offline(False)
    await expect(done.locator("[data-queued-state]")).to_have_text("已发送", timeout=15_000)
    await expect(done.locator("[data-queued-open]")).to_be_visible()
    await resident.evaluate("import('/static/js/queue.js').then((q) => q.replay())")  # again: must not send twice
    # Even a replay of a write forced back to "queued" is answered from the idempotency record.
    await resident.evaluate("""async () => {
      const q = await import('/static/js/queue.js');
      for (const item of await q.listWrites()) {
        const db = await new Promise((ok) => {
          const r = indexedDB.open('wugong', 1);
          r.onsuccess = () => ok(r.result);
        });
        await new Promise((ok) => {
          const tx = db.transaction('writes', 'readwrite');
          const copy = { ...item, status: 'queued' };
          for (const file of (copy.attachments ? copy.attachments.files : [])) file.uploadId = null;
          tx.objectStore('writes').put(copy);
          tx.oncomplete = ok;
        });
      }
      await q.replay();
    }""")
    listed = await client.get(f"/api/v1/communities/{p.c.id}/issues", headers=f.auth(p.resident))
    mine = [i for i in listed.json()["items"] if i["title"] == "西门台阶塌了一块"]
    assert len(mine) == 1
    detail = await client.get(f"/api/v1/communities/{p.c.id}/issues/{mine[0]['id']}", headers=f.auth(p.resident))
    assert len([x for x in detail.json()["photos"] if x["kind"] == "report"]) == 2
    href = await done.locator("[data-queued-open]").get_attribute("href")
    assert href.endswith(f"/issues/{mine[0]['id']}")


async def test_map_without_tiles_draws_points_and_lists_them(new_page, client, session, shot, monkeypatch):
    monkeypatch.delenv("WUGONG_MAP_TILE_URL", raising=False)
    monkeypatch.setattr(mapping, "map_settings", lambda: mapping.MapSettings(map_tile_url=""))
    p = await place(client, session)
    spots = [("3栋路灯不亮", 31.2304, 121.4737), ("东门垃圾满了", 31.2311, 121.4750),
             ("2栋楼道堆物", 31.2298, 121.4729)]
    ids = [(await report(client, p, title=title, lat=lat, lng=lng))["id"] for title, lat, lng in spots]
    await report(client, p, title="没有位置的问题")  # no point: neither drawn nor listed

    resident = await phone_of(client, p.resident, new_page)
    await resident.goto(f"/c/{p.c.id}/issues/map")
    canvas = resident.locator('[data-map][data-mode="grid"]')
    await expect(canvas.locator("circle.map-point")).to_have_count(3)
    await expect(resident.locator("[data-no-tiles]")).to_be_visible()
    items = resident.locator("[data-map-list] li")
    await expect(items).to_have_count(3)
    await expect(resident.locator("[data-map-count]")).to_have_text("共 3 个问题")
    # The map sits above the list, the list fits the phone's width.
    map_box = await canvas.bounding_box()
    list_box = await resident.locator("[data-map-list]").bounding_box()
    assert map_box and list_box and map_box["y"] + map_box["height"] <= list_box["y"]
    assert map_box["width"] <= 390 and list_box["x"] + list_box["width"] <= 390
    assert await resident.evaluate("document.documentElement.scrollWidth") <= 390
    await shot(resident, "issues-map")

    await canvas.locator(f'a[href$="/issues/{ids[1]}"] circle.map-point').click()
    await expect(resident).to_have_url(re.compile(rf"/c/{p.c.id}/issues/{ids[1]}$"))
    await resident.go_back()
    await resident.locator("[data-map-list] a", has_text="2栋楼道堆物").click()
    await expect(resident).to_have_url(re.compile(rf"/c/{p.c.id}/issues/{ids[2]}$"))
