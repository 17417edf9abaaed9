"""Browser tests: the system Chromium, driven by Playwright, against the real app served by
uvicorn on 127.0.0.1.

The server runs as a task on the test session's own event loop, so it shares the migrated
database, the engine and the in-memory SMS outbox with the test (which reads codes from it
the way a phone would). Playwright's async API runs on the same loop.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
VIEWPORT = {"width": 390, "height": 844}


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
