"""The issue map page: served in both languages, locked down by CSP, usable with no tile server."""

from __future__ import annotations

import json
import re
from pathlib import Path

from app.issues import mapping

WEB = Path(__file__).resolve().parent.parent.parent / "web"


async def test_map_page_answers_with_the_no_tiles_mode_by_default(client, monkeypatch):
    monkeypatch.setattr(mapping, "map_settings", lambda: mapping.MapSettings(map_tile_url=""))
    r = await client.get("/c/01JCOMMUNITY0000000000000A/issues/map", headers={"Accept-Language": "en"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "img-src 'self' data: blob:;" in csp
    assert 'data-mode="grid"' in r.text and "data-no-tiles" in r.text
    assert "leaflet.js" not in r.text  # nothing to load without tiles
    assert re.search(r'src="/static/js/pages/issues-map\.js\?v=\w+"', r.text)
    assert "Issue map" in r.text


async def test_a_tile_server_is_used_and_allowed_by_the_csp(client, monkeypatch):
    url = "https://tiles.example.cn/{z}/{x}/{y}.png"
    monkeypatch.setattr(mapping, "map_settings", lambda: mapping.MapSettings(map_tile_url=url))
    r = await client.get("/c/01JCOMMUNITY0000000000000A/issues/map")
    assert r.status_code == 200
    assert "img-src 'self' data: blob: https://tiles.example.cn;" in r.headers["content-security-policy"]
    assert re.search(r"script-src 'self' 'sha256-[0-9A-Za-z+/=]+';", r.headers["content-security-policy"])
    assert 'data-mode="tiles"' in r.text and "/static/vendor/leaflet/leaflet.js" in r.text
    data = json.loads(re.search(r'<script type="application/json" id="page-data">(.*?)</script>', r.text, re.S)
                      .group(1))  # type: ignore[union-attr]
    assert data["tile_url"] == url
    for asset in ("/static/vendor/leaflet/leaflet.js", "/static/vendor/leaflet/leaflet.css",
                  "/static/vendor/leaflet/images/marker-icon.png", "/static/css/map.css"):
        assert (await client.get(asset)).status_code == 200, asset


async def test_a_bad_tile_url_falls_back_to_no_tiles(client, monkeypatch):
    monkeypatch.setattr(mapping, "map_settings", lambda: mapping.MapSettings(map_tile_url="javascript:alert(1)"))
    r = await client.get("/c/01JCOMMUNITY0000000000000A/issues/map")
    assert 'data-mode="grid"' in r.text and "javascript:" not in r.text
    assert r.headers["content-security-policy"].count("img-src 'self' data: blob:;") == 1


async def test_a_malformed_community_id_is_a_404_page(client):
    r = await client.get("/c/not%20a%20community/issues/map")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")


def test_map_catalogues_have_the_same_keys_and_leaflet_keeps_its_licence():
    zh = json.loads((WEB / "locales" / "zh-CN" / "map.json").read_text(encoding="utf-8"))
    en = json.loads((WEB / "locales" / "en" / "map.json").read_text(encoding="utf-8"))
    assert zh.keys() == en.keys()
    assert "BSD" in (WEB / "static" / "vendor" / "leaflet" / "LICENSE").read_text() or \
        "Redistribution" in (WEB / "static" / "vendor" / "leaflet" / "LICENSE").read_text()
