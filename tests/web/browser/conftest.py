"""Playwright driving Debian's chromium against pytest-django's live server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parents[3] / "test-artifacts"

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
# inside one unless told that this (test-only) use is safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail("browser tests need Debian's chromium: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server, transactional_db):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1024, "height": 768}, base_url=live_server.url)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


def screenshot(tab, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def open_as(tab, username: str, password: str, path: str) -> None:  # type: ignore[no-untyped-def]
    """Open ``path`` as ``username``: a fresh log-in (cookies cleared) that lands on it."""
    tab.context.clear_cookies()
    tab.goto("/login/?next=" + path)
    tab.get_by_label("User name").fill(username)
    tab.get_by_label("Password", exact=True).fill(password)
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_url("**" + path)
