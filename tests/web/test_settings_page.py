"""Settings: the version in words a resident can read out (number and day), never the asset digest,
and the form that changes the name others see."""

from __future__ import annotations

import re
from importlib.metadata import version

from app.web.router import asset_version


async def test_settings_show_the_version_as_a_number_and_a_day_not_a_hash(client):
    number = version("wugong")
    for headers, words in (({}, "版本"), ({"Cookie": "wg_lang=en"}, "Version")):
        r = await client.get("/settings", headers=headers)
        shown = re.search(r"<p [^>]*data-release>([^<]*)</p>", r.text)
        assert shown, r.text
        assert re.fullmatch(rf"{words} {re.escape(number)} · 20\d\d-\d\d-\d\d", shown.group(1)), shown.group(1)
        assert asset_version() not in shown.group(1)


async def test_settings_offer_a_name_field_with_its_rules_said(client):
    r = await client.get("/settings")
    assert 'data-name-form' in r.text and 'name="name" maxlength="50"' in r.text
    assert "邻居和社区工作人员看到的名字" in r.text
