"""The monthly outcomes report and the recall list in chromium, tablet and phone widths."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from tests.conftest import MONDAY, PASSWORD
from tests.support.axe import assert_accessible
from tests.web.browser.conftest import open_as, screenshot
from tests.web.test_reports import _six_done

pytestmark = pytest.mark.browser


def test_the_outcomes_report_reads_on_a_tablet_and_a_phone(page, course, prescriber, crna, nurse, patient) -> None:
    _six_done(course, prescriber, crna, nurse, patient)
    with time_machine.travel(MONDAY + timedelta(days=20), tick=True):
        open_as(page, "prescriber1", PASSWORD, "/clinic/reports/")
        page.get_by_role("heading", name="Monthly outcomes").wait_for()
        assert "2026-11" in page.content()
        assert_accessible(page, "/clinic/reports/")
        screenshot(page, "reports-outcomes-tablet")
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        screenshot(page, "reports-outcomes-phone")
        page.goto("/clinic/reports/recall/")
        assert_accessible(page, "/clinic/reports/recall/")
