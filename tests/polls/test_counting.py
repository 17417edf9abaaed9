"""Counting: legal boundaries, hand-computed cases and properties (pure functions, no database)."""

from __future__ import annotations

import hashlib
import random
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.polls.counting import (
    CIVIL_CODE_278_MAJOR,
    CIVIL_CODE_278_ORDINARY,
    OLD_COMPOUND_RENOVATION_WILLINGNESS,
    PRESETS,
    VILLAGERS_MEETING,
    Ballot,
    Base,
    CountingError,
    Electorate,
    Measure,
    QuorumCriterion,
    Rule,
    Threshold,
    approval,
    borda,
    civil_code_rule_for,
    draw_lots,
    exact_sum,
    instant_runoff,
    meets,
    multiple_choice,
    plurality,
    proposal,
    score,
)

D = Decimal


def votes(*spec: tuple[str, int], area: Decimal = D(100)) -> list[Ballot]:
    """(choice, how many) pairs → ballots v0, v1, … each with ``area``."""
    out: list[Ballot] = []
    for choice, n in spec:
        for _ in range(n):
            out.append(Ballot(f"v{len(out)}", area, (choice,)))
    return out


def ranked(*spec: tuple[str, int]) -> list[Ballot]:
    """("ABC", n) → n ballots ranking A > B > C."""
    out: list[Ballot] = []
    for order, n in spec:
        for _ in range(n):
            out.append(Ballot(f"r{len(out)}", D(0), tuple(order)))
    return out


# --- exact comparison -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("num", "den", "required", "strict", "met"),
    [
        (2, 3, Fraction(2, 3), False, True),  # exactly 2/3 is 三分之二以上
        (666, 1000, Fraction(2, 3), False, False),
        (667, 1000, Fraction(2, 3), False, True),
        (3, 4, Fraction(3, 4), False, True),
        (74, 100, Fraction(3, 4), False, False),
        (1, 2, Fraction(1, 2), True, False),  # exactly half is not 过半数
        (51, 100, Fraction(1, 2), True, True),
        (D("200.00"), D("300.00"), Fraction(2, 3), False, True),
        (D("199.99"), D("300.00"), Fraction(2, 3), False, False),
        (0, 0, Fraction(1, 2), True, False),
        (0, 0, Fraction(2, 3), False, False),
    ],
)
def test_meets_compares_exactly(
    num: Decimal | int, den: Decimal | int, required: Fraction, strict: bool, met: bool
) -> None:
    assert meets(num, den, required, strict) is met


# --- 民法典第二百七十八条: legal boundaries ------------------------------------------------------


def owners(yes: int, no: int = 0, abstain: int = 0, area: Decimal = D(100)) -> list[Ballot]:
    return votes(("yes", yes), ("no", no), ("abstain", abstain), area=area)


@pytest.mark.parametrize(
    ("ballots", "electorate", "quorum_met", "passed"),
    [
        # 9 owners of 100 m² each: 6 taking part is exactly 2/3 of headcount and of area.
        (owners(6), Electorate(9, D(900)), True, True),
        (owners(5), Electorate(9, D(900)), False, False),
        # 2/3 of headcount but area just below 2/3 (599.99 of 900).
        (
            [*owners(5), Ballot("big", D("99.99"), ("yes",))],
            Electorate(9, D(900)),
            False,
            False,
        ),
    ],
)
def test_quorum_is_two_thirds_inclusive_of_area_and_headcount(
    ballots: list[Ballot], electorate: Electorate, quorum_met: bool, passed: bool
) -> None:
    r = proposal(ballots, electorate, CIVIL_CODE_278_ORDINARY)
    assert r.quorum_met is quorum_met
    assert r.passed is passed


