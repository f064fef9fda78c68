"""The on-call rota (who receives urgent suicide-risk alerts) and the background jobs."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from ketamine_clinic.domain.policy import Action
from ketamine_clinic.services import jobs, notifications
from ketamine_clinic.services.errors import ServiceError
from ketamine_clinic.storage.models import OnCallShift
from ketamine_clinic.web.forms import OnCallShiftForm
from ketamine_clinic.web.permissions import actor, requires


@requires(Action.MANAGE_ON_CALL)
def on_call(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    form = OnCallShiftForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            notifications.do_add_on_call_shift(
                data["prescriber"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                at=now,
                acting_user=actor(request),
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Shift added to the on-call rota.")
            return redirect("on-call")
    shifts = OnCallShift.objects.filter(ends_at__gt=now - timedelta(days=1)).select_related("prescriber")[:100]
    return render(
        request,
        "admin/on_call.html",
        {"form": form, "shifts": shifts, "now_on_call": notifications.on_call_now(now), "now": now},
    )


@requires(Action.MANAGE_SETTINGS)
def job_list(request: HttpRequest) -> HttpResponse:
    return render(request, "admin/jobs.html", {"jobs": jobs.recent_jobs()})
