"""Administration: users, clinic settings, the audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.domain.settings import SETTINGS
from ketamine_clinic.domain.sources import SOURCES, cited_keys
from ketamine_clinic.services import access, accounts, audit_verification, care_team, clinic, two_factor
from ketamine_clinic.services.errors import InvalidInput, ServiceError
from ketamine_clinic.services.patients import do_create_patient_login
from ketamine_clinic.storage.models import AuditChainHead, AuditEvent, CareTeamMember, ClinicSettings, Patient, User
from ketamine_clinic.web.forms import (
    AuditFilterForm,
    CareTeamForm,
    ClinicHoursForm,
    ClinicSettingsForm,
    UserCreateForm,
    UserUpdateForm,
)
from ketamine_clinic.web.labels import SETTING_TOPICS, setting_label
from ketamine_clinic.web.permissions import actor, requires


@requires(Action.MANAGE_USERS, phi=False)
def admin_home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "admin/home.html",
        {
            "user_count": User.objects.filter(is_active=True).count(),
            # the chain's lanes know their length: no COUNT(*) over millions of rows
            "audit_count": AuditChainHead.objects.aggregate(n=Sum("length"))["n"] or 0,
        },
    )


@requires(Action.MANAGE_USERS, phi=False)
def users(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        mrn = data.pop("patient_mrn").strip()
        try:
            if data["role"] == "patient":
                user = _create_patient_login(mrn, data, actor(request))
            else:
                user = accounts.do_create_user(**data, acting_user=actor(request))
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"Created {user.username} ({user.role}).")
            return redirect("admin-users")
    rows = User.objects.order_by("-is_active", "role", "last_name", "username")
    return render(request, "admin/users.html", {"form": form, "rows": rows, "locked": accounts.locked_user_ids()})


def _create_patient_login(mrn: str, data: dict[str, str], acting: User) -> User:
    patient = Patient.objects.filter(mrn__iexact=mrn).first() if mrn else None
    if patient is None:
        raise InvalidInput("a patient login needs the MRN of a registered patient", field="patient_mrn")
    return do_create_patient_login(patient, username=data["username"], password=data["password"], acting_user=acting)


@requires(Action.MANAGE_USERS, phi=False)
def user_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    target = get_object_or_404(User, pk=user_id)
    if request.method == "POST" and request.POST.get("op") == "unlock":
        accounts.do_unlock_account(target, acting_user=actor(request))
        messages.success(request, f"Unlocked {target.display_name}: they can log in again.")
        return redirect("admin-user-edit", user_id=target.pk)
    if request.method == "POST" and request.POST.get("op") == "remove_two_factor":
        two_factor.do_remove_totp(target, acting_user=actor(request))
        messages.success(request, f"Removed {target.username}'s authenticator; they set up a new one at next log-in.")
        return redirect("admin-user-edit", user_id=target.pk)
    form = UserUpdateForm(
        request.POST or None,
        initial={"role": target.role, "is_active": target.is_active, "is_medical_director": target.is_medical_director},
    )
    if request.method == "POST" and form.is_valid():
        try:
            accounts.do_update_user(
                target,
                role=form.cleaned_data["role"],
                is_active=form.cleaned_data["is_active"],
                is_medical_director=form.cleaned_data["is_medical_director"],
                acting_user=actor(request),
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Saved {target.username}.")
            return redirect("admin-users")
    return render(
        request,
        "admin/user_edit.html",
        {
            "form": form,
            "target": target,
            "has_two_factor": two_factor.confirmed_device(target) is not None,
            "locked": accounts.is_locked_out(target),
        },
    )


@requires(Action.MANAGE_SETTINGS, phi=False)
def clinic_settings(request: HttpRequest) -> HttpResponse:
    row = ClinicSettings.objects.filter(singleton=1).first() or ClinicSettings()
    initial = {
        "clinic_name": row.clinic_name,
        "clinic_phone": row.clinic_phone,
        "idle_timeout_minutes": clinic.idle_timeout_minutes(),
        "require_two_factor": row.require_two_factor,
        "care_team_only": row.care_team_only,
    }
    op = request.POST.get("op", "general")
    if request.method == "POST" and op == "verifiers":
        try:
            clinic.do_update_verifier_roles(set(request.POST.getlist("verifier_roles")), acting_user=actor(request))
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Saved who verifies orders.")
        return redirect(reverse("admin-settings") + "#verifiers")
    form = ClinicSettingsForm(request.POST if request.method == "POST" and op == "general" else None, initial=initial)
    values: dict[str, float | str] = {**{k: s.default for k, s in SETTINGS.items()}, **clinic.rule_overrides()}
    rules_error = None
    if request.method == "POST" and op == "rules":
        try:
            posted = {k: float(request.POST.get(k, values[k])) for k in SETTINGS}
            clinic.do_propose_clinic_rules(posted, reason=request.POST.get("reason", ""), acting_user=actor(request))
        except ValueError:
            rules_error = "Every threshold must be a number."
        except ServiceError as exc:
            rules_error = exc.message
            values.update({k: request.POST.get(k, v) for k, v in values.items()})
        else:
            messages.success(request, "Proposed: the medical director approves before the thresholds change.")
            return redirect("admin-settings")
    elif request.method == "POST" and form.is_valid():
        try:
            clinic.do_update_clinic_settings(**form.cleaned_data, acting_user=actor(request))
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Clinic settings saved.")
            return redirect("admin-settings")
    rows = {
        k: {
            "name": k,
            "label": setting_label(k),
            "value": values[k],
            "spec": s,
            "changed": float(values[k]) != s.default,
        }
        for k, s in SETTINGS.items()
    }
    topics = []
    shown: set[str] = set()
    for title, about, names in SETTING_TOPICS:
        group = [rows[n] for n in names if n in rows]
        shown.update(n for n in names if n in rows)
        topics.append({"title": title, "about": about, "rows": group, "sources": _sources(group)})
    rest = [r for k, r in rows.items() if k not in shown]
    if rest:
        topics.append({"title": "Other", "about": "", "rows": rest, "sources": _sources(rest)})
    pending = None
    if row.pending_rules is not None:
        pending = {
            "by": row.pending_by,
            "at": row.pending_at,
            "reason": row.pending_reason,
            "changes": sorted(row.pending_rules.items()),
        }
    return render(
        request,
        "admin/settings.html",
        {
            "form": form,
            "topics": topics,
            "rules_error": rules_error,
            "pending": pending,
            "verifiers": clinic.verifier_roles(),
            "verifier_choices": clinic.VERIFIER_ROLE_CHOICES,
        },
    )


def _sources(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The cited sources of ``rows``, each with its full reference (domain.sources)."""
    keys: list[str] = []
    for row in rows:
        keys.extend(k for k in sorted(cited_keys(row["spec"].source)) if k not in keys)
    return [(k, SOURCES.get(k, "")) for k in keys]


