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

import pytest
import uvicorn

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
