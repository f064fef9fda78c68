"""The scale network generator: realistic shape, a valid keyed audit chain, idempotent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ketamine_clinic.demo.network import load_network
from ketamine_clinic.services import audit
from ketamine_clinic.services.outcomes import outcomes_summary
from ketamine_clinic.storage.models import (
    Alert,
    AuditEvent,
    Course,
    InfusionSession,
    Patient,
    PumpEvent,
    Visit,
    VitalSign,
)

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture
def network(personas, db):  # type: ignore[no-untyped-def]
    return load_network(40, at=NOW, years=2)


def test_the_network_has_courses_at_every_stage_and_full_sessions(network):  # type: ignore[no-untyped-def]
    assert Patient.objects.filter(mrn__startswith="KN-").count() == 40 == network.patients
    statuses = set(Course.objects.values_list("status", flat=True))
    assert {"induction", "maintenance", "referred", "completed"} <= statuses
    sessions = InfusionSession.objects.filter(status="discharged")
    assert sessions.count() == network.sessions > 200
    assert VitalSign.objects.count() == 10 * network.sessions
    assert PumpEvent.objects.filter(kind="start").count() == network.sessions
    assert Visit.objects.filter(status="scheduled", starts_at__gt=NOW).exists()  # booked ahead
    assert Alert.objects.filter(kind="vital_sign", acknowledged_at__isnull=False).exists()


def test_the_network_audit_chain_verifies_with_every_clinical_row_audited(network):  # type: ignore[no-untyped-def]
    report = audit.verify_chain()
    assert report.ok, report.problems[:3]
    assert report.checked == AuditEvent.objects.count() >= network.audit_rows


def test_an_edited_network_vital_sign_is_caught(network):  # type: ignore[no-untyped-def]
    vital = VitalSign.objects.order_by("id")[5]
    VitalSign.objects.filter(pk=vital.pk).update(systolic_mmhg=vital.systolic_mmhg + 30)
    report = audit.verify_chain()
    assert not report.ok
    assert any(f"VitalSign #{vital.pk} differs" in p for p in report.problems)


def test_running_it_again_adds_nothing(network):  # type: ignore[no-untyped-def]
    again = load_network(40, at=NOW, years=2)
    assert again.patients == 0 and again.audit_rows == 0
    assert Patient.objects.filter(mrn__startswith="KN-").count() == 40


def test_the_outcomes_summary_counts_the_network(network):  # type: ignore[no-untyped-def]
    summary = outcomes_summary()
    assert summary["courses"] == Course.objects.count()
    assert summary["sessions"] == network.sessions
    assert 0 < summary["response"] <= summary["evaluated"]