def test_major_matter_with_three_quarters_of_area_but_not_headcount_fails() -> None:
    # 4 participants: one big owner says yes (300 m²), three small owners (each 33.33 m²) say no/yes.
    ballots = [
        Ballot("big", D("300"), ("yes",)),
        Ballot("s1", D("33.33"), ("yes",)),
        Ballot("s2", D("33.33"), ("no",)),
        Ballot("s3", D("33.34"), ("no",)),
    ]
    r = proposal(ballots, Electorate(4, D(400)), CIVIL_CODE_278_MAJOR)
    assert r.quorum_met
    by = {c.name: c for c in r.criteria}
    assert by["approval_area"].met  # 333.33 / 400 ≥ 3/4
    assert not by["approval_headcount"].met  # 2 / 4 < 3/4
    assert not r.passed
    assert r.explanation_zh.startswith("未通过")
    assert "同意人数占参与人数 50.0%（2/4）< 3/4" in r.explanation_zh


def test_major_matter_at_exactly_three_quarters_of_both_passes() -> None:
    r = proposal(owners(3, 1), Electorate(4, D(400)), CIVIL_CODE_278_MAJOR)
    assert r.passed
    assert r.explanation_zh == (
        "通过：参与面积 100.0%（400/400）≥ 2/3，参与人数 100.0%（4/4）≥ 2/3，"
        "同意面积占参与面积 75.0%（300/400）≥ 3/4，同意人数占参与人数 75.0%（3/4）≥ 3/4"
        "。依据：《民法典》第二百七十八条第二款"
    )
    assert r.explanation_en.startswith("Passed: participating area 100.0% (400/400) ≥ 2/3")


def test_more_than_half_is_strict_exactly_half_fails() -> None:
    r = proposal(owners(3, 3), Electorate(6, D(600)), CIVIL_CODE_278_ORDINARY)
    assert r.quorum_met and not r.passed
    assert "50.0%（3/6）≤ 1/2" in r.explanation_zh
    assert proposal(owners(4, 3), Electorate(7, D(700)), CIVIL_CODE_278_ORDINARY).passed


def test_abstentions_take_part_but_do_not_agree() -> None:
    # 6 of 9 take part only thanks to 2 abstentions; 3 yes of 6 participants is not more than half.
    r = proposal(owners(3, 1, 2), Electorate(9, D(900)), CIVIL_CODE_278_ORDINARY)
    assert r.quorum_met
    assert r.participants == 6 and r.abstain == 2
    assert not r.approved
    r2 = proposal(owners(4, 0, 2), Electorate(9, D(900)), CIVIL_CODE_278_ORDINARY)
    assert r2.passed


def test_decimal_areas_sum_exactly() -> None:
    ballots = [Ballot(f"u{i}", D("89.57"), ("yes",)) for i in range(3)] + [Ballot("x", D("0.01"), ("no",))]
    r = proposal(ballots, Electorate(4, D("268.72")), CIVIL_CODE_278_ORDINARY)
    assert r.yes_area == D("268.71")
    assert r.participating_area == D("268.72")
    by = {c.name: c for c in r.criteria}
    assert by["quorum_area"].ratio == 1
    assert exact_sum([D("0.1")] * 10) == D("1.0")
    assert sum([0.1] * 10) != 1.0  # what float would have done


def test_seventy_one_point_three_percent_in_sentence() -> None:
    # 713 of 1000 m² take part, 8 of 10 owners; all yes.
    ballots = [Ballot(f"o{i}", D("89.125"), ("yes",)) for i in range(8)]
    r = proposal(ballots, Electorate(10, D(1000)), CIVIL_CODE_278_ORDINARY)
    assert r.explanation_zh.startswith("通过：参与面积 71.3%（713/1000）≥ 2/3，参与人数 80.0%（8/10）≥ 2/3")


def test_old_compound_renovation_needs_two_thirds_of_all_owners() -> None:
    # 6 of 9 owners agree: passes even though only 7 voted; 5 of 9 fails however few say no.
    assert proposal(owners(6, 1), Electorate(9, D(0)), OLD_COMPOUND_RENOVATION_WILLINGNESS).passed
    r = proposal(owners(5), Electorate(9, D(0)), OLD_COMPOUND_RENOVATION_WILLINGNESS)
    assert not r.passed
    assert "同意人数占全体 55.6%（5/9）< 2/3" in r.explanation_zh


def hh(voters: int, reps: int, yes: int) -> list[Ballot]:
    """``voters`` attendees, the first ``reps`` of them household representatives; ``yes`` say yes."""
    return [
        Ballot(f"p{i}", D(0), ("yes" if i < yes else "no",), household_key=f"h{i}" if i < reps else None)
        for i in range(voters)
    ]


