"""The report page's extra strings (web/locales/*/report.json): same keys in both languages,
every key the page's code asks for is there, and the page carries the duplicates hint."""

from __future__ import annotations

import json
import re
from pathlib import Path

WEB = Path(__file__).resolve().parent.parent.parent / "web"


def strings(locale: str) -> dict[str, str]:
    return dict(json.loads((WEB / "locales" / locale / "report.json").read_text(encoding="utf-8")))


def test_both_languages_have_the_same_keys_and_placeholders():
    zh, en = strings("zh-CN"), strings("en")
    assert zh.keys() == en.keys()
    for key in zh:
        assert set(re.findall(r"\{(\w+)\}", zh[key])) == set(re.findall(r"\{(\w+)\}", en[key])), key


def test_every_report_key_used_by_the_scripts_and_templates_exists():
    used: set[str] = set()
    for path in [*(WEB / "static" / "js").rglob("*.js"), *(WEB / "templates").rglob("*.html")]:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""["'`](report\.[a-z_.]+[a-z_])["'`]""", text))
    used |= {f"report.queue.state.{s}" for s in ("queued", "sending", "sent", "failed")}
    assert used - strings("zh-CN").keys() == set()


async def test_report_page_has_the_duplicates_hint_and_queued_state(client):
    r = await client.get("/c/01JCOMMUNITY0000000000000A/issues/new")
    assert r.status_code == 200
    for marker in ("data-similar", "tpl-similar-card", "data-queued-state", "可能已有人报过"):
        assert marker in r.text
