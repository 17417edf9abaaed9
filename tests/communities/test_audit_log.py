"""The audit log 操作记录 in words: every action, field, enum value and id a domain records reads in
the caller's language, moments come as moments for the phone to format, and the names behind
ids are found with one query per kind of thing on the page, however many entries name them."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

import app.main  # noqa: F401  (every domain declares what it records when it is imported)
from app.core import audit, db, i18n
from tests import factories as f
from tests.issues.support import act, place, report
from tests.polls.support import close, create, open_now

API = "/api/v1"
ROOT = Path(__file__).resolve().parents[2]
RAW_KEY = re.compile(r"\b(ui|error|inbox|map|notification)\.[a-z_]+\.[a-z_.]+")
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def test_every_recorded_action_field_and_value_has_words_in_both_languages():
    keys = [f"ui.audit.action.{a}" for a in audit.ACTIONS]
    keys += [f"ui.audit.field.{name}" for fields in audit.FIELDS.values() for name in fields]
    keys += [k for fields in audit.FIELDS.values() for how in fields.values() for k in how.labels.values()]
    assert {"ui.audit.action.issue.dispatch", "ui.audit.field.notice_ends_at", "ui.issue.status.reported"} <= set(keys)
    for locale in i18n.SUPPORTED:
        catalogue = i18n.catalogue(locale)
        missing = sorted({k for k in keys if not catalogue.get(k)})
        assert not missing, (locale, missing)
    refs = {how.names for fields in audit.FIELDS.values() for how in fields.values() if how.kind in ("ref", "refs")}
    assert refs <= set(audit.RESOLVERS), refs - set(audit.RESOLVERS)


def _record_calls() -> list[tuple[Path, ast.Call]]:
    calls = []
    for path in (ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "record" \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "audit":
                calls.append((path, node))
    return calls


def test_every_audit_record_in_the_code_names_a_declared_action_and_object():
    # record() refuses the undeclared at run time; this finds them in code no test has run yet.
    calls = _record_calls()
    assert len(calls) >= 20
    for path, call in calls:
        kw = {k.arg: k.value for k in call.keywords}
        where = f"{path.relative_to(ROOT)}:{call.lineno}"
        assert isinstance(kw["object_type"], ast.Constant) and kw["object_type"].value in audit.FIELDS, where
        action = kw["action"]
        if isinstance(action, ast.JoinedStr):  # f"issue.{body.action}": declared actions must fit its shape
            shape = re.compile("".join(re.escape(str(p.value)) if isinstance(p, ast.Constant) else "[a-z_]+"
                                       for p in action.values))
            assert any(shape.fullmatch(a) for a in audit.ACTIONS), where
        else:
            literals = [n.value for n in ast.walk(action) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
            assert literals and set(literals) <= audit.ACTIONS, (where, literals)
        fields = audit.FIELDS[kw["object_type"].value]
        for side in ("before", "after"):
            if isinstance(kw.get(side), ast.Dict):
                names = {k.value for k in kw[side].keys if isinstance(k, ast.Constant)}
                assert names <= set(fields), (where, names - set(fields))


async def test_record_refuses_an_action_or_field_without_words(session):
    with pytest.raises(ValueError, match="not declared"):
        await audit.record(session, actor_id=None, community_id=None, action="issue.teleport", object_type="issue",
                           object_id=None)
    with pytest.raises(ValueError, match="not declared"):
        await audit.record(session, actor_id=None, community_id=None, action="issue.accept", object_type="issue",
                           object_id=None, after={"status": "accepted", "mood": "happy"})


async def _story(client: Any, session: Any) -> Any:
    """A committee at work: places, a member's roles, an issue dispatched, a poll opened and closed."""
    p = await place(client, session)
    h = f.auth(p.committee)
    cid = p.c.id
    b = (await client.post(f"{API}/communities/{cid}/buildings", json={"name": "10栋", "grid_id": p.grid.id},
                           headers=h)).json()
    await client.post(f"{API}/communities/{cid}/households", headers=h,
                      json={"building_id": b["id"], "unit": "1单元", "room": "101", "owner_area_m2": "89.50"})
    members = (await client.get(f"{API}/communities/{cid}/members", headers=h)).json()["items"]
    resident = next(m for m in members if m["person_id"] == p.resident.id)
    r = await client.patch(f"{API}/communities/{cid}/members/{resident['id']}",
                           json={"roles": ["owner"], "grid_ids": [p.grid.id]}, headers=h)
    assert r.status_code == 200, r.text
    neighbour = next(m for m in members if m["person_id"] == p.neighbour.id)
    assert (await client.delete(f"{API}/communities/{cid}/members/{neighbour['id']}", headers=h)).status_code == 204
    issue = await report(client, p)
    r = await act(client, p, issue["id"], p.committee, "dispatch", handler_id=p.handler_id)
    assert r.status_code == 200, r.text
    poll = await create(client, p.c, p.committee, kind="ranked", ranked_method="irv",
                        options=[{"label": "甲"}, {"label": "乙"}, {"label": "丙"}])
    await open_now(client, p.c, p.committee, poll["id"])
    await close(client, p.c, p.committee, poll["id"])
    r = await client.post(f"{API}/communities/{cid}/polls/{poll['id']}/publish", json={}, headers=h)
    assert r.status_code == 200, r.text
    return p, issue, poll


