"""Share posters 海报: what a phone draws for a short link (title, community, two or three key facts,
the QR code of the link) comes from the same registry as the share page, in the reader's language,
public where the share page is and gone where it is gone; never a hidden count, never a person."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from app.communities.models import Invite
from app.core import clock
from app.issues.models import Issue
from app.sharing import service as sharing
from app.sharing.models import ShortLink
from tests import factories as f
from tests.factories import assert_problem
from tests.issues.support import act, place, report
from tests.polls import support as polls
from tests.sharing.test_share_pages import new_invite


async def poster(client, code: str, lang: str = "zh-CN", **kw):
    r = await client.get(f"/s/{code}/poster.json", headers={"Accept-Language": lang}, **kw)
    assert r.status_code == 200, r.text
    return r.json()


def facts(body) -> dict[str, str]:
    return {x["label"]: x["value"] or x["at"] for x in body["facts"]}


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def share_issue(client, p, issue_id, who):
    r = await client.post(f"/api/v1/communities/{p.c.id}/issues/{issue_id}/share", headers=f.auth(who))
    assert r.status_code == 200, r.text
    return r.json()


async def test_issue_poster_has_status_place_deadline_and_community_for_anyone(client, session):
    p = await place(client, session)
    issue = await report(client, p, location_text="东门口", hide_reporter=True)
    r = await act(client, p, issue["id"], p.committee, "dispatch", handler_id=p.handler_id)
    assert r.status_code == 200, r.text
    link = await share_issue(client, p, issue["id"], p.neighbour)

    r = await client.get(f"/s/{link['code']}/poster.json")  # signed out, like the share page

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["code"] == link["code"] and body["url"] == link["url"] and body["qr_png_url"] == link["qr_png_url"]
    assert body["title"] == "3栋路灯不亮" and body["community_name"] == "幸福里社区"
    assert body["action_label"] == "查看问题详情"
    assert [x["label"] for x in body["facts"]] == ["状态", "地点", "办理期限"]
    shown = facts(body)
    assert shown["状态"] == "已派单" and shown["地点"] == "1栋 · 东门口"
    deadline = (await session.get(Issue, issue["id"])).deadline_at
    assert deadline is not None and moment(shown["办理期限"]) == deadline
    # the reporter asked to stay hidden; a poster names nobody anyway
    assert "李明" not in r.text and p.resident.phone not in r.text and "lat" not in r.text
    vary = {v.strip() for v in r.headers["vary"].split(",")}
    assert {"Accept-Language", "Cookie"} <= vary and "max-age" in r.headers["cache-control"]


async def test_issue_poster_speaks_the_readers_language(client, session):
    p = await place(client, session)
    issue = await report(client, p)
    link = await share_issue(client, p, issue["id"], p.resident)

    en = await poster(client, link["code"], "en")
    client.cookies.set("wg_lang", "en")
    try:
        by_cookie = await poster(client, link["code"], "zh-CN")
    finally:
        client.cookies.clear()

    assert en == by_cookie
    assert en["action_label"] == "See the issue"
    # no place typed and no deadline before dispatch: the category fills the third line
    assert facts(en) == {"Status": "Reported", "Where": "1栋", "Category": "Lighting"}  # a default category, in English


async def test_no_poster_for_a_staff_only_issue_for_anyone(client, session):
    p = await place(client, session)
    issue = await report(client, p, title="楼上楼下噪音纠纷")
    code = (await share_issue(client, p, issue["id"], p.resident))["code"]
    await session.execute(update(Issue).where(Issue.id == issue["id"]).values(staff_only=True))
    await session.commit()

    for headers in ({}, f.auth(p.committee), {"Accept-Language": "en"}):
        r = await client.get(f"/s/{code}/poster.json", headers=headers)
        body = assert_problem(r, 404, "share_link_not_found")
        assert "噪音" not in r.text
    assert body["detail"] == "No such share link."


async def test_no_poster_for_a_draft_poll(client, session):
    e = await polls.estate(session)
    draft = await polls.create(client, e.c, e.committee)
    async with session.begin():  # no API makes a draft's link: as if one were made some other way
        await sharing.create_link(session, kind="poll", target_id=draft["id"], community_id=e.c.id, code="draft001")

    assert_problem(await client.get("/s/draft001/poster.json", headers=f.auth(e.committee)), 404,
                   "share_link_not_found")


async def test_open_poll_poster_has_its_close_and_turnout(client, session):
    e = await polls.estate(session)
    poll = await polls.opened(client, e.c, e.committee)
    await polls.vote(client, e.c, e.owners[0], poll["id"], choices=[polls.option_ids(poll)[0]])
    share = await client.post(polls.url(e.c, poll["id"], "/share"), headers=f.auth(e.owners[1]))
    assert share.status_code == 200, share.text

    zh = await poster(client, share.json()["code"])
    en = await poster(client, share.json()["code"], "en")

    assert zh["title"] == "是否加装电梯" and zh["community_name"] == "幸福里社区" and zh["action_label"] == "查看表决"
    assert [x["label"] for x in zh["facts"]] == ["状态", "截止时间", "已投票"]
    assert facts(zh)["状态"] == "投票中" and facts(zh)["已投票"] == f"1/{poll['electorate_size']} 人"
    assert moment(facts(zh)["截止时间"]) == moment(poll["closes_at"])
    assert facts(en)["Status"] == "Open" and facts(en)["Voted so far"] == f"1 of {poll['electorate_size']} people"


async def test_poll_with_hidden_results_shows_no_count_on_its_poster(client, session):
    e = await polls.estate(session)
    poll = await polls.opened(client, e.c, e.committee, hide_results=True, secret=False,
                              electorate="households")
    for owner in e.owners[:3]:
        await polls.vote(client, e.c, owner, poll["id"], choices=[polls.option_ids(poll)[0]])
    code = (await client.post(polls.url(e.c, poll["id"], "/share"), headers=f.auth(e.owners[3]))).json()["code"]

    body = await poster(client, code)

    assert [x["label"] for x in body["facts"]] == ["状态", "截止时间", "谁来投票"]
    assert not any(ch.isdigit() for x in body["facts"] for ch in x["value"])
    assert "已投" not in str(body["facts"])


async def test_closed_poll_poster_states_the_outcome(client, session):
    e = await polls.estate(session)
    poll = await polls.opened(client, e.c, e.committee)
    await polls.vote(client, e.c, e.owners[0], poll["id"], choices=[polls.option_ids(poll)[0]])
    code = (await client.post(polls.url(e.c, poll["id"], "/share"), headers=f.auth(e.owners[1]))).json()["code"]
    closed = await polls.close(client, e.c, e.committee, poll["id"])

    body = await poster(client, code)

    shown = facts(body)
    assert shown["状态"] == "已截止"
    assert shown["结果"] == (await polls.get_poll(client, e.c, e.owners[1], poll["id"]))["summary"] != ""
    assert shown["谁来投票"] == "全体已认证居民 · 全小区"
    assert closed["status"] == "closed"


async def test_invite_poster_says_who_is_invited_until_when_and_how(client, session):
    c = await f.community(session)
    b = await f.building(session, c, "7栋")
    _, committee, for_building = await new_invite(client, session, c, building_id=b.id, expires_in_days=7)
    whole = (await client.post(f"/api/v1/communities/{c.id}/invites", headers=f.auth(committee),
                               json={"expires_in_days": None})).json()

    zh = await poster(client, for_building["code"])
    en = await poster(client, whole["code"], "en")

    assert zh["title"] == "邀请您加入幸福里社区" and zh["community_name"] == "幸福里社区"
    assert zh["action_label"] == "立即加入" and zh["url"] == for_building["url"]
    assert [x["label"] for x in zh["facts"]] == ["邀请", "有效期至", "怎么加入"]
    assert facts(zh)["邀请"] == "7栋" and moment(facts(zh)["有效期至"]) == moment(for_building["expires_at"])
    assert facts(en) == {"Who is invited": "Everyone in the community",
                         "How to join": "Scan the code, then verify your phone number"}
    assert committee.phone not in str(zh) and "居委会王主任" not in str(zh)


async def test_an_invite_that_no_longer_works_has_no_poster_and_says_why(client, session):
    c, committee, revoked = await new_invite(client, session)
    r = await client.post(f"/api/v1/communities/{c.id}/invites/{revoked['id']}/revoke", headers=f.auth(committee))
    assert r.status_code == 200, r.text
    _, _, expired = await new_invite(client, session, c)
    await session.execute(update(Invite).where(Invite.code == expired["code"])
                          .values(expires_at=clock.now() - timedelta(days=1)))
    await session.commit()

    zh = assert_problem(await client.get(f"/s/{revoked['code']}/poster.json"), 404, "share_poster_unavailable")
    en = assert_problem(await client.get(f"/s/{expired['code']}/poster.json", headers={"Accept-Language": "en"}),
                        404, "share_poster_unavailable")

    assert "做不了海报" in zh["detail"] and "已被撤销" in zh["detail"]
    assert "cannot be made into a poster" in en["detail"] and "has expired" in en["detail"]


async def test_unknown_codes_have_no_poster(client, session):
    async with session.begin():
        await sharing.create_link(session, kind="unregistered", target_id="x", community_id=None, code="orphan02")
    for code in ("nosuchcd", "x" * 60, "ab%20cd", "orphan02"):
        assert_problem(await client.get(f"/s/{code}/poster.json"), 404, "share_link_not_found")


async def test_a_new_kind_gets_a_poster_by_registering_its_preview(client, session, monkeypatch):
    monkeypatch.setattr(sharing, "_previews", dict(sharing._previews))
    starts = clock.now() + timedelta(days=2)

    @sharing.register_preview("meeting")
    async def meeting_preview(session, link: ShortLink, locale: str) -> sharing.SharePreview:
        return sharing.SharePreview(
            title="屋场会：停车怎么管", description="本周六", action_label="报名参加",
            action_path=f"/meetings/{link.target_id}", community_name="幸福里社区",
            facts=(sharing.ShareFact("地点", "3栋架空层"), sharing.ShareFact("时间", at=starts)))

    async with session.begin():
        await sharing.create_link(session, kind="meeting", target_id="m1", community_id=None, code="meeting1")
    body = await poster(client, "meeting1")

    assert body["title"] == "屋场会：停车怎么管" and body["action_label"] == "报名参加"
    assert body["facts"] == [{"label": "地点", "value": "3栋架空层", "at": None},
                             {"label": "时间", "value": "", "at": body["facts"][1]["at"]}]
    assert moment(body["facts"][1]["at"]) == starts
    assert body["qr_png_url"] == "http://testserver/s/meeting1/qr.png"
