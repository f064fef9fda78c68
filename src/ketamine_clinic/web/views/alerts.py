"""Alerts waiting for a clinician; acknowledging one; the suicide-risk pathway (a
prescriber takes the alert, records today's C-SSRS and closes it with an assessment)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from ketamine_clinic.domain.escalation import DISPOSITIONS, RISK_LEVELS
from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.services import alerts, measures
from ketamine_clinic.services.access import access_alert_by_id, care_team_filter, note_listed
from ketamine_clinic.services.errors import ServiceError
from ketamine_clinic.storage.models import Alert, Assessment
from ketamine_clinic.web.forms import AcknowledgeForm, SuicideRiskAssessmentForm
from ketamine_clinic.web.permissions import actor, requires
from ketamine_clinic.web.redirects import redirect_next, safe_next


@requires(Action.VIEW_CHART)
def alert_list(request: HttpRequest) -> HttpResponse:
    rows = alerts.most_serious_first(  # newest first within each severity
        alerts.open_alerts().select_related("patient", "claimed_by").order_by("-raised_at")
    )
    team = care_team_filter(actor(request))
    if team is not None:  # the clinic limits clinicians to their care teams' patients
        rows = [a for a in rows if a.patient_id in team]
    note_listed(a.patient_id for a in rows)
    return render(request, "clinical/alerts.html", {"rows": rows})


def _todays_cssrs(alert: Alert) -> list[Assessment]:
    today = timezone.localdate()
    rows = Assessment.objects.filter(patient=alert.patient, instrument="cssrs_screen").order_by("-at")[:20]
    return [r for r in rows if timezone.localdate(r.at) == today]


def _assessment_form(request: HttpRequest, alert: Alert, bound: bool) -> SuicideRiskAssessmentForm:
    choices = [(a.pk, f"{timezone.localtime(a.at):%H:%M} — risk {a.band}") for a in _todays_cssrs(alert)]
    kwargs: dict[str, Any] = {"cssrs_choices": choices, "risk_levels": RISK_LEVELS, "dispositions": DISPOSITIONS}
    if bound:
        return SuicideRiskAssessmentForm(request.POST, **kwargs)
    return SuicideRiskAssessmentForm(initial={"assessed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}, **kwargs)


def _back_to_alert(request: HttpRequest, alert: Alert) -> HttpResponse:
    """Back to the alert page after a step (taking it, a C-SSRS), keeping where the clinician
    came from (the chair), so the final acknowledgement returns there."""
    target = reverse("alert", args=[alert.pk])
    came_from = request.POST.get("next") or request.GET.get("next")
    if came_from:
        target += "?" + urlencode({"next": safe_next(request, came_from, "alert-list")})
    return redirect(target)


def _post(request: HttpRequest, alert: Alert, forms: dict[str, Any]) -> HttpResponse | None:
    """Handle one POSTed action; a response on success, ``None`` to re-render with errors."""
    who, now, action = actor(request), timezone.now(), request.POST.get("action", "acknowledge")
    try:
        if action == "claim":
            alerts.do_claim_alert(alert, at=now, acting_user=who)
            messages.success(request, "You have taken this alert. Record today's C-SSRS and your assessment.")
            return _back_to_alert(request, alert)
        if action == "cssrs":
            meta = measures.instrument_form("cssrs_screen")
            answers = [request.POST.get(item["name"]) for item in meta["items"]]
            parsed = [int(a) if a in {"0", "1"} else None for a in answers]
            measures.do_record_assessment(alert.patient, "cssrs_screen", parsed, at=now, acting_user=who)
            messages.success(request, "C-SSRS recorded.")
            return _back_to_alert(request, alert)
        if action == "assess":
            form = forms["assess"] = _assessment_form(request, alert, bound=True)
            if not form.is_valid():
                return None
            data = form.cleaned_data
            alerts.do_close_suicide_alert(
                alert,
                cssrs_assessment_id=data["cssrs"],
                risk_level=data["risk_level"],
                safety_plan_reviewed=data["safety_plan_reviewed"] == "yes",
                disposition=data["disposition"],
                note=data["note"],
                assessed_at=data["assessed_at"],
                at=now,
                acting_user=who,
            )
            messages.success(request, f"Assessment recorded: {DISPOSITIONS[data['disposition']].lower()}.")
            return redirect_next(request, request.POST.get("next") or request.GET.get("next"), "alert-list")
        ack = forms["ack"] = AcknowledgeForm(request.POST)
        if not ack.is_valid():
            return None
        alerts.do_acknowledge_alert(alert, note=ack.cleaned_data["note"], at=now, acting_user=who)
        messages.success(request, "Alert acknowledged.")
        return redirect_next(request, request.POST.get("next") or request.GET.get("next"), "alert-list")
    except ServiceError as exc:
        target = forms.get("assess" if action == "assess" else "ack")
        if target is not None and exc.field in target.fields:
            target.add_error(exc.field, exc.message)
        else:
            forms["error"] = exc.message
        return None


@requires(Action.VIEW_CHART)
def alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    who = actor(request)
    alert = access_alert_by_id(who, alert_id, action=Action.VIEW_CHART)
    forms: dict[str, Any] = {}
    if request.method == "POST":
        response = _post(request, alert, forms)
        if response is not None:
            return response
        alert.refresh_from_db()
    urgent_suicide = alert.kind == alerts.SUICIDE_RISK and alert.severity == "urgent"
    may_close = can(who.role, Action.CLOSE_SUICIDE_ALERT)
    context = {
        "alert": alert,
        "urgent_suicide": urgent_suicide,
        "is_suicide": alert.kind == alerts.SUICIDE_RISK,
        "may_close": may_close and alert.kind == alerts.SUICIDE_RISK,
        "may_ack": can(who.role, Action.ACKNOWLEDGE_ALERT) and not urgent_suicide,
        "ack_form": forms.get("ack") or AcknowledgeForm(),
        "assess_form": forms.get("assess") or _assessment_form(request, alert, bound=False),
        "cssrs": measures.instrument_form("cssrs_screen"),
        "error": forms.get("error"),
        "record": getattr(alert, "assessment_record", None),
        "findings": [{**f, "at": datetime.fromisoformat(f["at"])} for f in alert.findings],
        "notifications": alert.notifications.select_related("recipient").order_by("created_at"),
        "next": safe_next(request, request.GET.get("next"), "alert-list"),
    }
    return render(request, "clinical/alert.html", context)