@pytest.mark.parametrize(
    ("ballots", "quorum_met", "passed"),
    [
        (hh(51, 0, 26), True, True),  # 51 of 100 adults attend (> 1/2); 26 of 51 agree
        (hh(50, 0, 50), False, False),  # exactly half of adults and no household quorum
        (hh(40, 40, 21), True, True),  # 40 of 60 households (= 2/3) represented
        (hh(40, 39, 21), False, False),  # 39 of 60 households, 40 of 100 adults
        (hh(51, 0, 25), True, False),  # 25 of 51 present is not more than half
    ],
)
def test_villagers_meeting(ballots: list[Ballot], quorum_met: bool, passed: bool) -> None:
    r = proposal(ballots, Electorate(100, D(0), households=60), VILLAGERS_MEETING)
    assert (r.quorum_met, r.passed) == (quorum_met, passed)


def test_villagers_meeting_needs_household_count() -> None:
    with pytest.raises(CountingError):
        proposal(hh(10, 0, 5), Electorate(100), VILLAGERS_MEETING)


def test_rule_base_electorate_double_majority() -> None:
    rule = Rule("x", Threshold.MORE_THAN_HALF, Base.ELECTORATE, (Measure.HEADCOUNT, Measure.AREA))
    assert rule.double_majority
    ballots = [Ballot("a", D(60), ("yes",)), Ballot("b", D(10), ("yes",))]
    r = proposal(ballots, Electorate(3, D(100)), rule)
    assert r.passed  # 2/3 of people, 70/100 of area
    r = proposal(ballots[1:], Electorate(3, D(100)), rule)
    assert not r.passed


def test_quorum_only_by_headcount() -> None:
    rule = Rule(
        "hc",
        Threshold.MORE_THAN_HALF,
        Base.PARTICIPANTS,
        quorum=((QuorumCriterion(Measure.HEADCOUNT, Threshold.THREE_QUARTERS),),),
    )
    assert not proposal(owners(2), Electorate(3), rule).quorum_met
    assert proposal(owners(3), Electorate(4), rule).passed


def test_civil_code_matters_map_to_presets() -> None:
    assert civil_code_rule_for("raise_fund") is CIVIL_CODE_278_MAJOR
    assert civil_code_rule_for("rebuild") is CIVIL_CODE_278_MAJOR
    assert civil_code_rule_for("change_use") is CIVIL_CODE_278_MAJOR
    assert civil_code_rule_for("use_fund") is CIVIL_CODE_278_ORDINARY
    assert civil_code_rule_for("owners_committee") is CIVIL_CODE_278_ORDINARY
    assert set(PRESETS) == {
        "civil_code_278_major",
        "civil_code_278_ordinary",
        "old_compound_renovation_willingness",
        "villagers_meeting",
    }


@pytest.mark.parametrize(
    "ballots",
    [
        [Ballot("a", D(1), ("yes",)), Ballot("a", D(1), ("no",))],
        [Ballot("a", D(1), ("maybe",))],
        [Ballot("a", D(1), ("yes", "no"))],
        [Ballot("a", D(-1), ("yes",))],
        [Ballot("a", D(1), ("yes",)), Ballot("b", D(1), ("yes",))],  # more ballots than voters
    ],
)
def test_proposal_refuses_bad_ballots(ballots: list[Ballot]) -> None:
    with pytest.raises(CountingError):
        proposal(ballots, Electorate(1, D(10)), CIVIL_CODE_278_ORDINARY)


def test_empty_proposal_fails_quorum() -> None:
    r = proposal([], Electorate(5, D(500)), CIVIL_CODE_278_ORDINARY)
    assert not r.quorum_met and not r.passed
    assert r.explanation_zh.startswith("未通过")


# --- plurality, multiple, approval, score ----------------------------------------------------


