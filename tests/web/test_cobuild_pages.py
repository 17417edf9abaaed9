"""The co-build pages 共建共管 (tasks, my points, the honour board, the points store and its counter):
each in the caller's language and size, with the strict CSP, its own module and style sheet; the
community page links them; a bad id is a 404 page; their strings exist in both languages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.core import policy
from tests.web.pages import (
    assert_elder_from_the_first_byte,
    assert_no_inline_code,
    assert_titled_in_both_languages,
    page_data,
)

CID = "01HZXCOMMUNITY"
TASK = "01hzxtask00000000000000000"
PAGES = {
    f"/c/{CID}/tasks": ("tasks", "共建任务", "Tasks"),
    f"/c/{CID}/tasks/mine": ("tasks-mine", "我的任务", "My tasks"),
    f"/c/{CID}/tasks/console": ("tasks-console", "任务管理", "Task console"),
    f"/c/{CID}/tasks/new": ("tasks-new", "发布任务", "Post a task"),
    f"/c/{CID}/wishes/new": ("tasks-new", "许个微心愿", "Make a micro-wish"),
    f"/c/{CID}/timebank/new": ("tasks-new", "时间银行求助", "Ask the time bank"),
    f"/c/{CID}/tasks/{TASK}": ("tasks-detail", "任务", "Task"),
    f"/c/{CID}/tasks/{TASK}/edit": ("tasks-new", "修改任务", "Edit task"),
    f"/c/{CID}/points": ("points", "我的积分", "My points"),
    f"/c/{CID}/board": ("points-board", "光荣榜", "Honour board"),
    f"/c/{CID}/store": ("store", "积分超市", "Points store"),
    f"/c/{CID}/store/orders": ("store-orders", "我的兑换", "My orders"),
    f"/c/{CID}/store/manage": ("store-manage", "超市管理", "Store admin"),
    f"/c/{CID}/store/pickup": ("store-pickup", "兑换核销", "Pickup counter"),
}
ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
AREAS = ("tasks", "points", "store")


@pytest.mark.parametrize("path", PAGES)
async def test_cobuild_page_is_titled_in_chinese_by_default_and_in_english_on_request(client, path):
    await assert_titled_in_both_languages(client, path, *PAGES[path])


@pytest.mark.parametrize("path", PAGES)
async def test_cobuild_page_renders_elder_mode_from_the_first_byte(client, path):
    await assert_elder_from_the_first_byte(client, path)


@pytest.mark.parametrize("path", PAGES)
async def test_cobuild_page_has_the_strict_csp_no_inline_code_and_its_own_style_sheet(client, path):
    r = await client.get(path)
    assert_no_inline_code(r.text, r.headers["content-security-policy"])
    assert 'href="/static/css/cobuild.css?v=' in r.text


@pytest.mark.parametrize("path", PAGES)
async def test_cobuild_page_tells_its_module_who_holds_the_tasks_points_and_store_permissions(client, path):
    data = page_data((await client.get(path)).text)
    wanted = {p for p in policy.PERMISSIONS if p.startswith(("tasks.", "points.", "store."))}
    assert set(data["permissions"]) >= wanted
    for name in wanted:
        assert data["permissions"][name] == sorted(policy.PERMISSIONS[name])


async def test_task_pages_carry_the_task_id_and_the_forms_say_what_they_post(client):
    assert page_data((await client.get(f"/c/{CID}/tasks/{TASK}")).text)["task_id"] == TASK
    assert page_data((await client.get(f"/c/{CID}/tasks/new")).text)["kinds"] == ["volunteer", "adoption"]
    assert page_data((await client.get(f"/c/{CID}/wishes/new")).text)["kinds"] == ["wish"]
    assert page_data((await client.get(f"/c/{CID}/timebank/new")).text)["kinds"] == ["timebank"]
    edit = page_data((await client.get(f"/c/{CID}/tasks/{TASK}/edit")).text)
    assert edit["form"] == "edit" and edit["task_id"] == TASK


async def test_check_in_takes_a_typed_code_and_the_evidence_takes_photos_from_the_camera(client):
    body = (await client.get(f"/c/{CID}/tasks/{TASK}")).text
    assert 'id="checkin-code"' in body and 'for="checkin-code"' in body
    assert 'capture="environment"' in body and 'accept="image/*"' in body


@pytest.mark.parametrize("path", [f"/c/{CID}/tasks/not-a-task", f"/c/{CID}/tasks/{TASK}x", "/c/bad%20id/tasks",
                                  f"/c/{CID}/tasks/{TASK}x/edit", "/c/bad%20id/store", "/c/bad%20id/board"])
async def test_a_bad_id_is_a_404_page(client, path):
    r = await client.get(path, headers={"Accept": "text/html"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")


async def test_community_page_links_tasks_points_store_and_board_and_the_staff_tools_by_permission(client):
    body = (await client.get(f"/c/{CID}")).text
    for path in ("tasks", "points", "store", "board"):
        assert f'href="/c/{CID}/{path}"' in body
    assert f'href="/c/{CID}/tasks/console" data-permission="tasks.organise"' in body
    assert f'href="/c/{CID}/store/pickup" data-permission="store.manage"' in body
    data = page_data(body)
    assert data["permissions"]["tasks.organise"] == sorted(policy.PERMISSIONS["tasks.organise"])


def catalogue(locale: str) -> dict[str, str]:
    data: dict[str, str] = {}
    for area in AREAS:
        data.update(json.loads((WEB / "locales" / locale / f"{area}.json").read_text(encoding="utf-8")))
    return data


def test_cobuild_catalogues_have_the_same_keys_and_placeholders():
    zh, en = catalogue("zh-CN"), catalogue("en")
    assert set(zh) == set(en)
    for key in zh:
        assert set(re.findall(r"\{(\w+)\}", zh[key])) == set(re.findall(r"\{(\w+)\}", en[key])), key
        assert zh[key].strip() and en[key].strip(), key


def test_every_cobuild_key_used_in_templates_and_modules_exists():
    sources = [*(WEB / "templates").rglob("*.html"), *(WEB / "static" / "js").rglob("*.js")]
    used: set[str] = set()
    for path in sources:
        found = re.findall(r"[\"'`]((?:tasks|points|store)\.[A-Za-z0-9_.-]*[A-Za-z0-9_])[\"'`]",
                           path.read_text(encoding="utf-8"))
        used |= {key for key in found if key not in policy.PERMISSIONS}
    assert used, "no keys found"
    missing = used - set(catalogue("zh-CN"))
    assert not missing, missing


def test_key_families_built_at_runtime_are_complete():
    zh = catalogue("zh-CN")
    families = {
        "tasks.kind.": ["volunteer", "adoption", "wish", "timebank"],
        "tasks.status.": ["draft", "pending", "open", "full", "in_progress", "done", "cancelled", "expired"],
        "tasks.claim.status.": ["claimed", "checked_in", "submitted", "verified", "rejected", "paid", "withdrawn",
                                "no_show", "expired", "handed_over"],
        "tasks.claim.say.": ["claimed", "checked_in", "submitted", "verified", "rejected", "paid", "withdrawn",
                             "no_show", "expired", "handed_over"],
        "tasks.step.": ["claimed", "checked_in", "submitted", "verified", "paid"],
        "tasks.do.": ["claim", "checkin", "submit", "withdraw", "renew", "hand_over", "confirm", "verify", "reject",
                      "no_show", "publish", "approve", "start", "finish", "cancel"],
        "tasks.done.": ["checkin", "submit", "withdraw", "renew", "hand_over", "confirm", "verify", "reject",
                        "no_show", "publish", "approve", "start", "finish", "cancel"],
        "tasks.queue.": ["claim", "checkin", "submit", "withdraw", "renew", "hand_over"],
        "tasks.new.kind_hint.": ["volunteer", "adoption"],
        "tasks.new.posted.": ["volunteer", "adoption", "wish", "timebank"],
        "tasks.who.": ["community", "grid", "building", "role"],
        "tasks.refusal.": ["task_already_claimed", "task_full", "task_not_open", "task_started", "task_ended",
                           "task_claim_own", "task_not_eligible", "member_not_found"],
        "store.state.": ["ready", "fulfilled", "cancelled", "expired"],
    }
    for prefix, names in families.items():
        for name in names:
            assert prefix + name in zh, prefix + name
    for form in ("task", "wish", "timebank", "edit"):
        for family in ("tasks.new.intro.", "tasks.new.submit.", "tasks.new.title_label.",
                       "tasks.new.title_placeholder."):
            assert family + form in zh, family + form
