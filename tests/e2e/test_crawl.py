"""The page crawl: every page of the app, as every role, in zh-CN and English, normal and elder
mode (长辈模式), at 360 and 390 px, on the demo street.

The pages come from the app's own routes (every GET route outside /api, /static and /locales), so
a page is crawled the day it is added; its path parameters are filled from the demo (``FILLS``),
and a parameter the crawl cannot fill fails the crawl until someone teaches it. Each page is loaded
once per role and language; the widths are viewport resizes and elder mode is the class the
settings switch toggles, so four looks cost one load. A page fails on:

- a raw message key in what it shows or says (``ui.audit.field.x``),
- sideways scrolling, an element sticking out of the screen, or out of the box it is in (a badge
  running under its row's arrow),
- a button or tab whose label wraps a character or two per line, or cuts a word; a word or number
  of the page's own text cut across two lines anywhere (a column too narrow for it),
- an axe-core violation (tests/e2e/vendor/axe-core; the whole rule set on the normal look, the
  colour contrast again in elder mode, which has colours of its own),
- a script error, a console error, a request that failed, or an answer >= 400 from this site. A
  refusal (401, 403, 404: signed out, not allowed, awaiting approval, staff only) passes only if
  the page told the person (it sent them to sign in, or shows its failure block with the reason);
  any other status never passes,
- Chinese on an English page outside user content: what residents typed and the demo's names are
  marked ``data-user-content`` (or carry their own ``lang``) where the page shows them.

A page that sends the visitor elsewhere by itself (to sign in) is checked where it lands only if
that is not a page the crawl checks anyway. There is no list of expected failures: fix the page.

WUGONG_CRAWL_WORKERS sets how many (role, language) browser profiles crawl at once (default 3);
WUGONG_CRAWL_ROLES (``committee,owner``) and WUGONG_CRAWL_PAGES (a regex of URLs) narrow it while
fixing a page.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, routing
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import Mount

from app import demo
from app.accounts import service as accounts_service
from app.accounts.models import Person
from app.communities.models import Region
from app.core import clock
from app.core.models import Upload
from app.core.security import create_access_token
from app.issues.models import Issue
from app.points.models import StoreOrder
from app.polls.models import Poll
from app.sharing import service as sharing_service
from app.tasks.models import Task

pytestmark = pytest.mark.e2e

HERE = Path(__file__).resolve().parent
CHECKS = (HERE / "crawl_checks.js").read_text(encoding="utf-8")
AXE = (HERE / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
LOCALES = HERE.parents[1] / "web" / "locales"

NOT_CRAWLED_PREFIXES = ("/api/", "/static/", "/locales/")
# GET routes of the app that are not pages of ours (each with the reason).
NOT_OURS = {
    "/docs": "FastAPI's Swagger UI for integrators, drawn from a CDN",
    "/docs/oauth2-redirect": "FastAPI's Swagger UI sign-in callback",
}

ROLES: dict[str, str | None] = {
    "signed out": None,
    "resident": demo.RESIDENT.phone,
    "owner": demo.OWNER.phone,
    "grid worker": demo.GRID_WORKER.phone,
    "handler": demo.HANDLER.phone,
    "committee": demo.COMMITTEE.phone,
    "applicant": demo.APPLICANTS[0][0],  # used the invite link, waiting for the committee
    "region admin": demo.REGION_ADMIN.phone,
}
LANGS = ("zh-CN", "en")
# (mode, width) in the order the crawl looks: one resize or one class toggle between looks.
LOOKS = (("normal", 390), ("normal", 360), ("elder", 360), ("elder", 390))
HEIGHT = 844



@dataclass
class Street:
    """The demo street, and what the crawl fills path parameters with."""

    result: demo.DemoResult
    values: dict[str, list[str]] = field(default_factory=dict)
    receipt: str = ""


def message_key_pattern() -> str:
    """A catalogue key as a page would show it untranslated: an area of the catalogues (ui, error,
    home, …) and at least one more dotted part."""
    areas = {key.split(".")[0] for path in LOCALES.glob("*/*.json") for key in json.loads(path.read_text("utf-8"))}
    return r"\b(?:" + "|".join(sorted(areas)) + r")(?:\.[a-z0-9_-]+)+\b"


# --- which pages --------------------------------------------------------------------------------

PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def crawled_routes(app: FastAPI) -> list[str]:
    """Every GET path of the app outside the API, static files, catalogues and FastAPI's docs."""
    contexts = getattr(routing, "iter_route_contexts", None)
    # Newer FastAPI includes routers lazily: a context reads as the included route (as app/openapi.py).
    routes: list[Any] = list(contexts(app.routes)) if contexts is not None else list(app.routes)
    paths: list[str] = []
    for route in routes:
        if isinstance(getattr(route, "original_route", route), Mount) or "GET" not in (route.methods or ()):
            continue
        path = PARAM.sub(lambda m: "{" + m.group(1) + "}", route.path_format or route.path)
        if path.startswith(NOT_CRAWLED_PREFIXES) or path in NOT_OURS or path in paths:
            continue
        paths.append(path)
    return paths


