"""Every page each role can open, in chromium at a phone's width (390 px): no serious or
critical axe-core violation, no horizontal scroll, no console error (the CSP included);
then the same pages at tablet and desktop width without a console error. Screenshots go to
test-artifacts/ (page-role-name-phone.png)."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.support.page_checks import collect_console_errors, horizontal_overflow, serious_violations
from tests.web.browser.conftest import open_as, screenshot
from tests.web.test_url_matrix import MATRIX, ledger_loss, ledger_lot, nasal_session, urls  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

#: axe runs at phone width (where layout and contrast problems show); tablet and desktop are
#: screenshots and the console check
WIDTHS = {"phone": 390, "tablet": 820, "desktop": 1280}
#: downloads, not pages
SKIP = {"ledger-dispensing-csv", "ledger-dispensing-pdf", "ledger-inventory-csv", "ledger-inventory-pdf"}
SKIP |= {"loss-csv", "loss-pdf", "session-record-pdf", "progress-pdf"}


def _pages(role: str) -> list[str]:
    return sorted(
        n
        for n, (method, roles) in MATRIX.items()
        if method == "get" and role in roles and n not in SKIP and not n.endswith(("-pdf", "-csv"))
    )


@pytest.mark.parametrize("role", ["prescriber", "rn", "crna", "front_desk", "admin", "patient", "auditor"])
def test_every_page_is_accessible_fits_a_phone_and_logs_no_error(page, urls, personas, role) -> None:  # noqa: F811
    user = personas[role]
    problems: list[str] = []
    names = _pages(role)
    assert names, role
    open_as(page, user.username, PASSWORD, "/")
    errors = collect_console_errors(page)
    for width_name, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        for name in names:
            errors.clear()
            response = page.goto(urls[name])
            assert response is not None and response.status < 500, (name, response and response.status)
            page.wait_for_load_state("load")
            if width_name == "phone":
                overflow = horizontal_overflow(page)
                if overflow > 0:
                    problems.append(f"{name}: {overflow} px wider than a 390 px phone")
                screenshot(page, f"page-{role}-{name}-{width_name}")
                problems.extend(f"{name} @{width}: {v}" for v in serious_violations(page))
            problems.extend(f"{name}: console error {e}" for e in errors)
    assert not problems, "\n".join(problems)
