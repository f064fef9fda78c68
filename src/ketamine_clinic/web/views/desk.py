"""The front desk: a week of chairs and visits; reschedule or cancel with a reason."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

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


#: Chairs on one page of the week: a network has dozens, and a week of all of them is
#: about a thousand visits (docs/decisions/0031).
CHAIRS_PER_PAGE = 12


def _slot(visit: Visit, url: str) -> SafeString:
    """One visit's cell, built once in Python: a thousand template tags per week were the
    page's cost on a network."""
    local_start, local_end = timezone.localtime(visit.starts_at), timezone.localtime(visit.ends_at)
    meta = f"{visit.get_phase_display()} #{visit.number}"
    if visit.staff is not None:
        meta += f" · {visit.staff.last_name}"
    if visit.status == "cancelled":
        meta += " · cancelled"
    return format_html(
        '<a class="slot slot-{}" href="{}"><span class="slot-time">{}–{}</span>'
        '<span class="slot-name">{}, {}.</span><span class="slot-meta">{}</span></a>',
        visit.status,
        f"{url}{visit.pk}/",
        f"{local_start:%H:%M}",
        f"{local_end:%H:%M}",
        visit.patient.family_name,
        visit.patient.given_name[:1],
        meta,
    )


@requires(Action.MANAGE_SCHEDULE)
def calendar(request: HttpRequest) -> HttpResponse:
    start = _week_start(request.GET.get("week"))
    days = [start + timedelta(days=i) for i in range(6)]
    begin = datetime.combine(start, time.min, tzinfo=timezone.get_current_timezone())
    every_chair = list(Chair.objects.filter(active=True).order_by("name"))
    pages = max(1, -(-len(every_chair) // CHAIRS_PER_PAGE))
    raw = request.GET.get("chairs", "1")
    page = min(int(raw), pages) if raw.isdigit() and 0 < len(raw) < 4 and int(raw) > 0 else 1
    chairs = every_chair[(page - 1) * CHAIRS_PER_PAGE : page * CHAIRS_PER_PAGE]
    visits = list(
        Visit.objects.filter(starts_at__gte=begin, starts_at__lt=begin + timedelta(days=7), chair__in=chairs)
        .select_related("patient", "staff")
        .order_by("starts_at")
    )
    booster_form = BoosterForm(due_only=True)
    note_listed(v.patient_id for v in visits)
    note_listed(_booster_patients(booster_form))
    url = reverse("desk-visit", args=[0]).removesuffix("0/")  # reversed once, not per visit
    grid: dict[tuple[int, date], list[SafeString]] = {}
    for visit in visits:
        grid.setdefault((visit.chair_id, timezone.localtime(visit.starts_at).date()), []).append(_slot(visit, url))
    rows = [{"chair": c, "cells": [grid.get((c.pk, d), []) for d in days]} for c in chairs]
    return render(
        request,
        "desk/calendar.html",
        {
            "booster_form": booster_form,
            "days": days,
            "rows": rows,
            "today": timezone.localdate(),
            "week": start,
            "prev_week": start - timedelta(days=7),
            "next_week": start + timedelta(days=7),
            "visit_count": sum(1 for v in visits if v.status == "scheduled"),
            "chair_pages": range(1, pages + 1) if pages > 1 else [],
            "chair_page": page,
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
