"""The front desk: a week of chairs and visits; reschedule or cancel with a reason."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from ketamine_clinic.domain.policy import Action
from ketamine_clinic.services import courses, schedule
from ketamine_clinic.services.access import access_course_by_id, access_visit_by_id, note_listed
from ketamine_clinic.services.errors import ServiceError
from ketamine_clinic.storage.models import Chair, Visit
from ketamine_clinic.web.forms import BoosterForm, CancelVisitForm, RescheduleVisitForm
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


@requires(Action.MANAGE_SCHEDULE)
def calendar(request: HttpRequest) -> HttpResponse:
    start = _week_start(request.GET.get("week"))
    days = [start + timedelta(days=i) for i in range(6)]
    begin = datetime.combine(start, time.min, tzinfo=timezone.get_current_timezone())
    visits = (
        Visit.objects.filter(starts_at__gte=begin, starts_at__lt=begin + timedelta(days=7))
        .select_related("patient", "chair", "staff")
        .order_by("starts_at")
    )
    chairs = list(Chair.objects.filter(active=True).order_by("name"))
    booster_form = BoosterForm(due_only=True)
    note_listed(v.patient_id for v in visits)
    note_listed(_booster_patients(booster_form))
    grid: dict[tuple[int, date], list[Visit]] = {}
    for visit in visits:
        grid.setdefault((visit.chair_id, timezone.localtime(visit.starts_at).date()), []).append(visit)
    rows = [{"chair": c, "cells": [grid.get((c.pk, d), []) for d in days]} for c in chairs]
    return render(
        request,
        "desk/calendar.html",
        {
            "booster_form": booster_form,
            "days": days,
            "rows": rows,
            "today": timezone.localdate(),
            "prev_week": start - timedelta(days=7),
            "next_week": start + timedelta(days=7),
            "visit_count": sum(1 for v in visits if v.status == "scheduled"),
        },
    )


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
