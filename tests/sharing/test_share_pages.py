"""Share pages: a short link pasted in a chat previews well, opens in the visitor's language,
and has a QR code that scans to the same absolute URL."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser
from io import BytesIO
from xml.etree import ElementTree

import segno
from PIL import Image
from sqlalchemy import update

from app.communities.models import Invite
from app.core import clock
from app.sharing import service as sharing
from app.sharing.models import ShortLink
from tests import factories as f
from tests.core.test_uploads import jpeg_with_gps
from tests.factories import assert_problem


class Page(HTMLParser):
    """What a link-preview crawler reads: <html> attributes, <title>, <meta> tags and links."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.html_attrs: dict[str, str | None] = {}
        self.meta: dict[str, str] = {}
        self.links: list[str] = []
        self.scripts = 0
        self.title = ""
        self._in_title = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.html_attrs = a
        elif tag == "meta" and a.get("content") is not None:
            self.meta[a.get("property") or a.get("name") or a.get("itemprop") or ""] = a["content"] or ""
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")
        elif tag == "script":
            self.scripts += 1
        self._in_title = tag == "title"

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False


async def new_invite(client, session, community=None, **body):
    c = community or await f.community(session)
    committee = await f.member(session, c, "committee", name="居委会王主任")
    r = await client.post(f"/api/v1/communities/{c.id}/invites", headers=f.auth(committee), json=body)
    assert r.status_code == 201, r.text
    return c, committee, r.json()


async def open_page(client, code: str, **kw) -> tuple[int, Page, dict]:
    r = await client.get(f"/s/{code}", **kw)
    assert r.headers["content-type"].startswith("text/html")
    return r.status_code, Page(r.text), dict(r.headers)


async def test_invite_page_has_open_graph_tags_with_absolute_urls(client, session):
    _, _, invite = await new_invite(client, session)

    status, page, headers = await open_page(client, invite["code"])

    assert status == 200
    share_url = f"http://testserver/s/{invite['code']}"
    assert invite["url"] == share_url
    m = page.meta
    assert m["og:title"] == page.title.strip() == "邀请您加入幸福里社区"
    assert m["og:type"] == "website" and m["og:site_name"] == "五共" and m["og:locale"] == "zh_CN"
    assert m["og:url"] == share_url
    assert m["og:image"] == "http://testserver/static/img/og-default.png"
    assert (m["og:image:width"], m["og:image:height"]) == ("1200", "630")
    assert m["og:description"] == m["description"] and "幸福里社区" in m["description"]
    assert m["twitter:card"] == "summary_large_image" and m["twitter:image"] == m["og:image"]
    assert f"/join/{invite['code']}" in page.links
    assert page.html_attrs["lang"] == "zh-CN" and "class" not in page.html_attrs
    assert page.scripts == 0 and "default-src 'none'" in headers["content-security-policy"]
    assert headers["content-language"] == "zh-CN" and "max-age" in headers["cache-control"]


async def test_default_preview_picture_is_served(client):
    r = await client.get("/static/img/og-default.png")
    assert r.status_code == 200
    assert Image.open(BytesIO(r.content)).size == (1200, 630)


async def test_invite_for_a_building_names_it(client, session):
    c = await f.community(session)
    b = await f.building(session, c, "7栋")
    _, _, invite = await new_invite(client, session, c, building_id=b.id)
    _, page, _ = await open_page(client, invite["code"])
    assert page.meta["og:description"].startswith("7栋的邻居们")


async def test_invite_page_in_english_by_header_or_cookie(client, session):
    _, _, invite = await new_invite(client, session)

    _, by_header, headers = await open_page(client, invite["code"], headers={"Accept-Language": "en-US,en;q=0.9"})
    client.cookies.set("wg_lang", "en")
    try:
        _, by_cookie, _ = await open_page(client, invite["code"], headers={"Accept-Language": "zh-CN"})
    finally:
        client.cookies.clear()

    for page in (by_header, by_cookie):
        assert page.meta["og:title"] == "You're invited to join 幸福里社区"
        assert page.meta["og:locale"] == "en_US" and page.html_attrs["lang"] == "en"
        assert page.meta["description"].startswith("Verify your phone number")
    assert headers["content-language"] == "en"


async def test_elder_cookie_marks_the_page_for_large_type(client, session):
    _, _, invite = await new_invite(client, session)
    client.cookies.set("wg_elder", "1")
    try:
        _, page, _ = await open_page(client, invite["code"])
    finally:
        client.cookies.clear()
    assert page.html_attrs["class"] == "elder"


async def test_community_cover_is_the_preview_picture(client, session):
    c, committee, invite = await new_invite(client, session)
    photo = await client.post(f"/api/v1/communities/{c.id}/uploads", headers=f.auth(committee),
                              files={"file": ("cover.jpg", jpeg_with_gps((1200, 800)))})
    cover = photo.json()
    r = await client.patch(f"/api/v1/communities/{c.id}", headers=f.auth(committee),
                           json={"cover_upload_id": cover["id"]})
    assert r.status_code == 200, r.text

    _, page, _ = await open_page(client, invite["code"])

    # The upload's own URL was signed (it was attached to nothing); as the cover it is public.
    assert page.meta["og:image"] == cover["url"].split("?")[0] and cover["url"].startswith("http://testserver/media/")
    assert (page.meta["og:image:width"], page.meta["og:image:height"]) == ("1200", "800")
    fetched = await client.get(page.meta["og:image"])
    assert fetched.status_code == 200 and fetched.headers["cache-control"].startswith("public, max-age=")


