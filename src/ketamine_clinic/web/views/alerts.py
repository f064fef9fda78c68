"""Alerts waiting for a clinician, and acknowledging one."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from ketamine_clinic.domain.policy import Action
from ketamine_clinic.services import alerts
from ketamine_clinic.services.access import access_alert_by_id, note_listed
from ketamine_clinic.services.errors import ServiceError
from ketamine_clinic.web.forms import AcknowledgeForm
from ketamine_clinic.web.permissions import actor, requires
from ketamine_clinic.web.redirects import redirect_next, safe_next


@requires(Action.VIEW_CHART)
def alert_list(request: HttpRequest) -> HttpResponse:
    rows = list(alerts.open_alerts().select_related("patient").order_by("-raised_at"))
    note_listed(a.patient_id for a in rows)
    return render(request, "clinical/alerts.html", {"rows": rows})


@requires(Action.ACKNOWLEDGE_ALERT)
def alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = access_alert_by_id(actor(request), alert_id, action=Action.ACKNOWLEDGE_ALERT)
    form = AcknowledgeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            alerts.do_acknowledge_alert(
                alert, note=form.cleaned_data["note"], at=timezone.now(), acting_user=actor(request)
            )
        except ServiceError as exc:
            form.add_error("note" if exc.field == "note" else None, exc.message)
        else:
            messages.success(request, "Alert acknowledged.")
            return redirect_next(request, request.POST.get("next"), "alert-list")
    return render(
        request,
        "clinical/alert.html",
        {"alert": alert, "form": form, "next": safe_next(request, request.GET.get("next"), "alert-list")},
    )
