"""Ballots over HTTP: who may vote, what a ballot may say, paper and proxy entry, receipts,
changing a vote, named and secret polls, and results that stay hidden until the close."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from app.communities.models import Household, Membership
from app.polls import verify
from app.polls.models import PollBallot, PollElector
from tests import factories as f
from tests.factories import assert_problem
from tests.polls import support as s


async def unchanged(client: Any, e: s.Estate, poll_id: str) -> tuple[Any, ...]:
    p = await s.get_poll(client, e.c, e.committee, poll_id)
    voted = sorted((x["id"], x["voted"], x["channel"]) for x in await s.electors(client, e.c, e.committee, poll_id))
    return p["voted_count"], p["chain_seq"], p["chain_head"], voted


def msg(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["msg"]) if body["errors"] else str(body["detail"])


# --- who may vote ------------------------------------------------------------------------------

async def test_the_electorate_is_frozen_at_opening(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee)
    assert poll["electorate_size"] == 8  # 2 staff, 4 owners, a family member and the outsider
    newcomer = await f.member(session, e.c, name="新邻居")
    r = await client.post(s.url(e.c, poll["id"], "/ballots"), headers=f.auth(newcomer),
                          json={"choices": [s.option_ids(poll)[0]]})
    body = assert_problem(r, 403, "poll_not_eligible")
    assert body["detail"] == "您不在本次表决的投票名册中（本次由所有已认证居民投票，名册在表决开始时确定）。" or \
        "名册在表决开始时确定" in body["detail"]
    mine = await s.get_poll(client, e.c, newcomer, poll["id"])
    assert mine["me"]["eligible"] is False and "vote" not in mine["actions"]
    assert mine["me"]["reason_text"]
    assert (await s.get_poll(client, e.c, e.committee, poll["id"]))["voted_count"] == 0


async def test_owners_poll_only_an_owner_member_votes(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee, electorate="owners", kind="proposal", options=[],
                          matter="use_fund")
    before = await unchanged(client, e, poll["id"])
    for who in (e.family[0], e.outsider, e.grid_worker):
        assert who is not None
        r = await client.post(s.url(e.c, poll["id"], "/ballots"), headers=f.auth(who, "en"), json={"choices": ["yes"]})
        body = assert_problem(r, 403, "poll_not_eligible")
        assert "owners weighted by floor area" in body["detail"]
    me = (await s.get_poll(client, e.c, e.family[0], poll["id"]))["me"]
    assert me["eligible"] is False and me["reason"] == "ui.poll.not_eligible.owners"
    assert await unchanged(client, e, poll["id"]) == before
    await s.vote(client, e.c, e.owners[0], poll["id"], choices=["yes"])


async def test_an_unverified_household_member_cannot_cast_the_households_vote(client: Any, session: Any) -> None:
    e = await s.estate(session)
    await session.execute(update(Membership).where(Membership.person_id == e.family[0].id).values(verified=False))
    await session.commit()
    poll = await s.opened(client, e.c, e.committee, electorate="households")
    r = await client.post(s.url(e.c, poll["id"], "/ballots"), headers=f.auth(e.family[0]),
                          json={"choices": [s.option_ids(poll)[0]]})
    assert_problem(r, 403, "poll_not_eligible")
    assert e.outsider is not None
    r = await client.post(s.url(e.c, poll["id"], "/ballots"), headers=f.auth(e.outsider),
                          json={"choices": [s.option_ids(poll)[0]]})
    assert_problem(r, 403, "poll_not_eligible")  # no household
    assert (await s.get_poll(client, e.c, e.committee, poll["id"]))["voted_count"] == 0


async def test_a_building_or_unit_scope_keeps_other_homes_out(client: Any, session: Any) -> None:
    e = await s.estate(session)
    other = await f.building(session, e.c, name="5栋")
    h5 = await f.household(session, e.c, other, room="501", area="70.00")
    neighbour = await f.member(session, e.c, "owner", name="五栋业主", household_id=h5.id)
    unit2 = Household(community_id=e.c.id, building_id=e.building.id, room="201", unit="2",
                      owner_area_m2=Decimal("88.00"))
    session.add(unit2)
    await session.commit()
    in_unit2 = await f.member(session, e.c, "owner", name="二单元业主", household_id=unit2.id)

    by_building = await s.opened(client, e.c, e.committee, electorate="households", scope_building_id=other.id)
    assert by_building["electorate_size"] == 1 and by_building["scope_label"] == "5栋"
    opt = s.option_ids(by_building)[0]
    r = await client.post(s.url(e.c, by_building["id"], "/ballots"), headers=f.auth(e.owners[0]),
                          json={"choices": [opt]})
    assert_problem(r, 403, "poll_not_eligible")
    await s.vote(client, e.c, neighbour, by_building["id"], choices=[opt])

    by_unit = await s.opened(client, e.c, e.committee, electorate="owners", scope_building_id=e.building.id,
                             scope_unit="2", kind="proposal", options=[])
    assert by_unit["electorate_size"] == 1 and by_unit["electorate_area"] == "88.00"
    for who in (e.owners[0], neighbour):
        r = await client.post(s.url(e.c, by_unit["id"], "/ballots"), headers=f.auth(who), json={"choices": ["yes"]})
        assert_problem(r, 403, "poll_not_eligible")
    await s.vote(client, e.c, in_unit2, by_unit["id"], choices=["yes"])
    assert (await s.get_poll(client, e.c, e.committee, by_unit["id"]))["voted_count"] == 1


# --- what a ballot may say ---------------------------------------------------------------------

async def test_malformed_ballots_are_refused_and_change_nothing(client: Any, session: Any) -> None:
    e = await s.estate(session)
    three = [{"label": "路灯"}, {"label": "井盖"}, {"label": "停车"}]
    single = await s.opened(client, e.c, e.committee, options=three)
    multiple = await s.opened(client, e.c, e.committee, kind="multiple", max_choices=2, options=three)
    dots = await s.opened(client, e.c, e.committee, kind="approval", max_choices=3, allow_stacking=True, options=three)
    ranked = await s.opened(client, e.c, e.committee, kind="ranked", options=three)
    scored = await s.opened(client, e.c, e.committee, kind="score", options=three)
    proposal = await s.opened(client, e.c, e.committee, kind="proposal", options=[])
    a, b, _ = s.option_ids(single)
    m1, m2, m3 = s.option_ids(multiple)
    d1, d2, _ = s.option_ids(dots)
    r1, r2, r3 = s.option_ids(ranked)
    s1, s2, _ = s.option_ids(scored)
    cases: list[tuple[dict[str, Any], dict[str, Any], str]] = [
        (single, {"choices": [a, b]}, "最多只能选1项。"),
        (single, {"choices": []}, "请先选择。"),
        (single, {}, "请先选择。"),
        (single, {"choices": ["not-an-option"]}, "选票上有不存在的选项。"),
        (single, {"choices": [m1]}, "选票上有不存在的选项。"),  # another poll's option
        (single, {"scores": {a: 3}}, "这项表决不打分，请直接选择。"),
        (multiple, {"choices": [m1, m2, m3]}, "最多只能选2项。"),
        (multiple, {"choices": [m1, m1]}, "同一个选项不能选两次。"),
        (dots, {"choices": [d1, d1, d2, d2]}, "最多只能选3项。"),
        (ranked, {"choices": [r1, r2, r1]}, "同一个选项不能选两次。"),
        (ranked, {"choices": [r1, "r9", r3]}, "选票上有不存在的选项。"),
        (scored, {"scores": {s1: 0}}, "分数须在1到5之间。"),
        (scored, {"scores": {s1: 6, s2: 3}}, "分数须在1到5之间。"),
        (scored, {"scores": {"nope": 3}}, "选票上有不存在的选项。"),
        (scored, {"choices": [s1]}, "这是评分表决，请给选项打分。"),
        (scored, {"scores": {}}, "请先选择。"),
        (proposal, {"choices": ["maybe"]}, "选票上有不存在的选项。"),
        (proposal, {"choices": ["yes", "no"]}, "最多只能选1项。"),
    ]
    for poll, body, text in cases:
        r = await client.post(s.url(e.c, poll["id"], "/ballots"), headers=f.auth(e.owners[0]), json=body)
        problem = assert_problem(r, 422, "invalid")
        assert msg(problem) == text, (body, problem)
    # shapes the schema itself refuses
    for poll, body in (
        (ranked, {"choices": [[r1, r2], [r3]]}),
        (ranked, {"choices": f"{r1},{r2}"}),
        (scored, {"scores": {s1: "five"}}),
        (scored, {"scores": [s1, 5]}),
        (single, {"choices": [a] * 91}),
        (single, {"choices": [a], "receipt": "R" * 41}),
        (single, {"choices": [a], "weight": 100}),
    ):
        r = await client.post(s.url(e.c, poll["id"], "/ballots"), headers=f.auth(e.owners[0]), json=body)
        assert_problem(r, 422)
    en = await client.post(s.url(e.c, scored["id"], "/ballots"), headers=f.auth(e.owners[0], "en"),
                           json={"scores": {s1: 9}})
    assert msg(assert_problem(en, 422)) == "Scores go from 1 to 5."
    for poll in (single, multiple, dots, ranked, scored, proposal):
        assert await unchanged(client, e, poll["id"]) == (0, 0, poll["chain_head"],
                                                           sorted((x["id"], False, None) for x in await s.electors(
                                                               client, e.c, e.committee, poll["id"])))
    # the well-formed versions go through
    await s.vote(client, e.c, e.owners[0], dots["id"], choices=[d1, d1, d2])
    await s.vote(client, e.c, e.owners[0], ranked["id"], choices=[r3, r1])  # a partial ranking is fine
    await s.vote(client, e.c, e.owners[0], scored["id"], scores={s1: 5, s2: 1})


# --- paper and proxy ballots ---------------------------------------------------------------------

async def test_paper_ballots_need_an_elector_on_this_roll_and_a_witness(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee, electorate="households")
    other = await s.opened(client, e.c, e.committee, electorate="households", title="另一项表决")
    a = s.option_ids(poll)[0]
    roll = await s.electors(client, e.c, e.grid_worker, poll["id"])
    foreign = (await s.electors(client, e.c, e.grid_worker, other["id"]))[0]["id"]
    before = await unchanged(client, e, poll["id"])
    h = f.auth(e.grid_worker)
    for body, loc in (
        ({"elector_id": "0" * 26, "choices": [a], "witness": "王"}, "elector_id"),
        ({"elector_id": foreign, "choices": [a], "witness": "王"}, "elector_id"),
        ({"elector_id": roll[0]["id"], "choices": [a]}, "witness"),
        ({"elector_id": roll[0]["id"], "choices": [a], "witness": ""}, "witness"),
        ({"elector_id": roll[0]["id"], "choices": [a], "witness": "王" * 51}, "witness"),
        ({"elector_id": roll[0]["id"], "choices": [a], "witness": "王", "channel": "fax"}, "channel"),
        ({"choices": [a], "witness": "王"}, "elector_id"),
        ({"elector_id": roll[0]["id"], "choices": ["nope"], "witness": "王"}, "choices"),
    ):
        r = await client.post(s.url(e.c, poll["id"], "/paper-ballots"), headers=h, json=body)
        problem = assert_problem(r, 422)
        assert any(err["loc"][-1] == loc for err in problem["errors"]), (body, problem)
    r = await client.post(s.url(e.c, poll["id"], "/paper-ballots"), headers=h,
                          json={"elector_id": foreign, "choices": [a], "witness": "王"})
    assert "不在本次表决的投票名册中" in msg(assert_problem(r, 422))
    assert await unchanged(client, e, poll["id"]) == before
    assert (await s.get_poll(client, e.c, e.committee, other["id"]))["voted_count"] == 0


async def test_one_elector_counts_once_across_channels(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee, electorate="households")
    pid = poll["id"]
    a, b = s.option_ids(poll)
    roll = {x["label"]: x for x in await s.electors(client, e.c, e.committee, pid)}
    assert len(roll) == 4 and all(x["voted"] is False for x in roll.values())
    home0 = next(x for x in roll.values() if "101" in x["label"])
    home1 = next(x for x in roll.values() if "102" in x["label"])
    # app first, then paper: refused, the facilitator is told how it was cast
    await s.vote(client, e.c, e.owners[0], pid, choices=[a])
    before = await unchanged(client, e, pid)
    r = await client.post(s.url(e.c, pid, "/paper-ballots"), headers=f.auth(e.grid_worker),
                          json={"elector_id": home0["id"], "choices": [b], "witness": "王阿姨"})
    assert assert_problem(r, 409, "ballot_cast_already_via")["detail"] == \
        "这位投票人已经通过手机投过票，同一人（同一户）只计一次。"
    assert await unchanged(client, e, pid) == before
    # proxy first, then the app: refused, the voter is told staff entered it
    cast = await s.paper(client, e.c, e.grid_worker, pid, elector_id=home1["id"], choices=[b], channel="proxy",
                         voter_name="业主2的女儿")
    assert cast["channel"] == "proxy" and cast["changed"] is False
    before = await unchanged(client, e, pid)
    r = await client.post(s.url(e.c, pid, "/ballots"), headers=f.auth(e.owners[1], "en"), json={"choices": [a]})
    body = assert_problem(r, 409, "ballot_cast_on_paper")
    assert "entered by staff (proxy)" in body["detail"]
    r = await client.post(s.url(e.c, pid, "/ballots"), headers=f.auth(e.owners[1]),
                          json={"choices": [a], "receipt": cast["receipt"]})
    assert_problem(r, 409, "ballot_cast_on_paper")  # not even with the paper ballot's receipt
    r = await client.post(s.url(e.c, pid, "/paper-ballots"), headers=f.auth(e.committee),
                          json={"elector_id": home1["id"], "choices": [a], "witness": "陈"})
    assert "代投" in assert_problem(r, 409, "ballot_cast_already_via")["detail"]
    assert await unchanged(client, e, pid) == before
    me = (await s.get_poll(client, e.c, e.owners[1], pid))["me"]
    assert me["voted"] is True and me["channel"] == "proxy" and me["may_change"] is False
    assert me["reason_text"] == "您的选票已由工作人员录入。" or me["reason_text"]
    listed = {x["id"]: x for x in await s.electors(client, e.c, e.committee, pid, voted="true")}
    assert set(listed) == {home0["id"], home1["id"]}
    assert listed[home1["id"]]["channel"] == "proxy" and listed[home1["id"]]["witness"] == "王阿姨"
    assert listed[home1["id"]]["entered_by_name"] == "刘网格" and listed[home1["id"]]["entered_at"]
    assert listed[home0["id"]]["channel"] == "app" and listed[home0["id"]]["entered_by_name"] is None
    found = await s.electors(client, e.c, e.committee, pid, q="102")
    assert [x["id"] for x in found] == [home1["id"]]
    await s.close(client, e.c, e.committee, pid)
    res = (await s.results(client, e.c, e.committee, pid))["result"]
    assert {o["id"]: o["count"] for o in res["options"]} == {a: 1, b: 1}


# --- receipts and changing a vote ---------------------------------------------------------------

async def test_forged_spent_and_foreign_receipts_are_refused(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee)
    pid = poll["id"]
    a, b = s.option_ids(poll)
    mine = await s.vote(client, e.c, e.owners[0], pid, choices=[a])
    theirs = await s.vote(client, e.c, e.owners[1], pid, choices=[b])
    before = await unchanged(client, e, pid)
    r = await client.post(s.url(e.c, pid, "/ballots"), headers=f.auth(e.owners[0]), json={"choices": [b]})
    body = assert_problem(r, 409, "ballot_change_needs_receipt")
    assert "回执" in body["detail"]
    altered = mine["receipt"][:-1] + ("X" if mine["receipt"][-1] != "X" else "Y")  # one character off
    for receipt in ("FAKE-RECE-IPT1", theirs["receipt"], altered):
        r = await client.post(s.url(e.c, pid, "/ballots"), headers=f.auth(e.owners[0]),
                              json={"choices": [b], "receipt": receipt})
        assert assert_problem(r, 403, "receipt_not_yours")["detail"] == "这张回执不是您的选票的回执。"
    # another voter cannot use my receipt either
    r = await client.post(s.url(e.c, pid, "/ballots"), headers=f.auth(e.owners[2]),
                          json={"choices": [b], "receipt": mine["receipt"]})
    assert r.status_code == 201 and r.json()["changed"] is False  # owners[2] had not voted: a new ballot
    assert (await client.get(f"/api/v1/receipts/{mine['receipt']}")).json()["counted"] is True
    before = (before[0] + 1, before[1] + 1)
    changed = await s.vote(client, e.c, e.owners[0], pid, choices=[b], receipt=mine["receipt"])
    assert changed["changed"] is True
    spent = await client.post(s.url(e.c, pid, "/ballots"), headers=f.auth(e.owners[0]),
                              json={"choices": [a], "receipt": mine["receipt"]})
    assert_problem(spent, 403, "receipt_not_yours")
    p = await s.get_poll(client, e.c, e.committee, pid)
    assert (p["voted_count"], p["chain_seq"]) == (3, 4)


async def test_no_change_when_the_poll_does_not_allow_it(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee, allow_change=False)
    a, b = s.option_ids(poll)
    first = await s.vote(client, e.c, e.owners[0], poll["id"], choices=[a])
    before = await unchanged(client, e, poll["id"])
    r = await client.post(s.url(e.c, poll["id"], "/ballots"), headers=f.auth(e.owners[0], "en"),
                          json={"choices": [b], "receipt": first["receipt"]})
    body = assert_problem(r, 409, "ballot_already_cast")
    assert body["detail"] == ("You (or your household) have already voted, and this poll does not allow "
                              "changing a vote.")
    assert await unchanged(client, e, poll["id"]) == before
    me = (await s.get_poll(client, e.c, e.owners[0], poll["id"]))["me"]
    assert me["voted"] is True and me["may_change"] is False
    assert "vote" not in (await s.get_poll(client, e.c, e.owners[0], poll["id"]))["actions"]


async def test_a_changed_vote_counts_once_as_the_latest(client: Any, session: Any) -> None:
    e = await s.estate(session)
    three = [{"label": "路灯"}, {"label": "井盖"}, {"label": "停车"}]
    poll = await s.opened(client, e.c, e.committee, options=three)
    pid = poll["id"]
    a, b, c = s.option_ids(poll)
    r1 = await s.vote(client, e.c, e.owners[0], pid, choices=[a])
    await s.vote(client, e.c, e.owners[1], pid, choices=[a])
    r2 = await s.vote(client, e.c, e.owners[0], pid, choices=[b], receipt=r1["receipt"])
    r3 = await s.vote(client, e.c, e.owners[0], pid, choices=[c], receipt=r2["receipt"])
    assert (r2["changed"], r3["changed"]) == (True, True)
    assert (r1["seq"], r2["seq"], r3["seq"]) == (1, 3, 4)
    p = await s.get_poll(client, e.c, e.committee, pid)
    assert p["voted_count"] == 2 and p["chain_seq"] == 4
    await s.close(client, e.c, e.committee, pid)
    res = (await s.results(client, e.c, e.owners[3], pid))["result"]
    assert {o["id"]: o["count"] for o in res["options"]} == {a: 1, b: 0, c: 1} and res["ballots"] == 2
    download = (await client.get(s.url(e.c, pid, "/chain"), headers=f.auth(e.owners[3]))).json()
    entries = {x["seq"]: x for x in download["entries"]}
    assert entries[3]["supersedes"] == 1 and entries[4]["supersedes"] == 3
    assert entries[1]["supersedes"] is None and entries[2]["supersedes"] is None
    # The box holds the two ballots that count, as last cast; the replaced ones are published nowhere.
    assert sorted(b["choices"] for b in download["ballots"]) == sorted([[a], [c]])
    box = {b["check"]: b["choices"] for b in download["ballots"]}
    assert box[r3["check_code"]] == [c]  # the voter's phone finds its ballot, as cast
    assert r1["check_code"] not in str(download) and r2["check_code"] not in str(download)
    report = verify.verify_download(download)
    assert report.ok, report.lines
    checks = [(await client.get(f"/api/v1/receipts/{r['receipt']}")).json()["counted"] for r in (r1, r2, r3)]
    assert checks == [False, False, True]


# --- named and secret polls ----------------------------------------------------------------------

async def test_named_poll_shows_the_committee_who_chose_what(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee, secret=False, electorate="households")
    pid = poll["id"]
    a, b = s.option_ids(poll)
    await s.vote(client, e.c, e.owners[0], pid, choices=[a])
    await s.vote(client, e.c, e.family[0], pid, choices=[b])  # the household changes its named vote
    roll = {x["label"]: x["id"] for x in await s.electors(client, e.c, e.committee, pid)}
    home3 = next(v for k, v in roll.items() if "104" in k)
    await s.paper(client, e.c, e.grid_worker, pid, elector_id=home3, choices=[a])
    r = await client.get(s.url(e.c, pid, "/named-ballots"), headers=f.auth(e.committee))
    assert r.status_code == 200, r.text
    rows = sorted((x["elector"], x["choices"], x["channel"]) for x in r.json())
    assert len(rows) == 2
    labels = [x[0] for x in rows]
    assert any("101" in x for x in labels) and any("104" in x for x in labels)
    assert ("不加装" in rows[0][1] or "不加装" in rows[1][1]) and ["加装"] in (rows[0][1], rows[1][1])
    assert {x[2] for x in rows} == {"app", "paper"}
    stored = (await session.execute(select(PollBallot).where(PollBallot.poll_id == pid))).scalars().all()
    await session.commit()
    assert all(x.elector_id is not None for x in stored)
    p = await s.get_poll(client, e.c, e.committee, pid)
    assert p["voted_count"] == 2 and p["chain_seq"] == 3


async def test_secret_poll_keeps_no_link_from_voter_to_ballot(client: Any, session: Any) -> None:
    e = await s.estate(session, areas=[f"{60 + i}.00" for i in range(12)])
    poll = await s.opened(client, e.c, e.committee, electorate="owners", kind="proposal", options=[])
    pid = poll["id"]
    for i, owner in enumerate(e.owners):
        await s.vote(client, e.c, owner, pid, choices=["yes" if i % 3 else "no"])
    roll = await s.electors(client, e.c, e.committee, pid)
    await s.vote(client, e.c, e.owners[0], pid, choices=["abstain"], expect=409)  # a change needs the receipt
    r = await client.get(s.url(e.c, pid, "/named-ballots"), headers=f.auth(e.committee, "en"))
    assert assert_problem(r, 403, "poll_is_secret")["detail"] == \
        "This is a secret ballot: nobody can see who chose what."
    stored = (await session.execute(select(PollBallot).where(PollBallot.poll_id == pid))).scalars().all()
    electors = (await session.execute(select(PollElector).where(PollElector.poll_id == pid))).scalars().all()
    await session.commit()
    assert len(stored) == 12
    assert all(x.elector_id is None for x in stored)
    assert "created_at" not in PollBallot.__table__.c and "person_id" not in PollBallot.__table__.c
    # ballot ids are random: their order says nothing about the order of voting
    by_id = [x.seq for x in sorted(stored, key=lambda x: x.id)]
    assert by_id != sorted(by_id)
    assert len({x.id[:8] for x in stored}) > 6  # no shared time prefix
    # an elector's receipt check is not the ballot's receipt hash
    checks = {x.receipt_check for x in electors}
    assert not checks & {x.receipt_hash for x in stored}
    # the download names no elector
    await s.close(client, e.c, e.committee, pid)
    download = (await client.get(s.url(e.c, pid, "/chain"), headers=f.auth(e.owners[1]))).json()
    text = json.dumps(download, ensure_ascii=False)
    for el in roll:
        assert el["id"] not in text and el["label"] not in text
    for owner in e.owners:
        assert owner.id not in text and owner.name not in text


# --- hidden results ------------------------------------------------------------------------------

COUNT_WORDS = re.compile(r"\d+\s*票|votes?\b|得票|count", re.IGNORECASE)


async def test_hidden_results_leak_nowhere_until_the_close(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee, hide_results=True, kind="proposal", options=[],
                          title="是否更换物业")
    pid = poll["id"]
    for owner in e.owners[:3]:
        await s.vote(client, e.c, owner, pid, choices=["yes"])
    for who in (e.committee, e.owners[3]):
        h = f.auth(who)
        res = (await client.get(s.url(e.c, pid, "/results"), headers=h)).json()
        assert res["visible"] is False and res["result"] is None
        got = (await client.get(s.url(e.c, pid), headers=h)).json()
        assert got["summary"] is None and got["passed"] is None and got["results_visible"] is False
        items = (await client.get(s.url(e.c), headers=h)).json()["items"]
        assert [(x["summary"], x["passed"]) for x in items] == [(None, None)]
        chain = (await client.get(s.url(e.c, pid, "/chain"), headers=h)).json()
        # a sealed poll's entries prove inclusion and hold commitments only
        assert len(chain["entries"]) == 3 and all("choices" not in x for x in chain["entries"])
        assert '"yes"' not in json.dumps(chain["entries"]) and chain["result"] is None and chain["ballots"] is None
        stream = await client.get(s.url(e.c, pid, "/results/stream"), headers=h, params={"max_events": 1})
        assert stream.status_code == 200
        frames = [x for x in stream.text.split("\n\n") if x.startswith("event: results")]
        data = json.loads(frames[0].split("data: ", 1)[1])
        assert data["visible"] is False and data["result"] is None
        assert '"yes":' not in stream.text and '"count"' not in stream.text and "explanation" not in stream.text
    named = await client.get(s.url(e.c, pid, "/named-ballots"), headers=f.auth(e.committee))
    assert named.status_code == 403  # secret, and hidden anyway
    # an error message does not give the count away either
    late = await client.post(s.url(e.c, pid, "/ballots"), headers=f.auth(e.owners[0]), json={"choices": ["no"]})
    assert "3" not in late.json()["detail"]
    # the share page and its Open Graph card
    share = await client.post(s.url(e.c, pid, "/share"), headers=f.auth(e.owners[3]))
    assert share.status_code == 200, share.text
    page = await client.get(f"/s/{share.json()['code']}")
    assert page.status_code == 200 and "是否更换物业" in page.text
    og = re.search(r'<meta property="og:description" content="([^"]*)"', page.text)
    assert og is not None
    assert not re.search(r"\d", og.group(1)) and "通过" not in og.group(1)
    assert "3 / 4" not in page.text and "已投" not in page.text and "通过：" not in page.text

    # after the close everything appears
    await s.close(client, e.c, e.committee, pid)
    res = await s.results(client, e.c, e.owners[3], pid)
    assert res["visible"] is True and res["result"]["yes"] == 3
    got = await s.get_poll(client, e.c, e.owners[3], pid)
    assert got["summary"] and got["summary"].startswith("通过") and got["passed"] is True
    items = (await client.get(s.url(e.c), headers=f.auth(e.owners[3]))).json()["items"]
    assert items[0]["summary"] == got["summary"]
    chain = (await client.get(s.url(e.c, pid, "/chain"), headers=f.auth(e.owners[3]))).json()
    assert len(chain["entries"]) == 3 and verify.verify_download(chain).ok
    stream = await client.get(s.url(e.c, pid, "/results/stream"), headers=f.auth(e.owners[3]),
                              params={"max_events": 1})
    assert '"visible": true' in stream.text
    page = await client.get(f"/s/{share.json()['code']}")
    og = re.search(r'<meta property="og:description" content="([^"]*)"', page.text)
    assert og is not None and "通过" in og.group(1)


async def test_named_ballots_of_a_hidden_poll_wait_for_the_close(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee, secret=False, hide_results=True)
    a, _ = s.option_ids(poll)
    await s.vote(client, e.c, e.owners[0], poll["id"], choices=[a])
    r = await client.get(s.url(e.c, poll["id"], "/named-ballots"), headers=f.auth(e.committee))
    assert assert_problem(r, 403, "poll_results_hidden")["detail"] == "结果在截止前不公开。"
    await s.close(client, e.c, e.committee, poll["id"])
    r = await client.get(s.url(e.c, poll["id"], "/named-ballots"), headers=f.auth(e.committee))
    assert r.status_code == 200 and [x["choices"] for x in r.json()] == [["加装"]]
    assert "业主1" in r.json()[0]["elector"]
