"""A poll's decision rule as stored (plain JSON) and as counted (``counting.Rule``), the presets
the committee picks from, and the rule stated in plain words. Pure: no I/O."""

from __future__ import annotations

from typing import Any

from app.polls import counting
from app.polls.counting import Base, Measure, QuorumCriterion, Rule, Threshold

ELECTORATES = ("residents", "households", "owners")

PRESET_ELECTORATE = {
    counting.CIVIL_CODE_278_MAJOR.key: "owners",
    counting.CIVIL_CODE_278_ORDINARY.key: "owners",
    counting.OLD_COMPOUND_RENOVATION_WILLINGNESS.key: "owners",
    counting.VILLAGERS_MEETING.key: "residents",
}

SIMPLE_MAJORITY = Rule(
    key="simple_majority",
    threshold=Threshold.MORE_THAN_HALF,
    base=Base.PARTICIPANTS,
    measures=(Measure.HEADCOUNT,),
    title_zh="参与者过半数同意",
    title_en="More than half of those taking part agree",
)


class RuleError(ValueError):
    """The rule does not fit: ``code`` names why (an error message key suffix)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def to_json(rule: Rule, matter: str | None = None) -> dict[str, Any]:
    return {
        "key": rule.key,
        "matter": matter,
        "threshold": rule.threshold.value,
        "base": rule.base.value,
        "measures": [m.value for m in rule.measures],
        "quorum": [[{"measure": q.measure.value, "threshold": q.threshold.value} for q in g] for g in rule.quorum],
        "title_zh": rule.title_zh,
        "title_en": rule.title_en,
        "citation": rule.citation,
    }


def from_json(data: dict[str, Any]) -> Rule:
    try:
        return Rule(
            key=str(data.get("key") or "custom"),
            threshold=Threshold(data["threshold"]),
            base=Base(data["base"]),
            measures=tuple(Measure(m) for m in data["measures"]),
            quorum=tuple(
                tuple(QuorumCriterion(Measure(q["measure"]), Threshold(q["threshold"])) for q in g)
                for g in data.get("quorum") or ()
            ),
            title_zh=str(data.get("title_zh") or ""),
            title_en=str(data.get("title_en") or ""),
            citation=str(data.get("citation") or ""),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise RuleError("rule_malformed") from e


def resolve(preset: str | None, matter: str | None, custom: dict[str, Any] | None, electorate: str) -> dict[str, Any]:
    """The stored rule from what the builder sent: a Civil Code matter, a preset, or a custom rule."""
    matter_rule: Rule | None = None
    if matter is not None:
        if matter not in counting.CIVIL_CODE_278_MATTERS:
            raise RuleError("rule_unknown_matter")
        matter_rule = counting.civil_code_rule_for(matter)
        if preset is not None and preset != matter_rule.key:
            raise RuleError("rule_matter_mismatch")
        preset = matter_rule.key
    if preset is not None:
        rule = matter_rule or counting.PRESETS.get(preset) or (
            SIMPLE_MAJORITY if preset == SIMPLE_MAJORITY.key else None)
        if rule is None:
            raise RuleError("rule_unknown_preset")
        needed = PRESET_ELECTORATE.get(rule.key)
        if needed is not None and needed != electorate:
            raise RuleError(f"rule_needs_{needed}")
    elif custom is not None:
        rule = from_json({**custom, "key": "custom", "title_zh": "", "title_en": "", "citation": ""})
    else:
        rule = SIMPLE_MAJORITY
    uses = {*rule.measures, *(q.measure for g in rule.quorum for q in g)}
    if Measure.AREA in uses and electorate != "owners":
        raise RuleError("rule_area_needs_owners")
    if Measure.HOUSEHOLDS in uses and electorate == "households":
        raise RuleError("rule_households_needs_people")
    return to_json(rule, matter)


def presets() -> list[dict[str, Any]]:
    """What the poll builder offers, with the law cited and the rule in plain words."""
    out = []
    for rule in (SIMPLE_MAJORITY, *counting.PRESETS.values()):
        electorate = PRESET_ELECTORATE.get(rule.key, "residents")
        zh, en = describe(to_json(rule), electorate)
        out.append({**to_json(rule), "citation_en": rule.citation_en, "electorate": electorate,
                    "plain_zh": zh, "plain_en": en})
    return out


def citation_en(rule: dict[str, Any]) -> str:
    """A stored rule's source in English: its preset's English name (stored rules keep the Chinese
    citation only), else the citation as stored."""
    preset = counting.PRESETS.get(str(rule.get("key") or ""))
    if preset is not None and preset.citation == rule.get("citation"):
        return preset.citation_en
    return str(rule.get("citation") or "")


def matters() -> list[dict[str, str]]:
    return [{"key": k, "label_zh": label, "preset": preset}
            for k, (label, preset) in counting.CIVIL_CODE_278_MATTERS.items()]


_FRACTION_ZH = {"more_than_half": "过半数", "two_thirds": "三分之二以上", "three_quarters": "四分之三以上"}
_FRACTION_EN = {"more_than_half": "more than half", "two_thirds": "at least two thirds",
                "three_quarters": "at least three quarters"}
_WHO_ZH = {"residents": "居民", "households": "户", "owners": "业主"}
_WHO_EN = {"residents": "residents", "households": "households", "owners": "owners"}


def _measure_zh(measure: str, electorate: str) -> str:
    return {"headcount": f"{_WHO_ZH[electorate]}人数", "area": "专有部分面积", "households": "户数"}[measure]


def _measure_en(measure: str, electorate: str) -> str:
    return {"headcount": f"{_WHO_EN[electorate]} by headcount", "area": "the exclusive floor area",
            "households": "the households"}[measure]


def describe(rule: dict[str, Any], electorate: str) -> tuple[str, str]:
    """The rule in plain words, Chinese and English: who must take part, and what passes."""
    zh_parts: list[str] = []
    en_parts: list[str] = []
    groups = rule.get("quorum") or []
    if groups:
        g_zh = ["且".join(f"{_FRACTION_ZH[q['threshold']]}的{_measure_zh(q['measure'], electorate)}" for q in g)
                for g in groups]
        g_en = [" and ".join(f"{_FRACTION_EN[q['threshold']]} of {_measure_en(q['measure'], electorate)}" for q in g)
                for g in groups]
        zh_parts.append("须有" + "，或".join(g_zh) + "参与表决")
        en_parts.append(" or ".join(g_en) + " must take part")
    base_zh = "参与表决的" if rule["base"] == "participants" else "全体"
    base_en = "of those taking part" if rule["base"] == "participants" else "of the whole electorate"
    m_zh = "且".join(f"{base_zh}{_measure_zh(m, electorate)}{_FRACTION_ZH[rule['threshold']]}"
                    for m in rule["measures"])
    m_en = " and ".join(f"{_FRACTION_EN[rule['threshold']]} {base_en} ({_measure_en(m, electorate)})"
                        for m in rule["measures"])
    zh_parts.append(f"经{m_zh}同意即通过")
    en_parts.append(f"it passes when {m_en} agree")
    zh = "；".join(zh_parts) + "。弃权计入参与，但不计为同意。"
    en = "; ".join(en_parts) + ". An abstention takes part but does not agree."
    en = en[:1].upper() + en[1:]
    if rule.get("citation"):
        zh += f"依据：{rule['citation']}。"
        en += f" Source: {citation_en(rule)}."
    return zh, en
