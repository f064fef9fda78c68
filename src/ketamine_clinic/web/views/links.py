"""The pages a single-use link opens, without logging in: the questionnaires before a
visit and the next-day check-in. The token in the URL is the only credential; the page
shows no name or record, only the questions (docs/decisions/0021-reminders-and-links.md)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from ketamine_clinic.domain.chairside import side_effect_label
from ketamine_clinic.services import measures, outreach
from ketamine_clinic.services.errors import Conflict, NotFound, ServiceError
from ketamine_clinic.storage.models import CheckIn, PatientLink


def _forms(link: PatientLink) -> list[dict[str, Any]]:
    """Each instrument's items, their field names prefixed with the instrument's code."""
    forms = []
    for code in link.instruments:
        meta = measures.instrument_form(code)
        for item in meta["items"]:
            item["name"] = f"{code}-{item['name']}"
        forms.append(meta)
    return forms


def _answers(request: HttpRequest, forms: list[dict[str, Any]]) -> dict[str, list[int | None]]:
    out: dict[str, list[int | None]] = {}
    for meta in forms:
        raw = [request.POST.get(item["name"], "") for item in meta["items"]]
        out[meta["code"]] = [int(a) if a.strip().lstrip("-").isdigit() else None for a in raw]
    return out


def _gone(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "links/gone.html", {"message": message}, status=status)


@never_cache
def patient_link(request: HttpRequest, token: str) -> HttpResponse:
    now = timezone.now()
    try:
        link = outreach.link_for_token(token, now=now)
    except NotFound:
        raise Http404("This link is not valid.") from None
    except Conflict as exc:
        return _gone(request, exc.message, 410)
    if link.purpose == "checkin":
        return _check_in(request, link)
    forms = _forms(link)
    error = ""
    if request.method == "POST":
        answers = _answers(request, forms)
        try:
            rows = outreach.do_submit_questionnaires(link, answers, now=now)
        except Conflict as exc:
            return _gone(request, exc.message, 410)
        except ServiceError as exc:
            error = exc.message
            phq9 = answers.get("phq9")
            user = link.patient.user
            if (
                phq9 is not None
                and user is not None
                and measures.do_flag_incomplete_phq9(link.patient, phq9, at=now, acting_user=user)
            ):
                return render(request, "links/crisis.html", {"urgent": True, "incomplete": True})
        else:
            findings = [f for row in rows for f in measures.suicide_risk_findings(row)]
            if findings:
                urgent = any(f.severity == "urgent" for f in findings)
                return render(request, "links/crisis.html", {"urgent": urgent, "incomplete": False})
            return render(request, "links/done.html", {"visit_at": link.visit.starts_at})
    return render(
        request,
        "links/questionnaires.html",
        {"forms": forms, "error": error, "posted": request.POST, "visit_at": link.visit.starts_at},
        status=422 if error else 200,
    )


def _check_in(request: HttpRequest, link: PatientLink) -> HttpResponse:
    error, field = "", ""
    if request.method == "POST":
        raw = request.POST.get("mood", "")
        mood = int(raw) if raw.lstrip("-").isdigit() else None
        try:
            outreach.do_record_check_in(
                link,
                mood=mood,
                effects=request.POST.getlist("effects"),
                note=request.POST.get("note", ""),
                now=timezone.now(),
            )
        except Conflict as exc:
            return _gone(request, exc.message, 410)
        except ServiceError as exc:
            error, field = exc.message, exc.field or ""
        else:
            return render(request, "links/done.html", {"check_in": True})
    return render(
        request,
        "links/check_in.html",
        {
            "moods": CheckIn.MOODS,
            "effects": [(code, side_effect_label(code)) for code in outreach.CHECK_IN_EFFECTS],
            "error": error,
            "field": field,
            "posted_mood": request.POST.get("mood", ""),
            "posted_effects": request.POST.getlist("effects"),
            "posted_note": request.POST.get("note", ""),
        },
        status=422 if error else 200,
    )
