"""The pre-dose checklist of a session: its items by route, and the checks behind the
items a tick cannot prove on its own (today's PHQ-9 and suicide screen).

Errors: ``InvalidInput`` naming the first item not confirmed or not backed by a record.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils import timezone

from ketamine_clinic.domain import chairside
from ketamine_clinic.services.errors import InvalidInput
from ketamine_clinic.storage.models import Assessment, InfusionSession, Patient, PreProcedureRecord

__all__ = ["check_items", "items_for", "todays_screen", "todays_screen_problem"]


def items_for(session: InfusionSession) -> tuple[tuple[str, str], ...]:
    """The checklist of the session's route: nasal spray has no IV line [S33][S38b][S50]."""
    return chairside.checklist_for(session.order.route)


def todays_screen(patient: Patient, on: date) -> dict[str, Any]:
    """Today's PHQ-9 and C-SSRS screener of ``patient`` (clinic time zone): the latest of
    each recorded on ``on``, or ``None``."""
    rows = Assessment.objects.filter(patient=patient, instrument__in=("phq9", "cssrs_screen")).order_by("-at")[:40]
    found: dict[str, Any] = {"phq9": None, "cssrs_screen": None}
    for row in rows:
        if timezone.localdate(row.at) == on and found.get(row.instrument) is None:
            found[row.instrument] = row
    return found


def todays_screen_problem(patient: Patient, *, at: datetime) -> str | None:
    """Why "Today's PHQ-9 and suicide screen reviewed" may not be ticked at ``at``, or ``None``.

    A PHQ-9 must be recorded for the patient today, before ``at``; when any of today's PHQ-9s
    answers item 9 (thoughts of self-harm) above "not at all", a C-SSRS screener recorded
    after the latest such PHQ-9 (and before ``at``) must follow it: a later PHQ-9 answering
    "not at all" does not undo an earlier positive answer, and a screener taken before the
    positive answer does not assess it [S70][S65]."""
    today = timezone.localdate(at)
    rows = [
        r
        for r in Assessment.objects.filter(
            patient=patient, instrument__in=("phq9", "cssrs_screen"), at__lte=at
        ).order_by("-at", "-id")[:40]
        if timezone.localdate(r.at) == today
    ]
    phq9s = [r for r in rows if r.instrument == "phq9"]
    if not phq9s:
        return (
            "No PHQ-9 is recorded for this patient today: the patient completes it (portal or chart) "
            "before the item can be ticked."
        )
    positive = [r for r in phq9s if len(r.answers or []) > 8 and r.answers[8]]
    if positive:
        latest = positive[0]  # newest first
        screened = [r for r in rows if r.instrument == "cssrs_screen" and (r.at, r.pk) > (latest.at, latest.pk)]
        if not screened:
            return (
                f"Today's PHQ-9 at {timezone.localtime(latest.at):%H:%M} answers item 9 (thoughts of self-harm) with "
                f"{latest.answers[8]}: record a C-SSRS screener after it before the item can be ticked."
            )
    return None


def check_items(session: InfusionSession, items: dict[str, bool], *, at: datetime) -> dict[str, bool]:
    """The route's items, each confirmed and, for the questionnaire item, backed by today's
    records; returns the confirmed items. Raises ``InvalidInput`` naming the first item
    that is not [S50][S2][S70]."""
    listed = items_for(session)
    missing = [name for name, _ in listed if not items.get(name)]
    if missing:
        raise InvalidInput(f"not confirmed: {dict(listed)[missing[0]]}", field=missing[0])
    problem = todays_screen_problem(session.patient, at=at)
    if problem:
        raise InvalidInput(problem, field="questionnaire")
    record = PreProcedureRecord.objects.filter(patient=session.patient, at__lte=at).order_by("-at", "-id").first()
    if record is not None:
        late = chairside.fasting_problem(
            timezone.localtime(record.npo_solids_since) if record.npo_solids_since else None,
            timezone.localtime(record.npo_clear_since) if record.npo_clear_since else None,
            at=timezone.localtime(at),
        )
        if late:
            raise InvalidInput(late, field="fasting")
    return {name: True for name, _ in listed}
