"""Every poll endpoint refuses bad input, the wrong role, another community's ids and a stale
state with a clear problem+json in the caller's language, and a refusal changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from app.core import clock
from app.polls.models import Poll
from tests import factories as f
from tests.factories import assert_problem
from tests.issues.support import place, report
from tests.polls import support as s


async def state(client: Any, e: s.Estate, poll_id: str) -> tuple[Any, ...]:
    """What a refused request must leave as it was: the poll's state, counts and chain, and who voted."""
    p = await s.get_poll(client, e.c, e.committee, poll_id)
    voted: list[Any] = []
    if p["status"] not in ("draft", "scheduled"):
        voted = sorted((x["id"], x["voted"], x["channel"]) for x in await s.electors(client, e.c, e.committee, poll_id))
    return (p["status"], p["version"], p["title"], p["voted_count"], p["chain_seq"], p["chain_head"], voted)


def field_msg(body: dict[str, Any], *loc: Any) -> str:
    """The message of the error entry at ``loc`` (the part after "body")."""
    for entry in body["errors"]:
        if list(entry["loc"])[1:] == list(loc):
            return str(entry["msg"])
    raise AssertionError(f"no error at {loc}: {body['errors']}")


# --- building a poll ---------------------------------------------------------------------------

async def test_create_refuses_malformed_oversized_and_missing_fields(client: Any, session: Any) -> None:
    e = await s.estate(session)
    h = f.auth(e.committee)
    cases: list[tuple[dict[str, Any], tuple[Any, ...]]] = [
        ({k: v for k, v in s.poll_body().items() if k != "title"}, ("title",)),
        ({k: v for k, v in s.poll_body().items() if k != "kind"}, ("kind",)),
        (s.poll_body(title=""), ("title",)),
        (s.poll_body(title="问" * 201), ("title",)),
        (s.poll_body(description="长" * 4001), ("description",)),
        (s.poll_body(options=[{"label": f"选项{i}"} for i in range(31)]), ("options",)),
        (s.poll_body(options=[{"label": "甲" * 201}, {"label": "乙"}]), ("options", 0, "label")),
        (s.poll_body(kind="dictator"), ("kind",)),
        (s.poll_body(electorate="everyone"), ("electorate",)),
        (s.poll_body(closes_at="next tuesday"), ("closes_at",)),
        (s.poll_body(closes_at="2030-01-01T18:00:00"), ("closes_at",)),  # no offset: no moment (was a 500)
        (s.poll_body(opens_at="2030-01-01T08:00"), ("opens_at",)),
        (s.poll_body(notice_days=61), ("notice_days",)),
        (s.poll_body(max_choices=0), ("max_choices",)),
        (s.poll_body(secret="perhaps"), ("secret",)),
        (s.poll_body(sneaky=True), ("sneaky",)),
        (s.poll_body(options=[{"label": "甲", "colour": "red"}, {"label": "乙"}]), ("options", 0, "colour")),
        (s.poll_body(options=[{"label": "只有一个"}]), ("options",)),
        (s.poll_body(options=[{"label": "同"}, {"label": "同"}]), ("options",)),
        (s.poll_body(options=[{"label": "甲"}, {"label": "  "}]), ("options", 1, "label")),
        (s.poll_body(kind="multiple"), ("max_choices",)),
        (s.poll_body(kind="multiple", max_choices=3), ("max_choices",)),
        (s.poll_body(kind="approval"), ("max_choices",)),
        (s.poll_body(matter="raise_fund"), ("rule",)),
        (s.poll_body(kind="proposal", options=[], matter="raise_fund"), ("rule",)),  # needs owners
        (s.poll_body(kind="proposal", options=[], electorate="owners", matter="buy_a_yacht"), ("rule",)),
        (s.poll_body(kind="proposal", options=[], preset="dictatorship"), ("rule",)),
        (s.poll_body(kind="proposal", options=[], rule={"measures": ["area"]}), ("rule",)),
        (s.poll_body(kind="proposal", options=[], rule={"threshold": "nine_tenths"}), ("rule", "threshold")),
        (s.poll_body(closes_at=(clock.now() - timedelta(minutes=1)).isoformat()), ("closes_at",)),
        (s.poll_body(opens_at=(clock.now() + timedelta(days=5)).isoformat()), ("opens_at",)),
        (s.poll_body(scope_unit="2"), ("scope_unit",)),
    ]
    for body, loc in cases:
        r = await client.post(s.url(e.c), headers=h, json=body)
        problem = assert_problem(r, 422)
        assert field_msg(problem, *loc), (body, problem)
    r = await client.post(s.url(e.c), headers={**h, "Content-Type": "application/json"}, content=b"{not json")
    assert_problem(r, 422)
    r = await client.post(s.url(e.c), headers=h, json=["a", "list"])
    assert_problem(r, 422)
    listed = (await client.get(s.url(e.c), headers=h)).json()
    assert listed["items"] == []  # nothing was created by any of them


