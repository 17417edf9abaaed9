"""An owners' vote under 民法典第二百七十八条, end to end through the pages: the committee builds it
from the Civil Code preset (raising the maintenance fund: 2/3 must take part, 3/4 must agree, by
area and by headcount), owners vote on the poll page and over the API, a grid worker enters a
paper ballot with a witness (and a building leader's second one for the same owner is refused,
with the reason shown), the committee closes, and the result and the chain are what a hand count says."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

import pytest
from playwright.async_api import expect

from app.polls import verify
from tests import factories as f
from tests.e2e.helpers import give_tokens
from tests.polls import support as s

pytestmark = pytest.mark.e2e

# Six owners with distinct floor areas (owners[i] owns households[i], rooms 101…106 of 3栋).
AREAS = ["120.00", "100.00", "90.00", "80.00", "60.00", "50.00"]


async def signed_in(new_page: Any, client: Any, person: Any, **options: Any) -> Any:
    page = await new_page(**options)
    await give_tokens(client, page, person.phone)
    return page


async def test_owners_raise_the_maintenance_fund_under_the_civil_code(new_page, client, session, shot):
    e = await s.estate(session, areas=AREAS)
    cid = e.c.id

    # --- the committee builds the poll from the Civil Code preset -------------------------------
    committee = await signed_in(new_page, client, e.committee)
    await committee.goto(f"/c/{cid}/polls/new")
    form = committee.locator("[data-poll-form]")
    await expect(form).to_be_visible()
    await committee.locator(".choice-card", has_text="民法典第278条").click()
    await expect(committee.locator('[data-cite="civil_code_278"]')).to_contain_text("第二百七十八条")
    # the law names who votes: owners, weighted by area
    await expect(committee.locator('[name="electorate"][value="owners"]')).to_be_checked()
    await expect(committee.locator('[name="electorate"][value="residents"]')).to_be_disabled()
    preview = committee.locator("[data-rule-plain]")
    await expect(preview).to_contain_text("请先选择表决事项")
    await committee.select_option("#pb-matter", "raise_fund")
    await expect(preview).to_contain_text("四分之三")
    await expect(preview).to_contain_text("三分之二")
    await expect(preview).to_contain_text("专有部分面积")
    await expect(committee.locator("[data-rule-cite]")).to_contain_text("筹集建筑物及其附属设施的维修资金")
    await expect(committee.locator("[data-options-section]")).to_be_hidden()  # 同意/反对/弃权 are fixed
    await committee.fill("#pb-title", "是否筹集3栋维修资金")
    await committee.fill("#pb-description", "外墙渗水，按每平方米20元筹集，用于3栋外墙维修。")

    # A closing time in the past: the server's reason shows under the field it names.
    await committee.fill("#pb-closes", "2020-01-01T20:00")
    await committee.click("[data-open-now]")
    await expect(committee.locator('[data-error-for="closes_at"]')).to_contain_text("截止时间必须晚于现在")
    await expect(committee.locator("#pb-closes")).to_have_attribute("aria-invalid", "true")
    await committee.fill("#pb-closes", "2099-12-31T20:00")
    await expect(committee.locator('[data-error-for="closes_at"]')).to_be_empty()
    await shot(committee, "poll-builder")

    await committee.click("[data-open-now]")
    await committee.wait_for_url(re.compile(rf"/c/{cid}/polls/\w{{26}}$"))
    poll_id = committee.url.rsplit("/", 1)[1]
    poll = (await client.get(f"/api/v1/communities/{cid}/polls/{poll_id}", headers=f.auth(e.committee))).json()
    assert poll["status"] == "open" and poll["kind"] == "proposal" and poll["electorate"] == "owners"
    assert poll["rule"]["matter"] == "raise_fund" and poll["rule"]["key"] == "civil_code_278_major"
    assert poll["electorate_size"] == 6 and poll["electorate_area"] == "500.00"
    assert poll["closes_at"].startswith("2099-12-31T12:00")  # 20:00 Beijing time

    # --- owners vote: one on the poll page, three over the API ----------------------------------
    owner = await signed_in(new_page, client, e.owners[0])
    await owner.goto(f"/c/{cid}/polls/{poll_id}")
    await owner.locator("[data-ballot] .choice", has_text="同意").click()
    await owner.click("[data-ballot] .ballot__submit")  # a proposal asks to confirm
    await owner.click("[data-ballot] .ballot__submit")
    await expect(owner.locator("[data-receipt-box]")).to_be_visible()
    for voter, choice in ((e.owners[1], "yes"), (e.owners[2], "yes"), (e.owners[4], "no")):
        await s.vote(client, e.c, voter, poll_id, choices=[choice])

    # --- a grid worker enters 业主4's paper ballot (3栋104), with a witness ------------------------
    worker = await signed_in(new_page, client, e.grid_worker)
    leader = await f.member(session, e.c, "building_leader", name="赵楼长")
    late = await signed_in(new_page, client, leader)  # a building leader, handed the same slip
    for page in (worker, late):
        await page.goto(f"/c/{cid}/polls/{poll_id}/paper")
        await expect(page.locator("[data-count]")).to_have_text("已录入 0 张")
        await expect(page.locator("[data-electors] [data-elector]")).to_have_count(2)  # 104 and 106 have not voted
        if page is worker:
            await shot(page, "poll-paper-roll")
        await page.fill("#paper-q", "104")
        await page.click('[data-search] [type="submit"]')
        await expect(page.locator("[data-electors] [data-elector]")).to_have_count(1)
        row = page.locator("[data-electors] [data-elector]")
        await expect(row).to_contain_text("3栋104")
        await expect(row).to_contain_text("80.00")
        await row.click()
        await expect(page.locator("[data-ballot-form]")).to_be_visible()
        await page.locator("[data-choices] .target", has_text="同意").click()

    await worker.click('[data-ballot-form] [type="submit"]')
    await expect(worker.locator('[data-error-for="witness"]')).to_have_text("请填写见证人姓名。")
    await worker.fill("#paper-witness", "王阿姨")
    await worker.fill("#paper-voter", "业主4")
    await shot(worker, "poll-paper-entry")
    await worker.click('[data-ballot-form] [type="submit"]')
    done = worker.locator("[data-receipt]")
    await expect(done).to_be_visible()
    await expect(worker.locator("[data-count]")).to_have_text("已录入 1 张")
    receipt = (await done.locator('[data-slot="receipt"]').text_content() or "").strip()
    assert re.fullmatch(r"[A-Za-z0-9-]{4,40}", receipt), receipt
    check = (await client.get(f"/api/v1/receipts/{receipt}")).json()
    assert check["found"] is True and check["counted"] is True and "choices" not in check
    await shot(worker, "poll-paper-receipt")

    # The same owner again, from the phone that still shows the slip: refused, and told why.
    await late.fill("#paper-witness", "李大爷")
    await late.click('[data-ballot-form] [type="submit"]')
    await expect(late.locator("[data-ballot-form] [data-form-error]")).to_have_text(
        "这位投票人已经通过纸质选票投过票，同一人（同一户）只计一次。")
    await expect(late.locator('[data-ballot-form] [type="submit"]')).to_be_disabled()

    # On the roll, 业主4 now shows how they voted and cannot be entered again.
    await worker.click("[data-next]")
    await worker.click('[data-voted="true"]')
    voted = worker.locator("[data-electors] [data-elector]", has_text="3栋104")
    await expect(voted).to_contain_text("纸质选票")
    await expect(voted).to_contain_text("刘网格")
    await expect(voted).to_contain_text("王阿姨")
    await expect(worker.locator("[data-electors] [data-elector]")).to_have_count(5)
    await voted.click()
    detail = worker.locator("[data-voted-detail]")
    await expect(detail).to_contain_text("只计一次")
    await expect(detail.locator('[data-slot="witness"]')).to_have_text("王阿姨")
    await expect(worker.locator("[data-ballot-form]")).to_be_hidden()

    # --- the committee closes; the page shows the outcome a hand count gives --------------------
    await committee.reload()
    close = committee.locator('[data-do="close"]')
    await close.click()
    await close.click()  # the second tap confirms
    summary = committee.locator("[data-results-summary]")
    await expect(summary).to_have_text(re.compile(r"^通过"))

    # By hand: 6 owners, 500 m². Taking part: 业主1–5 (120+100+90+80+60 = 450 m², 5 owners);
    # agreeing: 业主1–4 (120+100+90+80 = 390 m², 4 owners); 业主6 (50 m²) did not vote.
    #   quorum   area 450/500 = 9/10 ≥ 2/3 ✓     headcount 5/6 ≥ 2/3 ✓
    #   pass     area 390/450 = 13/15 ≥ 3/4 ✓   headcount 4/5 ≥ 3/4 ✓  → 通过
    # (Counted against the whole electorate instead, 4/6 < 3/4 would fail: the base matters.)
    assert Fraction(450, 500) >= Fraction(2, 3) and Fraction(5, 6) >= Fraction(2, 3)
    assert Fraction(390, 450) >= Fraction(3, 4) and Fraction(4, 5) >= Fraction(3, 4)
    assert Fraction(4, 6) < Fraction(3, 4)
    result = (await s.results(client, e.c, e.owners[5], poll_id))["result"]
    assert result["passed"] is True and result["quorum_met"] is True
    assert (result["participants"], result["participating_area"]) == (5, "450.00")
    assert (result["yes"], result["no"], result["abstain"]) == (4, 1, 0)
    assert (result["yes_area"], result["no_area"]) == ("390.00", "60.00")
    criteria = {(c["stage"], c["measure"]): (c["numerator"], c["denominator"], c["met"]) for c in result["criteria"]}
    assert all(met for _, _, met in criteria.values()), criteria
    await shot(committee, "poll-civil-code-result")

    # --- anyone can download the chain and recount it -------------------------------------------
    download = (await client.get(f"/api/v1/communities/{cid}/polls/{poll_id}/chain",
                                 headers=f.auth(e.owners[5]))).json()
    assert len(download["entries"]) == 5
    report = verify.verify_download(download)
    assert report.ok, report.lines

    # --- the builder and the paper page in elder mode ---------------------------------------------
    await committee.evaluate("import('/static/js/prefs.js').then((prefs) => prefs.setElder(true))")
    await committee.goto(f"/c/{cid}/polls/new")
    assert await committee.evaluate("document.documentElement.classList.contains('elder')")
    await committee.locator(".choice-card", has_text="民法典第278条").click()
    await committee.select_option("#pb-matter", "raise_fund")
    await expect(committee.locator("[data-rule-plain]")).to_contain_text("四分之三")
    await shot(committee, "poll-builder-elder")
    await worker.evaluate("import('/static/js/prefs.js').then((prefs) => prefs.setElder(true))")
    await worker.goto(f"/c/{cid}/polls/{poll_id}/paper")
    await expect(worker.locator("[data-count]")).to_have_text("已录入 1 张")
    await expect(worker.locator("[data-not-open]")).to_be_visible()  # closed: nothing more to enter
    await shot(worker, "poll-paper-elder")


async def test_builder_makes_a_dot_vote_over_the_issue_list_edits_it_and_words_a_custom_rule_as_the_server(
        new_page, client, session, shot):
    e = await s.estate(session, areas=AREAS[:3])
    cid = e.c.id
    cats = (await client.get(f"/api/v1/communities/{cid}/categories", headers=f.auth(e.committee))).json()
    issues = []
    for title in ("3栋路灯不亮", "南门井盖松动", "楼道堆放杂物"):
        r = await client.post(f"/api/v1/communities/{cid}/issues", headers=f.auth(e.owners[0]),
                              json={"title": title, "description": "请尽快处理", "category_id": cats[0]["id"]})
        assert r.status_code == 201, r.text
        issues.append(r.json())

    # A dot vote: two dots each, over three issues picked from the issue list, the last moved up.
    page = await signed_in(new_page, client, e.committee)
    await page.goto(f"/c/{cid}/polls/new")
    await page.locator(".choice-card", has_text="圈点投票").click()
    await expect(page.locator("[data-rule-section]")).to_be_hidden()
    await expect(page.locator("[data-issue-picker]")).to_have_attribute("open", "")
    for _ in range(2):  # the two empty options a new poll starts with
        await page.locator("[data-option-list] [data-remove]").first.click()
    await expect(page.locator("[data-option]")).to_have_count(0)
    for title in ("3栋路灯不亮", "南门井盖松动", "楼道堆放杂物"):
        await page.locator(".issue-pick", has_text=title).locator("[data-pick]").click()
    await expect(page.locator(".issue-pick", has_text="南门井盖松动").locator("[data-pick]")).to_be_disabled()
    await page.locator("[data-option]").nth(2).locator('[data-move="-1"]').click()
    await expect(page.locator('[data-option] [name="option_label"]').nth(1)).to_have_value("楼道堆放杂物")
    await expect(page.locator("#pb-max")).to_have_value("3")
    await page.fill("#pb-max", "2")
    await expect(page.locator("[data-rule-plain]")).to_contain_text("每人有 2 个点")
    await page.fill("#pb-title", "先办哪两件事")
    await shot(page, "poll-builder-dots")
    await page.click("[data-save]")
    await page.wait_for_url(re.compile(rf"/c/{cid}/polls/\w{{26}}$"))
    poll_id = page.url.rsplit("/", 1)[1]
    poll = (await client.get(f"/api/v1/communities/{cid}/polls/{poll_id}", headers=f.auth(e.committee))).json()
    assert (poll["status"], poll["kind"], poll["max_choices"]) == ("draft", "approval", 2)
    assert [(o["label"], o["issue_id"]) for o in poll["options"]] == [
        (issues[0]["title"], issues[0]["id"]), (issues[2]["title"], issues[2]["id"]),
        (issues[1]["title"], issues[1]["id"])]

    # Editing the draft: the form comes back filled, and the save carries the version.
    await page.goto(f"/c/{cid}/polls/{poll_id}/edit")
    await expect(page.locator("#pb-title")).to_have_value("先办哪两件事")
    await expect(page.locator('[name="template"][value="approval"]')).to_be_checked()
    await expect(page.locator("[data-option]")).to_have_count(3)
    await page.fill("#pb-title", "先办哪两件事？")
    await page.click("[data-save]")
    await page.wait_for_url(re.compile(rf"/c/{cid}/polls/{poll_id}$"))
    edited = (await client.get(f"/api/v1/communities/{cid}/polls/{poll_id}", headers=f.auth(e.committee))).json()
    assert edited["title"] == "先办哪两件事？" and edited["version"] == poll["version"] + 1

    # A custom rule: the sentence the builder shows is the one the server states on the poll.
    await page.goto(f"/c/{cid}/polls/new")
    await page.locator(".choice-card", has_text="自定规则议案").click()
    await page.locator('[name="electorate"][value="owners"]').check(force=True)
    await page.select_option("#pb-threshold", "two_thirds")
    await page.locator('[name="rule_measure"][value="area"]').check()
    await page.click("[data-add-group]")
    await page.locator("[data-group] [data-add-row]").click()
    await page.locator("[data-group] [data-criterion]").nth(1).locator("[data-threshold]").select_option(
        "more_than_half")
    preview = (await page.locator("[data-rule-plain]").text_content() or "").strip()
    assert "三分之二以上" in preview and "过半数的专有部分面积" in preview, preview
    await page.fill("#pb-title", "是否更换物业")
    await page.click("[data-save]")
    await page.wait_for_url(re.compile(rf"/c/{cid}/polls/\w{{26}}$"))
    custom = (await client.get(f"/api/v1/communities/{cid}/polls/{page.url.rsplit('/', 1)[1]}",
                               headers=f.auth(e.committee))).json()
    assert custom["rule"]["measures"] == ["headcount", "area"]
    assert custom["rule"]["quorum"] == [[{"measure": "headcount", "threshold": "two_thirds"},
                                         {"measure": "area", "threshold": "more_than_half"}]]
    assert custom["rule_plain"] == preview
