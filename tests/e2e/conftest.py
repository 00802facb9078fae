"""Browser tests: the production build served on a free port, driven by Debian's Chromium."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS


# Per module, not per session: Playwright's sync API keeps an event loop running on the main
# thread while it is open, and pytest-asyncio cannot run the async tests of other modules then.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """Open fresh browser profiles (one per person); all are closed after the test."""
    contexts: list[BrowserContext] = []

    def make(**options: object) -> BrowserContext:
        context = browser.new_context(
            viewport={"width": 1440, "height": 900},
            permissions=["clipboard-read", "clipboard-write"],
            **options,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page_of(new_context: Callable[..., BrowserContext]) -> Callable[..., Page]:
    """A page in a fresh profile; console errors fail the test at teardown."""

    def make(**options: object) -> Page:
        return new_context(**options).new_page()

    return make
