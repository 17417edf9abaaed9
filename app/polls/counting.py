"""Counting votes: pure functions with exact arithmetic, no I/O.

Areas are :class:`~decimal.Decimal` (summed in a context that traps any rounding), ratios are
:class:`~fractions.Fraction`; "≥ 2/3" and "more than half" are compared by cross-multiplying
integers, never through a float.

Ballots reaching these functions are the accepted ones: one per voter (a voter key seen twice is an
error, not a silent de-duplication). The electorate is the one frozen when the poll opened.

Ties that decide something (who is eliminated in an instant runoff, the order of a Borda count,
a plurality winner when a seed is given) are broken by a drawing of lots 抽签 that is a
deterministic function of a published seed, and every drawing is recorded in the result.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, Inexact, localcontext
from enum import StrEnum
from fractions import Fraction

# --------------------------------------------------------------------------------------------
# Ballots and electorates
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ballot:
    """One accepted ballot.

    ``choices`` depends on the poll kind: one option (single), several distinct options
    (multiple), option names possibly repeated when dots may be stacked (dot voting), an ordered
    preference list (ranked), or one of ``yes``/``no``/``abstain`` (proposal). Score ballots use
    ``scores`` instead: ``(option, score)`` pairs. ``household_key`` marks a household
    representative (村民会议 attendance by households).
    """

    voter_key: str
    weight_area: Decimal = Decimal(0)
    choices: tuple[str, ...] = ()
    scores: tuple[tuple[str, int], ...] = ()
    household_key: str | None = None


@dataclass(frozen=True)
class Electorate:
    """The electorate frozen at opening: how many voters, their total exclusive area and, where
    it matters, how many households."""

    headcount: int
    total_area: Decimal = Decimal(0)
    households: int | None = None


class CountingError(ValueError):
    """Ballots or a rule that cannot be counted as given."""


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    """Sum decimals exactly: any result that would need rounding raises instead."""
    total = Decimal(0)
    with localcontext() as ctx:
        ctx.prec = 200
        ctx.traps[Inexact] = True
        for v in values:
            total += v
    return total


def _check_ballots(ballots: Sequence[Ballot]) -> None:
    seen: set[str] = set()
    for b in ballots:
        if b.voter_key in seen:
            raise CountingError(f"voter {b.voter_key!r} has more than one ballot")
        seen.add(b.voter_key)
        if not isinstance(b.weight_area, Decimal) or not b.weight_area.is_finite() or b.weight_area < 0:
            raise CountingError(f"ballot of {b.voter_key!r} has an invalid area {b.weight_area!r}")


def _check_options(options: Sequence[str]) -> None:
    if len(set(options)) != len(options):
        raise CountingError("options must be distinct")
    if not options:
        raise CountingError("a poll needs at least one option")


# --------------------------------------------------------------------------------------------
# Drawing of lots 抽签
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lot:
    """A recorded drawing of lots. Anyone can recompute ``order`` from the published seed:
    each tied name's key is ``sha256(seed | context | sorted tied names joined by ',' | name)``
    (fields separated by U+001F), and the names are ordered by key, smallest first."""

    seed: str
    context: str
    tied: tuple[str, ...]
    keys: tuple[tuple[str, str], ...]
    order: tuple[str, ...]

    @property
    def drawn(self) -> str:
        return self.order[0]


def draw_lots(seed: str, context: str, tied: Iterable[str]) -> Lot:
    names = tuple(sorted(set(tied)))
    if not names:
        raise CountingError("nothing to draw lots between")
    joined = ",".join(names)
    keys = {n: hashlib.sha256("\x1f".join((seed, context, joined, n)).encode()).hexdigest() for n in names}
    order = tuple(sorted(names, key=lambda n: (keys[n], n)))
    return Lot(seed=seed, context=context, tied=names, keys=tuple(keys.items()), order=order)


# --------------------------------------------------------------------------------------------
# Plurality, multiple choice, approval / dots
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptionTally:
    """Counts per option (ballots or dots) and the exclusive area behind them."""

    kind: str
    options: tuple[str, ...]
    counts: Mapping[str, int]
    areas: Mapping[str, Decimal]
    ballots: int
    total_area: Decimal
    leaders: tuple[str, ...]
    winner: str | None
    tie_break: Lot | None = None

    def ranking(self) -> list[tuple[str, int]]:
        """Options by count, most first (ties by option order)."""
        return sorted(((o, self.counts[o]) for o in self.options), key=lambda t: -t[1])


def _option_tally(
    kind: str,
    ballots: Sequence[Ballot],
    options: Sequence[str],
    seed: str | None,
    validate: _Validator,
) -> OptionTally:
    _check_options(options)
    _check_ballots(ballots)
    known = set(options)
    counts: Counter[str] = Counter({o: 0 for o in options})
    area_parts: dict[str, list[Decimal]] = {o: [] for o in options}
    for b in ballots:
        validate(b)
        for c in b.choices:
            if c not in known:
                raise CountingError(f"ballot of {b.voter_key!r} names an unknown option {c!r}")
            counts[c] += 1
            area_parts[c].append(b.weight_area)
    areas = {o: exact_sum(area_parts[o]) for o in options}
    top = max(counts.values())
    leaders = tuple(o for o in options if counts[o] == top) if top > 0 else ()
    winner: str | None = None
    lot: Lot | None = None
    if len(leaders) == 1:
        winner = leaders[0]
    elif len(leaders) > 1 and seed is not None:
        lot = draw_lots(seed, f"{kind}:winner", leaders)
        winner = lot.drawn
    return OptionTally(
        kind=kind,
        options=tuple(options),
        counts=dict(counts),
        areas=areas,
        ballots=len(ballots),
        total_area=exact_sum(b.weight_area for b in ballots),
        leaders=leaders,
        winner=winner,
        tie_break=lot,
    )


class _Validator:
    def __init__(self, max_choices: int, allow_repeats: bool, min_choices: int = 0) -> None:
        self.max_choices = max_choices
        self.min_choices = min_choices
        self.allow_repeats = allow_repeats

    def __call__(self, b: Ballot) -> None:
        if len(b.choices) > self.max_choices:
            raise CountingError(f"ballot of {b.voter_key!r} has {len(b.choices)} choices, at most {self.max_choices}")
        if len(b.choices) < self.min_choices:
            raise CountingError(f"ballot of {b.voter_key!r} has too few choices")
        if not self.allow_repeats and len(set(b.choices)) != len(b.choices):
            raise CountingError(f"ballot of {b.voter_key!r} names an option twice")


def plurality(ballots: Sequence[Ballot], options: Sequence[str], seed: str | None = None) -> OptionTally:
    """Single choice: each ballot names exactly one option. With a ``seed``, a tie for first
    place is broken by lot (recorded); without, ``winner`` is None and ``leaders`` lists the tie."""
    return _option_tally("plurality", ballots, options, seed, _Validator(1, False, 1))


def multiple_choice(ballots: Sequence[Ballot], options: Sequence[str], k: int, seed: str | None = None) -> OptionTally:
    """Multiple choice: each ballot names between 1 and ``k`` distinct options."""
    if k < 1:
        raise CountingError("k must be at least 1")
    return _option_tally("multiple", ballots, options, seed, _Validator(k, False, 1))


def approval(
    ballots: Sequence[Ballot],
    options: Sequence[str],
    dots: int,
    allow_stacking: bool = False,
    seed: str | None = None,
) -> OptionTally:
    """Approval / dot voting: each ballot places at most ``dots`` dots; with ``allow_stacking``
    several dots may go on one option (the name repeats in ``choices``)."""
    if dots < 1:
        raise CountingError("dots must be at least 1")
    return _option_tally("approval", ballots, options, seed, _Validator(dots, allow_stacking, 0))


# --------------------------------------------------------------------------------------------
# Score 1–5
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreLine:
    option: str
    raters: int
    total: int
    mean: Fraction | None
    histogram: Mapping[int, int]

    def mean_decimal(self, places: int = 2) -> Decimal | None:
        return None if self.mean is None else _fraction_to_decimal(self.mean, places)


@dataclass(frozen=True)
class ScoreTally:
    options: tuple[str, ...]
    lines: Mapping[str, ScoreLine]
    ballots: int

    def by_mean(self) -> list[ScoreLine]:
        """Rated options by mean (highest first), then total; unrated options last."""
        rated = [self.lines[o] for o in self.options if self.lines[o].mean is not None]
        unrated = [self.lines[o] for o in self.options if self.lines[o].mean is None]
        return sorted(rated, key=lambda s: (-(s.mean or 0), -s.total)) + unrated


def score(ballots: Sequence[Ballot], options: Sequence[str], low: int = 1, high: int = 5) -> ScoreTally:
    """Score voting: each ballot scores any of the options from ``low`` to ``high``; an option a
    voter leaves unscored does not count towards its mean."""
    _check_options(options)
    _check_ballots(ballots)
    known = set(options)
    per: dict[str, list[int]] = {o: [] for o in options}
    for b in ballots:
        if b.choices:
            raise CountingError(f"ballot of {b.voter_key!r}: score ballots carry scores, not choices")
        named = [o for o, _ in b.scores]
        if len(set(named)) != len(named):
            raise CountingError(f"ballot of {b.voter_key!r} scores an option twice")
        for o, s in b.scores:
            if o not in known:
                raise CountingError(f"ballot of {b.voter_key!r} names an unknown option {o!r}")
            if isinstance(s, bool) or not isinstance(s, int) or not low <= s <= high:
                raise CountingError(f"ballot of {b.voter_key!r} gives {o!r} a score outside {low}–{high}")
            per[o].append(s)
    lines = {
        o: ScoreLine(
            option=o,
            raters=len(v),
            total=sum(v),
            mean=Fraction(sum(v), len(v)) if v else None,
            histogram={s: v.count(s) for s in range(low, high + 1)},
        )
        for o, v in per.items()
    }
    return ScoreTally(options=tuple(options), lines=lines, ballots=len(ballots))


# --------------------------------------------------------------------------------------------
# Rules: quorum, threshold, base, double majority
# --------------------------------------------------------------------------------------------


class Threshold(StrEnum):
    MORE_THAN_HALF = "more_than_half"
    TWO_THIRDS = "two_thirds"
    THREE_QUARTERS = "three_quarters"

    @property
    def fraction(self) -> Fraction:
        return _THRESHOLD_FRACTION[self]

    @property
    def strict(self) -> bool:
        """More than half is strict (过半数); 以上 (two thirds, three quarters) means ≥."""
        return self is Threshold.MORE_THAN_HALF

    @property
    def comparator(self) -> str:
        return ">" if self.strict else "≥"


_THRESHOLD_FRACTION = {
    Threshold.MORE_THAN_HALF: Fraction(1, 2),
    Threshold.TWO_THIRDS: Fraction(2, 3),
    Threshold.THREE_QUARTERS: Fraction(3, 4),
}


class Base(StrEnum):
    PARTICIPANTS = "participants"
    ELECTORATE = "electorate"


class Measure(StrEnum):
    HEADCOUNT = "headcount"
    AREA = "area"
    HOUSEHOLDS = "households"


@dataclass(frozen=True)
class QuorumCriterion:
    measure: Measure
    threshold: Threshold


@dataclass(frozen=True)
class Rule:
    """How a proposal is decided.

    ``quorum`` is a disjunction of conjunctions: the quorum is met when every criterion of at
    least one group is met (民法典: one group, area AND headcount ≥ 2/3; 村民会议: two groups,
    adults > 1/2 OR households ≥ 2/3). An empty ``quorum`` means none is required.
    Approval needs ``threshold`` of ``base`` in every measure of ``measures`` (two measures,
    headcount and area, make a double majority)."""

    key: str
    threshold: Threshold
    base: Base
    measures: tuple[Measure, ...] = (Measure.HEADCOUNT,)
    quorum: tuple[tuple[QuorumCriterion, ...], ...] = ()
    title_zh: str = ""
    title_en: str = ""
    citation: str = ""
    citation_en: str = ""  # the same source named in English, for English pages (not part of a stored rule)

    def __post_init__(self) -> None:
        if not self.measures:
            raise CountingError("a rule needs at least one approval measure")
        if Measure.HOUSEHOLDS in self.measures:
            raise CountingError("approval is by headcount and/or area")
        if any(not group for group in self.quorum):
            raise CountingError("an empty quorum group would always be met")

    @property
    def double_majority(self) -> bool:
        return Measure.HEADCOUNT in self.measures and Measure.AREA in self.measures


@dataclass(frozen=True)
class Criterion:
    """One criterion, with the numbers that decided it: ``numerator / denominator`` compared
    with ``required`` by ``comparator`` (``>`` or ``≥``)."""

    stage: str  # "quorum" or "approval"
    name: str
    measure: Measure
    numerator: Decimal
    denominator: Decimal
    required: Fraction
    comparator: str
    met: bool
    label_zh: str
    label_en: str
    group: int = 0  # the quorum group (alternatives) this criterion belongs to

    @property
    def ratio(self) -> Fraction | None:
        if self.denominator == 0:
            return None
        return Fraction(self.numerator) / Fraction(self.denominator)


def meets(numerator: Decimal | int, denominator: Decimal | int, required: Fraction, strict: bool) -> bool:
    """Whether numerator/denominator ≥ required (or > when strict), exactly. A zero denominator
    never meets a threshold."""
    n = Fraction(numerator)
    d = Fraction(denominator)
    if d <= 0:
        return False
    lhs = n * required.denominator
    rhs = d * required.numerator
    return lhs > rhs if strict else lhs >= rhs


@dataclass(frozen=True)
class ProposalResult:
    rule: Rule
    passed: bool
    quorum_met: bool
    approved: bool
    yes: int
    no: int
    abstain: int
    yes_area: Decimal
    no_area: Decimal
    abstain_area: Decimal
    participants: int
    participating_area: Decimal
    participating_households: int
    criteria: tuple[Criterion, ...]
    explanation_zh: str
    explanation_en: str


_PROPOSAL_CHOICES = ("yes", "no", "abstain")

_QUORUM_LABELS = {
    Measure.HEADCOUNT: ("参与人数", "participating voters"),
    Measure.AREA: ("参与面积", "participating area"),
    Measure.HOUSEHOLDS: ("参与户数", "participating households"),
}
_APPROVAL_LABELS = {
    (Measure.HEADCOUNT, Base.PARTICIPANTS): ("同意人数占参与人数", "yes voters of participants"),
    (Measure.AREA, Base.PARTICIPANTS): ("同意面积占参与面积", "yes area of participating area"),
    (Measure.HEADCOUNT, Base.ELECTORATE): ("同意人数占全体", "yes voters of the whole electorate"),
    (Measure.AREA, Base.ELECTORATE): ("同意面积占总面积", "yes area of the total area"),
}


def proposal(
    ballots: Sequence[Ballot], electorate: Electorate, rule: Rule, participating_households: int | None = None
) -> ProposalResult:
    """Evaluate a yes/no/abstain proposal. Every ballot takes part (abstentions included);
    only ``yes`` agrees. ``participating_households`` is given when the ballots do not carry
    their household (a secret ballot): it comes from the turnout record instead."""
    _check_ballots(ballots)
    by_choice: dict[str, list[Ballot]] = {c: [] for c in _PROPOSAL_CHOICES}
    for b in ballots:
        if len(b.choices) != 1 or b.choices[0] not in by_choice:
            raise CountingError(f"ballot of {b.voter_key!r} must be exactly one of yes, no, abstain")
        by_choice[b.choices[0]].append(b)
    participants = len(ballots)
    part_area = exact_sum(b.weight_area for b in ballots)
    households = (
        participating_households
        if participating_households is not None
        else len({b.household_key for b in ballots if b.household_key is not None})
    )
    if participants > electorate.headcount:
        raise CountingError("more ballots than voters in the electorate")
    uses_area = Measure.AREA in rule.measures or any(qc.measure is Measure.AREA for g in rule.quorum for qc in g)
    if uses_area and part_area > electorate.total_area:
        raise CountingError("more area voted than the electorate holds")
    yes_area = exact_sum(b.weight_area for b in by_choice["yes"])

    criteria: list[Criterion] = []
    participating = {
        Measure.HEADCOUNT: (Decimal(participants), Decimal(electorate.headcount)),
        Measure.AREA: (part_area, electorate.total_area),
        Measure.HOUSEHOLDS: (
            Decimal(households),
            Decimal(electorate.households if electorate.households is not None else 0),
        ),
    }
    for gi, group in enumerate(rule.quorum):
        for qc in group:
            if qc.measure is Measure.HOUSEHOLDS and electorate.households is None:
                raise CountingError("this rule counts households but the electorate has no household count")
            num, den = participating[qc.measure]
            zh, en = _QUORUM_LABELS[qc.measure]
            criteria.append(
                Criterion(
                    stage="quorum",
                    name=f"quorum_{qc.measure.value}",
                    measure=qc.measure,
                    numerator=num,
                    denominator=den,
                    required=qc.threshold.fraction,
                    comparator=qc.threshold.comparator,
                    met=meets(num, den, qc.threshold.fraction, qc.threshold.strict),
                    label_zh=zh,
                    label_en=en,
                    group=gi,
                )
            )
    quorum_met = (not rule.quorum) or any(
        all(c.met for c in criteria if c.stage == "quorum" and c.group == gi) for gi in range(len(rule.quorum))
    )

    for m in rule.measures:
        if m is Measure.HEADCOUNT:
            num = Decimal(len(by_choice["yes"]))
            den = Decimal(participants if rule.base is Base.PARTICIPANTS else electorate.headcount)
        else:
            num = yes_area
            den = part_area if rule.base is Base.PARTICIPANTS else electorate.total_area
        zh, en = _APPROVAL_LABELS[(m, rule.base)]
        criteria.append(
            Criterion(
                stage="approval",
                name=f"approval_{m.value}",
                measure=m,
                numerator=num,
                denominator=den,
                required=rule.threshold.fraction,
                comparator=rule.threshold.comparator,
                met=meets(num, den, rule.threshold.fraction, rule.threshold.strict),
                label_zh=zh,
                label_en=en,
            )
        )
    approved = all(c.met for c in criteria if c.stage == "approval")
    passed = quorum_met and approved
    zh_text, en_text = _explain(rule, criteria, passed, quorum_met)
    return ProposalResult(
        rule=rule,
        passed=passed,
        quorum_met=quorum_met,
        approved=approved,
        yes=len(by_choice["yes"]),
        no=len(by_choice["no"]),
        abstain=len(by_choice["abstain"]),
        yes_area=yes_area,
        no_area=exact_sum(b.weight_area for b in by_choice["no"]),
        abstain_area=exact_sum(b.weight_area for b in by_choice["abstain"]),
        participants=participants,
        participating_area=part_area,
        participating_households=households,
        criteria=tuple(criteria),
        explanation_zh=zh_text,
        explanation_en=en_text,
    )


def _fraction_to_decimal(f: Fraction, places: int) -> Decimal:
    """Round half to even at ``places`` decimals, exactly."""
    scaled = round(f * 10**places)
    return Decimal(scaled).scaleb(-places)


def _fmt_fraction(f: Fraction) -> str:
    return "1/2" if f == Fraction(1, 2) else f"{f.numerator}/{f.denominator}"


def _fmt_number(d: Decimal) -> str:
    return format(d.normalize(), "f") if d == d.to_integral_value() else format(d, "f")


def _negate(comparator: str) -> str:
    return {"≥": "<", ">": "≤"}[comparator]


def _criterion_text(c: Criterion, zh: bool) -> str:
    label = c.label_zh if zh else c.label_en
    comp = c.comparator if c.met else _negate(c.comparator)
    ratio = c.ratio
    if ratio is None:
        shown = f"{_fmt_number(c.numerator)}/{_fmt_number(c.denominator)}"
        return f"{label} {shown} {comp} {_fmt_fraction(c.required)}"
    pct = _fraction_to_decimal(ratio * 100, 1)
    return (
        f"{label} {pct}%（{_fmt_number(c.numerator)}/{_fmt_number(c.denominator)}）{comp} {_fmt_fraction(c.required)}"
        if zh
        else f"{label} {pct}% ({_fmt_number(c.numerator)}/{_fmt_number(c.denominator)}) {comp} "
        f"{_fmt_fraction(c.required)}"
    )


def _explain(rule: Rule, criteria: Sequence[Criterion], passed: bool, quorum_met: bool) -> tuple[str, str]:
    parts_zh: list[str] = []
    parts_en: list[str] = []
    groups = len(rule.quorum)
    for gi in range(groups):
        group = [c for c in criteria if c.stage == "quorum" and c.group == gi]
        parts_zh.append("，".join(_criterion_text(c, True) for c in group))
        parts_en.append(", ".join(_criterion_text(c, False) for c in group))
    quorum_zh = "；或".join(parts_zh) if groups > 1 else "".join(parts_zh)
    quorum_en = "; or ".join(parts_en) if groups > 1 else "".join(parts_en)
    approval = [c for c in criteria if c.stage == "approval"]
    appr_zh = "，".join(_criterion_text(c, True) for c in approval)
    appr_en = ", ".join(_criterion_text(c, False) for c in approval)
    head_zh = "通过" if passed else "未通过"
    head_en = "Passed" if passed else "Not passed"
    body_zh = [p for p in (quorum_zh, appr_zh) if p]
    body_en = [p for p in (quorum_en, appr_en) if p]
    zh_text = f"{head_zh}：" + "，".join(body_zh)
    en_text = f"{head_en}: " + "; ".join(body_en)
    if not quorum_met:
        zh_text += "（参与未达法定要求）"
        en_text += " (participation below the required quorum)"
    if rule.citation:
        zh_text += f"。依据：{rule.citation}"
        en_text += f". Rule: {rule.title_en or rule.key}"
    return zh_text, en_text


def explain_so_far(criteria: Sequence[Criterion]) -> tuple[str, str]:
    """A proposal's count while voting goes on: where each threshold stands, and no verdict (a
    red 未通过 over a poll still open reads as the outcome, and discourages those yet to vote)."""
    zh = "，".join(_criterion_text(c, True) for c in criteria)
    en = "; ".join(_criterion_text(c, False) for c in criteria)
    return (f"投票尚未结束，截止后才判定是否通过。目前：{zh}",
            f"Voting is still open; whether it passes is decided at the close. So far: {en}")


# --------------------------------------------------------------------------------------------
# Presets
# --------------------------------------------------------------------------------------------

_CIVIL_CODE_QUORUM = (
    (
        QuorumCriterion(Measure.AREA, Threshold.TWO_THIRDS),
        QuorumCriterion(Measure.HEADCOUNT, Threshold.TWO_THIRDS),
    ),
)

CIVIL_CODE_278_MAJOR = Rule(
    key="civil_code_278_major",
    threshold=Threshold.THREE_QUARTERS,
    base=Base.PARTICIPANTS,
    measures=(Measure.AREA, Measure.HEADCOUNT),
    quorum=_CIVIL_CODE_QUORUM,
    title_zh="业主共同决定重大事项（筹集维修资金、改建重建、改变共有部分用途）",
    title_en="Owners' major decision (raising the maintenance fund, rebuilding, change of use of common parts)",
    citation="《民法典》第二百七十八条第二款",
    citation_en="Civil Code of the PRC, Article 278, paragraph 2",
)

CIVIL_CODE_278_ORDINARY = Rule(
    key="civil_code_278_ordinary",
    threshold=Threshold.MORE_THAN_HALF,
    base=Base.PARTICIPANTS,
    measures=(Measure.AREA, Measure.HEADCOUNT),
    quorum=_CIVIL_CODE_QUORUM,
    title_zh="业主共同决定一般事项",
    title_en="Owners' ordinary decision",
    citation="《民法典》第二百七十八条第二款",
    citation_en="Civil Code of the PRC, Article 278, paragraph 2",
)

OLD_COMPOUND_RENOVATION_WILLINGNESS = Rule(
    key="old_compound_renovation_willingness",
    threshold=Threshold.TWO_THIRDS,
    base=Base.ELECTORATE,
    measures=(Measure.HEADCOUNT,),
    quorum=(),
    title_zh="老旧小区改造意愿征询（三分之二以上业主同意）",
    title_en="Old compound renovation willingness (at least two thirds of all owners agree)",
    citation="老旧小区改造意愿征询",
    citation_en="Old residential compound renovation: consulting the owners",
)

VILLAGERS_MEETING = Rule(
    key="villagers_meeting",
    threshold=Threshold.MORE_THAN_HALF,
    base=Base.PARTICIPANTS,
    measures=(Measure.HEADCOUNT,),
    quorum=(
        (QuorumCriterion(Measure.HEADCOUNT, Threshold.MORE_THAN_HALF),),
        (QuorumCriterion(Measure.HOUSEHOLDS, Threshold.TWO_THIRDS),),
    ),
    title_zh="村民会议（过半数成年村民或三分之二以上户代表参加，到会人员过半数同意）",
    title_en="Villagers' meeting (over half of adult villagers, or representatives of at least two thirds of "
    "households, attend; over half of those present agree)",
    citation="《村民委员会组织法》第二十二条",
    citation_en="Organic Law of the Villagers' Committees, Article 22",
)

PRESETS: Mapping[str, Rule] = {
    r.key: r
    for r in (CIVIL_CODE_278_MAJOR, CIVIL_CODE_278_ORDINARY, OLD_COMPOUND_RENOVATION_WILLINGNESS, VILLAGERS_MEETING)
}

# 民法典第二百七十八条第一款 — each matter and the preset that decides it.
CIVIL_CODE_278_MATTERS: Mapping[str, tuple[str, str]] = {
    "assembly_rules": ("制定和修改业主大会议事规则", CIVIL_CODE_278_ORDINARY.key),
    "management_statute": ("制定和修改管理规约", CIVIL_CODE_278_ORDINARY.key),
    "owners_committee": ("选举业主委员会或者更换业主委员会成员", CIVIL_CODE_278_ORDINARY.key),
    "property_manager": ("选聘和解聘物业服务企业或者其他管理人", CIVIL_CODE_278_ORDINARY.key),
    "use_fund": ("使用建筑物及其附属设施的维修资金", CIVIL_CODE_278_ORDINARY.key),
    "raise_fund": ("筹集建筑物及其附属设施的维修资金", CIVIL_CODE_278_MAJOR.key),
    "rebuild": ("改建、重建建筑物及其附属设施", CIVIL_CODE_278_MAJOR.key),
    "change_use": ("改变共有部分的用途或者利用共有部分从事经营活动", CIVIL_CODE_278_MAJOR.key),
    "other_major": ("有关共有和共同管理权利的其他重大事项", CIVIL_CODE_278_ORDINARY.key),
}


def civil_code_rule_for(matter: str) -> Rule:
    return PRESETS[CIVIL_CODE_278_MATTERS[matter][1]]


# --------------------------------------------------------------------------------------------
# Ranked choice: instant runoff and Borda
# --------------------------------------------------------------------------------------------


def _check_rankings(ballots: Sequence[Ballot], options: Sequence[str]) -> None:
    _check_options(options)
    _check_ballots(ballots)
    known = set(options)
    for b in ballots:
        if len(set(b.choices)) != len(b.choices):
            raise CountingError(f"ballot of {b.voter_key!r} ranks an option twice")
        for c in b.choices:
            if c not in known:
                raise CountingError(f"ballot of {b.voter_key!r} ranks an unknown option {c!r}")


@dataclass(frozen=True)
class IrvRound:
    number: int
    counts: Mapping[str, int]  # continuing options only
    continuing_ballots: int
    exhausted: int  # cumulative: ballots with no continuing preference left
    eliminated: str | None
    elected: str | None
    tie_break: Lot | None = None


@dataclass(frozen=True)
class IrvResult:
    options: tuple[str, ...]
    ballots: int
    rounds: tuple[IrvRound, ...]
    winner: str | None
    tie_breaks: tuple[Lot, ...] = field(default=())


def instant_runoff(ballots: Sequence[Ballot], options: Sequence[str], seed: str) -> IrvResult:
    """Instant runoff: each round counts every ballot for its highest-ranked continuing option;
    an option with more than half of the continuing ballots is elected, otherwise the option
    with fewest votes is eliminated (a tie for fewest is broken by lot, recorded). A ballot with
    no continuing option left is exhausted. With one option left it is elected."""
    _check_rankings(ballots, options)
    rankings = [b.choices for b in ballots]
    continuing = list(options)
    alive = set(options)
    piles: dict[str, list[int]] = {o: [] for o in options}
    pointer = [0] * len(rankings)
    exhausted = 0
    for i, r in enumerate(rankings):
        if r:
            piles[r[0]].append(i)
        else:
            exhausted += 1
    rounds: list[IrvRound] = []
    lots: list[Lot] = []
    number = 0
    while True:
        number += 1
        counts = {o: len(piles[o]) for o in continuing}
        active = sum(counts.values())
        top = max(counts.values())
        leaders = [o for o in continuing if counts[o] == top]
        if active == 0 or len(continuing) == 1 or (2 * top > active and len(leaders) == 1):
            # Nobody left to count for: no winner. Otherwise the majority (or last) option.
            winner = None if active == 0 else leaders[0]
            rounds.append(IrvRound(number, counts, active, exhausted, None, winner))
            return IrvResult(tuple(options), len(ballots), tuple(rounds), winner, tuple(lots))
        low = min(counts.values())
        lowest = [o for o in continuing if counts[o] == low]
        lot: Lot | None = None
        if len(lowest) > 1:
            lot = draw_lots(seed, f"irv:round {number}:eliminate", lowest)
            lots.append(lot)
            out = lot.drawn
        else:
            out = lowest[0]
        rounds.append(IrvRound(number, counts, active, exhausted, out, None, lot))
        continuing.remove(out)
        alive.discard(out)
        for i in piles.pop(out):
            r = rankings[i]
            p = pointer[i] + 1
            while p < len(r) and r[p] not in alive:
                p += 1
            pointer[i] = p
            if p < len(r):
                piles[r[p]].append(i)
            else:
                exhausted += 1


@dataclass(frozen=True)
class BordaResult:
    options: tuple[str, ...]
    ballots: int
    points: Mapping[str, int]
    order: tuple[str, ...]  # highest points first; ties in the order broken by lot
    tie_breaks: tuple[Lot, ...]

    @property
    def winner(self) -> str | None:
        return self.order[0] if self.ballots else None


def borda(ballots: Sequence[Ballot], options: Sequence[str], seed: str) -> BordaResult:
    """Borda count for a priority order: with n options, a ballot's first choice gets n-1
    points, the next n-2, …; unranked options get 0. Equal points are ordered by lot."""
    _check_rankings(ballots, options)
    n = len(options)
    points: dict[str, int] = {o: 0 for o in options}
    for b in ballots:
        for i, c in enumerate(b.choices):
            points[c] += n - 1 - i
    by_points: dict[int, list[str]] = {}
    for o in options:
        by_points.setdefault(points[o], []).append(o)
    order: list[str] = []
    lots: list[Lot] = []
    for p in sorted(by_points, reverse=True):
        group = by_points[p]
        if len(group) > 1:
            lot = draw_lots(seed, f"borda:{p} points", group)
            lots.append(lot)
            order.extend(lot.order)
        else:
            order.extend(group)
    return BordaResult(tuple(options), len(ballots), points, tuple(order), tuple(lots))
