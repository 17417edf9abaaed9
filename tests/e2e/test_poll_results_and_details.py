"""What a poll's page says, at phone size, in zh-CN, English and elder mode: results most first (a
dot vote by its dots, a choice by its votes, ties in the poll's own order); an open owners' poll
says where each threshold stands and no pass or fail until the close; hashes, the lot's seed and
the recount command wait in a "technical details" fold (plain words first), on the poll page and
the receipt page, while the secrecy notice and the voter's own receipt card keep working; and the
poll builder names the law in English and fits a 360 px screen."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from app.core import clock
from app.core.security import create_access_token
from tests import factories as f
from tests.issues.support import place
from tests.polls import support as s

pytestmark = pytest.mark.e2e

HASH = re.compile(r"[0-9a-f]{64}")


async def phone_of(new_page: Any, live_server: str, person: Any, *, lang: str = "zh-CN", elder: bool = False,
                   width: int = 390) -> Any:
    """A phone signed in as ``person`` (the token made directly: one person, several phones)."""
    page = await new_page(locale=lang, service_workers="block")
    await page.set_viewport_size({"width": width, "height": 844})
    cookies = [{"name": "wg_lang", "value": lang, "url": live_server}]
    if elder:
        cookies.append({"name": "wg_elder", "value": "1", "url": live_server})
    await page.context.add_cookies(cookies)
    await page.goto("/offline")
    access, _ = create_access_token(person.id)
    await page.evaluate("(pair) => import('/static/js/api.js').then((api) => api.saveTokens(pair))",
                        {"access_token": access, "refresh_token": "none-needed-in-a-short-test"})
    return page


async def opened(client: Any, cid: str, committee: Any, **body: Any) -> dict[str, Any]:
    body = {"closes_at": (clock.now() + timedelta(days=3)).isoformat(), **body}
    r = await client.post(f"/api/v1/communities/{cid}/polls", headers=f.auth(committee), json=body)
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/v1/communities/{cid}/polls/{r.json()['id']}/open", headers=f.auth(committee),
                          json={"now": True})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def vote(client: Any, cid: str, poll_id: str, who: Any, choices: list[str]) -> None:
    r = await client.post(f"/api/v1/communities/{cid}/polls/{poll_id}/ballots", headers=f.auth(who),
                          json={"choices": choices})
    assert r.status_code == 201, r.text


async def bar_labels(page: Any) -> list[str]:
    return [text.strip() for text in await page.locator("[data-bars] .bar__label").all_inner_texts()]


async def test_results_read_most_first_and_ties_keep_the_polls_order(new_page, client, session, shot, live_server):
    p = await place(client, session)
    cid = str(p.c.id)
    dots = await opened(client, cid, p.committee, title="先修哪几件事？", kind="approval", secret=False,
                        max_choices=3, allow_stacking=True,
                        options=[{"label": "路灯"}, {"label": "井盖"}, {"label": "停车"}, {"label": "垃圾站"}])
    _lamp, cover, parking, bins = (o["id"] for o in dots["options"])
    await vote(client, cid, dots["id"], p.resident, [parking, parking, bins])
    await vote(client, cid, dots["id"], p.neighbour, [parking, cover, cover])
    await vote(client, cid, dots["id"], p.handler, [bins])
    # By hand, 7 dots: 停车 3, 井盖 2, 垃圾站 2 (tied with 井盖, which comes first in the poll), 路灯 0.
    for lang, elder, first in (("zh-CN", False, "3 点 · 42.9%"), ("en", False, "3 dots · 42.9%"),
                               ("zh-CN", True, "3 点 · 42.9%")):
        page = await phone_of(new_page, live_server, p.committee, lang=lang, elder=elder)
        await page.goto(f"/c/{cid}/polls/{dots['id']}")
        await expect(page.locator("[data-bars] .bar")).to_have_count(4)  # a named poll: live counts
        assert await bar_labels(page) == ["停车", "井盖", "垃圾站", "路灯"]
        await expect(page.locator("[data-bars] .bar").first.locator(".bar__numbers")).to_have_text(first)
        await page.locator("[data-results]").scroll_into_view_if_needed()
        await shot(page, f"poll-dots-sorted-{lang}{'-elder' if elder else ''}")

    single = await opened(client, cid, p.committee, title="活动定在哪天？", kind="single", secret=False,
                          options=[{"label": "周五"}, {"label": "周六"}, {"label": "周日"}])
    friday, saturday, sunday = (o["id"] for o in single["options"])
    for who, choice in ((p.resident, sunday), (p.neighbour, sunday), (p.handler, friday), (p.grid_worker, saturday)):
        await vote(client, cid, single["id"], who, [choice])
    page = await phone_of(new_page, live_server, p.committee)
    await page.goto(f"/c/{cid}/polls/{single['id']}")
    await expect(page.locator("[data-bars] .bar")).to_have_count(3)
    assert await bar_labels(page) == ["周日", "周五", "周六"]


async def test_an_open_owners_poll_shows_where_it_stands_and_no_verdict_until_it_closes(
        new_page, client, session, shot, live_server):
    e = await s.estate(session, areas=["100.00", "100.00", "100.00", "100.00"])
    cid = str(e.c.id)
    poll = await s.opened(client, e.c, e.committee, kind="proposal", electorate="owners", options=[],
                          matter="raise_fund", secret=False, title="是否筹集3栋维修资金")
    await s.vote(client, e.c, e.owners[0], poll["id"], choices=["no"])
    for lang, elder, so_far, not_yet in (("zh-CN", False, "投票尚未结束，截止后才判定是否通过。", "尚未达到"),
                                         ("en", False, "Voting is still open; whether it passes is decided",
                                          "not reached yet"),
                                         ("zh-CN", True, "投票尚未结束，截止后才判定是否通过。", "尚未达到")):
        page = await phone_of(new_page, live_server, e.committee, lang=lang, elder=elder)
        await page.goto(f"/c/{cid}/polls/{poll['id']}")
        summary = page.locator("[data-results-summary]")
        await expect(summary).to_contain_text(so_far)
        await expect(summary).not_to_have_class(re.compile("is-failed|is-passed"))
        await expect(page.locator("[data-provisional]")).to_be_visible()
        marks = page.locator("[data-criteria] .criterion__mark")
        await expect(marks).to_have_count(4)
        assert set(await marks.all_inner_texts()) == {"…"}  # not reached yet, not ✗
        assert {await m.get_attribute("aria-label") for m in await marks.all()} == {not_yet}
        assert not await page.locator("[data-badges] .badge--danger").count()
        for verdict in ("未通过", "Not passed", "✗"):
            assert verdict not in await page.locator("main").inner_text()
        await page.locator("[data-results]").scroll_into_view_if_needed()
        await shot(page, f"poll-owners-open-{lang}{'-elder' if elder else ''}")
    # The list says no more than the poll.
    await page.goto(f"/c/{cid}/polls")
    await expect(page.locator(f'[data-poll-id="{poll["id"]}"]')).to_be_visible()
    assert "未通过" not in await page.locator("main").inner_text()

    await s.close(client, e.c, e.committee, poll["id"])
    page = await phone_of(new_page, live_server, e.committee)
    await page.goto(f"/c/{cid}/polls/{poll['id']}")
    await expect(page.locator("[data-results-summary]")).to_have_text(re.compile(r"^未通过："))
    await expect(page.locator("[data-results-summary]")).to_have_class(re.compile("is-failed"))
    await expect(page.locator("[data-criteria] .criterion__mark").first).to_have_text("✗")


async def test_hashes_and_the_recount_command_wait_in_a_fold_and_the_receipt_card_still_works(
        new_page, client, session, shot, live_server):
    e = await s.estate(session, areas=["100.00", "100.00", "100.00"])
    cid = str(e.c.id)
    poll = await s.opened(client, e.c, e.committee, kind="proposal", electorate="owners", options=[],
                          matter="use_fund", title="是否使用维修资金修电梯")  # secret, by default
    receipt = ""
    for lang, elder, plain, details in (("zh-CN", False, "任何人都可以下载选票链重新计票", "技术细节"),
                                        ("en", False, "Anyone can download the chain and count again",
                                         "Technical details"),
                                        ("zh-CN", True, "任何人都可以下载选票链重新计票", "技术细节")):
        page = await phone_of(new_page, live_server, e.owners[0], lang=lang, elder=elder)
        await page.goto(f"/c/{cid}/polls/{poll['id']}")
        integrity = page.locator("[data-integrity]")
        await expect(integrity).to_contain_text(plain)
        fold = integrity.locator("[data-integrity-details]")
        await expect(fold.locator("summary")).to_have_text(details)
        await expect(fold.locator("[data-chain-head]")).to_be_hidden()
        assert "verify-poll" not in await page.locator("main").inner_text()
        if not receipt:
            # The lead's secrecy notice and the voter's own receipt card, unchanged.
            await expect(page.locator("[data-secrecy]")).to_contain_text("居委会也看不到")
            await page.locator("[data-ballot] .choice", has_text="同意").click()
            await page.click("[data-ballot] .ballot__submit")
            await page.click("[data-ballot] .ballot__submit")  # a proposal asks to confirm
            await expect(page.locator("[data-receipt-box]")).to_be_visible()
            await expect(page.locator("[data-my-choice]")).to_have_text("同意")
            await expect(page.locator("[data-check-code]")).not_to_be_empty()
            receipt = await page.locator("[data-receipt-code]").inner_text()
        await page.evaluate("document.querySelectorAll('.toast').forEach((toast) => toast.remove())")
        await shot(page, f"poll-integrity-{lang}{'-elder' if elder else ''}")
        await fold.locator("summary").click()
        await expect(fold.locator("[data-chain-head]")).to_have_text(re.compile(r"^[0-9a-f]{16}… \(\d+\)$"))
        await expect(fold).to_contain_text("wugong verify-poll")

        stranger = await new_page(locale=lang, service_workers="block")
        await stranger.context.add_cookies([{"name": "wg_lang", "value": lang, "url": live_server}])
        await stranger.goto(f"/receipts/{receipt}")
        await expect(stranger.locator("[data-verdict]")).to_be_visible()
        hashes = stranger.locator("[data-found-hashes]")
        await expect(hashes.locator('[data-slot="hash"]')).to_be_hidden()
        assert not HASH.search(await stranger.locator("main").inner_text())
        await shot(stranger, f"receipt-{lang}")
        await hashes.locator("summary").click()
        await expect(hashes.locator('[data-slot="hash"]')).to_have_text(HASH)


async def test_the_poll_builder_cites_the_law_in_english_and_fits_a_small_phone(
        new_page, client, session, shot, live_server):
    e = await s.estate(session)
    for lang, elder, width in (("en", False, 360), ("en", False, 390), ("en", False, 422), ("en", True, 360),
                               ("zh-CN", False, 360), ("zh-CN", True, 360)):
        page = await phone_of(new_page, live_server, e.committee, lang=lang, elder=elder, width=width)
        await page.goto(f"/c/{e.c.id}/polls/new")
        await expect(page.locator("[data-poll-form]")).to_be_visible()
        await page.locator('[name="electorate"][value="owners"]').scroll_into_view_if_needed()
        sideways = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert sideways == 0, (lang, elder, width, sideways)
        switch = page.locator('[role="radiogroup"][aria-labelledby="pb-electorate-title"]')
        inside = await switch.evaluate("(group) => [...group.querySelectorAll('.segmented__option')].every("
                                       "(o) => o.getBoundingClientRect().right <= group.getBoundingClientRect().right"
                                       " + 0.5)")
        assert inside, (lang, elder, width)
        if lang == "en":
            await expect(page.locator('[data-cite="civil_code_278"]')).to_have_text(
                "Law: Civil Code of the PRC, Article 278, paragraph 2")
            await expect(page.locator('[data-cite="villagers_meeting"]')).to_have_text(
                "Law: Organic Law of the Villagers' Committees, Article 22")
        if width == 360:
            await shot(page, f"poll-builder-{lang}{'-elder' if elder else ''}-360")
