"""GET /communities/{cid}/home: what waits for the caller, a card per capability, filled by the
domains through the home-card registry."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.home import service as home_service
from app.home.schemas import HomeCard, HomeItem
from tests import factories as f
from tests.issues import support as issues
from tests.polls import support as polls


async def get_home(client: Any, cid: str, who: Any, lang: str = "zh-CN") -> dict[str, Any]:
    r = await client.get(f"/api/v1/communities/{cid}/home", headers=f.auth(who, lang))
    assert r.status_code == 200, r.text
    return dict(r.json())


def cards(home: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["key"]: c for c in home["cards"]}


def titles(card: dict[str, Any]) -> list[str]:
    return [i["title"] for i in card["items"]]


# --- votes ------------------------------------------------------------------------------------

async def test_open_polls_i_have_not_voted_in_come_first_then_those_i_may_still_change(
        client: Any, session: Any) -> None:
    e = await polls.estate(session)
    soon = await polls.opened(client, e.c, e.committee, title="周六开会吗", closes_at=polls.poll_body()["closes_at"])
    owners_only = await polls.opened(client, e.c, e.committee, title="筹集维修资金", kind="proposal", options=[],
                                     electorate="owners", matter="raise_fund")
    fixed = await polls.opened(client, e.c, e.committee, title="一次定终身", allow_change=False)
    await polls.create(client, e.c, e.committee, title="还是草稿")

    home = cards(await get_home(client, str(e.c.id), e.owners[0]))
    vote = home["polls.vote"]
    assert vote["count"] == 3 and set(titles(vote)) == {"周六开会吗", "筹集维修资金", "一次定终身"}
    assert {i["note"] for i in vote["items"]} == {"您还没有投票", "您家还没有投票"}
    for i in vote["items"]:
        assert i["href"].startswith(f"/c/{e.c.id}/polls/") and i["at"] and i["at_label"] == "截止"

    await polls.vote(client, e.c, e.owners[0], soon["id"], choices=[polls.option_ids(soon)[0]])
    await polls.vote(client, e.c, e.owners[0], fixed["id"], choices=[polls.option_ids(fixed)[0]])
    vote = cards(await get_home(client, str(e.c.id), e.owners[0]))["polls.vote"]
    # Voted where a change is allowed: still there, after the unvoted, saying so; voted for good: gone.
    assert vote["count"] == 1
    assert titles(vote) == ["筹集维修资金", "周六开会吗"]
    assert [i["note"] for i in vote["items"]] == ["您家还没有投票", "已投票 · 截止前可以修改"]

    # Not on the roll of the owners' poll (a member without a household): it is not offered.
    outsider = cards(await get_home(client, str(e.c.id), e.outsider))["polls.vote"]
    assert set(titles(outsider)) == {"周六开会吗", "一次定终身"} and owners_only["title"] not in titles(outsider)

    await polls.close(client, e.c, e.committee, soon["id"])
    vote = cards(await get_home(client, str(e.c.id), e.outsider))["polls.vote"]
    assert "周六开会吗" not in titles(vote)


async def test_with_nothing_to_vote_on_the_card_says_so_and_leads_to_all_polls(client: Any, session: Any) -> None:
    e = await polls.estate(session)
    vote = cards(await get_home(client, str(e.c.id), e.owners[1]))["polls.vote"]
    assert vote["count"] == 0 and vote["items"] == []
    assert "会在这里提醒您" in vote["empty"]
    assert vote["actions"] == [{"label": "看全部投票", "href": f"/c/{e.c.id}/polls", "primary": False}]


async def test_the_committee_sees_what_running_the_polls_waits_on(client: Any, session: Any) -> None:
    e = await polls.estate(session)
    draft = await polls.create(client, e.c, e.committee, title="还是草稿")
    done = await polls.opened(client, e.c, e.committee, title="已经投完")
    await polls.close(client, e.c, e.committee, done["id"])
    manage = cards(await get_home(client, str(e.c.id), e.committee))["polls.manage"]
    assert manage["count"] == 2
    notes = {i["title"]: i["note"] for i in manage["items"]}
    assert notes == {"还是草稿": "草稿，还没有开放投票", "已经投完": "已截止，请公示结果"}
    assert draft["id"] in " ".join(i["href"] for i in manage["items"])
    assert "polls.manage" not in cards(await get_home(client, str(e.c.id), e.owners[0]))


# --- issues -------------------------------------------------------------------------------------

async def test_a_resolved_issue_waits_for_its_reporter_and_the_grid_worker_to_verify(
        client: Any, session: Any) -> None:
    p = await issues.place(client, session)
    issue = await issues.report(client, p)
    assert "issues.verify" not in cards(await get_home(client, str(p.c.id), p.resident))  # nothing to check yet
    for action, who, extra in (("dispatch", p.committee, {"handler_id": p.handler_id}), ("start", p.handler, {}),
                               ("resolve", p.handler, {"note": "换了灯泡",
                                                       "photo_ids": [await issues.photo(client, p.c, p.handler)]})):
        r = await issues.act(client, p, issue["id"], who, action, **extra)
        assert r.status_code == 200, r.text

    for who in (p.resident, p.grid_worker):  # 谁上报谁核查: the reporter, or the grid's grid worker
        verify = cards(await get_home(client, str(p.c.id), who))["issues.verify"]
        assert verify["count"] == 1 and titles(verify) == ["3栋路灯不亮"]
        assert verify["items"][0]["href"] == f"/c/{p.c.id}/issues/{issue['id']}"
        assert verify["items"][0]["tone"] == "warning" and verify["items"][0]["at_label"] == "办结于"
    assert "issues.verify" not in cards(await get_home(client, str(p.c.id), p.neighbour))

    r = await issues.act(client, p, issue["id"], p.resident, "verify")
    assert r.status_code == 200, r.text
    assert "issues.verify" not in cards(await get_home(client, str(p.c.id), p.resident))
    # A grid worker keeps the card, empty, saying what will come there.
    verify = cards(await get_home(client, str(p.c.id), p.grid_worker))["issues.verify"]
    assert verify["count"] == 0 and "网格" in verify["empty"]


async def test_my_reports_show_their_latest_change_first(client: Any, session: Any) -> None:
    p = await issues.place(client, session)
    mine = cards(await get_home(client, str(p.c.id), p.resident))["issues.mine"]
    assert mine["items"] == [] and "拍张照片上报" in mine["empty"]
    assert mine["actions"] == [{"label": "上报问题", "href": f"/c/{p.c.id}/issues/new", "primary": True}]

    older = await issues.report(client, p, title="5栋路灯不亮")
    await issues.report(client, p, title="8栋下水道堵塞")
    r = await issues.act(client, p, older["id"], p.committee, "accept")
    assert r.status_code == 200, r.text
    mine = cards(await get_home(client, str(p.c.id), p.resident))["issues.mine"]
    assert titles(mine) == ["5栋路灯不亮", "8栋下水道堵塞"]
    assert [i["note"] for i in mine["items"]] == ["已受理", "待受理"]
    assert mine["actions"][0] == {"label": "看我上报的全部 2 件", "href": f"/c/{p.c.id}/issues?mine=reported",
                                  "primary": False}
    # Staff who never reported have no such card; others' reports are not mine.
    assert "issues.mine" not in cards(await get_home(client, str(p.c.id), p.committee))
    assert cards(await get_home(client, str(p.c.id), p.neighbour))["issues.mine"]["items"] == []


async def test_staff_see_their_work_with_counts_and_links(client: Any, session: Any) -> None:
    p = await issues.place(client, session)
    await issues.report(client, p, title="楼道堆放杂物")
    accepted = await issues.report(client, p, title="垃圾清运不及时")
    dispatched = await issues.report(client, p, title="4栋路灯忽明忽暗")
    assert (await issues.act(client, p, accepted["id"], p.committee, "accept")).status_code == 200
    assert (await issues.act(client, p, dispatched["id"], p.committee, "dispatch",
                             handler_id=p.handler_id)).status_code == 200

    triage = cards(await get_home(client, str(p.c.id), p.committee))["issues.triage"]
    assert triage["count"] == 2 and triage["summary"] == "待受理 1 · 待派单 1 · 超期 0"
    assert titles(triage) == ["楼道堆放杂物", "垃圾清运不及时"]  # the longest waiting first
    assert triage["actions"][0]["href"] == f"/c/{p.c.id}/triage"

    patrol = cards(await get_home(client, str(p.c.id), p.grid_worker))["issues.patrol"]
    assert patrol["count"] == 3 and titles(patrol)[0] == "4栋路灯忽明忽暗"  # the one with a deadline first
    assert patrol["actions"][0]["href"] == f"/c/{p.c.id}/patrol"

    queue = cards(await get_home(client, str(p.c.id), p.handler))["issues.queue"]
    assert queue["count"] == 1 and titles(queue) == ["4栋路灯忽明忽暗"]
    assert queue["items"][0]["at_label"] == "期限" and queue["items"][0]["note"] == "已派单"
    assert queue["actions"][0]["href"] == f"/c/{p.c.id}/queue"

    resident = cards(await get_home(client, str(p.c.id), p.resident))
    assert not {"issues.triage", "issues.patrol", "issues.queue", "communities.join_requests",
                "polls.manage"} & set(resident)


async def test_the_committee_sees_join_requests_waiting(client: Any, session: Any) -> None:
    p = await issues.place(client, session)
    r = await client.post(f"/api/v1/communities/{p.c.id}/invites", headers=f.auth(p.committee), json={})
    code = r.json()["code"]
    stranger = await f.person(session, name="吴晓东")
    r = await client.post("/api/v1/join", headers=f.auth(stranger), json={"code": code, "name": "吴晓东",
                                                                           "room": "3栋2单元502"})
    assert r.status_code in (200, 201, 202), r.text
    joins = cards(await get_home(client, str(p.c.id), p.committee))["communities.join_requests"]
    # Who and where, as they wrote it (user content); what they ask, in the reader's words.
    assert joins["count"] == 1 and titles(joins) == ["吴晓东 · 3栋2单元502"]
    assert joins["items"][0]["note"] == "申请加入"
    assert joins["actions"][0]["href"] == f"/c/{p.c.id}/admin/join-requests"
    # Waiting for approval, the applicant is told so (the door every community page shares).
    r = await client.get(f"/api/v1/communities/{p.c.id}/home", headers=f.auth(stranger))
    f.assert_problem(r, 403, "join_pending")


# --- the door -----------------------------------------------------------------------------------

async def test_other_communities_signed_out_and_bad_ids_are_refused(client: Any, session: Any) -> None:
    p = await issues.place(client, session)
    other = await issues.place(client, session, name="李家墩村")
    r = await client.get(f"/api/v1/communities/{other.c.id}/home", headers=f.auth(p.resident))
    body = f.assert_problem(r, 404, "community_not_found")
    assert body["detail"]
    r = await client.get(f"/api/v1/communities/{other.c.id}/home", headers=f.auth(p.resident, "en"))
    assert f.assert_problem(r, 404, "community_not_found")["title"].isascii()
    r = await client.get(f"/api/v1/communities/{p.c.id}/home")
    f.assert_problem(r, 401, "token_missing")
    r = await client.get(f"/api/v1/communities/{'x' * 27}/home", headers=f.auth(p.resident))
    f.assert_problem(r, 422)
    r = await client.get("/api/v1/communities/nothing0/home", headers=f.auth(p.resident))
    f.assert_problem(r, 404, "community_not_found")


async def test_cards_speak_the_callers_language(client: Any, session: Any) -> None:
    p = await issues.place(client, session)
    await issues.report(client, p)
    home = await get_home(client, str(p.c.id), p.committee, "en")
    assert home["community_name"] == "幸福里社区"  # the community's own name, as written
    triage = cards(home)["issues.triage"]
    assert triage["title"] == "Triage and dispatch" and triage["summary"] == "New 1 · to dispatch 0 · overdue 0"
    assert triage["items"][0]["title"] == "3栋路灯不亮"  # user content stays as written
    texts = [text for c in home["cards"] for text in (
        c["title"], c["empty"], c["summary"], *(a["label"] for a in c["actions"]), *(i["note"] for i in c["items"]))]
    assert not [text for text in texts if re.search(r"[\u3400-\u9fff]", text)], texts


# --- the registry ---------------------------------------------------------------------------------

async def test_a_capability_adds_its_card_by_registering_it(client: Any, session: Any,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(home_service, "_cards", dict(home_service._cards))  # this test's cards go with it

    async def tasks_card(session: Any, scope: Any, locale: str) -> HomeCard | None:
        if "grid_worker" not in scope.roles:
            return None
        return HomeCard(title="认领的任务", count=1, items=[
            HomeItem(title="周六大扫除", href=f"/c/{scope.community_id}/tasks/1")] * 5)

    home_service.register_card("tasks.claimed", tasks_card, order=25)
    home_service.register_card("tasks.claimed", tasks_card, order=25)  # the app made twice registers twice
    with pytest.raises(ValueError, match="already registered"):
        home_service.register_card("tasks.claimed", home_service.home, order=25)  # type: ignore[arg-type]

    p = await issues.place(client, session)
    keys = [c["key"] for c in (await get_home(client, str(p.c.id), p.grid_worker))["cards"]]
    assert keys.index("tasks.claimed") < keys.index("issues.patrol")  # in registered order
    card = cards(await get_home(client, str(p.c.id), p.grid_worker))["tasks.claimed"]
    assert len(card["items"]) == home_service.MAX_ITEMS
    assert "tasks.claimed" not in cards(await get_home(client, str(p.c.id), p.resident))


def test_every_word_the_cards_say_is_in_both_catalogues() -> None:
    from pathlib import Path

    from app.core.i18n import catalogue

    root = Path(__file__).resolve().parents[2]
    used: set[str] = set()
    for path in [*(root / "app").rglob("home.py"), root / "web" / "templates" / "home.html"]:
        used |= set(re.findall(r"[\"'](home\.[a-z_.]*[a-z_])[\"']", path.read_text(encoding="utf-8")))
    # Keys the cards build from a state or a name.
    used |= {f"home.vote.not_voted.{w}" for w in ("person", "household")}
    used |= {f"home.triage.{s}" for s in ("reported", "accepted")}
    used |= {f"home.polls_admin.{s}" for s in ("draft", "closed")}
    used |= {f"home.{card}.{k}" for card in ("patrol", "queue") for k in ("title", "summary", "empty", "go")}
    assert len(used) > 30
    for locale in ("zh-CN", "en"):
        assert not used - set(catalogue(locale)), locale