def test_plurality_hand_count() -> None:
    t = plurality(votes(("A", 3), ("B", 5), ("C", 2)), ["A", "B", "C"])
    assert t.counts == {"A": 3, "B": 5, "C": 2}
    assert t.areas["B"] == D(500)
    assert t.winner == "B" and t.tie_break is None
    assert t.ranking() == [("B", 5), ("A", 3), ("C", 2)]


def test_plurality_tie_without_seed_has_no_winner_and_with_seed_is_drawn() -> None:
    ballots = votes(("A", 2), ("B", 2))
    assert plurality(ballots, ["A", "B"]).winner is None
    assert plurality(ballots, ["A", "B"]).leaders == ("A", "B")
    t = plurality(ballots, ["A", "B"], seed="2024-06-01 public seed")
    assert t.tie_break is not None and t.winner == t.tie_break.drawn
    assert t == plurality(list(reversed(ballots)), ["A", "B"], seed="2024-06-01 public seed")


def test_multiple_choice_at_most_k() -> None:
    ballots = [Ballot("a", D(0), ("A", "B")), Ballot("b", D(0), ("B", "C")), Ballot("c", D(0), ("B",))]
    t = multiple_choice(ballots, ["A", "B", "C"], k=2)
    assert t.counts == {"A": 1, "B": 3, "C": 1}
    with pytest.raises(CountingError):
        multiple_choice([Ballot("a", D(0), ("A", "B", "C"))], ["A", "B", "C"], k=2)
    with pytest.raises(CountingError):
        multiple_choice([Ballot("a", D(0), ("A", "A"))], ["A", "B", "C"], k=2)
    with pytest.raises(CountingError):
        multiple_choice([Ballot("a", D(0), ("Z",))], ["A", "B", "C"], k=2)


def test_dot_voting_with_stacking() -> None:
    ballots = [
        Ballot("h1", D(0), ("lift", "lift", "lights")),
        Ballot("h2", D(0), ("parking", "lights", "lift")),
        Ballot("h3", D(0), ("lights",)),
    ]
    t = approval(ballots, ["lift", "lights", "parking"], dots=3, allow_stacking=True)
    assert t.counts == {"lift": 3, "lights": 3, "parking": 1}
    assert t.leaders == ("lift", "lights")
    with pytest.raises(CountingError):
        approval(ballots, ["lift", "lights", "parking"], dots=3, allow_stacking=False)
    with pytest.raises(CountingError):
        approval([Ballot("x", D(0), ("lift",) * 4)], ["lift"], dots=3, allow_stacking=True)


def test_score_mean_and_total() -> None:
    ballots = [
        Ballot("a", scores=(("A", 5), ("B", 2))),
        Ballot("b", scores=(("A", 4),)),
        Ballot("c", scores=(("A", 4), ("B", 3))),
    ]
    t = score(ballots, ["A", "B", "C"])
    assert t.lines["A"].total == 13 and t.lines["A"].mean == Fraction(13, 3)
    assert t.lines["A"].mean_decimal() == D("4.33")
    assert t.lines["B"].raters == 2 and t.lines["B"].mean == Fraction(5, 2)
    assert t.lines["C"].mean is None
    assert t.lines["A"].histogram == {1: 0, 2: 0, 3: 0, 4: 2, 5: 1}
    assert [s.option for s in t.by_mean()] == ["A", "B", "C"]
    for bad in ((("A", 6),), (("A", 0),), (("A", 3), ("A", 4)), (("Z", 3),)):
        with pytest.raises(CountingError):
            score([Ballot("x", scores=bad)], ["A", "B"])


# --- ranked choice ---------------------------------------------------------------------------


