"""Browser tests: the system Chromium, driven by Playwright, against the real app served by
uvicorn on 127.0.0.1.

The server runs as a task on the test session's own event loop, so it shares the migrated
database, the engine and the in-memory SMS outbox with the test (which reads codes from it
the way a phone would). Playwright's async API runs on the same loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from app.accounts.sms import memory_outbox

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
VIEWPORT = {"width": 390, "height": 844}


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Ctrl-C belongs to pytest, not to the server under test.
        yield


@pytest.fixture(scope="session")
async def live_server(app: Any) -> AsyncIterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # lifespan off: the app fixture owns the engine, and the app's shutdown would dispose it.
    config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False, ws="none")
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task
    sock.close()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    if not HAVE_CHROMIUM:
        message = f"{CHROMIUM} is missing: install Chromium (apt-get install chromium) to run the browser tests"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


NewPage = Callable[..., Awaitable[Any]]


@pytest.fixture
async def new_page(browser: Any, live_server: str) -> AsyncIterator[NewPage]:
    """Open a phone-sized page in a fresh browser profile; fails the test on script errors."""
    contexts: list[Any] = []
    problems: list[str] = []

    async def make(locale: str = "zh-CN", **options: Any) -> Any:
        context = await browser.new_context(viewport=VIEWPORT, locale=locale, base_url=live_server,
                                            is_mobile=True, has_touch=True, **options)
        contexts.append(context)
        page = await context.new_page()
        page.set_default_timeout(10_000)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("console", lambda message: problems.append(f"console: {message.text}")
                if "Content Security Policy" in message.text or "Uncaught" in message.text else None)
        return page

    yield make
    for context in contexts:
        await context.close()
    assert not problems, problems


@pytest.fixture
def shot() -> Callable[[Any, str], Awaitable[None]]:
    ARTIFACTS.mkdir(exist_ok=True)

    async def take(page: Any, name: str) -> None:
        await page.evaluate("window.scrollTo(0, 0)")  # else the sticky top bar lands mid-picture
        await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    return take


async def sms_code(phone: str, wait_seconds: float = 5.0) -> str:
    """The last code texted to ``phone`` (the memory SMS backend is the phone's inbox)."""
    for _ in range(int(wait_seconds / 0.05)):
        code = memory_outbox().last_code(phone)
        if code:
            return code
        await asyncio.sleep(0.05)
    raise AssertionError(f"no SMS to {phone}")


async def sign_in_on_page(page: Any, phone: str) -> None:
    """Fill the sign-in card on the current page, as a person would."""
    await page.fill("#si-phone-input", phone)
    await page.click("[data-send-code]")
    await page.wait_for_selector("[data-code-sent]:not([hidden])")
    await page.fill("#si-code", await sms_code(phone))
    await page.click('[data-panel="phone"] [type="submit"]')


async def give_tokens(client: httpx.AsyncClient, page: Any, phone: str | None) -> None:
    """Sign ``phone`` in over the API and hand the tokens to the page, skipping the form."""
    assert phone
    await client.post("/api/v1/auth/otp", json={"phone": phone})
    tokens = (await client.post("/api/v1/auth/token", json={"phone": phone, "code": await sms_code(phone)})).json()
    if not page.url.startswith("http"):
        await page.goto("/offline")
    await page.evaluate("(pair) => import('/static/js/api.js').then((api) => api.saveTokens(pair))", tokens)


class Neighbourhood:
    """A community with a street above it, one building, a committee member and an invite."""

    def __init__(self, community: Any, building: Any, committee: Any, invite: dict[str, Any]) -> None:
        self.community, self.building, self.committee, self.invite = community, building, committee, invite

    @property
    def cid(self) -> str:
        return str(self.community.id)


async def neighbourhood(session: Any, client: httpx.AsyncClient,
                        roster: tuple[tuple[str, str], ...] = ()) -> Neighbourhood:
    from tests import factories as f

    street = await f.region(session, name="花山街道")
    community = await f.community(session, name="幸福里社区", region_id=street.id)
    building = await f.building(session, community, name="1栋")
    committee = await f.member(session, community, "committee", name="陈主任")
    headers = f.auth(committee)
    if roster:
        rows = (f"{name},{phone},1栋,{101 + i},是" for i, (name, phone) in enumerate(roster))
        lines = ["姓名,手机号,楼栋,房号,业主", *rows]
        r = await client.post(f"/api/v1/communities/{community.id}/households/import", headers=headers,
                              files={"file": ("roster.csv", "\n".join(lines).encode(), "text/csv")})
        assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/communities/{community.id}/invites", json={"note": "1栋微信群"}, headers=headers)
    assert r.status_code == 201, r.text
    return Neighbourhood(community, building, committee, r.json())
