"""Tests mirror the source: every service module and every view module names the test
modules that exercise it, and those files exist. A new module without tests fails here.

Most modules have a test module of the same name (``services/x.py`` ->
``tests/services/test_x.py``, ``web/views/x.py`` -> ``tests/web/test_x_views.py``); the
table names the others, whose tests live with the scenario they belong to.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "ketamine_clinic"

ELSEWHERE: dict[str, tuple[str, ...]] = {
    # services
    "services/api_tokens.py": ("tests/api/test_api.py", "tests/cli/test_token_cli.py"),
    "services/audit_checkpoints.py": ("tests/services/test_audit_tamper.py",),
    "services/documents.py": ("tests/web/test_documents.py",),
    "services/exports.py": ("tests/api/test_fhir.py",),
    "services/importer.py": ("tests/api/test_import.py",),
    "services/navigation.py": (
        "tests/services/test_navigation.py",
        "tests/web/test_navigation_pages.py",
        "tests/web/browser/test_desk_browser.py",
    ),
    "services/ledger_reports.py": ("tests/services/test_ledger.py", "tests/cli/test_ledger_cli.py"),
    "services/passwords.py": ("tests/web/test_accounts_security.py",),
    "services/portal.py": ("tests/web/test_portal.py",),
    "services/research.py": ("tests/api/test_research_export.py",),
    "services/reports.py": ("tests/web/test_reports.py",),
    "services/session_jobs.py": ("tests/services/test_jobs.py", "tests/services/test_dose_timing.py"),
    "services/sms.py": ("tests/services/test_outreach.py",),
    "services/stock_counts.py": ("tests/services/test_ledger.py",),
    "services/two_factor.py": ("tests/web/test_two_factor.py",),
    # view modules
    "web/views/account.py": ("tests/web/test_accounts_security.py",),
    "web/views/admin.py": ("tests/web/test_admin_pages.py",),
    "web/views/alerts.py": ("tests/web/test_alert_pages.py",),
    "web/views/auth.py": ("tests/web/test_auth.py",),
    "web/views/desk_requests.py": ("tests/web/test_portal.py",),
    "web/views/documents.py": ("tests/web/test_documents.py",),
    "web/views/reports.py": ("tests/web/test_reports.py", "tests/web/browser/test_reports_browser.py"),
    "web/views/governance.py": ("tests/web/test_governance.py",),
    "web/views/home.py": ("tests/web/test_page_queries.py", "tests/web/test_clinic_pages.py"),
    "web/views/navigation.py": ("tests/web/test_navigation_pages.py", "tests/web/test_front_desk_accounts.py"),
    "web/views/ledger.py": ("tests/web/test_ledger_pages.py",),
    "web/views/links.py": ("tests/web/test_link_pages.py",),
    "web/views/patients.py": ("tests/web/test_clinic_pages.py", "tests/web/test_ratings_pages.py"),
    "web/views/portal.py": ("tests/web/test_portal.py",),
    "web/views/practice.py": ("tests/web/test_documents.py",),
    "web/views/rems.py": ("tests/web/test_rems_pages.py", "tests/web/browser/test_esketamine_mdsi_rems_browser.py"),
    "web/views/sessions.py": ("tests/web/test_clinic_pages.py", "tests/web/test_dose_timing_pages.py"),
}
NOT_TESTED_ALONE = {"services/errors.py"}  # exception classes only, raised and checked everywhere


def _modules() -> list[str]:
    found = []
    for folder in ("services", "web/views"):
        for path in sorted((SRC / folder).glob("*.py")):
            if path.name == "__init__.py" or path.name.startswith("_"):
                continue
            found.append(f"{folder}/{path.name}")
    return [m for m in found if m not in NOT_TESTED_ALONE]


def _tests_for(module: str) -> tuple[str, ...]:
    if module in ELSEWHERE:
        return ELSEWHERE[module]
    folder, name = module.rsplit("/", 1)
    stem = name.removesuffix(".py")
    if folder == "services":
        return (f"tests/services/test_{stem}.py",)
    return (f"tests/web/test_{stem}_views.py",)


@pytest.mark.parametrize("module", _modules())
def test_every_module_has_its_tests(module: str) -> None:
    missing = [t for t in _tests_for(module) if not (ROOT / t).is_file()]
    assert not missing, f"{module}: add {', '.join(missing)} (or name its tests in ELSEWHERE)"


def test_the_table_names_only_modules_that_exist() -> None:
    assert all((SRC / m).is_file() for m in ELSEWHERE), [m for m in ELSEWHERE if not (SRC / m).is_file()]
