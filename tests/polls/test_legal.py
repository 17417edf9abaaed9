"""The legal boundaries, through the API: what the law says is exactly enough, is enough; what it
says is not, is not. Civil Code art. 278 (owners by area and headcount) and the villagers'
meeting (村民委员会组织法 art. 22: half the villagers, or two thirds of the households)."""

from __future__ import annotations

from typing import Any

from app.accounts.models import Person
from app.communities.models import Community
from tests import factories as f
from tests.polls import support as s


async def owners_vote(client: Any, session: Any, areas: list[str], matter: str,
                      choices: list[str | None]) -> dict[str, Any]:
    """An owners' poll on ``matter``; owner i votes choices[i] (None: stays away). The closed result."""
    e = await s.estate(session, areas=areas)
    poll = await s.opened(client, e.c, e.committee, kind="proposal", electorate="owners", options=[], matter=matter)
    for owner, choice in zip(e.owners, choices, strict=True):
        if choice is not None:
            await s.vote(client, e.c, owner, poll["id"], choices=[choice])
    closed = await s.close(client, e.c, e.committee, poll["id"])
    result = dict((await s.results(client, e.c, e.owners[0], poll["id"]))["result"])
    assert closed["passed"] is result["passed"]
    return result


def criterion(result: dict[str, Any], stage: str, measure: str) -> dict[str, Any]:
    return next(c for c in result["criteria"] if c["stage"] == stage and c["measure"] == measure)


async def test_exactly_two_thirds_taking_part_meets_the_civil_code_quorum(client: Any, session: Any) -> None:
    res = await owners_vote(client, session, ["100.00", "100.00", "100.00"], "use_fund", ["yes", "yes", None])
    assert res["quorum_met"] is True and res["passed"] is True
    assert res["participating_area"] == "200.00"
    assert res["explanation_zh"].startswith("通过")


async def test_a_hundredth_of_a_square_metre_short_of_two_thirds_misses_the_quorum(client: Any,
                                                                                   session: Any) -> None:
    res = await owners_vote(client, session, ["100.00", "100.00", "100.01"], "use_fund", ["yes", "yes", None])
    # two of three owners (exactly 2/3 by headcount), but 200.00 of 300.01 m² is less than 2/3
    assert res["quorum_met"] is False and res["passed"] is False
    assert res["explanation_zh"].startswith("未通过")


async def test_three_quarters_of_the_area_but_not_of_the_owners_fails_a_major_matter(client: Any,
                                                                                     session: Any) -> None:
    res = await owners_vote(client, session, ["300.00", "50.00", "25.00", "25.00"], "raise_fund",
                            ["yes", "no", "no", "no"])
    assert res["quorum_met"] is True and res["passed"] is False
    assert res["yes_area"] == "300.00" and res["yes"] == 1
    assert criterion(res, "approval", "area")["met"] is True
    assert criterion(res, "approval", "headcount")["met"] is False
    # the same split of the area, with three quarters of the owners too, passes
    res = await owners_vote(client, session, ["300.00", "50.00", "25.00", "25.00"], "raise_fund",
                            ["yes", "yes", "yes", "no"])
    assert res["passed"] is True


async def test_more_than_half_means_more_than_half_for_an_ordinary_matter(client: Any, session: Any) -> None:
    res = await owners_vote(client, session, ["100.00"] * 4, "property_manager", ["yes", "yes", "no", "no"])
    assert res["quorum_met"] is True and res["passed"] is False  # exactly half is not 过半数
    res = await owners_vote(client, session, ["100.00"] * 4, "property_manager", ["yes", "yes", "abstain", None])
    assert res["passed"] is True  # 2 of 3 taking part; the abstention takes part but does not agree


async def village(session: Any) -> tuple[Community, Person, list[list[Person]]]:
    """A village of three households of three adults each; the committee member is one of them."""
    c = await f.community(session, name="五共村", kind="village")
    group = await f.building(session, c, name="一组")
    homes: list[list[Person]] = []
    for i in range(3):
        h = await f.household(session, c, group, room=f"{i + 1}号", area=None)
        homes.append([await f.member(session, c, *(("committee",) if (i, j) == (0, 0) else ()),
                                     name=f"村民{i}{j}", household_id=h.id) for j in range(3)])
    return c, homes[0][0], homes


async def test_villagers_meeting_quorum_by_two_thirds_of_households(client: Any, session: Any) -> None:
    c, committee, homes = await village(session)
    poll = await s.opened(client, c, committee, kind="proposal", options=[], preset="villagers_meeting",
                          title="是否修建村道")
    assert poll["electorate_size"] == 9 and poll["electorate_households"] == 3
    assert "三分之二以上的户数" in poll["rule_plain"]
    # one villager from each of two households: 2 of 9 villagers, but 2 of 3 households attend
    await s.vote(client, c, homes[0][1], poll["id"], choices=["yes"])
    await s.vote(client, c, homes[1][2], poll["id"], choices=["yes"])
    await s.close(client, c, committee, poll["id"])
    res = (await s.results(client, c, homes[2][0], poll["id"]))["result"]
    assert res["participants"] == 2 and res["participating_households"] == 2
    assert res["quorum_met"] is True and res["passed"] is True


async def test_villagers_meeting_without_quorum_fails(client: Any, session: Any) -> None:
    c, committee, homes = await village(session)
    poll = await s.opened(client, c, committee, kind="proposal", options=[], preset="villagers_meeting")
    # three villagers, all of one household: a third of the households and a third of the villagers
    for person in homes[1]:
        await s.vote(client, c, person, poll["id"], choices=["yes"])
    await s.close(client, c, committee, poll["id"])
    res = (await s.results(client, c, homes[2][0], poll["id"]))["result"]
    assert res["participants"] == 3 and res["participating_households"] == 1
    assert res["quorum_met"] is False and res["passed"] is False