async def test_create_errors_speak_the_callers_language(client: Any, session: Any) -> None:
    e = await s.estate(session)
    past = (clock.now() - timedelta(hours=1)).isoformat()
    zh = await client.post(s.url(e.c), headers=f.auth(e.committee), json=s.poll_body(closes_at=past))
    body = assert_problem(zh, 422, "invalid")
    assert field_msg(body, "closes_at") == "截止时间必须晚于现在。"
    assert zh.headers["content-language"] == "zh-CN"
    en = await client.post(s.url(e.c), headers=f.auth(e.committee, "en"),
                           json=s.poll_body(kind="multiple", max_choices=5))
    body = assert_problem(en, 422, "invalid")
    assert field_msg(body, "max_choices") == "The number of choices cannot be more than the number of options (2)."
    en = await client.post(s.url(e.c), headers=f.auth(e.committee, "en"),
                           json=s.poll_body(kind="proposal", options=[], preset="civil_code_278_major"))
    assert field_msg(assert_problem(en, 422), "rule") == "This rule applies only to owners voting by floor area."


async def test_an_issue_or_building_of_another_community_is_refused(client: Any, session: Any) -> None:
    e = await s.estate(session)
    elsewhere = await place(client, session, name="别处社区")
    foreign_issue = (await report(client, elsewhere))["id"]
    h = f.auth(e.committee)
    r = await client.post(s.url(e.c), headers=h, json=s.poll_body(
        options=[{"issue_id": foreign_issue}, {"label": "修井盖"}]))
    assert field_msg(assert_problem(r, 422), "options", 0, "issue_id") == "找不到这个问题，或它不属于本社区。"
    r = await client.post(s.url(e.c), headers=h, json=s.poll_body(issue_id=foreign_issue))
    assert field_msg(assert_problem(r, 422), "issue_id")
    r = await client.post(s.url(e.c), headers=h, json=s.poll_body(scope_building_id=elsewhere.building_id))
    assert field_msg(assert_problem(r, 422), "scope_building_id") == "找不到这栋楼，或它不属于本社区。"
    r = await client.post(s.url(e.c), headers=h, json=s.poll_body(options=[{"issue_id": "0" * 26}, {"label": "乙"}]))
    assert_problem(r, 422)
    # and through an edit too
    poll = await s.create(client, e.c, e.committee)
    r = await client.patch(s.url(e.c, poll["id"]), headers=h,
                           json={"version": poll["version"], "scope_building_id": elsewhere.building_id})
    assert_problem(r, 422)
    r = await client.patch(s.url(e.c, poll["id"]), headers=h,
                           json={"version": poll["version"], "options": [{"issue_id": foreign_issue}, {"label": "乙"}]})
    assert_problem(r, 422)
    after = await s.get_poll(client, e.c, e.committee, poll["id"])
    assert after["version"] == poll["version"] and after["scope_building_id"] is None
    assert [o["label"] for o in after["options"]] == ["加装", "不加装"]
    assert len((await client.get(s.url(e.c), headers=h)).json()["items"]) == 1