def test_instant_runoff_rounds_with_exhausted_ballots() -> None:
    # Round 1: A 4, B 3, C 2, D 1 (of 10). D eliminated; its ballot ranks only D → exhausted.
    # Round 2: A 4, B 3, C 2 (9 continuing). C eliminated: one C ballot goes to B, one is exhausted.
    # Round 3: A 4, B 4 of 8 — no majority; tie for fewest → lot. Then one remains and is elected.
    ballots = ranked(("A", 4), ("BA", 3), ("CB", 1), ("C", 1), ("D", 1))
    r = instant_runoff(ballots, ["A", "B", "C", "D"], seed="seed-1")
    assert [dict(x.counts) for x in r.rounds[:3]] == [
        {"A": 4, "B": 3, "C": 2, "D": 1},
        {"A": 4, "B": 3, "C": 2},
        {"A": 4, "B": 4},
    ]
    assert [x.eliminated for x in r.rounds[:2]] == ["D", "C"]
    third = r.rounds[2]
    # Round 4: if B is drawn out, its three "BA" ballots go to A and the "CB" ballot is exhausted;
    # if A is drawn out, its four "A" ballots are exhausted.
    if third.eliminated == "B":
        assert (dict(r.rounds[3].counts), r.rounds[3].exhausted) == ({"A": 7}, 3)
    else:
        assert (dict(r.rounds[3].counts), r.rounds[3].exhausted) == ({"B": 4}, 6)
    assert [x.exhausted for x in r.rounds[:3]] == [0, 1, 2]
    assert third.tie_break is not None and third.tie_break.tied == ("A", "B")
    assert r.tie_breaks == (third.tie_break,)
    assert r.winner == ({"A", "B"} - {third.eliminated}).pop()


def test_instant_runoff_majority_after_transfer() -> None:
    ballots = ranked(("A", 4), ("BC", 2), ("CB", 3), ("DC", 2))
    r = instant_runoff(ballots, ["A", "B", "C", "D"], seed="s")
    # R1 A4 B2 C3 D2: tie B/D for fewest → lot. Either way C reaches 5 then 7 of 11.
    assert r.rounds[0].tie_break is not None
    assert r.winner == "C"
    assert r.rounds[-1].elected == "C"
    assert 2 * r.rounds[-1].counts["C"] > r.rounds[-1].continuing_ballots


def test_tie_break_is_reproducible_from_the_seed() -> None:
    ballots = ranked(("A", 2), ("B", 2), ("C", 3))
    first = instant_runoff(ballots, ["A", "B", "C"], seed="published seed 2024")
    again = instant_runoff(list(reversed(ballots)), ["C", "B", "A"], seed="published seed 2024")
    assert first.rounds[0].eliminated == again.rounds[0].eliminated
    lot = first.rounds[0].tie_break
    assert lot is not None
    # Anyone can recompute the drawing from the published seed with plain sha256.
    keys = {
        n: hashlib.sha256("\x1f".join(("published seed 2024", "irv:round 1:eliminate", "A,B", n)).encode()).hexdigest()
        for n in ("A", "B")
    }
    assert lot.drawn == min(keys, key=lambda n: keys[n])
    assert dict(lot.keys) == keys
    # Different seeds can draw differently; over several seeds both outcomes occur.
    drawn = {draw_lots(f"seed {i}", "irv:round 1:eliminate", ["A", "B"]).drawn for i in range(20)}
    assert drawn == {"A", "B"}


def test_instant_runoff_refuses_malformed_rankings() -> None:
    with pytest.raises(CountingError):
        instant_runoff([Ballot("a", D(0), ("A", "A"))], ["A", "B"], seed="s")
    with pytest.raises(CountingError):
        instant_runoff([Ballot("a", D(0), ("Z",))], ["A", "B"], seed="s")


def test_instant_runoff_with_no_ballots_elects_nobody() -> None:
    r = instant_runoff([], ["A", "B"], seed="s")
    assert r.winner is None and len(r.rounds) == 1


def test_borda_hand_count_and_tie_by_lot() -> None:
    ballots = ranked(("ABC", 3), ("BCA", 2), ("CB", 1))
    r = borda(ballots, ["A", "B", "C"], seed="s")
    # A: 3·2 = 6; B: 3·1 + 2·2 + 1·1 = 8; C: 2·1 + 1·2 = 4
    assert r.points == {"A": 6, "B": 8, "C": 4}
    assert r.order == ("B", "A", "C") and r.tie_breaks == ()
    tied = borda(ranked(("AB", 1), ("BA", 1)), ["A", "B"], seed="s")
    assert len(tied.tie_breaks) == 1 and tied.order == tied.tie_breaks[0].order


# --- properties ------------------------------------------------------------------------------

