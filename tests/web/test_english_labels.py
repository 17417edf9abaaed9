"""English pages say in English what the app itself names: the default issue categories (stored
by their Chinese names), the laws a poll's rule cites. What people typed stays as typed."""

from __future__ import annotations

import re

from app.issues import service as issues_service
from app.polls import rules
from tests import factories as f
from tests.polls import support as s

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_every_default_category_reads_in_english_and_a_category_someone_made_stays_as_typed():
    for name, _days in issues_service.DEFAULT_CATEGORIES:
        english = issues_service.category_label(name, "en")
        assert english and not HAN.search(english), (name, english)
        assert issues_service.category_label(name, "zh-CN") == name
    assert issues_service.category_label("电梯", "en") == "电梯"  # the committee's own, not the app's
    assert issues_service.category_label("Lift", "zh-CN") == "Lift"


async def test_the_rule_of_an_owners_poll_cites_the_civil_code_in_english(client, session):
    e = await s.estate(session)
    poll = await s.create(client, e.c, e.committee, kind="proposal", electorate="owners", options=[],
                          matter="raise_fund")
    english = (await client.get(s.url(e.c, poll["id"]), headers=f.auth(e.committee, "en"))).json()
    assert english["rule_plain"].endswith("Source: Civil Code of the PRC, Article 278, paragraph 2.")
    assert not HAN.search(english["rule_plain"]), english["rule_plain"]
    chinese = (await client.get(s.url(e.c, poll["id"]), headers=f.auth(e.committee))).json()
    assert chinese["rule_plain"].endswith("依据：《民法典》第二百七十八条第二款。")


async def test_the_poll_builder_names_each_presets_source_in_both_languages(client, session):
    e = await s.estate(session)
    r = await client.get(s.url(e.c, None, "/presets"), headers=f.auth(e.committee, "en"))
    assert r.status_code == 200, r.text
    cited = [p for p in r.json()["presets"] if p["citation"]]
    assert {p["key"] for p in cited} == {"civil_code_278_major", "civil_code_278_ordinary",
                                        "old_compound_renovation_willingness", "villagers_meeting"}
    for preset in cited:
        assert preset["citation_en"] and not HAN.search(preset["citation_en"]), preset
        assert not HAN.search(preset["plain_en"]), preset["plain_en"]
    # a rule stored before citations had English names, or under a citation changed since, keeps its own
    assert rules.citation_en({"key": "civil_code_278_major", "citation": "《民法典》第二百七十八条第二款"}) \
        == "Civil Code of the PRC, Article 278, paragraph 2"
    assert rules.citation_en({"key": "custom", "citation": "某某规约"}) == "某某规约"


async def test_a_poll_for_one_unit_names_its_scope_in_the_readers_language(client, session):
    e = await s.estate(session)
    for typed in ("2", "2单元"):
        poll = await s.create(client, e.c, e.committee, electorate="owners", scope_building_id=e.building.id,
                              scope_unit=typed, kind="proposal", options=[])
        zh = (await client.get(s.url(e.c, poll["id"]), headers=f.auth(e.committee))).json()
        en = (await client.get(s.url(e.c, poll["id"]), headers=f.auth(e.committee, "en"))).json()
        assert (zh["scope_label"], en["scope_label"]) == ("3栋2单元", "3栋, unit 2"), typed