async def test_patch_refuses_bad_input_and_stale_versions(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.create(client, e.c, e.committee)
    h = f.auth(e.committee)
    pid = poll["id"]
    before = await state(client, e, pid)
    for body in ({"title": "新标题"}, {"version": 0, "title": "新"}, {"version": poll["version"], "title": ""},
                 {"version": poll["version"], "kind": "lottery"}, {"version": poll["version"], "extra": 1},
                 {"version": poll["version"], "options": [{"label": "一个"}]},
                 {"version": poll["version"], "closes_at": (clock.now() - timedelta(days=1)).isoformat()},
                 {"version": poll["version"], "closes_at": "2030-01-01T18:00:00"},
                 {"version": poll["version"], "opens_at": "2030-01-01T08:00:00"}):
        assert_problem(await client.patch(s.url(e.c, pid), headers=h, json=body), 422)
    assert await state(client, e, pid) == before
    ok = await client.patch(s.url(e.c, pid), headers=h, json={"version": poll["version"], "title": "加装电梯（修订）"})
    assert ok.status_code == 200 and ok.json()["version"] == poll["version"] + 1
    # a second editor still holding the old version is refused, and changes nothing
    stale = await client.patch(s.url(e.c, pid), headers=f.auth(e.committee, "en"),
                               json={"version": poll["version"], "title": "旧版本的修改"})
    body = assert_problem(stale, 409, "poll_changed_meanwhile")
    assert body["detail"] == "Someone changed this poll a moment ago; reload and edit again."
    after = await s.get_poll(client, e.c, e.committee, pid)
    assert after["title"] == "加装电梯（修订）" and after["version"] == poll["version"] + 1


# --- roles -------------------------------------------------------------------------------------

async def test_wrong_roles_are_refused(client: Any, session: Any) -> None:
    e = await s.estate(session)
    owner, gw = e.owners[0], e.grid_worker
    r = await client.post(s.url(e.c), headers=f.auth(owner), json=s.poll_body())
    assert assert_problem(r, 403, "forbidden_role")["detail"] == "您在本社区的身份不能进行此操作。"
    assert_problem(await client.post(s.url(e.c), headers=f.auth(gw), json=s.poll_body()), 403, "forbidden_role")
    draft = await s.create(client, e.c, e.committee)
    # a resident does not even see a draft, so cannot act on it
    assert_problem(await client.post(s.url(e.c, draft["id"], "/open"), headers=f.auth(owner), json={"now": True}), 403)
    poll = await s.opened(client, e.c, e.committee, secret=False)
    pid = poll["id"]
    await s.vote(client, e.c, e.owners[1], pid, choices=[s.option_ids(poll)[0]])
    before = await state(client, e, pid)
    h = f.auth(owner, "en")
    el = (await s.electors(client, e.c, e.committee, pid))[0]["id"]
    for method, tail, body in (
        ("patch", "", {"version": poll["version"], "title": "改"}),
        ("post", "/open", {"now": True}),
        ("post", "/close", None),
        ("post", "/publish", {"note": "x"}),
        ("post", "/paper-ballots", {"elector_id": el, "choices": [s.option_ids(poll)[0]], "witness": "我自己"}),
        ("get", "/electors", None),
        ("get", "/named-ballots", None),
    ):
        kw: dict[str, Any] = {"json": body} if body is not None else {}
        r = await client.request(method.upper(), s.url(e.c, pid, tail), headers=h, **kw)
        assert assert_problem(r, 403, "forbidden_role")["detail"] == "Your role in this community does not allow this."
    # facilitators enter paper ballots and see the roll, but only the committee sees named ballots
    assert (await client.get(s.url(e.c, pid, "/electors"), headers=f.auth(gw))).status_code == 200
    assert_problem(await client.get(s.url(e.c, pid, "/named-ballots"), headers=f.auth(gw)), 403, "forbidden_role")
    assert_problem(await client.post(s.url(e.c, pid, "/close"), headers=f.auth(gw)), 403, "forbidden_role")
    assert await state(client, e, pid) == before
    # nobody signed in
    assert (await client.get(s.url(e.c, pid))).status_code == 401
    assert (await client.post(s.url(e.c, pid, "/ballots"), json={"choices": []})).status_code == 401


async def test_answering_an_objection_needs_the_committee(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee)
    await s.close(client, e.c, e.committee, poll["id"])
    r = await client.post(s.url(e.c, poll["id"], "/publish"), headers=f.auth(e.committee), json={"note": "公示"})
    assert r.status_code == 200
    o = await client.post(s.url(e.c, poll["id"], "/objections"), headers=f.auth(e.owners[0]), json={"body": "有异议"})
    assert o.status_code == 201
    oid = o.json()["id"]
    r = await client.post(s.url(e.c, poll["id"], f"/objections/{oid}/answer"), headers=f.auth(e.owners[1]),
                          json={"answer": "我来答"})
    assert_problem(r, 403, "forbidden_role")
    r = await client.post(s.url(e.c, poll["id"], f"/objections/{'0' * 26}/answer"), headers=f.auth(e.committee),
                          json={"answer": "答复"})
    assert_problem(r, 404, "objection_not_found")
    r = await client.post(s.url(e.c, poll["id"], f"/objections/{oid}/answer"), headers=f.auth(e.committee),
                          json={"answer": ""})
    assert_problem(r, 422)
    r = await client.post(s.url(e.c, poll["id"], "/objections"), headers=f.auth(e.owners[0]), json={"body": "x" * 2001})
    assert_problem(r, 422)
    # the outsider is not on the roll, so may not object
    r = await client.post(s.url(e.c, poll["id"], "/objections"), headers=f.auth(e.family[0]), json={"body": "我也说"})
    assert r.status_code == 201  # residents poll: the family member is on the roll
    assert e.outsider is not None
    late = await f.member(session, e.c, name="后来者")
    assert_problem(await client.post(s.url(e.c, poll["id"], "/objections"), headers=f.auth(late),
                                     json={"body": "我刚搬来"}), 403, "poll_not_eligible")
    listed = (await client.get(s.url(e.c, poll["id"], "/objections"), headers=f.auth(e.owners[2]))).json()
    assert len(listed) == 2 and all(x["answer"] == "" for x in listed)


# --- another community's ids -------------------------------------------------------------------

async def test_a_poll_is_not_reached_through_another_communitys_path(client: Any, session: Any) -> None:
    a = await s.estate(session, name="甲社区")
    b = await s.estate(session, name="乙社区")
    poll = await s.opened(client, a.c, a.committee, secret=False)
    pid = poll["id"]
    opt = s.option_ids(poll)[0]
    el = (await s.electors(client, a.c, a.committee, pid))[0]["id"]
    before = await state(client, a, pid)
    for who in (b.committee, b.owners[0]):
        h = f.auth(who)
        for method, tail, body in (
            ("get", "", None), ("patch", "", {"version": poll["version"], "title": "改"}),
            ("post", "/open", {"now": True}), ("post", "/close", None), ("post", "/publish", {}),
            ("post", "/ballots", {"choices": [opt]}),
            ("post", "/paper-ballots", {"elector_id": el, "choices": [opt], "witness": "张三"}),
            ("get", "/electors", None), ("get", "/named-ballots", None), ("get", "/results", None),
            ("get", "/results/stream?max_events=1", None), ("get", "/chain", None), ("get", "/objections", None),
            ("post", "/objections", {"body": "异议"}), ("post", "/share", None),
        ):
            kw: dict[str, Any] = {"json": body} if body is not None else {}
            r = await client.request(method.upper(), s.url(b.c, pid, tail), headers=h, **kw)
            if r.status_code == 403:  # a role check that comes before the lookup
                assert r.json()["code"] == "forbidden_role", (method, tail, r.text)
                continue
            assert_problem(r, 404, "poll_not_found")
    assert await state(client, a, pid) == before
    listed = (await client.get(s.url(b.c), headers=f.auth(b.committee))).json()
    assert listed["items"] == []
    # a member of A using B's path is not a member there at all
    r = await client.post(s.url(b.c, pid, "/ballots"), headers=f.auth(a.owners[0]), json={"choices": [opt]})
    assert r.status_code in (403, 404)
    assert await state(client, a, pid) == before


# --- states ------------------------------------------------------------------------------------

async def test_actions_in_the_wrong_state_are_refused_and_change_nothing(client: Any, session: Any) -> None:
    e = await s.estate(session)
    h = f.auth(e.committee)
    draft = await s.create(client, e.c, e.committee)
    did = draft["id"]
    # a draft: residents do not see it; it cannot be closed or published
    assert_problem(await client.post(s.url(e.c, did, "/ballots"), headers=f.auth(e.owners[0]),
                                     json={"choices": [s.option_ids(draft)[0]]}), 404, "poll_not_found")
    assert_problem(await client.get(s.url(e.c, did), headers=f.auth(e.owners[0])), 404)
    body = assert_problem(await client.post(s.url(e.c, did, "/close"), headers=h), 409, "poll_close_not_now")
    assert body["detail"] == "表决草稿，不能截止。"
    assert_problem(await client.post(s.url(e.c, did, "/publish"), headers=h, json={}), 409, "poll_publish_not_now")
    assert_problem(await client.get(s.url(e.c, did, "/chain"), headers=h), 404)
    assert_problem(await client.post(s.url(e.c, did, "/share"), headers=h), 404)
    assert (await s.get_poll(client, e.c, e.committee, did))["status"] == "draft"

    # scheduled: visible, but not open for votes yet
    later = (clock.now() + timedelta(days=1)).isoformat()
    sched = await s.create(client, e.c, e.committee, opens_at=later)
    r = await client.post(s.url(e.c, sched["id"], "/open"), headers=h, json={})
    assert r.status_code == 200 and r.json()["status"] == "scheduled"
    assert r.json()["electorate_size"] == 0  # frozen at opening, not at scheduling
    r = await client.post(s.url(e.c, sched["id"], "/ballots"), headers=f.auth(e.owners[0]),
                          json={"choices": [s.option_ids(sched)[0]]})
    assert assert_problem(r, 409, "poll_vote_not_now")["detail"] == "表决待开始，现在不能投票。"
    r = await client.post(s.url(e.c, sched["id"], "/ballots"), headers=f.auth(e.owners[0], "en"),
                          json={"choices": [s.option_ids(sched)[0]]})
    assert assert_problem(r, 409)["detail"] == "The poll is scheduled; you cannot vote now."

    # open: not editable, not openable again, not publishable, no objections yet
    poll = await s.opened(client, e.c, e.committee)
    pid = poll["id"]
    a = s.option_ids(poll)[0]
    await s.vote(client, e.c, e.owners[0], pid, choices=[a])
    before = await state(client, e, pid)
    r = await client.patch(s.url(e.c, pid), headers=h, json={"version": poll["version"], "title": "改"})
    body = assert_problem(r, 409, "poll_edit_not_now")
    assert body["detail"] == "表决投票中，不能再修改。"
    body = assert_problem(await client.post(s.url(e.c, pid, "/open"), headers=h, json={"now": True}), 409,
                          "poll_open_not_now")
    assert "已已" not in body["detail"] and "投票中" in body["detail"]
    assert_problem(await client.post(s.url(e.c, pid, "/publish"), headers=h, json={}), 409, "poll_publish_not_now")
    r = await client.post(s.url(e.c, pid, "/objections"), headers=f.auth(e.owners[1], "en"), json={"body": "太早"})
    body = assert_problem(r, 409, "poll_object_not_now")
    assert body["detail"] == "Objections can be filed only during the notice period (now: open)."
    assert await state(client, e, pid) == before

    # closed: no votes, no second close, no answers before the notice
    await s.close(client, e.c, e.committee, pid)
    before = await state(client, e, pid)
    r = await client.post(s.url(e.c, pid, "/ballots"), headers=f.auth(e.owners[1]), json={"choices": [a]})
    assert assert_problem(r, 409, "poll_vote_not_now")["detail"] == "表决已截止，现在不能投票。"
    el = next(x for x in await s.electors(client, e.c, e.committee, pid) if not x["voted"])
    r = await client.post(s.url(e.c, pid, "/paper-ballots"), headers=h,
                          json={"elector_id": el["id"], "choices": [a], "witness": "王"})
    assert_problem(r, 409, "poll_vote_not_now")
    assert_problem(await client.post(s.url(e.c, pid, "/close"), headers=h), 409, "poll_close_not_now")
    assert_problem(await client.post(s.url(e.c, pid, "/open"), headers=h, json={"now": True}), 409)
    r = await client.post(s.url(e.c, pid, f"/objections/{'0' * 26}/answer"), headers=h, json={"answer": "答"})
    assert_problem(r, 409, "poll_answer_not_now")
    assert await state(client, e, pid) == before
    # published (notice): once only
    assert (await client.post(s.url(e.c, pid, "/publish"), headers=h, json={"note": "公示"})).status_code == 200
    assert_problem(await client.post(s.url(e.c, pid, "/publish"), headers=h, json={}), 409, "poll_publish_not_now")
    body = assert_problem(await client.post(s.url(e.c, pid, "/publish"), headers=h, json={"note": "x" * 2001}), 422)
    assert body["errors"]


async def test_a_ballot_after_the_closing_time_is_refused_before_the_sweep(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee)
    past = clock.now() - timedelta(seconds=1)
    await session.execute(update(Poll).where(Poll.id == poll["id"]).values(closes_at=past))
    await session.commit()
    r = await client.post(s.url(e.c, poll["id"], "/ballots"), headers=f.auth(e.owners[0]),
                          json={"choices": [s.option_ids(poll)[0]]})
    assert_problem(r, 409, "poll_vote_not_now")
    after = await s.get_poll(client, e.c, e.committee, poll["id"])
    assert after["voted_count"] == 0 and after["chain_seq"] == 0


async def test_open_refuses_an_empty_electorate_and_a_past_closing_time(client: Any, session: Any) -> None:
    e = await s.estate(session)
    empty_building = await f.building(session, e.c, name="9栋")
    poll = await s.create(client, e.c, e.committee, electorate="households", scope_building_id=empty_building.id)
    r = await client.post(s.url(e.c, poll["id"], "/open"), headers=f.auth(e.committee), json={"now": True})
    assert "投票名册是空的" in assert_problem(r, 409, "poll_electorate_empty")["detail"]
    after = await s.get_poll(client, e.c, e.committee, poll["id"])
    assert after["status"] == "draft" and after["electorate_size"] == 0 and after["version"] == poll["version"]


async def test_query_and_path_parameters_are_checked(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee)
    h = f.auth(e.committee)
    assert_problem(await client.get(s.url(e.c), headers=h, params={"status": "bogus"}), 422)
    assert_problem(await client.get(s.url(e.c), headers=h, params={"status": "OPEN"}), 422)
    assert_problem(await client.get(s.url(e.c), headers=h, params={"status": "open," * 30}), 422)
    assert_problem(await client.get(s.url(e.c), headers=h, params={"limit": 1000}), 422)
    assert_problem(await client.get(s.url(e.c), headers=h, params={"issue_id": "x" * 27}), 422)
    assert_problem(await client.get(s.url(e.c, "x" * 27), headers=h), 422)
    assert_problem(await client.get(s.url(e.c, "0" * 26), headers=h), 404, "poll_not_found")
    assert_problem(await client.get(s.url(e.c, poll["id"], "/electors"), headers=h, params={"q": "x" * 51}), 422)
    assert_problem(await client.get(s.url(e.c, poll["id"], "/electors"), headers=h, params={"voted": "maybe"}), 422)
    assert_problem(await client.get(s.url(e.c, poll["id"], "/results/stream"), headers=h,
                                    params={"max_events": 0}), 422)
    assert_problem(await client.get("/api/v1/receipts/no spaces here"), 422)
    assert_problem(await client.get("/api/v1/receipts/" + "A" * 41), 422)
    r = await client.get("/api/v1/receipts/ABCD-EFGH-JKLM")
    assert r.status_code == 200 and r.json()["found"] is False
    open_only = (await client.get(s.url(e.c), headers=h, params={"status": "open"})).json()["items"]
    assert [p["id"] for p in open_only] == [poll["id"]]
