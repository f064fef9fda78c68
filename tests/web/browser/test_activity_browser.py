"""In chromium: typing marks htmx requests as user activity; a request htmx makes on its
own (a poll) is not marked, so it never extends the login."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_typing_is_activity_and_a_background_request_is_not(page, prescriber, patient) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login/")
    page.get_by_label("User name").fill(prescriber.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/clinic/")
    page.goto("/clinic/patients/")
    with page.expect_request(lambda r: "q=Exa" in r.url and r.headers.get("hx-request") == "true") as typed:
        page.locator("input[name=q]").press_sequentially("Exa")
    assert typed.value.headers.get("x-kc-user-action") == "1"
    with page.expect_request(lambda r: "q=poll" in r.url) as background:
        page.evaluate("htmx.ajax('GET', '/clinic/patients/?q=poll', '#patient-rows')")
    assert background.value.headers.get("hx-request") == "true"
    assert "x-kc-user-action" not in background.value.headers