OPTIONS = ["A", "B", "C", "D", "E"]
areas = st.decimals(min_value=D("0.01"), max_value=D("500"), places=2, allow_nan=False, allow_infinity=False)


@st.composite
def single_ballots(draw: st.DrawFn) -> list[Ballot]:
    picks = draw(st.lists(st.tuples(st.sampled_from(OPTIONS), areas), max_size=40))
    return [Ballot(f"v{i}", a, (o,)) for i, (o, a) in enumerate(picks)]


@st.composite
def ranked_ballots(draw: st.DrawFn) -> list[Ballot]:
    perms = draw(st.lists(st.permutations(OPTIONS), min_size=1, max_size=40))
    cuts = draw(st.lists(st.integers(0, len(OPTIONS)), min_size=len(perms), max_size=len(perms)))
    return [Ballot(f"r{i}", D(0), tuple(p[:c])) for i, (p, c) in enumerate(zip(perms, cuts, strict=True))]


@given(single_ballots(), st.randoms(use_true_random=False))
def test_counts_do_not_depend_on_ballot_order(ballots: list[Ballot], rnd: random.Random) -> None:
    shuffled = list(ballots)
    rnd.shuffle(shuffled)
    assert plurality(ballots, OPTIONS, seed="s") == plurality(shuffled, OPTIONS, seed="s")
    assert approval(ballots, OPTIONS, dots=1) == approval(shuffled, OPTIONS, dots=1)


@given(ranked_ballots(), st.randoms(use_true_random=False))
def test_ranked_counts_do_not_depend_on_ballot_order(ballots: list[Ballot], rnd: random.Random) -> None:
    shuffled = list(ballots)
    rnd.shuffle(shuffled)
    assert instant_runoff(ballots, OPTIONS, seed="s") == instant_runoff(shuffled, OPTIONS, seed="s")
    assert borda(ballots, OPTIONS, seed="s") == borda(shuffled, OPTIONS, seed="s")


@given(single_ballots())
def test_plurality_winner_has_at_least_everyone_elses_votes(ballots: list[Ballot]) -> None:
    t = plurality(ballots, OPTIONS, seed="s")
    if ballots:
        assert t.winner is not None
        assert all(t.counts[t.winner] >= n for n in t.counts.values())
    assert sum(t.counts.values()) == len(ballots)


@given(ranked_ballots())
def test_irv_majority_first_preference_wins_in_round_one(ballots: list[Ballot]) -> None:
    firsts = [b.choices[0] for b in ballots if b.choices]
    r = instant_runoff(ballots, OPTIONS, seed="s")
    for o in OPTIONS:
        if 2 * firsts.count(o) > len(firsts):
            assert r.winner == o and len(r.rounds) == 1
    # Every round accounts for every ballot.
    for rnd in r.rounds:
        assert sum(rnd.counts.values()) + rnd.exhausted == len(ballots)


@given(single_ballots())
def test_area_sum_is_exactly_the_sum_of_ballot_areas(ballots: list[Ballot]) -> None:
    t = plurality(ballots, OPTIONS)
    expected = sum((Fraction(b.weight_area) for b in ballots), Fraction(0))
    assert Fraction(t.total_area) == expected
    assert sum((Fraction(a) for a in t.areas.values()), Fraction(0)) == expected


@settings(max_examples=300)
@given(
    st.lists(st.tuples(st.sampled_from(["yes", "no", "abstain"]), areas), max_size=30),
    areas,
    st.sampled_from(sorted(PRESETS)),
)
def test_adding_a_yes_never_turns_a_pass_into_a_fail(
    picks: list[tuple[str, Decimal]], extra_area: Decimal, preset: str
) -> None:
    rule = PRESETS[preset]
    ballots = [Ballot(f"v{i}", a, (c,), household_key=f"h{i}") for i, (c, a) in enumerate(picks)]
    electorate = Electorate(40, D(20000), households=40)
    before = proposal(ballots, electorate, rule)
    after = proposal([*ballots, Ballot("new", extra_area, ("yes",), household_key="hnew")], electorate, rule)
    if before.quorum_met:
        assert after.quorum_met
        if before.passed:
            assert after.passed
    assert after.participating_area == before.participating_area + extra_area