async def test_the_audit_log_reads_in_words_in_each_language(client, session):
    p, _issue, poll = await _story(client, session)
    texts = {}
    for locale in ("zh-CN", "en"):
        r = await client.get(f"{API}/communities/{p.c.id}/audit", params={"limit": 50},
                             headers=f.auth(p.committee, locale))
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        shown = [(i["what"], i["object_name"], [(c["label"], c["before"], c["after"]) for c in i["changes"]])
                 for i in items]
        words = repr(shown)
        assert not RAW_KEY.search(words), RAW_KEY.search(words)
        texts[locale] = {i["action"]: i for i in items}
        # Moments are moments for the phone to show in Beijing time, never ISO text.
        for i in items:
            for c in i["changes"]:
                for value in (c["before"], c["after"]):
                    assert value is None or value["time"] or not ISO.search(value["text"] or ""), (i["action"], c)
    zh, en = texts["zh-CN"], texts["en"]

    dispatch = zh["issue.dispatch"]
    assert (dispatch["what"], dispatch["object_name"], dispatch["actor_name"]) == ("派单", "3栋路灯不亮", "陈主任")
    changes = {c["field"]: c for c in dispatch["changes"]}
    assert (changes["status"]["label"], changes["status"]["before"]["text"], changes["status"]["after"]["text"]) \
        == ("状态", "待受理", "已派单")
    # The handler by its name, and as what it now is, not "none → set".
    assert changes["handler_id"]["before"] is None and changes["handler_id"]["after"]["text"] == "幸福里物业"
    assert changes["deadline_at"]["after"]["time"]
    assert en["issue.dispatch"]["what"] == "Dispatched an issue"
    assert {c["field"]: c["after"]["text"] for c in en["issue.dispatch"]["changes"]}["status"] == "Dispatched"

    member = {c["field"]: c for c in zh["member.update"]["changes"]}
    assert member["roles"]["before"]["text"] == "居民" and "业主" in member["roles"]["after"]["text"]
    assert member["grid_ids"]["after"]["text"] == "第一网格"
    assert zh["member.update"]["object_name"] == "李明"

    removed = {c["field"]: c for c in zh["member.remove"]["changes"]}
    assert removed["person_id"]["before"]["text"] == "赵敏" and removed["person_id"]["after"] is None
    assert removed["roles"]["label"] == "身份" and removed["roles"]["before"]["text"] == "居民"

    household = {c["field"]: c["after"]["text"] for c in zh["household.create"]["changes"]}
    assert household["building_id"] == "10栋" and household["owner_area_m2"] == "89.5 平方米"
    assert zh["household.create"]["object_name"] == "10栋1单元101"
    assert en["household.create"]["object_name"] == "10栋, Unit 1, 101"

    created = {c["field"]: c["after"] for c in zh["poll.create"]["changes"]}
    assert (created["kind"]["text"], created["ranked_method"]["text"]) == ("排序投票", "即时决选")
    # Settings of other kinds are not said of a ranked vote (dots per option, how many choices).
    assert "allow_stacking" not in created and "max_choices" not in created, created
    # What people wrote and the names behind ids are marked as such; our own words are not.
    assert created["title"]["quoted"] and not created["kind"]["quoted"]
    assert changes["handler_id"]["after"]["quoted"] and not changes["status"]["after"]["quoted"]
    assert created["secret"]["text"] in ("是", "否") and created["closes_at"]["time"]
    assert zh["poll.create"]["object_name"] == poll["title"]
    assert {c["field"]: c["after"]["text"] for c in en["poll.create"]["changes"]}["kind"] == "Ranked choice"
    closed = {c["field"]: c["after"] for c in en["poll.close"]["changes"]}
    assert closed["chain_ok"]["text"] == "yes"
    assert not re.search(r"[\u4e00-\u9fff]", closed["explanation"]["text"].replace("甲", "").replace("乙", "")
                         .replace("丙", "")), closed["explanation"]
    assert not closed["explanation"]["quoted"] and set(closed["explanation"]["quotes"]) == {"甲", "乙", "丙"}
    assert re.search(r"[\u4e00-\u9fff]", {c["field"]: c["after"] for c in zh["poll.close"]["changes"]}
                     ["explanation"]["text"])
    # A poll of residents has no floor area to speak of: no "0 m²" line.
    assert [c["field"] for c in zh["poll.open"]["changes"]] == ["electorate_size"]
    notice = next(c for c in zh["poll.publish"]["changes"] if c["field"] == "notice_ends_at")
    assert notice["label"] == "公示截止" and notice["after"]["time"]
    handler = {c["field"]: c["after"]["text"] for c in en["issue_handler.create"]["changes"]}
    assert handler == {"name": "幸福里物业", "kind": "A unit", "member_ids": "王师傅"}


async def test_names_on_a_page_cost_one_query_per_kind_not_one_per_entry(client, session):
    p = await place(client, session)
    h = f.auth(p.committee)
    issues = [await report(client, p, title=f"第{i}个问题") for i in range(6)]

    async def queries_for_page(limit: int) -> int:
        statements: list[str] = []

        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement)

        engine = db.get_engine().sync_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            r = await client.get(f"{API}/communities/{p.c.id}/audit", params={"limit": limit}, headers=h)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert r.status_code == 200 and len(r.json()["items"]) == limit
        assert all(i["object_name"] for i in r.json()["items"] if i["object_type"] == "issue")
        return len(statements)

    for i in issues:
        assert (await act(client, p, i["id"], p.committee, "dispatch", handler_id=p.handler_id)).status_code == 200
    assert await queries_for_page(2) == await queries_for_page(6)
