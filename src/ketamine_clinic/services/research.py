"""The de-identified research export: courses, doses, scores and side effects as one CSV,
under the HIPAA Safe Harbor method's rules for what leaves (docs/decisions/0027-research-export-and-import.md).

Removed: names, MRNs, contact details, database ids, free text (side-effect notes, reasons),
exact times. Each patient gets a random subject code and a random date shift of -180 to
+180 days, both new for every export and never stored, so two exports cannot be linked by
them. Ages come from the true dates and are given in years, ``90+`` from 90 on.

Errors: ``NotAllowed`` for anyone but a prescriber.
"""

from __future__ import annotations

import csv
import io
import secrets
from datetime import date, timedelta
from typing import Any

from django.db import transaction

from ketamine_clinic.domain.policy import Action, Role
from ketamine_clinic.services import access, audit
from ketamine_clinic.services.errors import NotAllowed
from ketamine_clinic.storage.models import (
    Assessment,
    Course,
    EventType,
    InfusionSession,
    Patient,
    SideEffect,
    User,
)

__all__ = ["COLUMNS", "MAX_SHIFT_DAYS", "age_label", "do_research_export"]

COLUMNS = (
    "subject",
    "record",
    "day",
    "age_at_course_start",
    "sex",
    "protocol",
    "course_status",
    "route",
    "dose_mg",
    "dose_mg_per_kg",
    "instrument",
    "total",
    "side_effect",
    "severity",
)
MAX_SHIFT_DAYS = 180


def age_label(birth: date, on: date) -> str:
    """Whole years on ``on``; every age from 90 on is one group, ``90+`` (Safe Harbor)."""
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return "90+" if years >= 90 else str(years)


def _rows(p: Patient, subject: str, shift: timedelta) -> list[dict[str, Any]]:
    def day(moment: Any) -> str:
        return str((moment.date() + shift).isoformat())

    base = {"subject": subject, "sex": p.sex}
    rows: list[dict[str, Any]] = []
    for course in Course.objects.filter(patient=p).order_by("planned_at", "id"):
        rows.append(
            {
                **base,
                "record": "course",
                "day": day(course.planned_at),
                "age_at_course_start": age_label(p.birth_date, course.planned_at.date()),
                "protocol": course.protocol,
                "course_status": course.status,
                "dose_mg_per_kg": course.dose_mg_per_kg,
            }
        )
    for s in InfusionSession.objects.filter(patient=p).select_related("order").order_by("opened_at", "id"):
        given = s.administered_mg if s.administered_mg is not None else ""
        rows.append(
            {
                **base,
                "record": "dose",
                "day": day(s.opened_at),
                "route": s.order.route,
                "dose_mg": given,
                "dose_mg_per_kg": s.order.dose_mg_per_kg if s.order.route == "iv" else "",
            }
        )
    for a in Assessment.objects.filter(patient=p).order_by("at", "id"):
        rows.append({**base, "record": "score", "day": day(a.at), "instrument": a.instrument, "total": a.total})
    for e in SideEffect.objects.filter(session__patient=p).order_by("at", "id"):
        rows.append({**base, "record": "side_effect", "day": day(e.at), "side_effect": e.code, "severity": e.severity})
    return rows


def do_research_export(actor: User) -> str:
    """The CSV for every patient ``actor`` may list; one audit row names who was exported."""
    if actor.role != Role.PRESCRIBER or not actor.is_active:
        raise NotAllowed("Only a prescriber exports research data.")
    patients = list(access.patient_queryset_for(actor, action=Action.VIEW_CHART).order_by("id"))
    subjects = sorted(
        ((f"S{secrets.token_hex(4)}", p) for p in patients), key=lambda pair: pair[0]
    )  # the subject codes' order, not the patients'
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    for subject, p in subjects:
        shift = timedelta(days=secrets.randbelow(2 * MAX_SHIFT_DAYS + 1) - MAX_SHIFT_DAYS)
        writer.writerows(_rows(p, subject, shift))
    with transaction.atomic():
        audit.record(
            EventType.RESEARCH_EXPORT,
            actor=actor,
            new={"patient_count": len(patients), "patient_ids": [p.pk for p in patients][:200]},
        )
    return out.getvalue()
