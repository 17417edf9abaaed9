"""What a page costs a phone on metered data: answers compressed (brotli, else gzip) but never an
event stream, files under versioned URLs cached for a year while pages are revalidated, and each
page loading only the catalogue areas its modules use."""

from __future__ import annotations

import asyncio
import gzip
import json
import re
from pathlib import Path

import brotli
import httpx
import pytest

from app.core.i18n import SUPPORTED
from app.web import assets
from tests import factories as f
from tests.polls import support as s

WEB = Path(__file__).resolve().parents[2] / "web"
BR = {"Accept-Encoding": "br, gzip, deflate"}
GZIP = {"Accept-Encoding": "gzip, deflate"}
PLAIN = {"Accept-Encoding": "identity"}
IMMUTABLE = "public, max-age=31536000, immutable"


async def raw(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
    """The answer and its body as it crossed the wire (httpx would decode it)."""
    async with client.stream("GET", url, headers=headers) as r:
        return r, b"".join([chunk async for chunk in r.aiter_raw()])


def versioned_urls(page: str) -> list[str]:
    """Every static file and catalogue a page names: links, scripts, its import map, its areas."""
    urls = re.findall(r'(?:href|src)="(/(?:static|locales)/[^"]+)"', page)
    import_map = re.search(r'<script type="importmap">(.*?)</script>', page, re.S)
    assert import_map
    urls += json.loads(import_map.group(1))["imports"].values()
    strings = re.search(r'data-strings="([^"]*)"', page)
    assert strings
    return urls + strings.group(1).split()


# --- compression ---------------------------------------------------------------------------------


async def test_a_page_comes_in_brotli_or_gzip_as_the_client_takes_it(client):
    plain, body = await raw(client, "/login", PLAIN)
    assert "content-encoding" not in plain.headers and "Accept-Encoding" in plain.headers["vary"]
    r, packed = await raw(client, "/login", BR)
    assert r.headers["content-encoding"] == "br" and "Accept-Encoding" in r.headers["vary"]
    assert brotli.decompress(packed) == body and len(packed) < len(body) / 3
    assert int(r.headers["content-length"]) == len(packed)
    r, packed = await raw(client, "/login", GZIP)
    assert r.headers["content-encoding"] == "gzip"
    assert gzip.decompress(packed) == body
    refused, _ = await raw(client, "/login", {"Accept-Encoding": "br;q=0, gzip"})
    assert refused.headers["content-encoding"] == "gzip"


async def test_json_answers_and_problems_are_compressed_and_tiny_ones_are_not(client):
    r, packed = await raw(client, "/openapi.json", BR)
    assert r.headers["content-encoding"] == "br" and json.loads(brotli.decompress(packed))["openapi"]
    whole, packed = await raw(client, "/locales/en.json", BR)
    assert whole.headers["content-encoding"] == "br" and json.loads(brotli.decompress(packed))["ui.app.name"]
    tiny, body = await raw(client, "/healthz", BR)
    assert "content-encoding" not in tiny.headers and json.loads(body) == {"status": "ok"}
    problem, body = await raw(client, "/api/v1/me", BR)
    assert problem.status_code == 401 and "content-encoding" not in problem.headers  # a problem is small


async def test_pictures_are_never_compressed(client):
    r, body = await raw(client, "/static/icons/icon-512.png", BR)
    assert "content-encoding" not in r.headers and body.startswith(b"\x89PNG")


async def test_live_results_stream_unbuffered_and_uncompressed(live_server, client, session):
    # Over a real socket: each frame must reach the phone the moment it is sent.
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee, secret=False)
    a, _ = s.option_ids(poll)
    stream = f"{live_server}{s.url(e.c, poll['id'], '/results/stream')}"
    async with httpx.AsyncClient() as http, http.stream(
            "GET", stream, params={"max_events": 2}, headers={**BR, **f.auth(e.committee)}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in r.headers
        chunks = r.aiter_raw()
        seen = b""
        while b"event: results" not in seen:  # the stream is still open: nothing is held back
            seen += await asyncio.wait_for(anext(chunks), 5)
        assert b'"voted_count": 0' in seen
        await s.vote(client, e.c, e.owners[0], poll["id"], choices=[a])
        rest = b"".join([chunk async for chunk in chunks])
        assert b'"voted_count": 1' in rest


# --- versioned, long-cached files ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/login", "/c/01HZXCOMMUNITY/polls/01HZXPOLL00000000000000000",
                                  "/c/01HZXCOMMUNITY/issues/map", "/settings"])
async def test_every_file_a_page_names_is_versioned_and_immutable_while_the_page_is_revalidated(client, path):
    page = await client.get(path, headers=BR)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-cache"
    urls = versioned_urls(page.text)
    assert any("/static/js/pages/" in url for url in urls) and any(url.startswith("/locales/") for url in urls)
    for url in urls:
        r = await client.get(url, headers=BR)
        assert r.status_code == 200, url
        assert r.headers["cache-control"] == IMMUTABLE, url


async def test_a_file_under_a_plain_or_stale_url_is_revalidated_never_pinned(client):
    for url in ("/static/css/app.css", "/static/css/app.css?v=0123456789ab", "/locales/en/ui.json?v=stale"):
        r = await client.get(url, headers=BR)
        assert r.status_code == 200 and r.headers["cache-control"] == "no-cache", url
        again = await client.get(url, headers={**BR, "If-None-Match": r.headers["etag"]})
        assert again.status_code == 304 and again.headers["cache-control"] == "no-cache", url
        assert again.headers["etag"] == r.headers["etag"] and "Accept-Encoding" in again.headers["vary"]


