"""Intake, eligibility, course planning, orders and the end-of-induction decision."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from ketamine_clinic.domain.body_weight import WEIGHT_BASES
from ketamine_clinic.domain.policy import Action, actions_for
from ketamine_clinic.services import clinic, courses, dosing, intake, measures, orders, protocols
from ketamine_clinic.services.access import (
    access_course_by_id,
    access_order_by_id,
    access_patient_by_id,
    access_visit_by_id,
)
from ketamine_clinic.services.errors import ServiceError
from ketamine_clinic.storage.models import Intake
from ketamine_clinic.web import presenters
from ketamine_clinic.web.clinical_forms import WeightUpdateForm
from ketamine_clinic.web.forms import (
    DIAGNOSES,
    CoursePlanForm,
    EligibilityDecisionForm,
    InductionDecisionForm,
    IntakeForm,
    NasalOrderForm,
    OrderForm,
)
from ketamine_clinic.web.permissions import actor, requires


def _fail(form: Any, exc: ServiceError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@requires(Action.EDIT_INTAKE)
def intake_new(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access_patient_by_id(actor(request), patient_id, action=Action.EDIT_INTAKE)
    form = IntakeForm(request.POST or None, questions=intake.contraindication_questions())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        trials = [
            {
                "drug": data[f"trial_{i}_drug"],
                "weeks": data[f"trial_{i}_weeks"] or 0,
                "adequate": data[f"trial_{i}_adequate"],
            }
            for i in range(form.TRIAL_ROWS)
            if data[f"trial_{i}_drug"]
        ]
        vitals = {
            k: data[k]
            for k in (
                "systolic_mmhg",
                "diastolic_mmhg",
                "heart_rate_bpm",
                "spo2_percent",
                "respiratory_rate",
            )
        }
        try:
            row = intake.do_record_intake(
                patient,
                diagnoses=data["diagnoses"],
                failed_trials=trials,
                contraindications={name[3:]: bool(data[name]) for name in form.question_names},
                weight=data["weight"],
                weight_unit=data["weight_unit"],
                confirm_weight=data["confirm_weight"],
                height_cm=data["height_cm"],
                vitals=vitals,
                pregnant=data["pregnant"],
                consent_given=data["consent_given"],
                at=timezone.now(),
                acting_user=actor(request),
            )
        except ServiceError as exc:
            _fail(form, exc)
        else:
            messages.success(
                request,
                f"Intake recorded. Screen: {row.screen_status.replace('_', ' ')}.",
            )
            return redirect("intake-detail", patient_id=patient.pk, intake_id=row.pk)
    return render(request, "clinical/intake_form.html", {"patient": patient, "form": form})


@requires(Action.VIEW_CHART)
def intake_detail(request: HttpRequest, patient_id: int, intake_id: int) -> HttpResponse:
    patient = access_patient_by_id(actor(request), patient_id)
    row = Intake.objects.filter(pk=intake_id, patient=patient).first()
    if row is None:
        return render(request, "404.html", status=404)
    form = EligibilityDecisionForm(
        request.POST or None,
        initial={"decision": "eligible" if row.screen_status == "eligible" else "not_eligible"},
    )
    if request.method == "POST":
        if Action.DECIDE_ELIGIBILITY not in actions_for(actor(request).role):
            return render(request, "403.html", {"action": Action.DECIDE_ELIGIBILITY}, status=403)
        if form.is_valid():
            try:
                intake.do_decide_eligibility(
                    row,
                    decision=form.cleaned_data["decision"],
                    note=form.cleaned_data["note"],
                    at=timezone.now(),
                    acting_user=actor(request),
                )
            except ServiceError as exc:
                _fail(form, exc)
            else:
                messages.success(request, "Eligibility decision recorded.")
                return redirect("patient-chart", patient_id=patient.pk)
    return render(
        request,
        "clinical/intake_detail.html",
        {
            "patient": patient,
            "intake": row,
            "form": form,
            "decisions": row.decisions.select_related("decided_by"),
            "diagnosis_labels": dict(DIAGNOSES),
            "questions": dict(intake.contraindication_questions()),
        },
    )


def _default_start() -> dict[str, Any]:
    """The first open clinic day after today at opening time: a default that is never in the past."""
    hours = clinic.clinic_hours()
    return {"start_date": hours.next_open_day(timezone.localdate() + timedelta(days=1)), "start_time": hours.opens}


@requires(Action.PLAN_COURSE)
def course_new(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access_patient_by_id(actor(request), patient_id, action=Action.PLAN_COURSE)
    form = CoursePlanForm(request.POST or None, protocols=protocols.protocol_choices(), initial=_default_start())
    deviations: list[courses.Placement] = []
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            course = courses.do_plan_course(
                patient,
                protocol=d["protocol"],
                start_date=d["start_date"],
                start_time=d["start_time"],
                chair=d["chair"],
                staff=d["staff"],
                baseline_score=measures.latest_score(
                    patient, d["primary_measure"] or protocols.primary_measure(d["protocol"])
                ),
                oral_antidepressant=d["oral_antidepressant"],
                primary_measure=d["primary_measure"],
                accept_other_times=d["accept_other_times"],
                at=timezone.now(),
                acting_user=actor(request),
            )
        except courses.BookingDeviations as exc:
            deviations = exc.placements
            form.add_error(None, exc.message)
        except ServiceError as exc:
            _fail(form, exc)
        else:
            visits = list(course.visits.select_related("chair"))
            moved = sum(1 for v in visits if timezone.localtime(v.starts_at).time() != d["start_time"])
            first = timezone.localtime(visits[0].starts_at)
            messages.success(
                request,
                f"Course planned: {len(visits)} visits booked from {first:%A %d %B %H:%M}"
                + (
                    f"; {moved} not at {d['start_time']:%H:%M} (see the visit list)."
                    if moved
                    else f", each at {d['start_time']:%H:%M}."
                ),
            )
            return redirect("patient-chart", patient_id=patient.pk)
    hours = clinic.clinic_hours()
    return render(
        request,
        "clinical/course_form.html",
        {
            "patient": patient,
            "form": form,
            "protocols": protocols.protocol_summaries(),
            "deviations": deviations,
            "hours": hours,
        },
    )


def _nasal_order(request: HttpRequest, visit: Any) -> HttpResponse:
    form = NasalOrderForm(request.POST or None, initial={"dose_mg": protocols.planned_nasal_dose(visit)})
    if request.method == "POST" and form.is_valid():
        try:
            orders.do_sign_nasal_order(
                visit, dose_mg=form.cleaned_data["dose_mg"], at=timezone.now(), acting_user=actor(request)
            )
        except ServiceError as exc:
            _fail(form, exc)
        else:
            messages.success(request, "Nasal-spray order signed. It needs a second clinician's verification.")
            return redirect("patient-chart", patient_id=visit.patient_id)
    return render(request, "clinical/nasal_order_form.html", {"visit": visit, "patient": visit.patient, "form": form})


@requires(Action.SIGN_ORDER)
def order_new(request: HttpRequest, visit_id: int) -> HttpResponse:
    visit = access_visit_by_id(actor(request), visit_id, action=Action.SIGN_ORDER)
    course = visit.course
    if protocols.is_nasal_protocol(course.protocol):
        return _nasal_order(request, visit)
    suggestion = dosing.titration_suggestion(visit)
    initial = {
        "dose_mg_per_kg": suggestion.dose_mg_per_kg if suggestion else course.dose_mg_per_kg,
        "duration_min": dosing.default_duration_min(course.protocol),
        "concentration_mg_per_ml": dosing.default_concentration(),
    }
    weights = orders.dosing_weights(visit)
    form = OrderForm(request.POST or None, initial=initial)
    if weights is None or not weights.obese:
        form.fields["weight_basis"].choices = [("actual", "Actual body weight")]  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        try:
            orders.do_sign_order(
                visit,
                at=timezone.now(),
                acting_user=actor(request),
                **{**form.cleaned_data, "weight_basis": form.cleaned_data["weight_basis"] or "actual"},
            )
        except ServiceError as exc:
            _fail(form, exc)
        else:
            messages.success(request, "Order signed. It needs a second clinician's verification.")
            return redirect("patient-chart", patient_id=visit.patient_id)
    if request.htmx and "preview" in request.GET:  # type: ignore[attr-defined]
        return render(request, "clinical/_dose_preview.html", {"preview": orders.preview_order(visit, request.GET)})
    preview = orders.preview_order(visit, form.data if form.is_bound else initial)
    return render(
        request,
        "clinical/order_form.html",
        {
            "visit": visit,
            "patient": visit.patient,
            "form": form,
            "suggestion": suggestion,
            "preview": preview,
            "weights": weights,
            "limits": dosing.dose_limit_summary(course.protocol),
        },
    )


@requires(Action.VERIFY_ORDER)
def order_verify(request: HttpRequest, order_id: int) -> HttpResponse:
    if not orders.may_verify(actor(request)):  # the clinic's setting narrows the role's scope
        reason = f"verify orders: this clinic lets {orders.verifier_names()} verify them"
        return render(request, "403.html", {"action": reason}, status=403)
    order = access_order_by_id(actor(request), order_id, action=Action.VERIFY_ORDER)
    if request.method == "POST":
        try:
            orders.do_verify_order(order, at=timezone.now(), acting_user=actor(request))
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Order verified.")
        return redirect("patient-chart", patient_id=order.patient_id)
    return render(
        request,
        "clinical/order_verify.html",
        {
            "order": order,
            "patient": order.patient,
            "latest_intake": intake.latest_intake(order.patient),
            "weight_basis_label": WEIGHT_BASES.get(order.weight_basis, order.weight_basis),
            "recheck": orders.order_recheck_problem(order) if order.verified_at is None else None,
        },
    )


@requires(Action.VIEW_CHART)
def induction_decision(request: HttpRequest, course_id: int) -> HttpResponse:
    course = access_course_by_id(actor(request), course_id)
    suggestion = courses.evaluate_induction(course)
    form = InductionDecisionForm(
        request.POST or None,
        decisions=courses.induction_decision_choices(course),
        initial={"decision": suggestion.decision, "next_visit_weeks": suggestion.interval_weeks},
    )
    if protocols.is_nasal_protocol(course.protocol):
        del form.fields["next_visit_weeks"]  # esketamine maintenance follows the label: weekly in weeks 5-8
    if request.method == "POST":
        if Action.DECIDE_INDUCTION not in actions_for(actor(request).role):
            return render(request, "403.html", {"action": Action.DECIDE_INDUCTION}, status=403)
        if form.is_valid():
            d = form.cleaned_data
            try:
                courses.do_decide_induction(
                    course,
                    decision=d["decision"],
                    override_reason=d["override_reason"],
                    next_visit_weeks=d.get("next_visit_weeks"),
                    at=timezone.now(),
                    acting_user=actor(request),
                )
            except ServiceError as exc:
                _fail(form, exc)
            else:
                messages.success(request, "End-of-induction decision recorded.")
                return redirect("patient-chart", patient_id=course.patient_id)
    return render(
        request,
        "clinical/induction_decision.html",
        {
            "course": course,
            "patient": course.patient,
            "suggestion": suggestion,
            "form": form,
            "due": courses.decision_due(course),
            "under_way": course.status == "induction" and not courses.decision_due(course),
            "done_count": courses.done_induction_visits(course),
            "planned_count": course.visits.filter(phase="induction").exclude(status="cancelled").count(),
            "trajectory": presenters.trajectory_chart(course),
        },
    )


@requires(Action.SIGN_ORDER)
def order_cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    """A prescriber cancels an order that has not been given, with a reason."""
    order = access_order_by_id(actor(request), order_id, action=Action.SIGN_ORDER)
    if request.method == "POST":
        try:
            orders.do_cancel_order(
                order, reason=request.POST.get("reason", ""), at=timezone.now(), acting_user=actor(request)
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Order cancelled; a new one can be written.")
    return redirect("patient-chart", patient_id=order.patient_id)


@requires(Action.PLAN_COURSE)
def course_end(request: HttpRequest, course_id: int) -> HttpResponse:
    """A prescriber completes or cancels a course, with a reason."""
    course = access_course_by_id(actor(request), course_id)
    if request.method == "POST":
        try:
            courses.do_end_course(
                course,
                outcome=request.POST.get("outcome", ""),
                reason=request.POST.get("reason", ""),
                at=timezone.now(),
                acting_user=actor(request),
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "The course is closed; its remaining visits are cancelled.")
    return redirect("patient-chart", patient_id=course.patient_id)


@requires(Action.VIEW_CHART)
def weight_update(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A new weight (kg or lb), height or vital signs without re-typing the intake."""
    user = actor(request)
    if not ({Action.EDIT_INTAKE, Action.RECORD_VITALS} & set(actions_for(user.role))):
        return render(request, "403.html", {"action": Action.RECORD_VITALS}, status=403)
    patient = access_patient_by_id(user, patient_id)
    latest = intake.latest_intake(patient)
    form = WeightUpdateForm(
        request.POST or None, initial={"weight_unit": "kg", "height_cm": latest.height_cm if latest else None}
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        vitals = {k: d[k] for k in WeightUpdateForm.VITALS if d.get(k) is not None}
        try:
            row = intake.do_update_weight(
                patient,
                weight=d["weight"],
                weight_unit=d["weight_unit"],
                height_cm=d["height_cm"],
                vitals=vitals,
                confirm_weight=d["confirm_weight"],
                at=timezone.now(),
                acting_user=user,
            )
        except ServiceError as exc:
            _fail(form, exc)
        else:
            messages.success(
                request,
                f"Weight recorded: {row.weight_kg} kg ({row.weight_lb} lb). "
                f"Screen: {row.screen_status.replace('_', ' ')}.",
            )
            return redirect("patient-chart", patient_id=patient.pk)
    return render(request, "clinical/weight_form.html", {"patient": patient, "form": form, "latest": latest})
