"""The chair-side infusion session page and its htmx partials."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from ketamine_clinic.domain import chairside
from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.domain.prediction import predict, predict_nasal, segments_from_events
from ketamine_clinic.services import alerts, clinic, measures, orders, preprocedure, prn, schedule, sessions
from ketamine_clinic.services import checklist as checklist_rules
from ketamine_clinic.services import discharge as discharge_rules
from ketamine_clinic.services.access import access_session_by_id, access_visit_by_id
from ketamine_clinic.services.errors import ServiceError
from ketamine_clinic.services.intake import latest_intake
from ketamine_clinic.storage.models import (
    Assessment,
    InfusionSession,
    PumpEvent,
    SessionNote,
    SideEffect,
    VitalSign,
)
from ketamine_clinic.web import charts
from ketamine_clinic.web.forms import (
    AcknowledgeForm,
    AmendNoteForm,
    AmendVitalsForm,
    NoteForm,
    PumpForm,
    SideEffectForm,
    VitalsForm,
)
from ketamine_clinic.web.permissions import actor, requires


@requires(Action.RECORD_VITALS)
def open_session(request: HttpRequest, visit_id: int) -> HttpResponse:
    visit = access_visit_by_id(actor(request), visit_id)
    if request.method == "POST":
        try:
            session = sessions.do_open_session(visit, at=timezone.now(), acting_user=actor(request))
        except ServiceError as exc:
            messages.error(request, exc.message)
            return redirect("patient-chart", patient_id=visit.patient_id)
        return redirect("session", session_id=session.pk)
    return redirect("patient-chart", patient_id=visit.patient_id)


def _chart(session: InfusionSession, events: list[PumpEvent] | None = None) -> dict[str, Any]:
    now = timezone.now()
    intake = latest_intake(session.patient)
    weight = float(intake.weight_kg) if intake else float(session.order.weight_kg)
    birth, sex, on = session.patient.birth_date, session.patient.sex, now.date()
    events = sessions.current_entries(PumpEvent, session) if events is None else events
    if session.order.route == "nasal":
        devices = [e.at for e in events if e.kind == "device"]
        origin = devices[0] if devices else None
        prediction = predict_nasal(
            [(t - devices[0]).total_seconds() / 60 for t in devices], weight_kg=weight, birth_date=birth, sex=sex, on=on
        )
        marks = [(t - devices[0]).total_seconds() / 60 for t in devices]
        label = "Predicted plasma esketamine (ng/mL)"
    else:
        pump = [(e.at, e.kind, float(e.rate_ml_per_h)) for e in events]
        origin, segments = segments_from_events(
            pump, float(session.order.concentration_mg_per_ml), now=session.stopped_at or now
        )
        prediction = predict(segments, weight_kg=weight, birth_date=birth, sex=sex, on=on)
        marks = [s.start_min for s in segments]
        label = "Predicted plasma ketamine (ng/mL)"
    elapsed = (now - origin).total_seconds() / 60 if origin else None
    current = None
    if elapsed is not None and prediction.times_min:
        index = min(int(round(elapsed)), len(prediction.times_min) - 1)
        current = prediction.plasma_ng_per_ml[index]
    markers = [charts.Marker(m, "dose event", "marker-dose") for m in marks]
    if elapsed is not None:
        markers.append(charts.Marker(elapsed, "now"))
    svg = charts.line_chart(
        [
            charts.Series(
                label,
                list(zip(prediction.times_min, prediction.plasma_ng_per_ml, strict=True)),
            )
        ],
        title="Predicted plasma concentration from the "
        + ("devices given" if session.order.route == "nasal" else "recorded pump events"),
        x_label="minutes since start",
        y_label="ng/mL",
        y_min=0,
        markers=markers,
    )
    return {"svg": svg, "prediction": prediction, "current": current, "elapsed": elapsed}


def _timer(session: InfusionSession, now: datetime, given_mg: float | None) -> dict[str, Any]:
    """What the chair's clock shows: the state, minutes in it, the planned minutes and the
    dose given so far (from the recorded pump events or devices)."""
    order, status = session.order, session.status
    nasal = order.route == "nasal"
    if status in {"checklist", "ready"} or session.started_at is None:
        label = "Checklist" if status == "checklist" else ("Ready for the first device" if nasal else "Ready to start")
        return {"label": label, "minutes": None, "of": None, "given": ""}
    if status in {"running", "paused"}:
        minutes = int((now - session.started_at).total_seconds() // 60)
        if nasal:
            return {"label": "Dosing", "minutes": minutes, "of": None, "given": ""}
        given = given_mg if given_mg is not None else sessions.administered_mg_at(session, now)
        label = "Infusing" if status == "running" else "Paused"
        given_text = f"{given:g} of {order.dose_mg} mg given"
        return {"label": label, "minutes": minutes, "of": order.duration_min, "given": given_text}
    end = session.discharged_at or session.closed_at or now
    observed = int((end - session.stopped_at).total_seconds() // 60) if session.stopped_at else None
    total = f"{session.administered_mg} mg given" if session.administered_mg is not None else ""
    if status == "observing":
        planned = discharge_rules.min_observation_min(session)
        return {"label": "Observing", "minutes": observed, "of": planned, "given": total}
    return {"label": session.get_status_display().capitalize(), "minutes": None, "of": None, "given": total}


def _clock(
    session: InfusionSession, vitals_all: list[VitalSign], now: datetime, given_mg: float | None = None
) -> dict[str, Any]:
    """The timer and when the next reading is due (the clinic's interval [S6][S7])."""
    last = max((v.at for v in vitals_all), default=None)
    interval = clinic.vitals_interval_min(dosing=session.status == "running")
    watching = session.status in {"running", "paused", "observing"}  # none due once the patient has left
    due_at = last + timedelta(minutes=interval) if last and watching else None
    return {
        "session": session,
        "words": chairside.route_words(session.order.route),
        "status_label": chairside.status_label(session.order.route, session.status, session.get_status_display()),
        "timer": _timer(session, now, given_mg),
        "due_at": due_at,
        "due_overdue": bool(due_at and now > due_at),
        "vitals_interval": interval,
    }


def _discharge_scale(code: str) -> dict[str, Any]:
    """A discharge score's items as radio groups named ``<code>_<index>``; none pre-selected."""
    form = measures.instrument_form(code)
    for index, item in enumerate(form["items"]):
        item["field"] = f"{code}_{index}"
    return form


def _pump_now(session: InfusionSession, open_now: list[Any]) -> str | None:
    """What the nurse must do to a pump that still runs while a blocking alert is open: the
    service refuses every start and resume, but only a person can pause the pump [S7]."""
    if session.status != "running" or session.order.route == "nasal":
        return None
    severities = {a.severity for a in open_now}
    if "stop" in severities:
        return "stop"
    if severities & {"pause", "urgent"}:
        return "pause"
    return None


def _context(request: HttpRequest, session: InfusionSession, **forms: Any) -> dict[str, Any]:
    user = actor(request)
    vitals_all = sessions.entries(VitalSign, session)
    amended = {v.amends_id for v in vitals_all if v.amends_id}
    now = timezone.now()
    events_all = sessions.entries(PumpEvent, session)
    replaced = {e.amends_id for e in events_all if e.amends_id}
    current = [e for e in events_all if e.pk not in replaced]
    prn_doses = prn.mar(session)
    dosing = session.status in {"running", "paused"} and session.order.route != "nasal"
    given_now = sessions.administered_from(session, current, now) if dosing else None
    open_now = alerts.most_serious_first(alerts.open_alerts(session.patient))
    notes = sessions.entries(SessionNote, session)
    # the session's ratings and the day's questionnaires before it, in one query
    day = timezone.localtime(session.visit.starts_at).date()
    scores = list(
        Assessment.objects.filter(Q(session=session) | Q(patient=session.patient, at__date=day, session=None)).order_by(
            "at", "id"
        )
    )
    return {
        "pump_now": _pump_now(session, open_now),
        **_clock(session, vitals_all, now, given_now),
        "session": session,
        "visit": session.visit,
        "order": session.order,
        "patient": session.patient,
        "vitals": vitals_all,
        "amended_ids": amended,
        "effects": sessions.entries(SideEffect, session),
        "pump_events": events_all,
        "notes": notes,
        "amended_note_ids": {n.amends_id for n in notes if n.amends_id},
        "open_alerts": open_now,
        "dose_block": alerts.dose_block_reason(session.patient, at=now, open_now=open_now)
        if session.status in {"ready", "running", "paused"}
        else None,
        "checklist_items": checklist_rules.items_for(session),
        "checked": forms.get("checked") or {},
        "refusal": forms.get("refusal") or "",
        "words": chairside.route_words(session.order.route),
        "early_stop": sessions.early_stop_problem(session, at=now, given_mg=given_now)
        if session.status in {"running", "paused"}
        else None,
        "screen": checklist_rules.todays_screen(session.patient, timezone.localdate(now))
        if session.status == "checklist"
        else {},
        "screen_problem": checklist_rules.todays_screen_problem(session.patient, at=now)
        if session.status == "checklist"
        else None,
        "chart": _chart(session, current),
        "vitals_form": forms.get("vitals_form") or VitalsForm(),
        "pump_form": forms.get("pump_form") or PumpForm(initial={"rate_ml_per_h": session.order.rate_ml_per_h}),
        "effect_form": forms.get("effect_form") or SideEffectForm(),
        "note_form": forms.get("note_form") or NoteForm(),
        "ack_form": AcknowledgeForm(),
        "may": {a.value: can(user.role, a) for a in Action} | {"verify_order": orders.may_verify(user)},
        "effect_labels": dict(chairside.SIDE_EFFECTS),
        "rating_forms": [measures.instrument_form(c) for c in measures.CLINICIAN_RATINGS],
        "aldrete": measures.instrument_form("aldrete"),
        "discharge_scales": [_discharge_scale("aldrete"), _discharge_scale("padss")],
        "posted": {},
        "assessments": [a for a in scores if a.session_id == session.pk],
        "pre_scores": [a for a in scores if a.session_id is None],
        "observed_min": int((now - session.stopped_at).total_seconds() // 60) if session.stopped_at else 0,
        "min_observation": discharge_rules.min_observation_min(session),
        "devices_given": sum(1 for e in current if e.kind == "device"),
        "pre": preprocedure.summary(session.patient),
        "mar": prn_doses,
        "prn_orders": prn.standing_orders(session, user=user, doses=prn_doses),
        "prn_posted": {},
    }


@requires(Action.VIEW_CHART)
def session_page(request: HttpRequest, session_id: int) -> HttpResponse:
    session = access_session_by_id(actor(request), session_id)
    if request.htmx and request.GET.get("part") == "chart":  # type: ignore[attr-defined]
        return render(request, "sessions/_chart.html", {"chart": _chart(session), "session": session})
    if request.htmx and request.GET.get("part") == "timer":  # type: ignore[attr-defined]
        readings = list(VitalSign.objects.filter(session=session))
        return render(request, "sessions/_timer.html", _clock(session, readings, timezone.now()))
    return render(request, "sessions/session.html", _context(request, session))


def _refusal(form: Any) -> str:
    """Every error of a refused form as one sentence for the top of the page, so a refusal
    explains itself even when its form is not on the page any more (a stale second tab)."""
    parts: list[str] = []
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else None
        parts.extend(f"{label}: {e}" if label else str(e) for e in errors)
    return " ".join(parts)


def _post(
    request: HttpRequest, session: InfusionSession, form: Any, action: Any, name: str, **extra: Any
) -> HttpResponse:
    if form.is_valid():
        try:
            action(form.cleaned_data)
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return redirect("session", session_id=session.pk)
    session.refresh_from_db()
    context = _context(request, session, **{name: form}, refusal=_refusal(form), **extra)
    return render(request, "sessions/session.html", context, status=422)


@requires(Action.RECORD_VITALS)
def record_vitals(request: HttpRequest, session_id: int) -> HttpResponse:
    session = access_session_by_id(actor(request), session_id, action=Action.RECORD_VITALS)
    form = VitalsForm(request.POST)
    return _post(
        request,
        session,
        form,
        lambda d: sessions.do_record_vitals(session, d, at=timezone.now(), acting_user=actor(request)),
        "vitals_form",
    )


@requires(Action.RECORD_VITALS)
def checklist(request: HttpRequest, session_id: int) -> HttpResponse:
    session = access_session_by_id(actor(request), session_id, action=Action.RECORD_VITALS)
    form = VitalsForm(request.POST)
    items = {name: request.POST.get(name) == "on" for name, _ in checklist_rules.items_for(session)}
    return _post(
        request,
        session,
        form,
        lambda d: sessions.do_complete_checklist(
            session, items=items, vitals=d, at=timezone.now(), acting_user=actor(request)
        ),
        "vitals_form",
        checked=items,
    )


@requires(Action.START_STOP_INFUSION)
def pump(request: HttpRequest, session_id: int) -> HttpResponse:
    session = access_session_by_id(actor(request), session_id, action=Action.START_STOP_INFUSION)
    form = PumpForm(request.POST)
    return _post(
        request,
        session,
        form,
        lambda d: sessions.do_record_pump_event(
            session,
            d["kind"],
            rate_ml_per_h=d["rate_ml_per_h"],
            at=timezone.now(),
            acting_user=actor(request),
            reason=d.get("stop_reason") or "",
        ),
        "pump_form",
    )


@requires(Action.RECORD_SIDE_EFFECTS)
def side_effect(request: HttpRequest, session_id: int) -> HttpResponse:
    session = access_session_by_id(actor(request), session_id, action=Action.RECORD_SIDE_EFFECTS)
    form = SideEffectForm(request.POST)
    return _post(
        request,
        session,
        form,
        lambda d: sessions.do_record_side_effect(
            session,
            d["code"],
            d["severity"],
            note=d["note"],
            at=timezone.now(),
            acting_user=actor(request),
        ),
        "effect_form",
    )


@requires(Action.SIGN_NOTE)
def note(request: HttpRequest, session_id: int) -> HttpResponse:
    session = access_session_by_id(actor(request), session_id, action=Action.SIGN_NOTE)
    form = NoteForm(request.POST)
    return _post(
        request,
        session,
        form,
        lambda d: sessions.do_sign_note(session, d["text"], at=timezone.now(), acting_user=actor(request)),
        "note_form",
    )


@requires(Action.RECORD_VITALS)
def amend_vitals(request: HttpRequest, session_id: int, vital_id: int) -> HttpResponse:
    session = access_session_by_id(actor(request), session_id, action=Action.RECORD_VITALS)
    original = VitalSign.objects.filter(pk=vital_id, session=session).first()
    if original is None:
        return render(request, "404.html", status=404)
    form = AmendVitalsForm(
        request.POST or None,
        initial={
            f: getattr(original, f)
            for f in (
                "systolic_mmhg",
                "diastolic_mmhg",
                "heart_rate_bpm",
                "spo2_percent",
                "respiratory_rate",
            )
        },
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("amend_reason")
        try:
            sessions.do_amend_vitals(original, data, reason=reason, at=timezone.now(), acting_user=actor(request))
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Reading corrected; the original stays in the record.")
            return redirect("session", session_id=session.pk)
    return render(request, "sessions/amend.html", {"session": session, "original": original, "form": form})


@requires(Action.RECORD_ASSESSMENT)
def assessment(request: HttpRequest, session_id: int) -> HttpResponse:
    """A clinician-rated scale during the session (CADSS, BPRS+, MADRS ...)."""
    from ketamine_clinic.services import measures

    session = access_session_by_id(actor(request), session_id, action=Action.RECORD_ASSESSMENT)
    code = request.POST.get("instrument", "cadss")
    if code not in measures.CLINICIAN_RATINGS:
        messages.error(request, f"instrument must be one of: {', '.join(measures.CLINICIAN_RATINGS)}")
        return redirect("session", session_id=session.pk)
    meta = measures.instrument_form(code)
    answers = [request.POST.get(item["name"], "") for item in meta["items"]]
    parsed = [int(a) if a.strip().lstrip("-").isdigit() else None for a in answers]
    try:
        measures.do_record_assessment(
            session.patient,
            code,
            parsed,
            at=timezone.now(),
            acting_user=actor(request),
            visit=session.visit,
            session=session,
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{meta['name']} recorded.")
    return redirect("session", session_id=session.pk)


@requires(Action.DISCHARGE)
def discharge(request: HttpRequest, session_id: int) -> HttpResponse:
    session = access_session_by_id(actor(request), session_id, action=Action.DISCHARGE)

    def scores(code: str) -> list[int | None]:
        raw = [request.POST.get(f"{code}_{i}", "") for i in range(5)]
        return [int(a) if a in {"0", "1", "2"} else None for a in raw]

    try:
        sessions.do_discharge(
            session,
            aldrete=scores("aldrete"),
            padss=scores("padss"),
            escort_present=request.POST.get("escort") == "on",
            dissociation_resolved=request.POST.get("dissociation_resolved") == "on",
            aftercare_given=request.POST.get("aftercare_given") == "on",
            at=timezone.now(),
            acting_user=actor(request),
        )
    except ServiceError as exc:
        # the page keeps every answer given, so one missing item is not a form re-typed
        context = _context(request, session)
        context.update(discharge_error=exc.message, discharge_field=exc.field or "", posted=request.POST)
        return render(request, "sessions/session.html", context, status=422)
    messages.success(request, "Discharged. After-care instructions are on the session record.")
    return redirect("session", session_id=session.pk)


@requires(Action.VIEW_CHART)
def aftercare(request: HttpRequest, session_id: int) -> HttpResponse:
    """Written after-care instructions for the patient, printable [S50][S49][S30]."""
    session = access_session_by_id(actor(request), session_id)
    return render(
        request,
        "sessions/aftercare.html",
        {
            "session": session,
            "patient": session.patient,
            "esketamine": session.order.route == "nasal",
            "clinic_phone": clinic.clinic_phone(),
        },
    )


@requires(Action.SIGN_NOTE)
def amend_note(request: HttpRequest, session_id: int, note_id: int) -> HttpResponse:
    """A correction to a signed note is a new signed note; the original stays visible."""
    session = access_session_by_id(actor(request), session_id, action=Action.SIGN_NOTE)
    original = SessionNote.objects.filter(pk=note_id, session=session).first()
    if original is None or SessionNote.objects.filter(amends=original).exists():
        return render(request, "404.html", status=404)
    form = AmendNoteForm(request.POST or None, initial={"text": original.text})
    if request.method == "POST" and form.is_valid():
        try:
            sessions.do_sign_note(
                session,
                form.cleaned_data["text"],
                at=timezone.now(),
                acting_user=actor(request),
                amends=original,
                reason=form.cleaned_data["amend_reason"],
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Note amended; the original stays in the record.")
            return redirect("session", session_id=session.pk)
    return render(request, "sessions/amend_note.html", {"session": session, "original": original, "form": form})


@requires(Action.GIVE_PRN)
def give_prn(request: HttpRequest, session_id: int) -> HttpResponse:
    """A PRN dose under the session's standing order, on its medication administration record."""
    session = access_session_by_id(actor(request), session_id, action=Action.GIVE_PRN)
    posted = {k: request.POST.get(k, "") for k in ("drug", "dose_mg", "indication")}
    try:
        row = prn.do_give_prn(
            session,
            posted["drug"],
            dose_mg=posted["dose_mg"],
            indication=posted["indication"],
            at=timezone.now(),
            acting_user=actor(request),
        )
    except ServiceError as exc:
        session.refresh_from_db()
        context = _context(request, session, refusal=exc.message)
        context.update(prn_error=exc.message, prn_field=exc.field or "", prn_posted=posted)
        return render(request, "sessions/session.html", context, status=422)
    messages.success(request, f"{row.drug} {row.dose_mg.normalize():f} mg {row.route} recorded on the MAR.")
    return redirect(reverse("session", args=[session.pk]) + "#sec-prn")


@requires(Action.START_STOP_INFUSION)
def nasal_device(request: HttpRequest, session_id: int) -> HttpResponse:
    session = access_session_by_id(actor(request), session_id, action=Action.START_STOP_INFUSION)
    if request.method == "POST":
        try:
            sessions.do_give_nasal_device(session, at=timezone.now(), acting_user=actor(request))
        except ServiceError as exc:
            messages.error(request, exc.message)
    return redirect("session", session_id=session.pk)


@requires(Action.DISCHARGE)
def close_session(request: HttpRequest, session_id: int) -> HttpResponse:
    session = access_session_by_id(actor(request), session_id, action=Action.DISCHARGE)
    if request.method == "POST":
        try:
            sessions.do_close_session(
                session, reason=request.POST.get("reason", ""), at=timezone.now(), acting_user=actor(request)
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Session closed without discharge.")
    return redirect("session", session_id=session.pk)


@requires(Action.PLAN_COURSE)
def visit_today(request: HttpRequest, visit_id: int) -> HttpResponse:
    """A prescriber gives a visit today, with a documented reason."""
    visit = access_visit_by_id(actor(request), visit_id)
    error = ""
    if request.method == "POST":
        try:
            schedule.do_move_visit_to_today(
                visit, reason=request.POST.get("reason", ""), at=timezone.now(), acting_user=actor(request)
            )
        except ServiceError as exc:
            error = exc.message
        else:
            messages.success(request, "The visit is moved to today; the infusion team can open the session.")
            return redirect("patient-chart", patient_id=visit.patient_id)
    return render(
        request,
        "sessions/visit_today.html",
        {"visit": visit, "error": error, "reason": request.POST.get("reason", ""), "now": timezone.now()},
    )
