"""Checks every server-rendered page must pass, shared by the page test modules."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any


def html_tag(body: str) -> str:
    match = re.search(r"<html[^>]*>", body)
    assert match, body[:200]
    return match.group(0)


def page_data(body: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', body)
    assert found
    data: dict[str, object] = json.loads(found.group(1))
    return data


async def assert_titled_in_both_languages(client: Any, path: str, module: str, zh: str, en: str) -> None:
    """zh-CN by default (no elder class), English by cookie, and the page's own module loaded."""
    r = await client.get(path)
    assert r.status_code == 200 and r.headers["content-language"] == "zh-CN"
    assert 'lang="zh-CN"' in html_tag(r.text) and "elder" not in html_tag(r.text)
    assert f"<title>{zh} · 五共</title>" in r.text
    assert f'src="/static/js/pages/{module}.js?v=' in r.text
    english = await client.get(path, headers={"Cookie": "wg_lang=en"})
    assert 'lang="en"' in html_tag(english.text) and f"<title>{en} · Wugong</title>" in english.text


async def assert_elder_from_the_first_byte(client: Any, path: str) -> None:
    r = await client.get(path, headers={"Cookie": "wg_elder=1"})
    assert 'class="elder"' in html_tag(r.text)


def assert_no_inline_code(body: str, csp: str) -> None:
    """CSP script-src 'self' and nothing inline that it would block; the one inline script, the
    import map, is allowed by its own hash and nothing else."""
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    for tag in re.findall(r"<script\b[^>]*>", body):
        assert 'src="/static/' in tag or 'type="application/json"' in tag or tag == '<script type="importmap">', tag
    import_maps = re.findall(r'<script type="importmap">(.*?)</script>', body, re.S)
    script_src = next(d for d in csp.split("; ") if d.startswith("script-src "))
    hashes = [f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'" for text in import_maps]
    assert script_src.split() == ["script-src", "'self'", *hashes], (script_src, hashes)
    assert not re.search(r"\son[a-z]+\s*=", body), "inline event handler"
    assert "style=" not in body