def fill_keys(path: str) -> list[tuple[str, list[str]]]:
    """Each parameter of ``path`` and the FILLS keys that may fill it, the most specific first: for
    the last one the whole path (``/c/{cid}/polls/{poll_id}/edit``), the path up to the parameter
    (``/join/{code}``), then the parameter's name (``cid``)."""
    found = list(PARAM.finditer(path))
    return [(m.group(1), list(dict.fromkeys([*([path] if m is found[-1] else []), path[:m.end()], m.group(1)])))
            for m in found]


def unfilled(paths: list[str], fills: dict[str, Any]) -> list[str]:
    return [f"{path}: the crawl cannot fill {{{name}}}; teach it (FILLS in tests/e2e/test_crawl.py: "
            f"a value from the demo for '{keys[-2]}' or '{name}')"
            for path in paths for name, keys in fill_keys(path) if not any(k in fills for k in keys)]


def expand(path: str, fills: dict[str, list[str]]) -> list[str]:
    urls = [path]
    for name, keys in fill_keys(path):
        values = next(fills[k] for k in keys if k in fills)
        urls = [u.replace("{" + name + "}", v, 1) for u in urls for v in values]
    return urls


# What the crawl fills path parameters with, from the demo street: one value, or several where a
# page looks different for each (an open owners' vote, a dot-vote, a closed ranked vote on notice).
FILLS: dict[str, Callable[[Street], list[str]]] = {
    "cid": lambda s: [s.result.communities[demo.COMPOUND]],
    "/media/{community_id}": lambda s: [s.result.communities[demo.COMPOUND]],
    "/media/{community_id}/{name}": lambda s: s.values["photo"],
    "poll_id": lambda s: s.values["polls"],
    "/c/{cid}/polls/{poll_id}/edit": lambda s: s.values["draft"],
    "/c/{cid}/polls/{poll_id}/paper": lambda s: s.values["polls"][:1],
    "issue_id": lambda s: s.values["issues"],
    "region_id": lambda s: s.values["street"],
    "/join/{code}": lambda s: [s.result.invites[demo.COMPOUND]],
    "/s/{code}": lambda s: s.values["share"],
    "/receipts/{receipt}": lambda s: [s.receipt],
    # The open clean-up (claimed, with a facilitator's claim), an open wish, an adoption (photo check-ins).
    "task_id": lambda s: s.values["tasks"],
    "/c/{cid}/tasks/{task_id}/checkin": lambda s: s.values["tasks"][:1],
    "/c/{cid}/tasks/{task_id}/console": lambda s: s.values["tasks"][:1],
    "/c/{cid}/tasks/{task_id}/edit": lambda s: s.values["tasks"][:1],
    # An order waiting for pickup: its owner sees the code and QR, the committee the order, others are told.
    "order_id": lambda s: s.values["orders"],
}


def test_the_crawl_can_fill_every_page_of_the_app(app: FastAPI) -> None:
    paths = crawled_routes(app)
    assert "/" in paths and "/c/{cid}/polls/{poll_id}" in paths and "/c/{cid}/admin/audit" in paths, paths
    assert unfilled(paths, FILLS) == []


