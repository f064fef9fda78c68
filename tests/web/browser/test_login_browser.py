"""Each demo role logs in through the real page in chromium."""

from __future__ import annotations

import pytest

from ketamine_clinic.demo import DEMO_PASSWORD, DEMO_STAFF, load_demo
from tests.web.browser.conftest import screenshot

pytestmark = pytest.mark.browser

HEADINGS = {
    "admin": ("/admin-area/", "Administration"),
    "prescriber": ("/clinic/", "Today"),
    "crna": ("/clinic/", "Today"),
    "rn": ("/clinic/", "Today"),
    "front_desk": ("/desk/", "Front desk"),
    "patient": ("/me/", "My care"),
}


def _log_in(page, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_every_demo_role_lands_on_its_home_page(page) -> None:  # type: ignore[no-untyped-def]
    load_demo()
    for username, role, *_ in DEMO_STAFF:
        _log_in(page, username, DEMO_PASSWORD)
        path, heading = HEADINGS[role]
        page.wait_for_url(f"**{path}")
        assert page.get_by_role("heading", level=1).inner_text() == heading
        screenshot(page, f"home-{role}")
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url("**/login/")


def test_a_wrong_password_shows_an_error(page) -> None:  # type: ignore[no-untyped-def]
    load_demo()
    _log_in(page, "rn.chen", "not-the-password")
    assert "not right" in page.locator("#login-error").inner_text()
    screenshot(page, "login-error")


def test_a_locked_out_account_is_told_so(page, settings) -> None:  # type: ignore[no-untyped-def]
    load_demo()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _log_in(page, "crna.hughes", "wrong-password")
    _log_in(page, "crna.hughes", DEMO_PASSWORD)
    assert "This account is locked" in page.locator("#lockout").inner_text()
    screenshot(page, "login-locked")
