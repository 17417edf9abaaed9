"""Sharing an issue: every public issue gets a short link on demand whose page previews well in
a chat (Open Graph tags with absolute URLs, the first report photo) and a QR code; a staff-only
issue has no link and no page, even if a link was made before."""

from __future__ import annotations

from io import BytesIO

import segno
from PIL import Image
from sqlalchemy import update

from app.issues.models import Issue
from tests import factories as f
from tests.issues.support import photo, place, report
from tests.sharing.test_share_pages import open_page, qr_modules


async def share(client, p, issue_id, who):
    return await client.post(f"/api/v1/communities/{p.c.id}/issues/{issue_id}/share", headers=f.auth(who))


async def test_public_issue_share_page_has_open_graph_tags_with_absolute_urls_and_its_photo(client, session):
    p = await place(client, session)
    pic = await photo(client, p.c, p.resident)
    issue = await report(client, p, photo_ids=[pic])

    r = await share(client, p, issue["id"], p.neighbour)
    assert r.status_code == 200, r.text
    link = r.json()
    code = link["code"]
    assert link["url"] == f"http://testserver/s/{code}"
    assert link["qr_url"] == f"http://testserver/s/{code}/qr.svg"
    assert link["qr_png_url"] == f"http://testserver/s/{code}/qr.png"
    again = await share(client, p, issue["id"], p.resident)
    assert again.json()["code"] == code  # one link per issue, whoever asks

    status, page, headers = await open_page(client, code)
    assert status == 200
    m = page.meta
    assert m["og:title"] == page.title.strip() == "3栋路灯不亮"
    assert m["og:description"] == "待受理 · 照明 · 幸福里社区"
    assert m["og:url"] == link["url"]
    assert m["og:image"].startswith("http://testserver/") and m["og:image"] == issue["photos"][0]["url"]
    assert (m["og:image:width"], m["og:image:height"]) == ("64", "48")
    assert f"/c/{p.c.id}/issues/{issue['id']}" in page.links
    assert page.scripts == 0 and "default-src 'none'" in headers["content-security-policy"]


async def test_share_page_follows_the_status_and_speaks_english(client, session):
    p = await place(client, session)
    issue = await report(client, p)
    code = (await share(client, p, issue["id"], p.resident)).json()["code"]
    r = await client.post(f"/api/v1/communities/{p.c.id}/issues/{issue['id']}/transitions",
                          headers=f.auth(p.committee), json={"action": "dispatch", "handler_id": p.handler_id})
    assert r.status_code == 200, r.text

    _, page, _ = await open_page(client, code, headers={"Accept-Language": "en"})
    assert page.meta["og:description"] == "Dispatched · Lighting · 幸福里社区"  # a default category in English
    assert page.meta["og:image"] == "http://testserver/static/img/og-default.png"  # no photo: the default
    assert page.meta["og:locale"] == "en_US"


async def test_staff_only_issue_has_no_share_link_and_its_page_is_gone(client, session):
    p = await place(client, session)
    secret = await report(client, p, who=p.grid_worker, title="楼上楼下噪音纠纷", staff_only=True)
    assert (await share(client, p, secret["id"], p.committee)).status_code == 404
    assert (await share(client, p, secret["id"], p.resident)).status_code == 404

    # A link made while the issue was public stops working once it becomes staff-only.
    issue = await report(client, p)
    code = (await share(client, p, issue["id"], p.resident)).json()["code"]
    await session.execute(update(Issue).where(Issue.id == issue["id"]).values(staff_only=True))
    await session.commit()
    status, page, _ = await open_page(client, code)
    assert status == 404
    assert "3栋路灯不亮" not in page.title and page.meta.get("robots") == "noindex"


async def test_another_communitys_issue_cannot_be_shared(client, session):
    p = await place(client, session)
    other = await place(client, session, name="和谐家园社区")
    issue = await report(client, other)
    r = await client.post(f"/api/v1/communities/{p.c.id}/issues/{issue['id']}/share", headers=f.auth(p.resident))
    assert r.status_code == 404


async def test_issue_qr_png_and_svg_are_served(client, session):
    p = await place(client, session)
    issue = await report(client, p)
    link = (await share(client, p, issue["id"], p.resident)).json()
    png = await client.get(link["qr_png_url"].removeprefix("http://testserver"))
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    image = Image.open(BytesIO(png.content))
    assert image.format == "PNG" and image.width == image.height >= 200
    expected = segno.make_qr(link["url"], error="m")  # segno is deterministic
    assert qr_modules(image) == [[bool(v) for v in row] for row in expected.matrix]
    svg = await client.get(link["qr_url"].removeprefix("http://testserver"))
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert link["url"].encode() in svg.content  # the SVG's title is the URL it encodes
