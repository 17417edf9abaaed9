"""The issue pages: each answers in the caller's language and size, with the strict CSP and
its own module; the community page links the issue list and offers the staff tools by role."""

from __future__ import annotations

import pytest

from app.core import policy
from tests.web.pages import (
    assert_elder_from_the_first_byte,
    assert_no_inline_code,
    assert_titled_in_both_languages,
    page_data,
)
from tests.web.test_pages import ui_catalogue

CID = "01HZXCOMMUNITY"
ISSUE = "01HZXISSUE0000000000000000"
PAGES = {
    f"/c/{CID}/issues": ("issues", "问题清单", "Issue list"),
    f"/c/{CID}/issues/new": ("issue-new", "上报问题", "Report a problem"),
    f"/c/{CID}/issues/{ISSUE}": ("issue", "问题详情", "Issue"),
    f"/c/{CID}/patrol": ("patrol", "网格巡查", "Patrol"),
    f"/c/{CID}/queue": ("issue-queue", "我的待办", "My queue"),
    f"/c/{CID}/triage": ("triage", "受理分派", "Triage"),
}



@pytest.mark.parametrize("path", PAGES)
async def test_issue_page_is_titled_in_chinese_by_default_and_in_english_on_request(client, path):
    await assert_titled_in_both_languages(client, path, *PAGES[path])


@pytest.mark.parametrize("path", PAGES)
async def test_issue_page_renders_elder_mode_from_the_first_byte(client, path):
    await assert_elder_from_the_first_byte(client, path)


@pytest.mark.parametrize("path", PAGES)
async def test_issue_page_has_the_strict_csp_and_no_inline_script_handler_or_style(client, path):
    r = await client.get(path)
    assert_no_inline_code(r.text, r.headers["content-security-policy"])


@pytest.mark.parametrize("path", PAGES)
async def test_issue_page_tells_its_module_who_may_do_the_staff_things(client, path):
    data = page_data((await client.get(path)).text)
    permissions = data["permissions"]
    assert isinstance(permissions, dict)
    for name in ("issues.triage", "issues.see_staff_only", "issues.report_as_staff"):
        assert permissions[name] == sorted(policy.PERMISSIONS[name])


async def test_detail_page_carries_the_issue_id_and_a_bad_one_is_a_404_page(client):
    assert page_data((await client.get(f"/c/{CID}/issues/{ISSUE}")).text)["issue_id"] == ISSUE
    for path in (f"/c/{CID}/issues/not%20an%20id", "/c/bad%20id/issues", "/c/bad%20id/triage"):
        r = await client.get(path)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), path


async def test_report_page_takes_photos_from_the_camera_or_the_album(client):
    r = await client.get(f"/c/{CID}/issues/new")
    assert 'type="file" accept="image/*" capture="environment" multiple' in r.text
    assert 'name="hide_reporter"' in r.text and 'name="staff_only"' in r.text and 'value="grid_patrol"' in r.text


async def test_list_page_filters_by_status_category_overdue_and_mine_and_sorts_three_ways(client):
    r = await client.get(f"/c/{CID}/issues")
    for fragment in ('name="status"', 'name="category_id"', 'name="overdue"', 'value="handling"',
                     'value="-supports"', 'value="deadline"', "待受理", "处置中", "已关闭"):
        assert fragment in r.text, fragment


async def test_community_page_links_the_issue_list_and_the_staff_tools_by_permission(client):
    r = await client.get(f"/c/{CID}")
    assert f'href="/c/{CID}/issues" data-tile-issues' in r.text
    assert f'href="/c/{CID}/triage" data-permission="issues.triage"' in r.text
    assert f'href="/c/{CID}/patrol" data-permission="issues.report_as_staff"' in r.text
    assert f'href="/c/{CID}/queue" data-permission="issues.report_as_staff"' in r.text
    assert r.text.count('aria-disabled="true"') == 1  # meetings are still to come
    permissions = page_data(r.text)["permissions"]
    assert isinstance(permissions, dict)
    assert permissions["issues.triage"] == ["committee"]


def test_every_status_action_source_and_timeline_event_has_words_in_both_languages():
    from app.issues.flows import TRANSITIONS, Status

    for locale in ("zh-CN", "en"):
        catalogue = ui_catalogue(locale)
        names = [f"ui.issue.status.{s}" for s in Status] + [f"ui.issue.action.{a}" for a in TRANSITIONS]
        names += [f"ui.issue.event.{a}" for a in [*TRANSITIONS, "report", "merged_in", "escalate"]]
        names += [f"ui.issue.source.{s}" for s in ("resident", "grid_patrol", "meeting", "hotline", "api")]
        missing = [n for n in names if n not in catalogue]
        assert not missing, (locale, missing)
    zh = ui_catalogue("zh-CN")
    assert [zh[f"ui.issue.status.{s}"] for s in ("reported", "accepted", "rejected", "merged", "dispatched",
                                                "in_progress", "resolved", "reopened", "closed")] == [
        "待受理", "已受理", "不予受理", "已合并", "已派单", "处置中", "已办结", "重新办理", "已关闭"]
    assert zh["ui.issue.action.reopen"] == "核查不通过（重新办理）"
    assert zh["ui.issue.action.close_on_spot"] == "当场办结"
