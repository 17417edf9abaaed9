"""保存海报 in the browser: the poster of an issue, a poll and an invite is drawn on the phone as a
750×1334 PNG, shown as an image (what WeChat saves on a long press), and its QR code, read back
from the picture by a QR decoder as a phone's camera would, is the short link. In zh-CN, English
and elder mode."""

from __future__ import annotations

import base64
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.async_api import expect

from tests import factories as f
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.helpers import give_tokens, neighbourhood
from tests.issues.support import place, report
from tests.polls import support as polls

pytestmark = pytest.mark.e2e

JSQR = Path(__file__).resolve().parent / "vendor" / "jsqr" / "jsQR.js"
WECHAT = ("Mozilla/5.0 (Linux; Android 12; M2012K11AC Build/SKQ1.211006.001; wv) AppleWebKit/537.36 (KHTML, like "
          "Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230303 "
          "MicroMessenger/8.0.34.2340(0x2800225B) WeChat/arm64")
DECODE = """async (src) => {
  const image = new Image();
  image.src = src;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.naturalWidth;
  canvas.height = image.naturalHeight;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(image, 0, 0);
  const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height);
  const found = jsQR(pixels.data, pixels.width, pixels.height);
  return found ? found.data : null;
}"""


async def phone(new_page: Any, client: Any, person: Any, **options: Any) -> Any:
    page = await new_page(service_workers="block", **options)
    await give_tokens(client, page, person.phone)
    return page


async def make_poster(page: Any, scope: Any) -> tuple[Image.Image, str]:
    """Tap 保存海报 in ``scope``; the poster shown, as a picture, and its data: URL."""
    await scope.locator("[data-poster]").click()
    image = scope.locator("[data-poster-image]")
    await expect(image).to_be_visible()
    await expect(image).to_have_js_property("complete", True)
    src = await image.get_attribute("src")
    assert src and src.startswith("data:image/png;base64,")
    png = base64.b64decode(src.split(",", 1)[1])
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000
    picture = Image.open(BytesIO(png))
    assert picture.size == (750, 1334)
    assert len(picture.convert("RGB").getcolors(1 << 20) or []) > 50  # drawn on: text, colours, a code
    return picture, src


async def read_qr(page: Any, src: str) -> str | None:
    """The poster's QR code as a phone's camera reads it (jsQR, in a blank page of the same browser)."""
    reader = await page.context.new_page()
    await reader.set_content("<!doctype html><title>reader</title>")
    await reader.add_script_tag(path=str(JSQR))
    try:
        return str(await reader.evaluate(DECODE, src) or "") or None
    finally:
        await reader.close()


def keep(picture: Image.Image, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    picture.save(ARTIFACTS / f"{name}.png")


async def test_issue_poster_is_an_image_whose_qr_is_the_short_link(new_page, client, session):
    p = await place(client, session)
    issue = await report(client, p, location_text="东门口路灯杆下")
    page = await phone(new_page, client, p.neighbour)
    await page.goto(f"/c/{p.c.id}/issues/{issue['id']}")
    await page.click("[data-share]")
    share_url = page.locator("[data-share-url]")
    await expect(share_url).not_to_be_empty()

    picture, src = await make_poster(page, page.locator("[data-share-box]"))

    link = await share_url.text_content()
    assert link and await read_qr(page, src) == link
    await expect(page.locator(".poster__hint")).to_contain_text("长按图片")
    download = page.locator("[data-poster-download]")
    await expect(download).to_have_attribute("download", f"wugong-{link.rsplit('/', 1)[1]}.png")
    keep(picture, "poster-issue")
    await page.locator("[data-poster-image]").scroll_into_view_if_needed()
    await page.screenshot(path=str(ARTIFACTS / "poster-issue-page.png"))


async def test_poll_poster_in_english_with_a_readable_qr(new_page, client, session, live_server):
    e = await polls.estate(session)
    poll = await polls.opened(client, e.c, e.committee, title="Install a lift in building 3?")
    await polls.vote(client, e.c, e.owners[0], poll["id"], choices=[polls.option_ids(poll)[0]])
    page = await phone(new_page, client, e.owners[1], locale="en")
    await page.context.add_cookies([{"name": "wg_lang", "value": "en", "url": live_server}])
    await page.goto(f"/c/{e.c.id}/polls/{poll['id']}")
    await expect(page.locator("[data-share]")).to_be_visible()
    await page.click("[data-share]")
    await expect(page.locator("[data-share-url]")).not_to_be_empty()
    await expect(page.locator("[data-poster]")).to_have_text("Save poster")

    picture, src = await make_poster(page, page.locator("[data-share-box]"))

    assert await read_qr(page, src) == await page.locator("[data-share-url]").text_content()
    assert await page.locator("[data-poster-image]").get_attribute("alt") == "Poster: Install a lift in building 3?"
    keep(picture, "poster-poll-en")
    await page.locator("[data-poster]").scroll_into_view_if_needed()
    await page.screenshot(path=str(ARTIFACTS / "poster-poll-page-en.png"))


async def test_invite_poster_in_elder_mode_inside_wechat(new_page, client, session, live_server):
    place_ = await neighbourhood(session, client)
    page = await phone(new_page, client, place_.committee, user_agent=WECHAT)
    await page.context.add_cookies([{"name": "wg_elder", "value": "1", "url": live_server}])
    await page.goto(f"/c/{place_.cid}/admin/invites")
    card = page.locator("[data-list] .card").first
    await expect(card).to_contain_text("1栋微信群")
    await expect(page.locator("html")).to_have_class("elder")

    picture, src = await make_poster(page, card)

    assert await read_qr(page, src) == place_.invite["url"].replace("http://testserver", live_server)
    # WeChat ignores downloads: the way is a long press on the picture, and the page says so.
    await expect(card.locator(".poster__hint")).to_contain_text("保存图片")
    await expect(card.locator("[data-poster-download]")).to_have_count(0)
    keep(picture, "poster-invite-elder")
    await card.locator("[data-poster-image]").scroll_into_view_if_needed()
    await page.screenshot(path=str(ARTIFACTS / "poster-invite-page-elder.png"))


async def test_a_revoked_invite_offers_no_poster(new_page, client, session):
    place_ = await neighbourhood(session, client)
    r = await client.post(f"/api/v1/communities/{place_.cid}/invites/{place_.invite['id']}/revoke",
                          headers=f.auth(place_.committee))
    assert r.status_code == 200, r.text
    page = await phone(new_page, client, place_.committee)
    await page.goto(f"/c/{place_.cid}/admin/invites")
    card = page.locator("[data-list] .card").first
    await expect(card.locator("[data-status]")).to_have_text("已撤销")
    await expect(card.locator("[data-poster]")).to_be_hidden()