async def test_expired_invite_still_renders_with_the_reason(client, session):
    _, _, invite = await new_invite(client, session)
    await session.execute(update(Invite).where(Invite.code == invite["code"])
                          .values(expires_at=clock.now() - timedelta(days=1)))
    await session.commit()

    status, page, _ = await open_page(client, invite["code"])
    _, page_en, _ = await open_page(client, invite["code"], headers={"Accept-Language": "en"})

    assert status == 200
    assert page.meta["og:title"] == "邀请您加入幸福里社区"
    assert "已过期" in page.meta["description"]
    assert "has expired" in page_en.meta["description"]
    assert f"/join/{invite['code']}" not in page.links


async def test_revoked_and_used_up_invites_say_why(client, session):
    c, committee, revoked = await new_invite(client, session)
    r = await client.post(f"/api/v1/communities/{c.id}/invites/{revoked['id']}/revoke", headers=f.auth(committee))
    assert r.status_code == 200, r.text
    _, _, used_up = await new_invite(client, session, c, max_uses=1)
    await session.execute(update(Invite).where(Invite.code == used_up["code"]).values(uses=1))
    await session.commit()

    _, revoked_page, _ = await open_page(client, revoked["code"])
    _, used_up_page, _ = await open_page(client, used_up["code"])

    assert "已被撤销" in revoked_page.meta["description"]
    assert "使用次数已满" in used_up_page.meta["description"]


async def test_unknown_code_is_a_404_page_in_the_visitors_language(client):
    status, zh, _ = await open_page(client, "nosuchcd")
    status_en, en, _ = await open_page(client, "nosuchcd", headers={"Accept-Language": "en"})
    status_long, _, _ = await open_page(client, "x" * 60)
    status_odd, _, _ = await open_page(client, "ab%20cd")

    assert status == status_en == status_long == status_odd == 404
    assert zh.title == "链接无效或已失效" and zh.html_attrs["lang"] == "zh-CN"
    assert en.title == "This link is not valid" and en.html_attrs["lang"] == "en"
    assert zh.meta["robots"] == "noindex"


async def test_link_of_a_kind_without_a_preview_is_404(client, session):
    async with session.begin():
        await sharing.create_link(session, kind="unregistered", target_id="x", community_id=None, code="orphan01")
    status, _, _ = await open_page(client, "orphan01")
    assert status == 404


async def test_a_new_kind_registers_its_preview_without_touching_the_router(client, session, monkeypatch):
    monkeypatch.setattr(sharing, "_previews", dict(sharing._previews))

    @sharing.register_preview("notice")
    async def notice_preview(session, link: ShortLink, locale: str) -> sharing.SharePreview:
        return sharing.SharePreview(title=f"公示 {link.target_id}", description="资金公开",
                                    action_label="查看", action_path=f"/notices/{link.target_id}",
                                    indexable=True)

    async with session.begin():
        await sharing.create_link(session, kind="notice", target_id="n1", community_id=None, code="notice01")
    status, page, _ = await open_page(client, "notice01")

    assert status == 200
    assert page.meta["og:title"] == "公示 n1" and "/notices/n1" in page.links
    assert "robots" not in page.meta


async def test_page_escapes_what_people_typed(client, session):
    c = await f.community(session, name='"><script>alert(1)</script>')
    _, _, invite = await new_invite(client, session, c)
    r = await client.get(f"/s/{invite['code']}")
    assert "<script>" not in r.text
    assert Page(r.text).meta["og:title"] == '邀请您加入"><script>alert(1)</script>'


async def test_head_request_answers_like_get(client, session):
    _, _, invite = await new_invite(client, session)
    r = await client.head(f"/s/{invite['code']}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")


def qr_modules(png: Image.Image, scale: int = 10, border: int = 4) -> list[list[bool]]:
    """Read a PNG QR code back into its module matrix (dark = True)."""
    grey = png.convert("L")
    count = png.width // scale - 2 * border
    return [[grey.getpixel(((border + x) * scale + scale // 2, (border + y) * scale + scale // 2)) < 128
             for x in range(count)] for y in range(count)]


async def test_qr_png_encodes_the_absolute_share_url(client, session):
    _, _, invite = await new_invite(client, session)

    r = await client.get(f"/s/{invite['code']}/qr.png")

    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert "max-age" in r.headers["cache-control"]
    image = Image.open(BytesIO(r.content))
    assert image.width == image.height >= 250
    # segno is deterministic: the same URL at the same level gives the same modules.
    expected = segno.make_qr(f"http://testserver/s/{invite['code']}", error="m")
    assert qr_modules(image) == [[bool(v) for v in row] for row in expected.matrix]
    assert invite["qr_png_url"] == f"http://testserver/s/{invite['code']}/qr.png"


async def test_qr_svg_is_well_formed(client, session):
    _, _, invite = await new_invite(client, session)

    r = await client.get(f"/s/{invite['code']}/qr.svg")

    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert "max-age" in r.headers["cache-control"]
    root = ElementTree.fromstring(r.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find("{http://www.w3.org/2000/svg}path") is not None
    assert invite["qr_url"] == f"http://testserver/s/{invite['code']}/qr.svg"


async def test_qr_of_an_unknown_code_is_404(client):
    assert_problem(await client.get("/s/nosuchcd/qr.svg"), 404, "share_link_not_found")
    assert_problem(await client.get("/s/nosuchcd/qr.png", headers={"Accept-Language": "en"}), 404)
