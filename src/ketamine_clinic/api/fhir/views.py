"""FHIR R4 endpoints under ``/fhir/r4/``: ``metadata``, read, search,
``Patient/{id}/$everything`` and bulk ``$export`` (kick-off, status, NDJSON files).

Bearer tokens as for the JSON API; the same roles and ``services.access`` policy: staff
who may see charts read any type, the front desk reads Patient only, and a patient's token
reads that patient's own record and nothing else. Errors are OperationOutcomes (FHIR's
problem document) naming the parameter in ``expression``."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from ketamine_clinic.api.auth import bearer_user
from ketamine_clinic.api.fhir import bulk
from ketamine_clinic.api.fhir.mapping import RESOURCE_TYPES, patient_resources
from ketamine_clinic.api.fhir.search import Criteria, matches, parse
from ketamine_clinic.api.problems import Throttled
from ketamine_clinic.domain.policy import Action, Role, can
from ketamine_clinic.services import access
from ketamine_clinic.services.errors import InvalidInput, NotAllowed, NotFound, ServiceError
from ketamine_clinic.storage.models import Patient, User

__all__ = ["capability", "everything", "export_file", "export_kickoff", "export_status", "read", "search"]

FHIR_JSON = "application/fhir+json"
View = Callable[..., HttpResponse]


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type=FHIR_JSON)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def outcome(status: int, code: str, message: str, *, field: str | None = None, **headers: str) -> HttpResponse:
    issue: dict[str, Any] = {"severity": "error", "code": code, "diagnostics": message}
    if field:
        issue["expression"] = [field]
    return _json({"resourceType": "OperationOutcome", "issue": [issue]}, status, headers)


_ISSUE = {"not_found": (404, "not-found"), "not_allowed": (403, "forbidden"), "invalid_input": (400, "invalid")}


def fhir_view(view: View) -> View:
    """Bearer token required; service errors and throttling answered as OperationOutcomes."""

    @csrf_exempt
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "GET":
            return outcome(405, "not-supported", "This server answers GET here.")
        try:
            user = bearer_user(request)
        except Throttled as exc:
            return outcome(429, "throttled", str(exc), **{"Retry-After": str(exc.retry_after)})
        if user is None:
            return outcome(401, "login", "Send Authorization: Bearer <token>.", **{"WWW-Authenticate": "Bearer"})
        request.kc_api_user = user  # type: ignore[attr-defined]
        try:
            return view(request, user, *args, **kwargs)
        except ServiceError as exc:
            status, code = _ISSUE.get(exc.code, (409, "conflict"))
            return outcome(status, code, exc.message, field=exc.field)

    return wrapped


def _may_read(user: User, kind: str) -> None:
    if kind not in RESOURCE_TYPES:
        raise NotFound(f"This server serves {', '.join(RESOURCE_TYPES)}; not {kind}.", field="type")
    if user.role == Role.PATIENT:
        return
    action = Action.VIEW_DEMOGRAPHICS if kind == "Patient" else Action.VIEW_CHART
    if not can(user.role, action):
        raise NotAllowed(f"Your role ({user.role}) may not read {kind} resources.")


def _action(kind: str) -> Action:
    return Action.VIEW_DEMOGRAPHICS if kind == "Patient" else Action.VIEW_CHART


def _bundle(entries: list[dict[str, Any]], total: int, base: str) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": timezone.now().isoformat(),
        "total": total,
        "entry": [
            {"fullUrl": f"{base}{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
            for r in entries
        ],
    }


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir/r4/")


def _owner_id(kind: str, rid: str) -> int | None:
    """The patient whose record holds ``kind/rid``, or ``None`` (an unknown id)."""
    from ketamine_clinic.storage.models import (
        Alert,
        Assessment,
        InfusionSession,
        Intake,
        Order,
        PumpEvent,
        SideEffect,
        VitalSign,
    )

    prefix, _, number = rid.rpartition("-") if kind == "Observation" else ("", "", rid)
    if kind == "Condition":
        number = rid.split("-", 1)[0]
    if not number.isdigit() or len(number) > 18:
        return None
    pk = int(number)
    lookups: dict[tuple[str, str], Any] = {
        ("Patient", ""): Patient.objects.filter(pk=pk).values_list("pk", flat=True),
        ("Condition", ""): Intake.objects.filter(pk=pk).values_list("patient_id", flat=True),
        ("Consent", ""): Intake.objects.filter(pk=pk).values_list("patient_id", flat=True),
        ("Encounter", ""): InfusionSession.objects.filter(pk=pk).values_list("patient_id", flat=True),
        ("MedicationRequest", ""): Order.objects.filter(pk=pk).values_list("patient_id", flat=True),
        ("MedicationAdministration", ""): PumpEvent.objects.filter(pk=pk).values_list("session__patient_id", flat=True),
        ("QuestionnaireResponse", ""): Assessment.objects.filter(pk=pk).values_list("patient_id", flat=True),
        ("AdverseEvent", ""): SideEffect.objects.filter(pk=pk).values_list("session__patient_id", flat=True),
        ("Flag", ""): Alert.objects.filter(pk=pk).values_list("patient_id", flat=True),
        ("Observation", "score"): Assessment.objects.filter(pk=pk).values_list("patient_id", flat=True),
        ("Observation", "wt"): Intake.objects.filter(pk=pk).values_list("patient_id", flat=True),
        ("Observation", "ht"): Intake.objects.filter(pk=pk).values_list("patient_id", flat=True),
    }
    for vital in ("bp", "hr", "spo2", "rr"):
        lookups[("Observation", vital)] = VitalSign.objects.filter(pk=pk).values_list("session__patient_id", flat=True)
    query = lookups.get((kind, prefix))
    return query.first() if query is not None else None


def capability(request: HttpRequest) -> HttpResponse:
    """``metadata``: the CapabilityStatement (public, as FHIR servers answer it)."""
    from ketamine_clinic.api.fhir.capability import capability_statement

    return _json(capability_statement(_base(request)))


@fhir_view
def read(request: HttpRequest, user: User, kind: str, rid: str) -> HttpResponse:
    _may_read(user, kind)
    owner = _owner_id(kind, rid)
    if owner is None:
        raise NotFound(f"No {kind}/{rid}.")
    patient = access.access_patient_by_id(user, owner, action=_action(kind))
    for resource in patient_resources(patient)[kind]:
        if resource["id"] == rid:
            return _json(resource)
    raise NotFound(f"No {kind}/{rid}.")


def _search_patients(user: User, kind: str, criteria: Criteria) -> list[Patient]:
    if criteria.patient_id is not None:
        return [access.access_patient_by_id(user, criteria.patient_id, action=_action(kind))]
    if kind == "Patient" and criteria.ids:
        wanted = [int(i) for i in criteria.ids if i.isdigit() and len(i) < 19]
        rows = list(access.patient_queryset_for(user, action=_action(kind)).filter(pk__in=wanted))
    else:
        rows = list(access.patient_queryset_for(user, action=_action(kind)).order_by("id"))
    return rows


@fhir_view
def search(request: HttpRequest, user: User, kind: str) -> HttpResponse:
    _may_read(user, kind)
    criteria = parse(kind, dict(request.GET.lists()))
    found: list[dict[str, Any]] = []
    shown: list[int] = []
    for patient in _search_patients(user, kind, criteria):
        hits = [r for r in patient_resources(patient)[kind] if matches(kind, r, criteria)]
        if hits and len(found) < criteria.count:
            shown.append(patient.pk)
        found += hits
    access.note_listed(shown)
    return _json(_bundle(found[: criteria.count], len(found), _base(request)))


@fhir_view
def everything(request: HttpRequest, user: User, patient_id: int) -> HttpResponse:
    """``Patient/{id}/$everything``: the whole record as one searchset Bundle."""
    if user.role != Role.PATIENT and not can(user.role, Action.VIEW_CHART):
        raise NotAllowed(f"Your role ({user.role}) may not read whole records.")
    patient = access.access_patient_by_id(user, patient_id)
    resources = [r for kind in RESOURCE_TYPES for r in patient_resources(patient)[kind]]
    return _json(_bundle(resources, len(resources), _base(request)))


@fhir_view
def export_kickoff(request: HttpRequest, user: User, level: str = "system") -> HttpResponse:
    """Bulk Data kick-off: 202 with ``Content-Location`` to poll (FHIR Bulk Data Access)."""
    if user.role != Role.PATIENT and not can(user.role, Action.VIEW_CHART):
        raise NotAllowed(f"Your role ({user.role}) may not export records.")
    params = dict(request.GET.lists())
    for name in params:
        if name not in ("_type", "_since", "_outputFormat"):
            raise InvalidInput(f"$export takes _type, _since and _outputFormat; not {name}", field=name)
    job = bulk.do_request_export(
        user,
        level=level,
        types=[t for v in params.get("_type", []) for t in v.split(",") if t],
        since=params.get("_since", [""])[-1],
        output_format=params.get("_outputFormat", ["application/fhir+ndjson"])[-1],
    )
    return outcome(
        202,
        "informational",
        f"Export {job.pk} accepted; poll the Content-Location.",
        **{"Content-Location": _base(request) + f"$export-status/{job.pk}"},
    )


@fhir_view
def export_status(request: HttpRequest, user: User, job_id: int) -> HttpResponse:
    job = bulk.job_for(user, job_id)
    if job.status in ("queued", "running"):
        response = outcome(202, "informational", f"Export {job.pk} is {job.status}.")
        response["X-Progress"] = job.status
        response["Retry-After"] = "2"
        return response
    if job.status == "failed":
        return outcome(500, "exception", f"Export {job.pk} failed: {job.error}")
    return HttpResponse(json.dumps(bulk.manifest(job, _base(request))), status=200, content_type="application/json")


@fhir_view
def export_file(request: HttpRequest, user: User, job_id: int, kind: str) -> HttpResponse:
    job = bulk.job_for(user, job_id)
    body = bulk.do_download(job, kind, acting_user=user)
    return HttpResponse(body, content_type="application/fhir+ndjson")


@csrf_exempt
def research_csv(request: HttpRequest) -> HttpResponse:
    """``/api/v1/research/deidentified.csv``: the Safe Harbor research export (prescribers);
    errors as problem details like the rest of ``/api/v1/``."""
    from ketamine_clinic.api.problems import problem, status_for
    from ketamine_clinic.services.research import do_research_export

    if request.method != "GET":
        return problem(405, "method_not_allowed", "GET this address.")
    try:
        user = bearer_user(request)
    except Throttled as exc:
        return problem(429, "rate_limited", str(exc), headers={"Retry-After": str(exc.retry_after)})
    if user is None:
        return problem(
            401, "unauthenticated", "Send Authorization: Bearer <token>.", headers={"WWW-Authenticate": "Bearer"}
        )
    try:
        body = do_research_export(user)
    except ServiceError as exc:
        return problem(status_for(exc.code), exc.code, exc.message, field=exc.field)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="deidentified.csv"'
    return response
