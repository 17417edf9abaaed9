"""The committee's poll builder and the facilitators' paper ballot entry: each answers in the
caller's language and size, with the strict CSP and its own module and style sheet; a malformed
id is a 404 page."""

from __future__ import annotations

import re

import pytest

from app.core import policy
from app.polls import rules
from tests.web.pages import (
    assert_elder_from_the_first_byte,
    assert_no_inline_code,
    assert_titled_in_both_languages,
    page_data,
)
from tests.web.test_pages import ui_catalogue

CID = "01HZXCOMMUNITY"
POLL = "01HZXPOLL00000000000000000"
PAGES = {
    f"/c/{CID}/polls/new": ("poll-new", "发起表决", "New poll"),
    f"/c/{CID}/polls/{POLL}/edit": ("poll-new", "修改表决", "Edit poll"),
    f"/c/{CID}/polls/{POLL}/paper": ("poll-paper", "纸质/代投录入", "Paper and proxy ballots"),
}


@pytest.mark.parametrize("path", PAGES)
async def test_poll_admin_page_is_titled_in_chinese_by_default_and_in_english_on_request(client, path):
    await assert_titled_in_both_languages(client, path, *PAGES[path])


@pytest.mark.parametrize("path", PAGES)
async def test_poll_admin_page_renders_elder_mode_from_the_first_byte(client, path):
    await assert_elder_from_the_first_byte(client, path)


@pytest.mark.parametrize("path", PAGES)
async def test_poll_admin_page_has_the_strict_csp_no_inline_code_and_its_own_style_sheet(client, path):
    r = await client.get(path)
    assert_no_inline_code(r.text, r.headers["content-security-policy"])
    assert re.search(r'<link rel="stylesheet" href="/static/css/poll-admin\.css\?v=\w+">', r.text)
    assert (await client.get("/static/css/poll-admin.css")).status_code == 200


@pytest.mark.parametrize("path", PAGES)
async def test_poll_admin_page_tells_its_module_who_may_build_and_who_may_enter_paper(client, path):
    data = page_data((await client.get(path)).text)
    permissions = data["permissions"]
    assert isinstance(permissions, dict)
    assert permissions["polls.manage"] == ["committee"]
    assert permissions["polls.enter_paper"] == sorted(policy.PERMISSIONS["polls.enter_paper"])
    assert data["poll_id"] == (None if path.endswith("/new") else POLL)


@pytest.mark.parametrize("path", [
    f"/c/{CID}/polls/not-an-id/edit", f"/c/{CID}/polls/{POLL[:-1]}/paper", f"/c/{CID}/polls/{POLL}x/edit",
    "/c/bad%20id/polls/new", f"/c/bad%20id/polls/{POLL}/paper",
])
async def test_a_malformed_id_is_a_404_page(client, path):
    r = await client.get(path)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), path


async def test_builder_offers_every_preset_and_kind_and_the_ballot_settings(client):
    body = (await client.get(f"/c/{CID}/polls/new")).text
    cards = re.findall(r'name="template" value="(\w+)"', body)
    assert cards == ["civil_code_278", "old_compound_renovation_willingness", "villagers_meeting",
                     "simple_majority", "custom", "single", "multiple", "approval", "ranked", "score"]
    for text in ("民法典第278条 业主共同决定", "老旧小区改造意愿", "村民会议", "简单多数", "圈点投票", "排序投票"):
        assert text in body, text
    for name in ("title", "description", "matter", "max_choices", "allow_stacking", "ranked_method", "electorate",
                 "scope_building_id", "scope_unit", "secret", "allow_change", "hide_results", "opens_at",
                 "closes_at", "notice_days", "issue_id", "rule_threshold", "rule_base", "rule_measure"):
        assert f'name="{name}"' in body, name
    assert body.count('type="datetime-local"') == 2
    assert re.findall(r'name="electorate" value="(\w+)"', body) == ["residents", "households", "owners"]
    # every server field that can be wrong has a place to say so
    for field in ("title", "matter", "rule", "options", "max_choices", "scope_unit", "scope_building_id",
                  "opens_at", "closes_at", "notice_days", "issue_id", "template"):
        assert f'data-error-for="{field}"' in body, field


async def test_paper_page_has_channel_witness_and_a_search_of_the_roll(client):
    body = (await client.get(f"/c/{CID}/polls/{POLL}/paper")).text
    assert re.findall(r'name="channel" value="(\w+)"', body) == ["paper", "proxy"]
    assert 'name="witness"' in body and "required" in body.split('name="witness"')[1].split(">")[0]
    assert 'name="voter_name"' in body and 'type="search"' in body
    assert [m for m in re.findall(r'data-voted="(\w+)"', body)] == ["false", "true", "all"]


def test_the_plain_words_of_a_custom_rule_follow_the_server_pieces_in_both_languages():
    # The builder builds a custom rule's sentence from these pieces the way rules.describe() does;
    # put together by hand here for the Civil Code's major rule, they give the server's words.
    rule = next(p for p in rules.presets() if p["key"] == "civil_code_278_major")
    for locale, plain in (("zh-CN", rule["plain_zh"]), ("en", rule["plain_en"])):
        cat = ui_catalogue(locale)

        def piece(name: str, cat: dict[str, str] = cat, **params: str) -> str:
            text = cat[f"ui.poll_builder.plain.{name}"]
            for k, v in params.items():
                text = text.replace("{" + k + "}", v)
            return text

        def measure(m: str) -> str:
            return piece(f"measure.{m}", who=piece("who.owners"))

        quorum = piece("and").join(piece("criterion", fraction=piece(f"fraction.{q['threshold']}"),
                                         measure=measure(q["measure"])) for q in rule["quorum"][0])
        passes = piece("and").join(piece("clause", base=piece("base.participants"), measure=measure(m),
                                         fraction=piece("fraction.three_quarters")) for m in rule["measures"])
        sentence = piece("quorum", groups=quorum) + piece("join") + piece("passes", measures=passes) + piece("tail")
        sentence = sentence[:1].upper() + sentence[1:]  # a sentence starts with a capital (English)
        assert plain.startswith(sentence), (locale, sentence, plain)


def test_every_civil_code_matter_is_named_in_both_languages():
    for locale in ("zh-CN", "en"):
        cat = ui_catalogue(locale)
        missing = [m["key"] for m in rules.matters() if f"ui.poll_builder.matter.{m['key']}" not in cat]
        assert not missing, (locale, missing)
    zh = ui_catalogue("zh-CN")
    assert all(zh[f"ui.poll_builder.matter.{m['key']}"] == m["label_zh"] for m in rules.matters())
