"""The front desk's list of patients' requests to cancel or move a visit."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from ketamine_clinic.domain.policy import Action
from ketamine_clinic.services import portal
from ketamine_clinic.services.access import note_listed
from ketamine_clinic.services.errors import ServiceError
from ketamine_clinic.storage.models import VisitRequest
from ketamine_clinic.web.permissions import actor, requires


@requires(Action.MANAGE_SCHEDULE)
def requests(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        row = VisitRequest.objects.filter(pk=request.POST.get("request") or 0).first()
        if row is not None:
            try:
                portal.do_handle_visit_request(row, at=timezone.now(), acting_user=actor(request))
            except ServiceError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "Marked as done.")
        return redirect("desk-requests")
    rows = portal.open_visit_requests()
    note_listed(r.patient_id for r in rows)
    return render(request, "desk/requests.html", {"rows": rows})
