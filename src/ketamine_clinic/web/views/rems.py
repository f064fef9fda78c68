"""The SPRAVATO REMS pages: the setting's certification (admin), a patient's enrolment,
the session's REMS panel and Patient Monitoring Form, and the form as a PDF."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from ketamine_clinic.domain.policy import Action, actions_for
from ketamine_clinic.services import rems
from ketamine_clinic.services.access import access_patient_by_id, access_session_by_id
from ketamine_clinic.services.errors import ServiceError
from ketamine_clinic.web.clinical_forms import (
    RemsAnswersForm,
    RemsCertificationForm,
    RemsEnrolmentForm,
    RemsOnSiteForm,
    RemsSubmitForm,
)
from ketamine_clinic.web.pdf import pdf_response
from ketamine_clinic.web.permissions import actor, requires


def _fail(form: Any, exc: ServiceError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@requires(Action.MANAGE_SETTINGS)
def certification(request: HttpRequest) -> HttpResponse:
    current = rems.certification()
    form = RemsCertificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rems.do_certify_site(**form.cleaned_data, at=timezone.now(), acting_user=actor(request))
        except ServiceError as exc:
            _fail(form, exc)
        else:
            messages.success(request, "REMS certification recorded.")
            return redirect("admin-rems")
    return render(request, "rems/certification.html", {"form": form, "current": current})


@requires(Action.EDIT_INTAKE)
def enrol(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access_patient_by_id(actor(request), patient_id, action=Action.EDIT_INTAKE)
    current = rems.enrolment(patient)
    form = RemsEnrolmentForm(request.POST or None, initial={"enrolled_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            rems.do_enrol_patient(patient, **form.cleaned_data, at=timezone.now(), acting_user=actor(request))
        except ServiceError as exc:
            _fail(form, exc)
        else:
            messages.success(request, "REMS enrolment recorded.")
            return redirect("patient-chart", patient_id=patient.pk)
    return render(request, "rems/enrol.html", {"patient": patient, "form": form, "current": current})


def _may_fill(request: HttpRequest) -> bool:
    return bool({Action.RECORD_VITALS, Action.SIGN_ORDER} & set(actions_for(actor(request).role)))


@requires(Action.VIEW_CHART)
def session_form(request: HttpRequest, session_id: int) -> HttpResponse:
    """GET: the monitoring form built from the session. POST (``step``): the prescriber on
    site, pulse oximetry and lot (``on_site``), the clinician's answers (``answers``), or
    the submission (``submitted``)."""
    session = access_session_by_id(actor(request), session_id)
    if session.order.route != "nasal":
        return render(request, "404.html", status=404)
    record = rems.session_record(session)
    on_site = RemsOnSiteForm(prefix="site")
    answers = RemsAnswersForm(
        initial={
            k: ("yes" if getattr(record, k) else "no") if getattr(record, k) is not None else None
            for k in ("sedation", "dissociation", "respiratory_depression")
        }
        | {"ready_to_leave_min": record.ready_to_leave_min, "serious_adverse_events": record.serious_adverse_events}
    )
    submit = RemsSubmitForm()
    status = 200
    if request.method == "POST":
        if not _may_fill(request):
            return render(request, "403.html", {"action": Action.RECORD_VITALS}, status=403)
        step = request.POST.get("step", "")
        try:
            if step == "on_site":
                on_site = RemsOnSiteForm(request.POST, prefix="site")
                if on_site.is_valid():
                    d = on_site.cleaned_data
                    rems.do_record_on_site(
                        session,
                        prescriber=d["prescriber"],
                        pulse_oximetry=d["pulse_oximetry"],
                        lot_number=d["lot_number"],
                        lot_expiry=d["lot_expiry"],
                        at=timezone.now(),
                        acting_user=actor(request),
                    )
                    messages.success(request, "REMS details recorded.")
                    back = "session" if request.POST.get("next") == "session" else "session-rems"
                    return redirect(back, session_id=session.pk)
            elif step == "answers":
                answers = RemsAnswersForm(request.POST)
                if answers.is_valid():
                    d = answers.cleaned_data
                    rems.do_save_form_answers(
                        session,
                        sedation=d["sedation"] == "yes",
                        dissociation=d["dissociation"] == "yes",
                        respiratory_depression=d["respiratory_depression"] == "yes",
                        ready_to_leave_min=d["ready_to_leave_min"],
                        serious_adverse_events=d["serious_adverse_events"],
                        at=timezone.now(),
                        acting_user=actor(request),
                    )
                    messages.success(request, "Monitoring form answers saved.")
                    return redirect("session-rems", session_id=session.pk)
            elif step == "submitted":
                submit = RemsSubmitForm(request.POST)
                if submit.is_valid():
                    rems.do_mark_form_submitted(
                        session,
                        reference=submit.cleaned_data["reference"],
                        at=timezone.now(),
                        acting_user=actor(request),
                    )
                    messages.success(request, "Monitoring form marked submitted.")
                    return redirect("session-rems", session_id=session.pk)
        except ServiceError as exc:
            target = {"on_site": on_site, "answers": answers, "submitted": submit}.get(step, submit)
            _fail(target, exc)
        status = 422
    return render(
        request,
        "rems/session_form.html",
        {
            "session": session,
            "patient": session.patient,
            "form": rems.monitoring_form(session),
            "on_site_form": on_site,
            "answers_form": answers,
            "submit_form": submit,
            "may_fill": _may_fill(request),
        },
        status=status,
    )


@requires(Action.VIEW_CHART)
def session_form_pdf(request: HttpRequest, session_id: int) -> HttpResponse:
    session = access_session_by_id(actor(request), session_id)
    if session.order.route != "nasal":
        return render(request, "404.html", status=404)
    context = {"form": rems.monitoring_form(session), "session": session, "now": timezone.now()}
    return pdf_response(request, "rems/pdf/monitoring_form.html", context, f"rems-monitoring-form-{session.pk}.pdf")
