"""Each role's home page: the clinic's day, the patient's own care."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from ketamine_clinic.domain.policy import Action, Role
from ketamine_clinic.services import measures, outcomes, portal, rems
from ketamine_clinic.services.access import access_patient_by_id, care_team_filter, note_listed, patient_queryset_for
from ketamine_clinic.web import presenters
from ketamine_clinic.web.permissions import actor, requires

HOME_BY_ROLE: dict[str, str] = {
    Role.ADMIN: "admin-home",
    Role.PRESCRIBER: "clinic-home",
    Role.CRNA: "clinic-home",
    Role.RN: "clinic-home",
    Role.FRONT_DESK: "desk-home",
    Role.PATIENT: "me-home",
    Role.AUDITOR: "admin-audit",
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect(HOME_BY_ROLE.get(getattr(request.user, "role", ""), "login"))


@requires(Action.VIEW_CHART)
def clinic_home(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    team = care_team_filter(actor(request))  # None unless the clinic limits clinicians to their care teams
    raw = request.GET.get("chairs", "1")
    page = int(raw) if raw.isdigit() and len(raw) < 4 else 1
    day = outcomes.clinic_day(timezone.localdate(), now, chair_page=page, patient_ids=team)
    summary, summary_at = outcomes.dashboard_summary(now)
    rems_due = rems.forms_due(timezone.localdate(now), patient_ids=team)
    note_listed([r.session.patient_id for r in rems_due.due + rems_due.overdue])
    note_listed(
        [r["visit"].patient_id for r in day["rows"]]
        + [a.patient_id for a in day["alerts"]]
        + [c.patient_id for c in day["decisions_due"]]
    )
    return render(
        request,
        "clinic/home.html",
        {
            **day,
            "summary": summary,
            "summary_at": summary_at,
            "now": now,
            "charts": presenters.dashboard_charts(summary),
            "rems_due": rems_due,
        },
    )


@requires(Action.VIEW_OWN_RESULTS)
def me_home(request: HttpRequest) -> HttpResponse:
    record = patient_queryset_for(actor(request)).first()
    if record is not None:  # the patient's own chart: audited like any other read
        record = access_patient_by_id(actor(request), record.pk, action=Action.VIEW_OWN_RESULTS)
    overview = outcomes.patient_overview(record) if record else None
    upcoming = (
        [v for v in overview.visits if v.status == "scheduled" and v.starts_at >= timezone.now()] if overview else []
    )
    return render(
        request,
        "me/home.html",
        {
            "record": record,
            "o": overview,
            "upcoming": upcoming[:5],
            "score_chart": presenters.score_chart(overview) if overview else None,
            "progress": portal.plain_progress(overview) if overview else None,
            "questionnaires": measures.patient_questionnaires(),
        },
    )
