"""The patient portal beyond the questionnaires: appointments with cancel and reschedule
requests, the course plan, after-care instructions and the pages that explain the therapy
(docs/decisions/0022-patient-portal.md)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from ketamine_clinic.domain.policy import Action
from ketamine_clinic.domain.protocols import PROTOCOLS
from ketamine_clinic.services import clinic, outcomes, portal
from ketamine_clinic.services.access import access_patient_by_id, patient_queryset_for
from ketamine_clinic.services.errors import ServiceError
from ketamine_clinic.storage.models import Patient, VisitRequest
from ketamine_clinic.web.permissions import actor, requires

#: The pages that explain the therapy, in reading order: slug, title.
LEARN: tuple[tuple[str, str], ...] = (
    ("what-it-is", "What ketamine infusion therapy is, and who it is for"),
    ("infusion-day", "What happens during an infusion"),
    ("the-course", "Six infusions, then maintenance"),
    ("if-it-works", "How you will know if it works, and what if it doesn't"),
    ("side-effects", "Side effects and rarer risks"),
    ("when-to-call", "When to call the clinic or get help"),
)


def _own_record(request: HttpRequest) -> Patient | None:
    """The logged-in patient's own record, opened through ``access`` (audited)."""
    record = patient_queryset_for(actor(request)).first()
    if record is None:
        return None
    return access_patient_by_id(actor(request), record.pk, action=Action.VIEW_OWN_RESULTS)


def _numbers() -> dict[str, Any]:
    """The clinic's own settings the explanations quote (one home for every number)."""
    r = clinic.clinic_rules()
    return {
        "induction": int(r.induction_infusions),
        "per_week": int(r.infusions_per_week),
        "dose": f"{r.standard_dose_mg_per_kg:g}",
        "minutes": int(r.standard_duration_min),
        "maint_min": int(r.maintenance_min_weeks),
        "maint_max": int(r.maintenance_max_weeks),
        "observe": int(r.min_observation_iv_min),
        "response": f"{r.response_drop_pct:g}",
        "remission": f"{r.remission_phq9_below:g}",
        "clinic_phone": clinic.clinic_phone(),
    }


@requires(Action.VIEW_OWN_RESULTS)
def appointments(request: HttpRequest) -> HttpResponse:
    record = _own_record(request)
    now = timezone.now()
    if request.method == "POST" and record is not None:
        visit = record.visits.filter(pk=request.POST.get("visit") or 0).first()
        if visit is None:
            raise Http404("No such appointment.")
        try:
            portal.do_request_visit_change(
                visit, kind=request.POST.get("kind", ""), note=request.POST.get("note", ""), at=now,
                acting_user=actor(request),
            )  # fmt: skip
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Your request is with the front desk; they will contact you to confirm.")
        return redirect("me-appointments")
    upcoming = (
        list(record.visits.filter(status="scheduled", starts_at__gte=now).select_related("chair")) if record else []
    )
    pending = dict(VisitRequest.objects.filter(visit__in=upcoming, handled_at=None).values_list("visit_id", "kind"))
    return render(
        request,
        "me/appointments.html",
        {"record": record, "upcoming": [(v, pending.get(v.pk)) for v in upcoming], **_numbers()},
    )


@requires(Action.VIEW_OWN_RESULTS)
def plan(request: HttpRequest) -> HttpResponse:
    record = _own_record(request)
    o = outcomes.patient_overview(record) if record else None
    course = o.course if o else None
    visits = [v for v in o.visits if course and v.course_id == course.pk] if o else []
    return render(
        request,
        "me/plan.html",
        {
            "record": record,
            "course": course,
            "protocol": PROTOCOLS.get(course.protocol) if course else None,
            "done": sum(1 for v in visits if v.status == "done"),
            "visits": visits,
            "decision": course.decisions.first() if course else None,
            "status": o.status if o else None,
            **_numbers(),
        },
    )


@requires(Action.VIEW_OWN_RESULTS)
def aftercare(request: HttpRequest) -> HttpResponse:
    record = _own_record(request)
    last = record.sessions.filter(status="discharged").order_by("-discharged_at").first() if record else None
    return render(
        request,
        "me/aftercare.html",
        {
            "record": record,
            "session": last,
            "esketamine": bool(last and last.order.route == "nasal"),
            "clinic_phone": clinic.clinic_phone(),
        },
    )


@requires(Action.VIEW_OWN_RESULTS, phi=False)
def learn(request: HttpRequest, slug: str = "") -> HttpResponse:
    """The therapy explained in the clinic's words; ``slug`` picks a page, none the index."""
    if not slug:
        return render(request, "me/learn/index.html", {"pages": LEARN})
    titles = dict(LEARN)
    if slug not in titles:
        raise Http404("No such page.")
    slugs = [s for s, _ in LEARN]
    index = slugs.index(slug)
    return render(
        request,
        f"me/learn/{slug}.html",
        {
            "title": titles[slug],
            "previous": LEARN[index - 1] if index else None,
            "next": LEARN[index + 1] if index + 1 < len(LEARN) else None,
            **_numbers(),
        },
    )
