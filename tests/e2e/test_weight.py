"""The weight of the home page: what a phone on a metered plan downloads the first time it opens
Wugong (nothing cached, no service worker yet, as inside WeChat), counted as Chromium counts it,
and what it downloads the next time (the page and its answers only)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from playwright.async_api import expect

from tests import factories as f
from tests.e2e.conftest import VIEWPORT
from tests.e2e.helpers import neighbourhood, sms_code

pytestmark = pytest.mark.e2e

BUDGET = 70 * 1024  # bytes on the wire (compressed bodies and headers) for a cold home page


class Traffic:
    """Every request a page made, from Chromium's own accounting (CDP Network events):
    encodedDataLength is what crossed the wire, headers included."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.urls: dict[str, str] = {}
        self.sizes: dict[str, int] = {}
        self.cached: set[str] = set()

    async def watch(self, context: Any, page: Any) -> None:
        cdp = await context.new_cdp_session(page)
        await cdp.send("Network.enable")
        cdp.on("Network.requestWillBeSent", lambda e: self.urls.__setitem__(e["requestId"], e["request"]["url"]))
        cdp.on("Network.requestServedFromCache", lambda e: self.cached.add(e["requestId"]))
        cdp.on("Network.responseReceived", lambda e: self.cached.add(e["requestId"])
               if e["response"].get("fromDiskCache") or e["response"].get("fromPrefetchCache") else None)
        cdp.on("Network.loadingFinished", lambda e: self.sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])))

    @property
    def fetched(self) -> list[tuple[int, str]]:
        """(bytes, path) of what came over the network, largest first."""
        rows = ((self.sizes.get(rid, 0), url.removeprefix(self.base_url))
                for rid, url in self.urls.items() if rid not in self.cached)
        return sorted(rows, reverse=True)

    @property
    def bytes(self) -> int:
        return sum(size for size, _ in self.fetched)


async def home(browser: Any, base_url: str, locale: str, tokens: dict[str, str] | None,
               visits: int = 1) -> list[Traffic]:
    """Open / in a fresh profile ``visits`` times (signed in before if ``tokens``), until settled."""
    context = await browser.new_context(viewport=VIEWPORT, locale=locale, base_url=base_url, is_mobile=True,
                                        has_touch=True, service_workers="block")
    try:
        page = await context.new_page()
        if tokens:  # signed in on this phone before, with nothing of the app kept
            await page.goto("/healthz")
            await page.evaluate("(t) => { for (const [k, v] of Object.entries(t)) localStorage.setItem(k, v); }",
                                tokens)
        traffic = []
        for _ in range(visits):
            page = await context.new_page()
            traffic.append(Traffic(base_url))
            await traffic[-1].watch(context, page)
            await page.goto("/", wait_until="networkidle")
            await expect(page.locator("[data-signed-in]" if tokens else "[data-signed-out]")).to_be_visible()
            await expect(page.locator(".topbar__brand")).to_contain_text("五共" if locale == "zh-CN" else "Wugong")
            await page.wait_for_load_state("networkidle")
            await page.close()
        return traffic
    finally:
        await context.close()


async def signed_in_resident(client: Any, session: Any) -> dict[str, str]:
    place = await neighbourhood(session, client)
    resident = await f.member(session, place.community, name="王阿姨")
    await client.post("/api/v1/auth/otp", json={"phone": resident.phone})
    pair = (await client.post("/api/v1/auth/token",
                              json={"phone": resident.phone, "code": await sms_code(resident.phone)})).json()
    return {"wg_access": pair["access_token"], "wg_refresh": pair["refresh_token"], "wg_person": resident.id}


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "signed-out"])
async def test_a_cold_home_page_weighs_under_70_kb(browser, live_server, client, session, locale, signed_in):
    tokens = await signed_in_resident(client, session) if signed_in else None
    (cold,) = await home(browser, live_server, locale, tokens)
    print(json.dumps({"locale": locale, "signed_in": signed_in, "bytes": cold.bytes,
                      "requests": len(cold.fetched), "fetched": cold.fetched}, ensure_ascii=False))
    assert cold.bytes < BUDGET, cold.fetched
    paths = [path for _, path in cold.fetched]
    assert [p for p, n in Counter(paths).items() if n > 1] == []  # nothing fetched twice (the icon was)
    files = [p for p in paths if p.startswith(("/static/", "/locales/"))]
    assert files and all("?v=" in p for p in files), files  # every module through the import map
    assert sum(p.startswith("/locales/") for p in files) == 2  # the common areas, not the whole catalogue


async def test_the_next_visit_fetches_only_the_page_and_its_answers(browser, live_server, client, session):
    tokens = await signed_in_resident(client, session)
    cold, warm = await home(browser, live_server, "zh-CN", tokens, visits=2)
    assert [p for _, p in warm.fetched if p.startswith(("/static/", "/locales/"))] == []  # no revalidations
    print(json.dumps({"cold": cold.bytes, "warm": warm.bytes, "warm_fetched": warm.fetched}))
    assert warm.bytes < 6 * 1024, warm.fetched


async def test_the_service_worker_keeps_every_versioned_file_for_offline_use(new_page):
    page = await new_page()
    await page.goto("/")
    assert await page.evaluate("navigator.serviceWorker.ready.then((r) => Boolean(r.active))")
    missing = await page.evaluate("""async () => {
        const { urls } = await (await fetch("/sw-shell.json")).json();
        const kept = await Promise.all(urls.map((url) => caches.match(url)));
        return urls.filter((url, i) => !kept[i]);
    }""")
    assert missing == []
    await page.evaluate("() => { for (const key of Object.keys(localStorage)) localStorage.removeItem(key); }")
    await page.context.set_offline(True)
    await page.goto("/settings")
    await expect(page.get_by_text("现在没有网络", exact=True)).to_be_visible()
    # The offline page's modules and words came from the worker's cache (none were kept elsewhere);
    # the plain URL reaches the page's own module through the import map.
    await expect(page.locator("[data-retry]")).to_be_enabled()  # the page's module has run
    assert await page.evaluate("import('/static/js/i18n.js').then((m) => m.t('ui.offline.retry'))") == "重试"
