"""Clinic reports: monthly outcomes (page, PDF, CSV) and the recall list."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from ketamine_clinic.domain.policy import Action
from ketamine_clinic.services import documents, reports
from ketamine_clinic.services.access import note_listed
from ketamine_clinic.web import charts
from ketamine_clinic.web.pdf import csv_response, pdf_bytes
from ketamine_clinic.web.permissions import actor, requires
from ketamine_clinic.web.views.documents import _frame, for_print

CSV_HEADER = (
    "month",
    "courses started",
    "induction completed",
    "completion %",
    "evaluated",
    "response",
    "response %",
    "remission",
    "remission %",
    "median days to response",
    "infusions",
    "side effects",
    "side effects per 100 infusions",
)


def _period(request: HttpRequest) -> tuple[date, date, str]:
    """``?months=`` 1-36 (default 12) ending this month; anything else is the default and
    says so."""
    raw = request.GET.get("months", "12")
    note = ""
    months = int(raw) if raw.isdigit() else 0
    if not 1 <= months <= 36:
        months, note = 12, "months must be from 1 to 36; showing 12"
    today = timezone.localdate()
    y, m = today.year, today.month - (months - 1)
    while m < 1:
        y, m = y - 1, m + 12
    return date(y, m, 1), today, note


def _chart(rows: list[reports.MonthRow]) -> Any:
    labels = {float(i): r.month[2:] for i, r in enumerate(rows)}
    series = [
        charts.Series(
            "Response %", [(float(i), r.response_pct) for i, r in enumerate(rows) if r.response_pct is not None]
        ),
        charts.Series(
            "Remission %",
            [(float(i), r.remission_pct) for i, r in enumerate(rows) if r.remission_pct is not None],
            "series-c",
        ),
        charts.Series(
            "Induction completed %",
            [(float(i), r.completion_pct) for i, r in enumerate(rows) if r.completion_pct is not None],
            "series-b",
        ),
    ]
    return charts.line_chart(
        series,
        title="Outcomes of the courses started each month",
        x_label="month the course started",
        y_label="% of courses",
        y_min=0,
        y_max=100,
        x_min=-0.5,
        x_max=len(rows) - 0.5,
        x_tick_labels=labels,
    )


def _effects_chart(rows: list[reports.MonthRow]) -> Any:
    bars = [(r.month, r.effect_rate or 0.0) for r in rows if r.infusions]
    if not any(value for _, value in bars):
        return ""
    return charts.bar_chart(bars, title="Side effects per 100 infusions, by month")


def _totals(rows: list[reports.MonthRow]) -> reports.MonthRow:
    total = reports.MonthRow("all")
    for r in rows:
        total.started += r.started
        total.completed_induction += r.completed_induction
        total.evaluated += r.evaluated
        total.responded += r.responded
        total.remitted += r.remitted
        total.days_to_response += r.days_to_response
        total.infusions += r.infusions
        total.effects.update(r.effects)
    return total


@requires(Action.VIEW_DASHBOARD, phi=False)
def outcomes(request: HttpRequest, fmt: str = "html") -> HttpResponse:
    since, until, note = _period(request)
    rows = reports.monthly_outcomes(since=since, until=until)
    total = _totals(rows)
    if fmt == "csv":
        data = [
            (r.month, r.started, r.completed_induction, r.completion_pct, r.evaluated, r.responded, r.response_pct,
             r.remitted, r.remission_pct, r.median_days_to_response, r.infusions, sum(r.effects.values()),
             r.effect_rate)
            for r in [*rows, total]
        ]  # fmt: skip
        content = csv_response(CSV_HEADER, data, f"outcomes-{since:%Y-%m}-{until:%Y-%m}.csv")
        documents.do_record_document(
            "outcomes_csv", content.content, patient=None, subject=None, acting_user=actor(request)
        )
        return content
    context = {
        "rows": rows,
        "total": total,
        "since": since,
        "until": until,
        "note": note,
        "months": len(rows),
        "chart": _chart(rows),
        "effects_chart": _effects_chart(rows),
    }
    if fmt == "pdf":
        context = {**_frame(request, f"Outcomes {since:%Y-%m} to {until:%Y-%m}"), **context}
        context["chart"], context["effects_chart"] = for_print(context["chart"]), for_print(context["effects_chart"])
        pdf = pdf_bytes(request, "reports/pdf/outcomes.html", context)
        documents.do_record_document("outcomes_pdf", pdf, patient=None, subject=None, acting_user=actor(request))
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="outcomes-{since:%Y-%m}-{until:%Y-%m}.pdf"'
        return response
    return render(request, "reports/outcomes.html", context)


@requires(Action.VIEW_DASHBOARD)
def recall(request: HttpRequest) -> HttpResponse:
    rows = reports.recall_list(today=timezone.localdate())
    note_listed(r.course.patient_id for r in rows)
    return render(request, "reports/recall.html", {"rows": rows})
