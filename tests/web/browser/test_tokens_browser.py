"""The admin's API tokens page on a tablet and a phone: the token list fits the screen,
the token itself is never on the page, and Revoke works."""

from __future__ import annotations

import pytest

from ketamine_clinic.services.api_tokens import authenticate, do_create_token
from tests.conftest import PASSWORD
from tests.web.browser.conftest import open_as, screenshot

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("size", [{"width": 1024, "height": 768}, {"width": 390, "height": 844}])
def test_the_token_list_fits_and_revokes(browser, live_server, transactional_db, admin, nurse, size) -> None:  # type: ignore[no-untyped-def]
    row, token = do_create_token(nurse, days=30, name="flowsheet bridge", acting_user=None)
    context = browser.new_context(viewport=size, base_url=live_server.url)
    tab = context.new_page()
    try:
        open_as(tab, admin.username, PASSWORD, "/admin-area/tokens/")
        screenshot(tab, f"admin-tokens-{size['width']}")
        assert token not in tab.content() and row.prefix in tab.content()
        width = tab.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"] + 1, f"the tokens page scrolls sideways ({width}px)"
        tab.get_by_role("button", name="Revoke").click()
        tab.wait_for_url("**/admin-area/tokens/")
        assert "Revoked token" in tab.content()
        assert authenticate(token) is None
    finally:
        context.close()