def _filtered(form: AuditFilterForm) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.select_related("patient").order_by("-id")
    if not form.is_valid():
        return events
    data = form.cleaned_data
    if data["user"]:
        events = events.filter(actor__username__iexact=data["user"])
    if data["patient"]:
        events = events.filter(patient__mrn__iexact=data["patient"])
    if data["event_type"] is not None:
        events = events.filter(event_type=data["event_type"])
    if data["since"]:
        events = events.filter(occurred_at__gte=data["since"])
    if data["until"]:
        events = events.filter(occurred_at__lte=data["until"])
    return events


AUDIT_PAGE = 50


def _cursor(raw: str | None) -> int | None:
    """An event id from the query string; anything else is no cursor (the newest page)."""
    return int(raw) if raw and raw.isdigit() and len(raw) < 19 else None


def _keyset_page(events: QuerySet[AuditEvent], before: int | None, after: int | None) -> dict[str, object]:
    """One page of events newest first, by id: ``before`` an id (older) or ``after`` one
    (newer). Keyset pagination reads 51 rows through an index wherever the page is in a
    trail of millions, where OFFSET read every row before it and a page count counted all."""
    if after is not None:
        rows = list(events.filter(id__gt=after).order_by("id")[: AUDIT_PAGE + 1])
        more_newer, rows = len(rows) > AUDIT_PAGE, rows[:AUDIT_PAGE][::-1]
        more_older = bool(rows) and events.filter(id__lt=rows[-1].id).exists()
    else:
        if before is not None:
            events = events.filter(id__lt=before)
        rows = list(events[: AUDIT_PAGE + 1])
        more_older, rows = len(rows) > AUDIT_PAGE, rows[:AUDIT_PAGE]
        more_newer = before is not None
    return {
        "rows": rows,
        "older": rows[-1].id if rows and more_older else None,
        "newer": rows[0].id if rows and more_newer else None,
    }


@requires(Action.VIEW_AUDIT)
def audit_log(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and request.POST.get("op") == "verify":
        if audit_verification.do_request_verification(acting_user=actor(request), at=timezone.now()):
            messages.success(
                request, "Verification of the whole trail queued: the result appears here when it is done."
            )
        else:
            messages.info(request, "A verification is already queued or running: its result appears here.")
        return redirect("admin-audit")
    form = AuditFilterForm(request.GET or None)
    page = _keyset_page(_filtered(form), _cursor(request.GET.get("before")), _cursor(request.GET.get("after")))
    chain = audit_verification.last_verification()
    access.note_listed(e.patient_id for e in page["rows"])  # type: ignore[attr-defined]
    query = request.GET.copy()
    for key in ("page", "before", "after", "verify"):
        query.pop(key, None)
    return render(
        request,
        "admin/audit.html",
        {
            "form": form,
            "page": page,
            "chain": chain,
            "query": query.urlencode(),
            # admins see who did what to which record; only an auditor sees the values
            "show_values": can(actor(request).role, Action.VIEW_AUDIT_VALUES),
        },
    )


@requires(Action.MANAGE_USERS, phi=False)
def care_teams(request: HttpRequest) -> HttpResponse:
    """Care teams by MRN and user name: the admin keeps them without opening a chart."""
    form = CareTeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        patient = Patient.objects.filter(mrn__iexact=data["mrn"].strip()).first()
        member = User.objects.filter(username__iexact=data["username"].strip(), is_active=True).first()
        if patient is None:
            form.add_error("mrn", "No patient has this MRN.")
        elif member is None:
            form.add_error("username", "No active user has this name.")
        else:
            try:
                if request.POST.get("op") == "remove":
                    care_team.do_remove_care_team_member(patient, member, acting_user=actor(request))
                else:
                    care_team.do_add_care_team_member(patient, member, acting_user=actor(request))
            except ServiceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, f"Care team of {patient.mrn} saved.")
                return redirect("admin-care-teams")
    rows = CareTeamMember.objects.select_related("patient", "user").order_by("patient__mrn", "user__username")
    return render(
        request,
        "admin/care_teams.html",
        {"form": form, "rows": rows, "restricted": care_team.care_team_only()},
    )


