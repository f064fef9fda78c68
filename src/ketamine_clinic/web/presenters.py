"""Turn read models into charts for the pages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.safestring import SafeString

from ketamine_clinic.services import measures
from ketamine_clinic.storage.models import Assessment, Course
from ketamine_clinic.web import charts

_CSS = ("series-a", "series-b", "series-c")


def _days(at: datetime, origin: datetime) -> float:
    return (at - origin).total_seconds() / 86400


def _dated(origin: datetime, points: Sequence[float]) -> dict[float, str]:
    """Date labels ("2 Nov") for the day axis of a chart whose 0 is ``origin``."""
    lo, hi = min(points, default=0.0), max(points, default=1.0)

    def label(day: float) -> str:
        d = timezone.localtime(origin + timedelta(days=day)).date()
        return f"{d.day} {d:%b}"

    return charts.day_ticks(lo, hi, label)


def score_chart(overview: Any) -> SafeString | None:
    """Each scale over days since the first score, with infusion and dose markers."""
    scores: Sequence[Assessment] = [
        s for s in overview.scores if s.instrument in ("phq9", "gad7", "pcl5", "madrs", "qids_sr16", "pain_nrs")
    ]
    if not scores:
        return None
    origin = scores[0].at
    by_code: dict[str, list[tuple[float, float]]] = {}
    for s in scores:
        by_code.setdefault(s.instrument, []).append((_days(s.at, origin), float(s.total)))
    series = [
        charts.Series(measures.instrument_name(code), pts, _CSS[i % 3]) for i, (code, pts) in enumerate(by_code.items())
    ]
    markers = []
    first = None  # the first ordered mg/kg: later changes are drawn as dose markers
    for visit in overview.visits:
        session = overview.sessions.get(visit.pk)
        if visit.status == "done" and session is not None:
            order = overview.orders.get(visit.pk)
            label = f"Infusion #{visit.number}" + (
                f": {order.dose_mg} mg ({order.dose_mg_per_kg} mg/kg)" if order else ""
            )
            first = first if first is not None else (order.dose_mg_per_kg if order else None)
            css = "marker-dose" if order and order.dose_mg_per_kg != first else "marker"
            x = _days(session.started_at or visit.starts_at, origin)
            markers.append(charts.Marker(x, label, css, short=f"#{visit.number}"))
    bands = []
    if "phq9" in by_code:
        bands = [charts.Band(0, 4.5, "remission (PHQ-9 < 5)", "band-ok")]
    top = max(measures.instrument_max(code) for code in by_code)
    xs = [x for pts in by_code.values() for x, _ in pts] + [m.x for m in markers]
    return charts.line_chart(
        series,
        title="Scores over time, with infusions marked",
        x_label="date (infusions marked #1, #2 …)",
        x_tick_labels=_dated(origin, xs),
        y_label="score",
        y_min=0,
        y_max=top,
        markers=markers,
        bands=bands,
    )


def trajectory_chart(course: Course) -> SafeString | None:
    """The course's primary measure (PHQ-9, PCL-5, a pain score...) with its response band
    and, for PHQ-9, the remission band ([S55][S41][S85])."""
    from ketamine_clinic.domain.course import response_threshold_pct
    from ketamine_clinic.services.clinic import clinic_rules

    code = course.baseline_instrument or "phq9"
    name = measures.instrument_name(code)
    scores = list(Assessment.objects.filter(patient=course.patient, instrument=code).order_by("at"))
    if not scores:
        return None
    origin = scores[0].at
    points = [(_days(s.at, origin), float(s.total)) for s in scores]
    bands = [charts.Band(0, 4.5, "remission", "band-ok")] if code == "phq9" else []
    if course.baseline_score:
        pct = response_threshold_pct(code, clinic_rules())
        low = 4.5 if code == "phq9" else 0
        bands.append(charts.Band(low, course.baseline_score * (1 - pct / 100), f"response (≥ {pct:g} % drop)", "band"))
    markers = [
        charts.Marker(_days(v.starts_at, origin), f"Visit #{v.number}", short=f"#{v.number}")
        for v in course.visits.filter(status="done")
    ]
    return charts.line_chart(
        [charts.Series(name, points)],
        title=f"{name} during the course",
        x_label="date (visits marked #1, #2 …)",
        x_tick_labels=_dated(origin, [x for x, _ in points] + [m.x for m in markers]),
        y_label=name,
        y_min=0,
        y_max=measures.instrument_max(code),
        markers=markers,
        bands=bands,
    )


def dashboard_charts(summary: dict[str, Any]) -> dict[str, Any]:
    evaluated = summary["evaluated"] or 0
    stages = [
        (label, float(summary["by_status"].get(code, 0)))
        for code, label in (
            ("induction", "Induction"),
            ("maintenance", "Maintenance"),
            ("referred", "Referred elsewhere"),
            ("completed", "Completed"),
        )
    ]
    effects = [(label, pct) for label, _n, pct in summary["effects"][:8]]
    return {
        "response_pct": round(100 * summary["response"] / evaluated) if evaluated else 0,
        "remission_pct": round(100 * summary["remission"] / evaluated) if evaluated else 0,
        "stages": charts.bar_chart(stages, title="Courses by stage"),
        "effects": charts.bar_chart(effects, title="Side effects per 100 infusions", unit="%") if effects else "",
    }
