"""The inbox and region-view pages: each answers in the caller's language and size, with the
strict CSP and its own module; every page's top bar links the inbox; the strings live in
inbox.json, the same keys in both languages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.web.pages import (
    assert_elder_from_the_first_byte,
    assert_no_inline_code,
    assert_titled_in_both_languages,
    page_data,
)

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
REGION = "01HZXREGION000000000000000"
PAGES = {
    "/notifications": ("inbox", "消息", "Messages"),
    f"/regions/{REGION}/escalations": ("region", "督办问题", "Escalated issues"),
}


def inbox_catalogue(locale: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((WEB / "locales" / locale / "inbox.json").read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("path", PAGES)
async def test_page_is_titled_in_chinese_by_default_and_in_english_on_request(client, path):
    await assert_titled_in_both_languages(client, path, *PAGES[path])


@pytest.mark.parametrize("path", PAGES)
async def test_page_renders_elder_mode_from_the_first_byte(client, path):
    await assert_elder_from_the_first_byte(client, path)


@pytest.mark.parametrize("path", PAGES)
async def test_page_has_the_strict_csp_and_no_inline_script_handler_or_style(client, path):
    r = await client.get(path)
    assert_no_inline_code(r.text, r.headers["content-security-policy"])


@pytest.mark.parametrize("path", ["/", "/settings", "/c/01HZXCOMMUNITY/issues", "/notifications"])
async def test_every_top_bar_links_the_inbox_with_a_hidden_badge(client, path):
    r = await client.get(path)
    link = re.search(r'<a class="icon-btn inbox-link" href="/notifications"[^>]*>', r.text)
    assert link and 'aria-label="消息"' in link.group(0)
    # The count is the phone's to fill in: the server sends nothing personal, and no badge.
    assert '<span class="inbox-link__count" data-inbox-count hidden></span>' in r.text
    english = await client.get(path, headers={"Cookie": "wg_lang=en"})
    assert 'aria-label="Messages" data-inbox-link' in english.text


async def test_region_page_carries_its_id_and_a_bad_one_is_a_404_page(client):
    assert page_data((await client.get(f"/regions/{REGION}/escalations")).text)["region_id"] == REGION
    r = await client.get("/regions/not%20an%20id/escalations")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")


async def test_the_new_page_modules_are_precached_by_the_service_worker(client):
    urls = (await client.get("/sw-shell.json")).json()["urls"]
    for module in ("inbox", "region"):
        assert any(url.startswith(f"/static/js/pages/{module}.js?v=") for url in urls), module


def test_inbox_catalogues_have_the_same_keys_and_placeholders():
    zh, en = inbox_catalogue("zh-CN"), inbox_catalogue("en")
    assert set(zh) == set(en)
    for key in zh:
        assert key.startswith("inbox."), key
        assert set(re.findall(r"\{(\w+)\}", zh[key])) == set(re.findall(r"\{(\w+)\}", en[key])), key
        assert zh[key].strip() and en[key].strip(), key


def test_every_inbox_key_used_in_templates_modules_and_routes_exists():
    sources = [*(WEB / "templates").rglob("*.html"), *(WEB / "static" / "js").rglob("*.js"),
               ROOT / "app" / "web" / "router.py"]
    used: set[str] = set()
    for path in sources:
        used |= set(re.findall(r"[\"'`](inbox\.[A-Za-z0-9_.-]*[A-Za-z0-9_-])[\"'`]", path.read_text(encoding="utf-8")))
    assert {"inbox.title", "inbox.follow", "inbox.region.title"} <= used
    # Keys built at runtime: the escalation reasons.
    used |= {f"inbox.region.reason.{r}" for r in ("overdue", "reopened")}
    used.discard("inbox.html")  # the template's file name, not a key
    assert not used - set(inbox_catalogue("zh-CN"))
