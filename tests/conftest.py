"""Shared personas. Set-up goes through services, as the clinic's own code does."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ketamine_clinic.services.accounts import do_create_user
from ketamine_clinic.services.patients import do_create_patient

PASSWORD = "persona-password-42"
AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _user(username: str, role: str, **kw: str):  # type: ignore[no-untyped-def]
    return do_create_user(username, role, PASSWORD, acting_user=None, **kw)


@pytest.fixture
def admin(db):  # type: ignore[no-untyped-def]
    return _user("admin1", "admin")


@pytest.fixture
def prescriber(db):  # type: ignore[no-untyped-def]
    return _user("prescriber1", "prescriber", credentials="MD")


@pytest.fixture
def crna(db):  # type: ignore[no-untyped-def]
    return _user("crna1", "crna", credentials="CRNA")


@pytest.fixture
def nurse(db):  # type: ignore[no-untyped-def]
    return _user("nurse1", "rn", credentials="RN")


@pytest.fixture
def front_desk(db):  # type: ignore[no-untyped-def]
    return _user("desk1", "front_desk")


@pytest.fixture
def patient_user(db):  # type: ignore[no-untyped-def]
    return _user("patient1", "patient")


@pytest.fixture
def stranger_user(db):  # type: ignore[no-untyped-def]
    """A patient of the clinic who must never see another patient's record."""
    return _user("stranger1", "patient")


@pytest.fixture
def patient(patient_user):  # type: ignore[no-untyped-def]
    return do_create_patient(
        mrn="T-0001",
        given_name="Pat",
        family_name="Example",
        birth_date=date(1980, 1, 2),
        sex="female",
        at=AT,
        user=patient_user,
        acting_user=None,
    )


@pytest.fixture
def stranger(stranger_user):  # type: ignore[no-untyped-def]
    return do_create_patient(
        mrn="T-0002",
        given_name="Sam",
        family_name="Stranger",
        birth_date=date(1975, 5, 6),
        sex="male",
        at=AT,
        user=stranger_user,
        acting_user=None,
    )


@pytest.fixture
def personas(admin, prescriber, crna, nurse, front_desk, patient_user):  # type: ignore[no-untyped-def]
    return {
        "admin": admin,
        "prescriber": prescriber,
        "crna": crna,
        "rn": nurse,
        "front_desk": front_desk,
        "patient": patient_user,
    }


def pytest_sessionfinish(session, exitstatus):  # type: ignore[no-untyped-def]
    """Under KC_FAIL_ON_SKIP=1 (CI), a skipped test fails the run: nothing may hide."""
    import os

    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("KC_FAIL_ON_SKIP") == "1" and skipped and exitstatus == 0:
        reporter.write_line(f"KC_FAIL_ON_SKIP: {skipped} test(s) skipped; failing the run.")
        session.exitstatus = 1
