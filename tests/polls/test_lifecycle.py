"""A poll's life over HTTP: build, open (electorate frozen), vote, change, close, notice, final."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from app.core import clock
from app.polls import verify
from app.polls.scheduled import sweep
from tests import factories as f
from tests.polls import support as s


async def test_civil_code_owners_vote_passes_by_area_and_headcount(client: Any, session: Any) -> None:
    e = await s.estate(session, areas=["90.00", "90.00", "90.00", "30.00"])
    poll = await s.opened(client, e.c, e.committee, kind="proposal", electorate="owners", options=[],
                          matter="raise_fund", title="筹集维修资金")
    assert poll["electorate_size"] == 4 and poll["electorate_area"] == "300.00"
    assert "四分之三以上" in poll["rule_plain"]
    for owner in e.owners[:3]:
        await s.vote(client, e.c, owner, poll["id"], choices=["yes"])
    await s.vote(client, e.c, e.owners[3], poll["id"], choices=["no"])
    live = (await client.get(f"/api/v1/communities/{e.c.id}/polls/{poll['id']}", headers=f.auth(e.owners[0]))).json()
    assert live["passed"] is None and live["summary"] is None  # secret: no count, no verdict while open
    closed = await s.close(client, e.c, e.committee, poll["id"])
    assert closed["status"] == "closed" and closed["passed"] is True
    res = (await s.results(client, e.c, e.owners[3], poll["id"]))["result"]
    # area 270/300 = 90% ≥ 3/4 and headcount 3/4 ≥ 3/4 exactly
    assert res["passed"] is True and res["yes_area"] == "270.00"
    assert res["explanation_zh"].startswith("通过：")
    assert res["chain"]["ok"] is True


async def test_household_member_votes_for_the_household_once(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee, electorate="households")
    first, second = s.option_ids(poll)
    await s.vote(client, e.c, e.owners[0], poll["id"], choices=[first])
    again = await s.vote(client, e.c, e.family[0], poll["id"], choices=[second], expect=409)
    assert "回执" in again["detail"]
    mine = (await client.get(f"/api/v1/communities/{e.c.id}/polls/{poll['id']}", headers=f.auth(e.family[0]))).json()
    assert mine["me"]["voted"] is True


async def test_secret_vote_changes_with_its_receipt_and_counts_once(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee)
    a, b = s.option_ids(poll)
    first = await s.vote(client, e.c, e.owners[0], poll["id"], choices=[a])
    await s.vote(client, e.c, e.owners[1], poll["id"], choices=[a])
    other = await s.vote(client, e.c, e.owners[2], poll["id"], choices=[b])
    # someone else's receipt does not change my ballot
    await s.vote(client, e.c, e.owners[0], poll["id"], choices=[b], receipt=other["receipt"], expect=403)
    changed = await s.vote(client, e.c, e.owners[0], poll["id"], choices=[b], receipt=first["receipt"])
    assert changed["changed"] is True
    # the old receipt is spent
    await s.vote(client, e.c, e.owners[0], poll["id"], choices=[a], receipt=first["receipt"], expect=403)
    await s.close(client, e.c, e.committee, poll["id"])
    res = (await s.results(client, e.c, e.committee, poll["id"]))["result"]
    counts = {o["id"]: o["count"] for o in res["options"]}
    assert counts == {a: 1, b: 2}
    check = (await client.get(f"/api/v1/receipts/{first['receipt']}")).json()
    assert check["found"] is True and check["counted"] is False
    check = (await client.get(f"/api/v1/receipts/{changed['receipt'].lower()}")).json()
    assert check["counted"] is True and "choices" not in check  # proves counted, never the choice
    assert "不加装" not in json.dumps(check, ensure_ascii=False)


async def test_chain_download_verifies_and_tampering_is_detected(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee, kind="approval", max_choices=2,
                          options=[{"label": "路灯"}, {"label": "井盖"}, {"label": "停车"}])
    ids = s.option_ids(poll)
    for i, owner in enumerate(e.owners):
        await s.vote(client, e.c, owner, poll["id"], choices=[ids[i % 3], ids[(i + 1) % 3]])
    await s.close(client, e.c, e.committee, poll["id"])
    download = (await client.get(f"/api/v1/communities/{e.c.id}/polls/{poll['id']}/chain",
                                 headers=f.auth(e.owners[0]))).json()
    assert len(download["entries"]) == 4
    assert "elector" not in str(download["entries"])
    report = verify.verify_download(download)
    assert report.ok, report.lines
    assert all("choices" not in x for x in download["entries"])  # secret: commitments only
    altered = json.loads(json.dumps(download))
    altered["entries"][1]["commitment"] = "0" * 64
    tampered = verify.verify_download(altered)
    assert not tampered.ok and any("tampered" in line for line in tampered.lines)
    # a ballot moved in the box changes the recount, which no longer matches the published result
    altered = json.loads(json.dumps(download))
    moved = next(b for b in altered["ballots"] if ids[2] in b["choices"])
    moved["choices"] = [ids[0], ids[1]]
    recounted = verify.verify_download(altered)
    assert not recounted.ok and any("recount differs" in line for line in recounted.lines)
    altered = json.loads(json.dumps(download))
    altered["ballots"].pop()
    assert not verify.verify_download(altered).ok


async def test_hidden_results_stay_hidden_until_close(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee, hide_results=True, secret=False)  # named: entries show choices
    a, _ = s.option_ids(poll)
    await s.vote(client, e.c, e.owners[0], poll["id"], choices=[a])
    res = await s.results(client, e.c, e.committee, poll["id"])
    assert res["visible"] is False and res["result"] is None
    chain = (await client.get(f"/api/v1/communities/{e.c.id}/polls/{poll['id']}/chain",
                              headers=f.auth(e.committee))).json()
    assert chain["entries"] == [] and chain["result"] is None
    await s.close(client, e.c, e.committee, poll["id"])
    res = await s.results(client, e.c, e.owners[1], poll["id"])
    assert res["visible"] is True and res["result"]["options"][0]["count"] == 1


async def test_sweep_closes_at_time_and_notice_becomes_final(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee, notice_days=3)
    later = clock.now() + timedelta(days=4)
    result = await sweep(session, later, holder="test")
    assert result.closed == [poll["id"]]
    r = await client.post(f"/api/v1/communities/{e.c.id}/polls/{poll['id']}/publish", headers=f.auth(e.committee),
                          json={"note": "公示三天"})
    assert r.json()["status"] == "notice"
    o = await client.post(f"/api/v1/communities/{e.c.id}/polls/{poll['id']}/objections", headers=f.auth(e.owners[1]),
                          json={"body": "我家没收到通知"})
    assert o.status_code == 201
    result = await sweep(session, later + timedelta(days=4), holder="test")
    assert result.finalised == []  # an unanswered objection holds it
    a = await client.post(f"/api/v1/communities/{e.c.id}/polls/{poll['id']}/objections/{o.json()['id']}/answer",
                          headers=f.auth(e.committee), json={"answer": "已入户补发"})
    assert a.status_code == 200
    result = await sweep(session, later + timedelta(days=4), holder="test")
    assert result.finalised == [poll["id"]]
    listed = (await client.get(f"/api/v1/communities/{e.c.id}/polls/{poll['id']}/objections",
                               headers=f.auth(e.owners[2]))).json()
    assert listed[0]["answer"] == "已入户补发" and "author" not in str(listed)


async def test_a_retried_secret_ballot_leaves_nothing_readable_behind(client: Any, session: Any) -> None:
    """The Idempotency-Key record must not become the link the ballot table refuses to hold."""
    from sqlalchemy import text

    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee)
    a, _ = s.option_ids(poll)
    headers = {**f.auth(e.owners[0]), "Idempotency-Key": "k-4f1c9b2e-vote"}
    path = f"/api/v1/communities/{e.c.id}/polls/{poll['id']}/ballots"
    first = await client.post(path, headers=headers, json={"choices": [a]})
    replay = await client.post(path, headers=headers, json={"choices": [a]})
    assert first.status_code == replay.status_code == 201
    assert replay.json()["receipt"] == first.json()["receipt"] and replay.headers["idempotent-replayed"] == "true"
    rows = (await session.execute(text("SELECT id, key, body, created_at FROM idempotency_records"))).all()
    assert len(rows) == 1
    rid, key, body, created_at = rows[0]
    assert key != "k-4f1c9b2e-vote" and first.json()["receipt"].encode() not in bytes(body)
    assert b'"choices"' not in bytes(body) and str(created_at)[14:19] == "00:00"  # rounded to the hour
    ballot_ids = (await session.execute(text("SELECT id FROM poll_ballots"))).scalars().all()
    assert rid not in ballot_ids and len(rid) == 26


async def test_a_secret_owners_poll_says_how_many_homes_its_areas_single_out(client: Any, session: Any) -> None:
    e = await s.estate(session, areas=["89.50", "89.50", "120.00", "65.25"])
    poll = await s.opened(client, e.c, e.committee, kind="proposal", electorate="owners", options=[],
                          matter="use_fund")
    assert poll["identifiable_by_area"] == 2  # 120.00 and 65.25; the two 89.50 flats hide each other
    named = await s.opened(client, e.c, e.committee, kind="proposal", electorate="owners", options=[],
                           matter="use_fund", secret=False)
    assert named["identifiable_by_area"] == 0


async def test_a_score_poll_closes_with_mean_scores_and_recounts(client: Any, session: Any) -> None:
    e = await s.estate(session)
    poll = await s.opened(client, e.c, e.committee, kind="score",
                          options=[{"label": "新路灯"}, {"label": "新座椅"}])
    lamp, bench = s.option_ids(poll)
    await s.vote(client, e.c, e.owners[0], poll["id"], scores={lamp: 5, bench: 2})
    await s.vote(client, e.c, e.owners[1], poll["id"], scores={lamp: 4})
    closed = await s.close(client, e.c, e.committee, poll["id"])
    assert closed["summary"] == "平均分最高：新路灯（4.50分）"
    lines = {o["id"]: o for o in (await s.results(client, e.c, e.committee, poll["id"]))["result"]["options"]}
    assert lines[lamp]["mean_exact"] == "9/2" and lines[bench]["raters"] == 1
    download = (await client.get(f"/api/v1/communities/{e.c.id}/polls/{poll['id']}/chain",
                                 headers=f.auth(e.owners[0]))).json()
    assert verify.verify_download(download).ok
