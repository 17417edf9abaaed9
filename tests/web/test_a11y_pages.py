"""What axe-core found on the pages, held as plain structure: every page has a heading one that
says something (home included), the sign-in tabs control panels (a form may not be a tabpanel),
and headings go down one level at a time (a member card under the page's h1 is an h2)."""

from __future__ import annotations

import itertools
import re
from html.parser import HTMLParser

import pytest

CID = "01HZXCOMMUNITY"


class Outline(HTMLParser):
    """Headings in order (level, text, inside a <template>), and elements by role."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.headings: list[list[object]] = []
        self.roles: dict[str, list[str]] = {}
        self._open: list[object] | None = None
        self._templates = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "template":
            self._templates += 1
        role = dict(attrs).get("role")
        if role:
            self.roles.setdefault(role, []).append(tag)
        if re.fullmatch(r"h[1-6]", tag):
            self._open = [int(tag[1]), "", self._templates > 0]
            self.headings.append(self._open)

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self._templates -= 1
        if re.fullmatch(r"h[1-6]", tag):
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open[1] = str(self._open[1]) + data


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
async def test_the_home_page_heading_one_is_not_empty(client, lang):
    page = Outline((await client.get("/", headers={"Cookie": f"wg_lang={lang}"})).text)
    ones = [h for h in page.headings if h[0] == 1]
    assert len(ones) == 1 and str(ones[0][1]).strip(), page.headings


async def test_sign_in_tab_panels_are_not_forms(client):
    r = await client.get("/login")
    assert Outline(r.text).roles.get("tabpanel") == ["div", "div"]
    assert not re.search(r"<form[^>]*role=", r.text)


async def test_member_cards_follow_the_pages_heading_one_without_a_skip(client):
    page = Outline((await client.get(f"/c/{CID}/admin/members")).text)
    levels = [h[0] for h in page.headings]
    assert levels[0] == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels
    assert [h[0] for h in page.headings if h[2]] == [2]  # the member card's name