async def test_static_text_is_served_precompressed_and_whole_on_request(client):
    url = assets.static_url("js/queue.js")
    source = (WEB / "static" / "js" / "queue.js").read_bytes()
    r, packed = await raw(client, url, BR)
    assert r.headers["content-encoding"] == "br" and brotli.decompress(packed) == source
    assert r.headers["etag"].startswith('W/"') and int(r.headers["content-length"]) == len(packed)
    assert r.headers["vary"] == "Accept-Encoding"
    _, packed_again = await raw(client, url, BR)
    assert packed_again == packed  # the stored copy (compressed once: ~0.1 s at brotli's best)
    again = await client.get(url, headers={**BR, "If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.headers["etag"] == r.headers["etag"]
    assert again.headers["cache-control"] == IMMUTABLE
    plain, body = await raw(client, url, PLAIN)
    assert "content-encoding" not in plain.headers and body == source
    part = await client.get(url, headers={**BR, "Range": "bytes=0-9"})
    assert part.status_code == 206 and "content-encoding" not in part.headers and part.content == source[:10]


async def test_module_imports_resolve_to_versioned_urls_through_each_pages_import_map(client):
    page = (await client.get("/settings")).text
    imports = json.loads(re.search(r'<script type="importmap">(.*?)</script>', page, re.S).group(1))["imports"]  # type: ignore[union-attr]
    graph = assets.module_graph("js/pages/settings.js")
    assert {"js/shell.js", "js/i18n.js", "js/queue.js", "js/prefs.js", "js/pages/settings.js"} <= set(graph)
    assert imports == {f"/static/{path}": assets.static_url(path) for path in graph}


# --- the catalogue, split by area ----------------------------------------------------------------


async def test_home_loads_the_common_areas_only_and_a_poll_page_its_own_too(client):
    home = await client.get("/")
    assert re.findall(r"/locales/zh-CN/(\w+)\.json\?v=", re.search(r'data-strings="([^"]*)"', home.text).group(1)) \
        == ["inbox", "ui"]  # type: ignore[union-attr]
    poll = await client.get("/c/01HZXCOMMUNITY/polls/01HZXPOLL00000000000000000", headers={"Cookie": "wg_lang=en"})
    areas = re.findall(r"/locales/en/(\w+)\.json\?v=", re.search(r'data-strings="([^"]*)"', poll.text).group(1))  # type: ignore[union-attr]
    assert areas == ["inbox", "polls", "polls_server", "ui"]  # by name: the order the server merges them in
    whole = (await client.get("/locales/en.json")).json()
    served = {}
    for area in areas:
        served.update((await client.get(f"/locales/en/{area}.json")).json())
    assert served.items() <= whole.items()


IMPORT_KEY = re.compile(r"""["'`]([a-z_]+(?:\.[A-Za-z0-9_]+)+)["'`]""")
KEY_PREFIX = re.compile(r"""`([a-z_]+(?:\.[A-Za-z0-9_]+)*\.)\$\{""")
QUEUE_LABEL = re.compile(r"""\blabel:\s*["']([a-z_]+(?:\.[A-Za-z0-9_]+)+)["']""")


def areas_of_keys() -> dict[str, set[str]]:
    """key → the areas (files) that hold it, in any language."""
    found: dict[str, set[str]] = {}
    for locale in SUPPORTED:
        for path in (WEB / "locales" / locale).glob("*.json"):
            for key in json.loads(path.read_text(encoding="utf-8")):
                found.setdefault(key, set()).add(path.stem)
    return found


def page_modules() -> list[str]:
    """The pages' own modules: those under js/pages/ that no other page module imports."""
    pages = sorted(p.relative_to(WEB / "static").as_posix() for p in (WEB / "static" / "js" / "pages").glob("*.js"))
    imported = {dep for page in pages for dep in assets.module_graph(page) if dep != page}
    return [page for page in pages if page not in imported]


def test_every_string_a_page_module_uses_comes_from_an_area_the_page_loads():
    holders = areas_of_keys()
    missing = []
    for module in page_modules():
        page = Path(module).stem
        loaded = set(assets.page_areas(page))
        for path in assets.module_graph(module):
            source = (WEB / "static" / path).read_text(encoding="utf-8")
            for key in IMPORT_KEY.findall(source):
                if key in holders and not holders[key] & loaded:
                    missing.append(f"{page}: {key} ({path}) is in {sorted(holders[key])}")
            for prefix in KEY_PREFIX.findall(source):
                for key in (k for k in holders if k.startswith(prefix)):
                    if not holders[key] <= loaded:
                        missing.append(f"{page}: {prefix}… ({path}) has {key} in {sorted(holders[key])}")
    assert not missing, "add the areas to PAGE_AREAS in app/web/assets.py:\n" + "\n".join(sorted(set(missing)))
    assert len(page_modules()) > 20


def test_the_settings_page_can_name_every_write_any_page_queues():
    holders = areas_of_keys()
    loaded = set(assets.page_areas("settings"))
    labels = {key for path in (WEB / "static" / "js").rglob("*.js")
              for key in QUEUE_LABEL.findall(path.read_text(encoding="utf-8")) if key in holders}
    assert labels, "no queued write has a label any more?"
    assert all(holders[key] & loaded for key in labels), {key: holders[key] for key in labels}


def test_declared_areas_exist_in_every_language():
    for page, areas in assets.PAGE_AREAS.items():
        assert (WEB / "static" / "js" / "pages" / f"{page}.js").is_file(), page
        for area in (*areas, *assets.COMMON_AREAS):
            for locale in SUPPORTED:
                assert (WEB / "locales" / locale / f"{area}.json").is_file(), (page, area, locale)
