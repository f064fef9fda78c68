"""The hot queries of the busy pages can be answered from an index on PostgreSQL: EXPLAIN
with sequential scans switched off must show no sequential scan of the big tables (a
missing index shows up as one). Tiny test tables would otherwise always be scanned, so
this checks that an index exists and fits the query, not the planner's choice at scale
(that is `make bench` on the 10,000-patient network)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from ketamine_clinic.storage.models import (
    Alert,
    Assessment,
    AuditEvent,
    Course,
    InfusionSession,
    Patient,
    PumpEvent,
    Visit,
    VitalSign,
)

pytestmark = pytest.mark.postgresql

BIG = ("kc_audit_event", "kc_visit", "kc_vital_sign", "kc_assessment", "kc_alert", "kc_infusion_session", "kc_course")


def _plan(queryset: QuerySet) -> str:  # type: ignore[type-arg]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        return queryset.explain()


def _assert_indexed(queryset: QuerySet) -> None:  # type: ignore[type-arg]
    plan = _plan(queryset)
    scanned = [t for t in BIG if f"Seq Scan on {t}" in plan]
    assert not scanned, plan


def _queries() -> dict[str, QuerySet]:  # type: ignore[type-arg]
    now = timezone.now()
    week = now - timedelta(days=now.weekday())
    return {
        # the Today dashboard (services.outcomes.clinic_day)
        "today's visits": Visit.objects.filter(starts_at__gte=now, starts_at__lt=now + timedelta(days=1)),
        "today's visits and those of open sessions": Visit.objects.filter(
            Q(starts_at__gte=now, starts_at__lt=now + timedelta(days=1)) | Q(pk__any_of=[1, 2, 3])
        ).exclude(status="cancelled"),
        "open sessions": InfusionSession.objects.filter(status__in=InfusionSession.OPEN_STATUSES).values("visit_id"),
        "open alerts": Alert.objects.filter(acknowledged_at__isnull=True).order_by("-raised_at"),
        "courses in induction": Course.objects.filter(status="induction"),
        "induction visits still to give": Visit.objects.filter(
            course_id__in=[1, 2, 3], phase="induction", status="scheduled"
        ).values("course_id"),
        "last vital per session": VitalSign.objects.filter(session_id__in=[1, 2, 3])
        .values("session")
        .annotate(last=Max("at")),
        # a patient's chart and a session page
        "chart visits": Visit.objects.filter(patient_id=1).order_by("starts_at"),
        "chart scores": Assessment.objects.filter(patient_id=1).order_by("at", "id"),
        "session vitals": VitalSign.objects.filter(session_id=1).order_by("at", "id"),
        "session pump events": PumpEvent.objects.filter(session_id=1).order_by("at", "id"),
        # the front desk's week
        "week's visits": Visit.objects.filter(starts_at__gte=week, starts_at__lt=week + timedelta(days=7)).order_by(
            "starts_at"
        ),
        # the audit trail, newest first by id, keyset pages, with each filter
        "audit newest": AuditEvent.objects.order_by("-id")[:51],
        "audit older page": AuditEvent.objects.filter(id__lt=4_000_000).order_by("-id")[:51],
        "audit by patient": AuditEvent.objects.filter(patient_id=1, id__lt=4_000_000).order_by("-id")[:51],
        "audit by user": AuditEvent.objects.filter(actor_id=1).order_by("-id")[:51],
        "audit by type": AuditEvent.objects.filter(event_type=604, id__lt=4_000_000).order_by("-id")[:51],
        "audit since": AuditEvent.objects.filter(occurred_at__gte=now).order_by("-id")[:51],
        "patient by MRN": Patient.objects.filter(mrn="KN-000001"),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(_queries()))
def test_the_hot_query_is_served_by_an_index(name: str) -> None:
    _assert_indexed(_queries()[name])


@pytest.mark.django_db
def test_a_query_without_an_index_is_caught() -> None:
    """The check can fail: filtering vital signs on a column with no index scans the table."""
    plan = _plan(VitalSign.objects.filter(heart_rate_bpm=200))
    assert "Seq Scan on kc_vital_sign" in plan
