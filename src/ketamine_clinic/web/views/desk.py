"""The front desk: a week of chairs and visits on the clinic's open days; check-in and
no-show; the waiting list; reschedule or cancel with a reason. Clinicians see the week too."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ketamine_clinic.domain.hours import ClinicHours
from ketamine_clinic.domain.policy import Action
from ketamine_clinic.services import clinic, courses, schedule
from ketamine_clinic.services.access import access_course_by_id, access_patient_by_id, access_visit_by_id, note_listed
from ketamine_clinic.services.errors import InvalidInput, NotFound, ServiceError
from ketamine_clinic.storage.models import Chair, Patient, Visit, WaitlistEntry
from ketamine_clinic.web.forms import BoosterForm, CancelVisitForm, RescheduleVisitForm, WaitlistForm
from ketamine_clinic.web.permissions import actor, requires


def _week_start(raw: str | None) -> date:
    """The Monday of ``raw``'s week; a malformed date or one more than 10 years from today
    shows this week (the calendar's arithmetic never leaves the range of dates)."""
    today = timezone.localdate()
    try:
        day = date.fromisoformat(raw) if raw else today
    except ValueError:
        day = today
    if abs((day - today).days) > 3660:
        day = today
    return day - timedelta(days=day.weekday())


def _booster_patients(form: BoosterForm) -> list[int]:
    """The patients the booster form's list names (it is part of the page)."""
    return [c.patient_id for c in form.fields["course"].queryset]  # type: ignore[attr-defined]


#: Chairs on one page of the week: a network has dozens, and a week of all of them is about a
#: thousand visits (docs/decisions/0031).
CHAIRS_PER_PAGE = 12


def _slot(visit: Visit, href: str) -> SafeString:
    """One visit's cell, built once in Python: on a network's week a thousand cells of
    template tags were the page's whole cost."""
    start, end = timezone.localtime(visit.starts_at), timezone.localtime(visit.ends_at)
    meta = f"{visit.get_phase_display()} #{visit.number}"
    if visit.staff is not None:
        meta += f" · {visit.staff.last_name}"
    if visit.status == "cancelled":
        meta += " · cancelled"
    elif visit.status == "no_show":
        meta += " · no-show"
    elif visit.arrived_at is not None:
        meta += " · arrived"
    return format_html(
        '<a class="slot slot-{}" href="{}"><span class="slot-time">{}–{}</span>'
        '<span class="slot-name">{}, {}.</span><span class="slot-meta">{}</span></a>',
        visit.status,
        href,
        f"{start:%H:%M}",
        f"{end:%H:%M}",
        visit.patient.family_name,
        visit.patient.given_name[:1],
        meta,
    )


def _chair_page(raw: str | None, pages: int) -> int:
    """The page of chairs asked for; anything malformed is the first, beyond the end the last."""
    if not raw or not raw.isdigit() or len(raw) > 3 or int(raw) < 1:
        return 1
    return min(int(raw), pages)


def _week(request: HttpRequest, *, desk: bool) -> dict[str, Any]:
    """The week's grid of chairs by open day, shared by the desk (cells open the visit) and the
    clinicians' view (cells open the chart), twelve chairs to a page."""
    start = _week_start(request.GET.get("week"))
    hours = clinic.clinic_hours()
    days = [start + timedelta(days=i) for i in range(7) if i in hours.days]
    begin = datetime.combine(start, time.min, tzinfo=timezone.get_current_timezone())
    every_chair = list(Chair.objects.filter(active=True).order_by("name"))
    pages = max(1, -(-len(every_chair) // CHAIRS_PER_PAGE))
    page = _chair_page(request.GET.get("chairs"), pages)
    chairs = every_chair[(page - 1) * CHAIRS_PER_PAGE : page * CHAIRS_PER_PAGE]
    visits = list(
        Visit.objects.filter(starts_at__gte=begin, starts_at__lt=begin + timedelta(days=7), chair__in=chairs)
        .select_related("patient", "staff")
        .order_by("starts_at")
    )
    note_listed(v.patient_id for v in visits)
    # reversed once, not per visit: the desk opens the visit, clinicians the chart
    prefix = reverse("desk-visit" if desk else "patient-chart", args=[0]).removesuffix("0/")
    grid: dict[tuple[int, date], list[SafeString]] = {}
    for visit in visits:
        href = f"{prefix}{visit.pk if desk else visit.patient_id}/"
        grid.setdefault((visit.chair_id, timezone.localtime(visit.starts_at).date()), []).append(_slot(visit, href))
    rows = [{"chair": c, "cells": [grid.get((c.pk, d), []) for d in days]} for c in chairs]
    closed = clinic.closure_reasons()
    return {
        "days": [{"day": d, "closed": closed.get(d) if d in hours.closures else None} for d in days],
        "rows": rows,
        "hours": hours,
        "today": timezone.localdate(),
        "week": start,
        "prev_week": start - timedelta(days=7),
        "next_week": start + timedelta(days=7),
        "visit_count": sum(1 for v in visits if v.status == "scheduled"),
        "outside_hours": [v for v in visits if v.status == "scheduled" and not _within_hours(v, hours)],
        "chair_pages": range(1, pages + 1) if pages > 1 else [],
        "chair_page": page,
        "desk": desk,
    }


def _within_hours(visit: Visit, hours: ClinicHours) -> bool:
    start, end = timezone.localtime(visit.starts_at), timezone.localtime(visit.ends_at)
    return hours.is_open_on(start.date()) and hours.opens <= start.time() and end.time() <= hours.closes


@requires(Action.MANAGE_SCHEDULE)
def calendar(request: HttpRequest) -> HttpResponse:
    booster_form = BoosterForm(due_only=True)
    note_listed(_booster_patients(booster_form))
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    arrivals = list(
        Visit.objects.filter(
            starts_at__gte=datetime.combine(today, time.min, tzinfo=tz),
            starts_at__lt=datetime.combine(today + timedelta(days=1), time.min, tzinfo=tz),
        )
        .exclude(status="cancelled")
        .select_related("patient", "chair")
        .order_by("starts_at")
    )
    waiting = list(WaitlistEntry.objects.filter(status="waiting").select_related("patient", "added_by"))
    note_listed(v.patient_id for v in arrivals)
    note_listed(w.patient_id for w in waiting)
    return render(
        request,
        "desk/calendar.html",
        {
            **_week(request, desk=True),
            "booster_form": booster_form,
            "arrivals": arrivals,
            "now": timezone.now(),
            "waiting": waiting,
            "waitlist_form": WaitlistForm(),
        },
    )


@requires(Action.VIEW_CHART)
def clinician_week(request: HttpRequest) -> HttpResponse:
    """The week's chairs for the clinical team (read only: visits link to the chart)."""
    return render(request, "desk/calendar.html", _week(request, desk=False))


@requires(Action.MANAGE_SCHEDULE)
def visit_action(request: HttpRequest, visit_id: int) -> HttpResponse:
    """Check-in (arrival) or no-show, from the day's list or the visit page."""
    visit = access_visit_by_id(actor(request), visit_id, action=Action.MANAGE_SCHEDULE)
    if request.method != "POST":
        return redirect("desk-visit", visit_id=visit.pk)
    op = request.POST.get("op")
    try:
        if op == "arrive":
            schedule.do_check_in_visit(visit, at=timezone.now(), acting_user=actor(request))
            messages.success(request, f"{visit.patient.full_name} checked in.")
        elif op == "no_show":
            schedule.do_mark_no_show(visit, at=timezone.now(), acting_user=actor(request))
            messages.success(request, f"{visit.patient.full_name}: visit marked no-show; the chair is free.")
        else:
            messages.error(request, "Choose check-in or no-show.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect(request.POST.get("next") == "visit" and reverse("desk-visit", args=[visit.pk]) or "desk-home")


@requires(Action.MANAGE_SCHEDULE)
def waitlist(request: HttpRequest) -> HttpResponse:
    """Add a patient (by MRN) to the waiting list, or take an entry off it."""
    if request.method != "POST":
        return redirect("desk-home")
    try:
        if request.POST.get("op") == "resolve":
            entry = WaitlistEntry.objects.filter(pk=request.POST.get("entry") or 0, status="waiting").first()
            if entry is None:
                raise NotFound("That waiting-list entry is gone.")
            access_patient_by_id(actor(request), entry.patient_id, action=Action.MANAGE_SCHEDULE)
            schedule.do_resolve_waitlist_entry(
                entry, status=request.POST.get("status", ""), at=timezone.now(), acting_user=actor(request)
            )
            messages.success(request, f"{entry.patient.full_name} is off the waiting list.")
        else:
            form = WaitlistForm(request.POST)
            if not form.is_valid():
                raise InvalidInput(
                    "; ".join(f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items()), field="mrn"
                )
            found = Patient.objects.filter(mrn__iexact=form.cleaned_data["mrn"].strip()).first()
            if found is None:
                raise InvalidInput("MRN: no patient has this MRN", field="mrn")
            patient = access_patient_by_id(actor(request), found.pk, action=Action.MANAGE_SCHEDULE)
            schedule.do_add_to_waitlist(
                patient, wanted=form.cleaned_data["wanted"], at=timezone.now(), acting_user=actor(request)
            )
            messages.success(request, f"{patient.full_name} is on the waiting list.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("desk-home") + "#waitlist")


@requires(Action.MANAGE_SCHEDULE)
def visit_detail(request: HttpRequest, visit_id: int) -> HttpResponse:
    visit = access_visit_by_id(actor(request), visit_id, action=Action.MANAGE_SCHEDULE)
    local = timezone.localtime(visit.starts_at)
    move = RescheduleVisitForm(
        request.POST if request.POST.get("op") == "move" else None,
        initial={"date": local.date(), "time": local.time(), "chair": visit.chair_id},
    )
    cancel = CancelVisitForm(request.POST if request.POST.get("op") == "cancel" else None)
    try:
        if move.is_bound and move.is_valid():
            data = move.cleaned_data
            starts = datetime.combine(data["date"], data["time"], tzinfo=timezone.get_current_timezone())
            schedule.do_reschedule_visit(
                visit,
                starts,
                reason=data["reason"],
                chair=data["chair"],
                acting_user=actor(request),
            )
            messages.success(request, "Visit moved.")
            return redirect("desk-visit", visit_id=visit.pk)
        if cancel.is_bound and cancel.is_valid():
            schedule.do_cancel_visit(visit, reason=cancel.cleaned_data["reason"], acting_user=actor(request))
            messages.success(request, "Visit cancelled.")
            return redirect("desk-home")
    except ServiceError as exc:
        target = move if move.is_bound else cancel
        target.add_error(exc.field if exc.field in target.fields else None, exc.message)
    return render(request, "desk/visit.html", {"visit": visit, "move": move, "cancel": cancel})


@requires(Action.MANAGE_SCHEDULE)
def book_booster(request: HttpRequest) -> HttpResponse:
    form = BoosterForm(request.POST or None)
    note_listed(_booster_patients(form))
    if request.method == "POST" and form.is_valid():
        course = access_course_by_id(actor(request), form.cleaned_data["course"].pk, action=Action.MANAGE_SCHEDULE)
        try:
            visit = courses.do_book_maintenance_visit(
                course, day=form.cleaned_data["day"], acting_user=actor(request), at=timezone.now()
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request, f"Booster booked: {timezone.localtime(visit.starts_at):%A %d %B %H:%M}, {visit.chair.name}."
            )
            return redirect(f"{reverse('desk-home')}?week={timezone.localtime(visit.starts_at).date().isoformat()}")
    return render(request, "desk/booster.html", {"form": form})
