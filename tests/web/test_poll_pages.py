"""The residents' poll pages: the list, one poll and the public receipt check, each in the
caller's language and size, with the strict CSP and its own module; the community page links
the list; a bad id is a 404 page; the receipt check needs no sign-in and no session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core import policy
from tests.web.pages import (
    assert_elder_from_the_first_byte,
    assert_no_inline_code,
    assert_titled_in_both_languages,
    page_data,
)

CID = "01HZXCOMMUNITY"
POLL = "01hzxpoll00000000000000000"
RECEIPT = "ABCD-EFGH-JKMN-PQRS"
PAGES = {
    f"/c/{CID}/polls": ("polls", "居民决策", "Polls"),
    f"/c/{CID}/polls/{POLL}": ("poll", "表决", "Poll"),
    "/receipts": ("receipt", "回执查验", "Receipt check"),
    f"/receipts/{RECEIPT}": ("receipt", "回执查验", "Receipt check"),
}
LOCALES = Path(__file__).resolve().parents[2] / "web" / "locales"
HTML = {"Accept": "text/html"}


@pytest.mark.parametrize("path", PAGES)
async def test_poll_page_is_titled_in_chinese_by_default_and_in_english_on_request(client, path):
    await assert_titled_in_both_languages(client, path, *PAGES[path])


@pytest.mark.parametrize("path", PAGES)
async def test_poll_page_renders_elder_mode_from_the_first_byte(client, path):
    await assert_elder_from_the_first_byte(client, path)


@pytest.mark.parametrize("path", PAGES)
async def test_poll_page_has_the_strict_csp_no_inline_code_and_its_own_stylesheet(client, path):
    r = await client.get(path)
    assert_no_inline_code(r.text, r.headers["content-security-policy"])
    assert 'href="/static/css/polls.css?v=' in r.text


async def test_poll_pages_carry_their_ids_and_who_may_manage(client):
    data = page_data((await client.get(f"/c/{CID}/polls/{POLL}")).text)
    assert data["poll_id"] == POLL
    assert data["permissions"] == {"polls.manage": sorted(policy.PERMISSIONS["polls.manage"])}
    assert page_data((await client.get(f"/receipts/{RECEIPT}")).text)["receipt"] == RECEIPT
    assert page_data((await client.get("/receipts")).text)["receipt"] == ""


@pytest.mark.parametrize("path", [f"/c/{CID}/polls/not-a-poll", f"/c/{CID}/polls/{POLL}x", "/c/bad%20id/polls",
                                  f"/c/bad%20id/polls/{POLL}", "/receipts/no%20such%20receipt!"])
async def test_a_bad_id_is_a_404_page(client, path):
    r = await client.get(path, headers=HTML)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), path
    assert "找不到" in r.text


async def test_receipt_check_works_signed_out_and_knows_no_receipt(client):
    page = await client.get(f"/receipts/{RECEIPT}")  # no token, no cookie
    assert page.status_code == 200 and 'name="receipt"' in page.text and f'value="{RECEIPT}"' in page.text
    check = await client.get(f"/api/v1/receipts/{RECEIPT}")
    assert check.status_code == 200 and check.json()["found"] is False


async def test_list_page_offers_status_tabs_and_hides_the_new_poll_link_until_the_module_decides(client):
    r = await client.get(f"/c/{CID}/polls")
    for status in ("open", "scheduled", "closed", "notice", "final"):
        assert f'data-tab="{status}"' in r.text
    for word in ("投票中", "待开始", "公示中", "已生效"):
        assert word in r.text
    assert f'href="/c/{CID}/polls/new" data-new-link hidden' in r.text


async def test_poll_page_has_every_part_a_voter_and_the_committee_need(client):
    r = await client.get(f"/c/{CID}/polls/{POLL}")
    for hook in ("data-ballot", "data-receipt-box", "data-household-voted", "data-results-hidden", "data-rounds",
                 "data-criteria", 'data-do="open"', 'data-do="close"', "data-publish-form", "data-paper-link",
                 "data-object-form", "data-download", "data-share", "data-queued-note"):
        assert hook in r.text, hook
    for words in ("您家已投票", "结果将在截止后公布", "请截图或抄下回执", "wugong verify-poll"):
        assert words in r.text, words


async def test_community_page_links_the_poll_list(client):
    r = await client.get(f"/c/{CID}")
    assert f'href="/c/{CID}/polls" data-tile-polls' in r.text


def test_poll_page_catalogues_have_the_same_keys_in_both_languages_and_redefine_none():
    zh = json.loads((LOCALES / "zh-CN" / "polls.json").read_text(encoding="utf-8"))
    en = json.loads((LOCALES / "en" / "polls.json").read_text(encoding="utf-8"))
    assert set(zh) == set(en)
    assert all(k.startswith(("ui.polls.", "ui.poll_page.", "ui.receipt.")) for k in zh)
    for locale in ("zh-CN", "en"):
        for other in (LOCALES / locale).glob("*.json"):
            if other.name != "polls.json":
                assert not set(zh) & set(json.loads(other.read_text(encoding="utf-8"))), other.name
    assert zh["ui.poll_page.household_voted"] == "您家已投票"
    assert zh["ui.poll_page.results_hidden"] == "结果将在截止后公布"
