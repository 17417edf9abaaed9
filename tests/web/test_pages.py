"""The server-rendered pages: language and elder mode from the first byte, security headers,
the PWA files, the invite landing, and the string catalogues behind all of them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.core import policy
from tests import factories as f
from tests.web.pages import assert_no_inline_code, html_tag

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"

PAGES = [
    "/",
    "/login",
    "/settings",
    "/offline",
    "/c/01HZXCOMMUNITY",
    "/c/01HZXCOMMUNITY/admin/members",
    "/c/01HZXCOMMUNITY/admin/join-requests",
    "/c/01HZXCOMMUNITY/admin/roster",
    "/c/01HZXCOMMUNITY/admin/invites",
    "/c/01HZXCOMMUNITY/admin/places",
    "/c/01HZXCOMMUNITY/admin/audit",
]



@pytest.mark.parametrize("path", PAGES)
async def test_page_is_chinese_html_by_default(client, path):
    r = await client.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert 'lang="zh-CN"' in html_tag(r.text)
    assert "elder" not in html_tag(r.text)
    assert r.headers["content-language"] == "zh-CN"


@pytest.mark.parametrize("path", PAGES)
async def test_page_is_english_with_language_cookie(client, path):
    r = await client.get(path, headers={"Cookie": "wg_lang=en"})
    assert r.status_code == 200
    assert 'lang="en"' in html_tag(r.text)


async def test_page_follows_accept_language_without_cookie(client):
    r = await client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert 'lang="en"' in html_tag(r.text)
    assert "Sign in" in r.text


async def test_language_cookie_wins_over_accept_language(client):
    r = await client.get("/login", headers={"Accept-Language": "en", "Cookie": "wg_lang=zh-CN"})
    assert 'lang="zh-CN"' in html_tag(r.text)
    assert "登录" in r.text


@pytest.mark.parametrize("path", PAGES)
async def test_elder_cookie_renders_elder_mode_from_the_first_byte(client, path):
    r = await client.get(path, headers={"Cookie": "wg_elder=1; wg_lang=en"})
    tag = html_tag(r.text)
    assert 'class="elder"' in tag and 'lang="en"' in tag


@pytest.mark.parametrize("path", [*PAGES, "/join/NOSUCHCODE"])
async def test_pages_carry_a_strict_content_security_policy_and_no_inline_script(client, path):
    r = await client.get(path)
    csp = r.headers["content-security-policy"]
    assert_no_inline_code(r.text, csp)
    assert "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"


async def test_every_page_links_the_shell_assets_with_a_version(client):
    from app.web.assets import version

    r = await client.get("/")
    assert re.search(r'data-v="([0-9a-f]+)"', r.text)
    for path in ("css/app.css", "js/pages/home.js", "manifest.webmanifest", "icons/icon-96.png"):
        assert f"/static/{path}?v={version(WEB / 'static' / path)}" in r.text, path


async def test_manifest_is_served_as_a_web_manifest_with_existing_icons(client):
    r = await client.get("/static/manifest.webmanifest")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/manifest+json")
    manifest = r.json()
    assert manifest["start_url"].startswith("/") and manifest["display"] == "standalone"
    purposes = {icon["purpose"] for icon in manifest["icons"]}
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert purposes == {"any", "maskable"} and {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        png = await client.get(icon["src"])
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        assert png.content.startswith(b"\x89PNG")


async def test_service_worker_is_served_from_the_root_for_the_whole_site(client):
    r = await client.get("/sw.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["service-worker-allowed"] == "/"
    assert r.headers["cache-control"] == "no-cache"


async def test_everything_the_service_worker_precaches_exists(client):
    assert "/sw-shell.json?v=" in (await client.get("/sw.js")).text
    urls = (await client.get("/sw-shell.json")).json()["urls"]
    plain = {url.partition("?")[0] for url in urls}
    assert {"/offline", "/static/css/app.css", "/locales/en/ui.json", "/locales/zh-CN/polls.json"} <= plain
    for url in urls:
        r = await client.get(url)
        assert r.status_code == 200, url
        assert url == "/offline" or "immutable" in r.headers["cache-control"], url  # the current version
    modules = {f"/static/js/{p.relative_to(WEB / 'static' / 'js').as_posix()}"
               for p in (WEB / "static" / "js").rglob("*.js")}
    catalogues = {f"/locales/{p.relative_to(WEB / 'locales').as_posix()}" for p in (WEB / "locales").rglob("*.json")}
    assert modules | catalogues <= plain, (modules | catalogues) - plain


async def test_offline_page_says_so_in_the_callers_language(client):
    zh = await client.get("/offline")
    en = await client.get("/offline", headers={"Cookie": "wg_lang=en"})
    assert "现在没有网络" in zh.text
    assert "You are offline" in en.text


async def test_invite_landing_shows_the_community_and_building(client, session):
    c = await f.community(session, name="幸福里社区")
    b = await f.building(session, c, name="3栋")
    committee = await f.member(session, c, "committee")
    r = await client.post(f"/api/v1/communities/{c.id}/invites", json={"building_id": b.id},
                          headers=f.auth(committee))
    code = r.json()["code"]
    page = await client.get(f"/join/{code}")
    assert page.status_code == 200
    assert "幸福里社区" in page.text and "3栋" in page.text
    assert f'data-community-id="{c.id}"' in page.text and 'data-usable="1"' in page.text
    assert "data-join-form" in page.text


async def test_revoked_invite_landing_gives_the_reason_and_no_form(client, session):
    c = await f.community(session)
    committee = await f.member(session, c, "committee")
    invite = (await client.post(f"/api/v1/communities/{c.id}/invites", json={}, headers=f.auth(committee))).json()
    await client.post(f"/api/v1/communities/{c.id}/invites/{invite['id']}/revoke", headers=f.auth(committee))
    page = await client.get(f"/join/{invite['code']}")
    assert 'data-usable="0"' in page.text
    assert "已被撤销" in page.text
    assert "data-join-form" not in page.text


async def test_unknown_invite_landing_is_a_404_page(client):
    r = await client.get("/join/NOSUCHCODE")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "邀请链接无效" in r.text


async def test_community_names_are_escaped(client, session):
    c = await f.community(session, name='<script>alert("x")</script>')
    committee = await f.member(session, c, "committee")
    code = (await client.post(f"/api/v1/communities/{c.id}/invites", json={}, headers=f.auth(committee))).json()["code"]
    page = await client.get(f"/join/{code}")
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert" in page.text


async def test_malformed_community_id_is_a_404_page(client):
    r = await client.get("/c/not%20an%20id/admin/members")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")


async def test_community_page_tells_its_module_who_may_see_the_committee_tools(client):
    r = await client.get("/c/01HZXCOMMUNITY")
    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', r.text)
    assert found
    data = json.loads(found.group(1))
    assert data["permissions"]["join_requests.decide"] == sorted(policy.PERMISSIONS["join_requests.decide"])


async def test_members_page_offers_every_role_with_its_label(client):
    r = await client.get("/c/01HZXCOMMUNITY/admin/members")
    for role in policy.Role:
        assert f'value="{role}"' in r.text
    assert "楼栋长" in r.text and "网格员" in r.text


async def test_places_and_audit_screens_are_titled_in_the_callers_language(client):
    for path, zh, en in (("/c/01HZXCOMMUNITY/admin/places", "网格和楼栋", "Grids and buildings"),
                         ("/c/01HZXCOMMUNITY/admin/audit", "操作记录", "Audit log")):
        assert f"<title>{zh} · 五共</title>" in (await client.get(path)).text
        assert f"<title>{en} · Wugong</title>" in (await client.get(path, headers={"Cookie": "wg_lang=en"})).text


async def test_places_page_tells_its_module_who_may_change_places(client):
    r = await client.get("/c/01HZXCOMMUNITY/admin/places")
    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', r.text)
    assert found
    data = json.loads(found.group(1))
    assert data["permissions"]["places.manage"] == sorted(policy.PERMISSIONS["places.manage"])
    assert 'src="/static/js/pages/places.js?v=' in r.text


async def test_community_page_offers_the_places_and_audit_tiles_by_permission(client):
    r = await client.get("/c/01HZXCOMMUNITY")
    assert 'href="/c/01HZXCOMMUNITY/admin/places" data-permission="places.manage"' in r.text
    assert 'href="/c/01HZXCOMMUNITY/admin/audit" data-permission="audit.read"' in r.text
    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', r.text)
    assert found
    data = json.loads(found.group(1))
    assert data["permissions"]["places.manage"] == sorted(policy.PERMISSIONS["places.manage"])
    assert data["permissions"]["audit.read"] == sorted(policy.PERMISSIONS["audit.read"])


async def test_malformed_community_id_on_the_new_screens_is_a_404_page(client):
    for path in ("/c/bad%20id/admin/places", "/c/bad%20id/admin/audit"):
        r = await client.get(path)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")


# --- the catalogues -----------------------------------------------------------------------

def ui_catalogue(locale: str) -> dict[str, str]:
    """Every catalogue file of ``locale`` merged, as the server and the pages see them."""
    data: dict[str, str] = {}
    for path in sorted((WEB / "locales" / locale).glob("*.json")):
        data.update(json.loads(path.read_text(encoding="utf-8")))
    return data


def test_ui_catalogues_have_the_same_keys_and_placeholders():
    zh, en = ui_catalogue("zh-CN"), ui_catalogue("en")
    assert set(zh) == set(en)
    for key in zh:
        zh_params, en_params = set(re.findall(r"\{(\w+)\}", zh[key])), set(re.findall(r"\{(\w+)\}", en[key]))
        # A page fills every placeholder it shows; an error message may say less in one language.
        assert zh_params == en_params if key.startswith("ui.") else zh_params <= en_params, key
        assert zh[key].strip() and en[key].strip(), key


def test_every_ui_key_in_templates_modules_and_routes_exists():
    sources = [*(WEB / "templates").rglob("*.html"), *(WEB / "static" / "js").rglob("*.js"),
               ROOT / "app" / "web" / "router.py"]
    used = set()
    for path in sources:
        used |= set(re.findall(r"[\"'`](ui\.[A-Za-z0-9_.-]*[A-Za-z0-9_-])[\"'`]", path.read_text(encoding="utf-8")))
    assert used, "no keys found"
    missing = used - set(ui_catalogue("zh-CN"))
    assert not missing, missing


def test_key_families_built_at_runtime_are_complete():
    zh = ui_catalogue("zh-CN")
    families = {
        "ui.role.": [str(r) for r in policy.Role],
        "ui.kind.": ["community", "village"],
        "ui.language.": ["zh-CN", "en"],
        "ui.queue.status.": ["queued", "sending", "sent", "failed"],
        "ui.invites.state.": ["active", "revoked", "expired", "used_up"],
        "ui.join_requests.status.": ["pending", "approved", "rejected"],
    }
    for prefix, names in families.items():
        for name in names:
            assert prefix + name in zh, prefix + name


def test_community_and_village_wordings_are_both_complete():
    # The places and members screens build ui.places.<kind>.<name> at runtime.
    zh = ui_catalogue("zh-CN")
    names = {key.removeprefix("ui.places.community.") for key in zh if key.startswith("ui.places.community.")}
    assert {"heading", "count", "room", "of", "assign"} <= names
    for name in names:
        assert f"ui.places.village.{name}" in zh, name
    assert {key.removeprefix("ui.places.village.") for key in zh if key.startswith("ui.places.village.")} == names


def test_every_audited_action_has_a_label():
    actions: set[str] = set()
    for path in (ROOT / "app").rglob("*.py"):
        for call in re.findall(r"action=(.{0,120})", path.read_text(encoding="utf-8")):
            actions |= set(re.findall(r'"([a-z_]+\.[a-z_]+)"', call))
    assert {"member.update", "invite.create", "roster.import", "join_request.approve", "join_request.reject"} <= actions
    zh = ui_catalogue("zh-CN")
    missing = {a for a in actions if f"ui.audit.action.{a}" not in zh}
    assert not missing, missing


def test_templates_and_modules_hold_no_chinese_text_of_their_own():
    # User-visible words live in the catalogues; Chinese characters in a template or module
    # would be a string someone forgot to move there.
    han = re.compile(r"[\u4e00-\u9fff]")
    for path in [*(WEB / "templates").rglob("*.html"), *(WEB / "static" / "js").rglob("*.js")]:
        if "share" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if han.search(line) and not line.strip().startswith(("//", "{#", "/*", "*")):
                pytest.fail(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")


async def test_roster_sample_offered_to_the_committee_imports_cleanly(client):
    from app.communities import roster

    r = await client.get("/static/roster-sample.csv")
    assert r.status_code == 200
    rows, errors = roster.parse(r.content, "roster-sample.csv")
    assert errors == [] and len(rows) == 2


async def test_a_browser_asking_for_a_missing_page_gets_an_html_404(client):
    r = await client.get("/no/such/page", headers={"Accept": "text/html,application/xhtml+xml"})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    api = await client.get("/api/v1/no-such", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/problem+json")


async def test_static_files_are_revalidated_on_every_use(client):
    r = await client.get("/static/css/app.css")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-cache" and r.headers.get("etag")
    again = await client.get("/static/css/app.css", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