def test_a_page_the_crawl_cannot_fill_fails_it_with_what_to_do() -> None:
    problems = unfilled(["/c/{cid}/meetings/{meeting_id}"], FILLS)
    assert problems == ["/c/{cid}/meetings/{meeting_id}: the crawl cannot fill {meeting_id}; teach it (FILLS in "
                        "tests/e2e/test_crawl.py: a value from the demo for '/c/{cid}/meetings/{meeting_id}' or "
                        "'meeting_id')"]
    problems = unfilled(["/c/{cid}/meetings/{meeting_id}/minutes"], FILLS)
    assert "a value from the demo for '/c/{cid}/meetings/{meeting_id}' or 'meeting_id'" in problems[0], problems


# --- the demo street ----------------------------------------------------------------------------

async def _by_title(session: AsyncSession, model: Any, cid: str, *titles: str) -> list[str]:
    rows = (await session.execute(select(model.id, model.title).where(model.community_id == cid))).all()
    ids = {title: id_ for id_, title in rows}
    return [ids[t] for t in titles]


@pytest.fixture
async def street(session: AsyncSession, client: httpx.AsyncClient) -> Street:
    result = await demo.load(session)
    await session.commit()
    cid = result.communities[demo.COMPOUND]
    s = Street(result)
    # An open owners' vote under the Civil Code, a household dot-vote, a closed ranked vote on notice.
    s.values["polls"] = await _by_title(session, Poll, cid, demo.LIFT_POLL, demo.DOTS_POLL, demo.PARKING_POLL)
    # Waiting for the committee with comments; fixed and waiting for its reporter to check, with an
    # after-photo; the staff-only dispute.
    s.values["issues"] = await _by_title(session, Issue, cid, "8栋下水道堵塞，污水外溢", "1栋单元门禁损坏",
                                         "邻里纠纷：楼上漏水协商未果")
    s.values["street"] = [(await session.execute(select(Region.id).where(Region.name == demo.STREET))).scalar_one()]
    s.values["tasks"] = await _by_title(session, Task, cid, "周六小区大扫除", "希望有人陪我去社区医院复诊",
                                        "认领6栋前3号绿地")
    s.values["orders"] = [(await session.execute(select(StoreOrder.id).where(
        StoreOrder.community_id == cid, StoreOrder.status == "ready").order_by(StoreOrder.id).limit(1))).scalar_one()]
    # An after-photo on a public issue (the media route serves those unsigned).
    photo = (await session.execute(select(Upload.key).where(Upload.community_id == cid).order_by(Upload.id)
                                   .limit(1))).scalar_one()
    s.values["photo"] = [photo.split("/", 1)[1]]
    link = await sharing_service.ensure_link(session, kind="issue", target_id=s.values["issues"][0], community_id=cid)
    s.values["share"] = [link.code]
    await session.commit()
    # A receipt to check: the building leader votes on a question the committee has just put.
    def as_(phone: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {create_access_token(people[phone])[0]}"}

    people: dict[str, str] = dict((await session.execute(select(Person.phone, Person.id).where(
        Person.phone.in_((demo.COMMITTEE.phone, demo.BUILDING_LEADER.phone))))).all())
    await session.commit()  # the app writes next; a read left open here would pin an old snapshot
    polls = f"/api/v1/communities/{cid}/polls"
    r = await client.post(polls, headers=as_(demo.COMMITTEE.phone), json={
        "title": "楼道灯换暖光还是白光？", "kind": "single", "electorate": "residents",
        "closes_at": (clock.now() + timedelta(days=7)).isoformat(),
        "options": [{"label": "暖光"}, {"label": "白光"}]})
    assert r.status_code == 201, r.text
    poll_id = r.json()["id"]
    r = await client.post(f"{polls}/{poll_id}/open", headers=as_(demo.COMMITTEE.phone))
    assert r.status_code == 200, r.text
    option = r.json()["options"][0]["id"]
    r = await client.post(f"{polls}/{poll_id}/ballots", json={"choices": [option]},
                          headers=as_(demo.BUILDING_LEADER.phone))
    assert r.status_code in (200, 201), r.text
    s.receipt = r.json()["receipt"]
    # A draft the committee is still writing, for the builder's edit page.
    r = await client.post(polls, headers=as_(demo.COMMITTEE.phone), json={
        "title": "小区公约修订：是否禁止高空晾晒？", "kind": "proposal", "electorate": "owners",
        "preset": "simple_majority", "description": "修订《幸福里小区居民公约》第七条。"})
    assert r.status_code == 201, r.text
    s.values["draft"] = [r.json()["id"]]
    return s


# --- the crawl ----------------------------------------------------------------------------------

class Findings:
    """What went wrong, each finding once with every (role, language, look) it was seen in."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], set[str]] = defaultdict(set)

    def add(self, url: str, finding: str, where: str) -> None:
        self.seen[(url, finding)].add(where)

    def report(self) -> list[str]:
        return [f"{url} — {finding} [{'; '.join(sorted(where)[:4])}{' …' if len(where) > 4 else ''}]"
                for (url, finding), where in sorted(self.seen.items())]


class Watch:
    """Errors, refused and failed requests, and requests in flight on one page, for the visit under way."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page, self.base_url = page, base_url
        self.visiting = False
        self.problems: list[str] = []
        self.refused: list[str] = []  # 401, 403, 404 answers: fine if the page says so (Visit.told)
        self.aborted: list[str] = []  # fine if the page went elsewhere by itself (to sign in)
        self.navigations = 0
        self.in_flight: set[Any] = set()
        self.ours: set[Any] = set()  # the requests of the visit under way
        self.last_change = time.monotonic()
        page.on("pageerror", lambda error: self._problem(f"script error: {error}"))
        page.on("console", self._console)
        page.on("request", self._request)
        page.on("requestfinished", self._done)
        page.on("requestfailed", self._failed)
        page.on("response", self._response)
        page.on("framenavigated", self._navigated)

    def begin(self) -> None:
        self.visiting, self.problems, self.refused, self.aborted, self.navigations = True, [], [], [], 0
        self.ours, self.in_flight = set(), set()  # the last page's live stream ends as this one loads

    def _problem(self, text: str) -> None:
        if self.visiting:
            self.problems.append(text)

    def _navigated(self, frame: Any) -> None:
        if frame == self.page.main_frame:
            self.navigations += 1

    def _console(self, message: Any) -> None:
        # A refused request also shows as "Failed to load resource"; _response judges those.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self._problem(f"console error: {message.text}")

    def _request(self, request: Any) -> None:
        if self.visiting:
            self.ours.add(request)
        # A live stream (results/stream) stays open by design: the page is settled without it.
        if "text/event-stream" not in request.headers.get("accept", ""):
            self.in_flight.add(request)
            self.last_change = time.monotonic()

    def _done(self, request: Any) -> None:
        self.in_flight.discard(request)
        self.last_change = time.monotonic()

    def _failed(self, request: Any) -> None:
        self._done(request)
        if self.visiting and request in self.ours:
            what = f"{request.method} {request.url.removeprefix(self.base_url)} failed ({request.failure})"
            (self.aborted if request.failure == "net::ERR_ABORTED" else self.problems).append(what)

    def _response(self, response: Any) -> None:
        if (response.status < 400 or not response.url.startswith(self.base_url) or not self.visiting
                or response.request not in self.ours):
            return
        what = f"{response.request.method} {response.url.removeprefix(self.base_url).split('?')[0]} " \
               f"answered {response.status}"
        (self.refused if response.status in (401, 403, 404) else self.problems).append(what)

    async def quiet(self, for_seconds: float = 0.1) -> None:
        """Until nothing has been asked for or answered for a moment (at most 10 s)."""
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if not self.in_flight and time.monotonic() - self.last_change >= for_seconds:
                return
            await asyncio.sleep(0.05)
        self._problem("still loading after 10 s: " + ", ".join(sorted(r.url for r in self.in_flight))[:300])


async def signed_in_state(session: AsyncSession, base_url: str, phone: str | None, lang: str) -> dict[str, Any]:
    """A browser profile as it is after signing in on this phone and choosing ``lang`` in settings."""
    storage = [{"name": "wg_lang", "value": lang}, {"name": "wg_elder", "value": "0"}]
    if phone:
        person = (await session.execute(select(Person).where(Person.phone == phone))).scalar_one()
        pair = await accounts_service.issue_tokens(session, person)
        await session.commit()
        storage += [{"name": "wg_access", "value": pair.access_token},
                    {"name": "wg_refresh", "value": pair.refresh_token}, {"name": "wg_person", "value": person.id}]
    return {"cookies": [{"name": "wg_lang", "value": lang, "url": base_url},
                        {"name": "wg_elder", "value": "0", "url": base_url}],
            "origins": [{"origin": base_url, "localStorage": storage}]}


TOLD = """() => {
  // The page told the person why it shows nothing: it sent them to sign in, or shows its failure block.
  if (location.pathname === "/login") return true;
  const failure = document.querySelector("[data-failure]");
  return Boolean(failure && !failure.hidden && failure.innerText.trim());
}"""


async def crawl_as(browser: Any, base_url: str, state: dict[str, Any], role: str, lang: str,
                   pages: list[tuple[str, str]], keys: str, findings: Findings, timings: dict[str, float]) -> None:
    context = await browser.new_context(viewport={"width": LOOKS[0][1], "height": HEIGHT}, locale=lang,
                                        base_url=base_url, is_mobile=True, has_touch=True,
                                        service_workers="block", storage_state=state)
    await context.add_init_script(AXE)
    await context.add_init_script(CHECKS)
    crawled = {url for _, url in pages}
    try:
        page = await context.new_page()
        page.set_default_timeout(15_000)
        watch = Watch(page, base_url)
        for _, url in pages:
            clock_ = time.monotonic()
            watch.begin()
            response = await page.goto(url, wait_until="domcontentloaded")
            if response is None or response.status != 200:
                watch.problems.append(f"the page answered {response.status if response else 'nothing'}")
            if await page.locator("script[type=module]").count():
                await page.wait_for_selector("html[data-ready]", state="attached")
            await watch.quiet()
            timings["load"] += time.monotonic() - clock_
            landed = page.url.removeprefix(base_url).split("?")[0]
            moved = landed != url
            if watch.refused and not await page.evaluate(TOLD):
                watch.problems += [f"{what}, and the page did not say so" for what in watch.refused]
            if not moved:
                watch.problems += watch.aborted
            watch.visiting = False
            for problem in watch.problems:
                findings.add(url, problem, f"{role}, {lang}")
            if moved and landed in crawled:
                continue  # it sent the person to a page the crawl checks on its own (to sign in)
            for mode, width in LOOKS:
                clock_ = time.monotonic()
                where = f"{role}, {lang}, {mode}, {width} px"
                await page.set_viewport_size({"width": width, "height": HEIGHT})
                await page.evaluate("(on) => document.documentElement.classList.toggle('elder', on)",
                                    mode == "elder")
                # The words are the same at either width: read them at the first width of each mode.
                words = (mode, width) in (LOOKS[0], LOOKS[2])
                for finding in await page.evaluate("([keys, words]) => window.__crawl.layout(keys, words)",
                                                   [keys, words]):
                    findings.add(url, finding, where)
                timings["layout"] += time.monotonic() - clock_
                clock_ = time.monotonic()
                if (mode, width) == LOOKS[0]:
                    for finding in await page.evaluate("() => window.__crawl.axe(null)"):
                        findings.add(url, finding, where)
                elif (mode, width) == LOOKS[2]:
                    for finding in await page.evaluate("() => window.__crawl.axe(['color-contrast'])"):
                        findings.add(url, finding, where)
                timings["axe"] += time.monotonic() - clock_
    finally:
        await context.close()


async def test_every_page_reads_right_for_every_role_in_both_languages_sizes_and_widths(
        app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, browser: Any, live_server: str,
        street: Street) -> None:
    started = time.monotonic()
    paths = crawled_routes(app)
    assert unfilled(paths, FILLS) == []
    fills = {key: make(street) for key, make in FILLS.items()}

    # Over HTTP first: every route answers what its fill asks for; those that answer HTML are pages.
    pages: list[tuple[str, str]] = []
    for path in paths:
        for url in expand(path, fills):
            r = await client.get(url)
            assert r.status_code == 200, f"{url} answered {r.status_code}: {r.text[:200]}"
            if r.headers["content-type"].startswith("text/html"):
                pages.append((path, url))
    assert len(pages) > 20, pages

    keys = message_key_pattern()
    findings = Findings()
    # For a quick look while fixing a page: WUGONG_CRAWL_ROLES=committee,owner WUGONG_CRAWL_PAGES=/polls
    only_roles = [r for r in os.environ.get("WUGONG_CRAWL_ROLES", "").split(",") if r]
    pages = [p for p in pages if re.search(os.environ.get("WUGONG_CRAWL_PAGES", ""), p[1])]
    states = {(role, lang): await signed_in_state(session, live_server, phone, lang)
              for role, phone in ROLES.items() if not only_roles or role in only_roles for lang in LANGS}
    workers = asyncio.Semaphore(int(os.environ.get("WUGONG_CRAWL_WORKERS", "3")))

    timings: dict[str, float] = defaultdict(float)

    async def one(role: str, lang: str) -> None:
        async with workers:
            await crawl_as(browser, live_server, states[(role, lang)], role, lang, pages, keys, findings, timings)

    await asyncio.gather(*(one(role, lang) for role, lang in states))
    elapsed = time.monotonic() - started
    print(f"\ncrawl: {len(pages)} pages × {len(states)} (role, language) × {len(LOOKS)} looks "
          f"in {elapsed:.0f} s ({', '.join(f'{k} {v:.0f} s' for k, v in timings.items())} of browser time)")
    report = findings.report()
    assert not report, f"{len(report)} findings:\n" + "\n".join(report)


SAMPLE = """<!doctype html><html lang="en"><head><title>Sample · Wugong</title>
<style>body { margin: 0; font: 16px sans-serif; } .narrow { width: 40px; } .wide { width: 500px; }
.faint { color: #ccc; } button, td { overflow-wrap: anywhere; } .cell { width: 30px; }
.row { width: 120px; } .pill { display: inline-block; white-space: nowrap; }</style></head><body><main>
<h1>Sample</h1>
<p>ui.sample.raw_key left untranslated</p>
<p>This line has 幸福里 in it, unmarked.</p>
<p>Marked: <span data-user-content>幸福里社区</span>, and <span lang="zh-CN">简体中文</span>.</p>
<button class="narrow" type="button">我也关注</button>
<button class="narrow" type="button">Follow</button>
<div class="wide">too wide</div>
<p class="faint">hard to read</p>
<table><tr><th>Round 1</th><td class="cell">eliminated 2048</td></tr></table>
<div class="row"><span class="pill">Your household has not voted yet</span></div>
</main></body></html>"""


async def test_the_crawl_checks_catch_each_kind_of_fault(browser: Any) -> None:
    context = await browser.new_context(viewport={"width": 360, "height": HEIGHT})
    try:
        await context.add_init_script(AXE)
        await context.add_init_script(CHECKS)
        page = await context.new_page()
        await page.set_content(SAMPLE)
        found = await page.evaluate("(keys) => window.__crawl.layout(keys)", message_key_pattern())
        axe = await page.evaluate("() => window.__crawl.axe(null)")
    finally:
        await context.close()
    text = "\n".join(found)
    assert "the page scrolls sideways: 500 px wide in 360 px" in text, text
    assert 'div.wide "too wide" sticks out of the screen (0…500 px of 360)' in text, text
    assert "raw message key ui.sample.raw_key" in text, text
    assert 'Chinese "This line has 幸福里 in it, unmar" in text of p' in text, text
    assert "幸福里社区" not in text and "简体中文" not in text, text  # user content and its own language
    assert 'button.narrow "我也关注" wraps its label as' in text, text
    assert 'button.narrow "Follow" wraps its label as' in text, text
    assert 'td.cell "eliminated 2048" cuts "eliminated" across two lines' in text, text
    assert 'td.cell "eliminated 2048" cuts "2048" across two lines' in text, text
    assert 'span.pill "Your household has not voted yet" runs out of its box div.row by' in text, text
    assert any(finding.startswith("axe color-contrast") for finding in axe), axe