@requires(Action.MANAGE_SETTINGS, phi=False)
def chairs(request: HttpRequest) -> HttpResponse:
    """The clinic's chairs: add one, retire one (no new bookings) or bring it back."""
    from ketamine_clinic.services import schedule
    from ketamine_clinic.storage.models import Chair

    if request.method == "POST":
        try:
            if request.POST.get("op") == "add":
                schedule.do_create_chair(request.POST.get("name", ""), acting_user=actor(request))
                messages.success(request, "Chair added.")
            else:
                chair = get_object_or_404(Chair, pk=request.POST.get("chair") or 0)
                schedule.do_set_chair_active(chair, request.POST.get("op") == "activate", acting_user=actor(request))
                messages.success(request, f"{chair.name} saved.")
        except ServiceError as exc:
            messages.error(request, exc.message)
        return redirect("admin-chairs")
    return render(request, "admin/chairs.html", {"chairs": Chair.objects.order_by("name")})


@requires(Action.MANAGE_USERS, phi=False)
def api_tokens(request: HttpRequest) -> HttpResponse:
    """API bearer tokens: who holds one, until when, last use; revoke one. Tokens are made
    with ``kclinic token create`` and never shown here (only a digest is kept)."""
    from ketamine_clinic.services import api_tokens as tokens

    if request.method == "POST":
        try:
            row = tokens.do_revoke_token(request.POST.get("prefix", ""), acting_user=actor(request))
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Revoked token {row.prefix}… of {row.user.username}.")
        return redirect("admin-tokens")
    from django.utils import timezone

    return render(request, "admin/tokens.html", {"tokens": tokens.tokens_for_admin(), "now": timezone.now()})


def _chair_hours_post(request: HttpRequest) -> None:
    from datetime import time

    from ketamine_clinic.services import schedule
    from ketamine_clinic.storage.models import Chair

    chair = get_object_or_404(Chair, pk=request.POST.get("chair") or 0)

    def parse(raw: str) -> time | None:
        try:
            return time.fromisoformat(raw) if raw else None
        except ValueError:
            raise InvalidInput(f"{raw!r} is not a time written HH:MM", field="chair_hours") from None

    schedule.do_set_chair_hours(
        chair, parse(request.POST.get("opens", "")), parse(request.POST.get("closes", "")), acting_user=actor(request)
    )
    messages.success(request, f"Hours of {chair.name} saved.")


@requires(Action.MANAGE_SETTINGS, phi=False)
def clinic_hours_page(request: HttpRequest) -> HttpResponse:
    """When visits are booked: the clinic's hours, open days, closure dates, each chair's hours."""
    from ketamine_clinic.storage.models import Chair

    hours = clinic.clinic_hours()
    reasons = clinic.closure_reasons()
    initial = {
        "opens": hours.opens,
        "closes": hours.closes,
        "days": sorted(hours.days),
        "closures": "\n".join(f"{d.isoformat()} {reasons.get(d, '')}".strip() for d in sorted(hours.closures)),
    }
    posted = request.method == "POST" and request.POST.get("op", "hours") == "hours"
    form = ClinicHoursForm(request.POST if posted else None, initial=initial)
    try:
        if request.method == "POST" and request.POST.get("op") == "chair":
            _chair_hours_post(request)
            return redirect("admin-hours")
        if posted and form.is_valid():
            d = form.cleaned_data
            clinic.do_update_clinic_hours(
                opens=d["opens"],
                closes=d["closes"],
                days=set(d["days"]),
                closures=d["closures"],
                acting_user=actor(request),
            )
            messages.success(request, "Clinic hours saved. Visits already booked are not moved.")
            return redirect("admin-hours")
    except ServiceError as exc:
        if posted:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.error(request, exc.message)
    return render(
        request,
        "admin/hours.html",
        {"form": form, "hours": hours, "chairs": Chair.objects.filter(active=True).order_by("name")},
    )
