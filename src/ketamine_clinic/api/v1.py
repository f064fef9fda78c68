"""The JSON API under ``/api/v1/`` (django-ninja; schema at ``/api/v1/openapi.json``).

Every handler goes through the same services and ``services.access`` policy as the web:
a role without the action gets 403, a record the caller may not see is 404 (the same as a
missing one), every read of patient data is audited (``api.urls`` records one row per
request, docs/decisions/0010-phi-reads.md), and every write is a ``do_*`` service.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI, Query, Router, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.responses import Status

from ketamine_clinic.api import schemas as s
from ketamine_clinic.api.auth import BearerToken
from ketamine_clinic.api.fhir.importing import parse_bundle
from ketamine_clinic.api.pagination import MAX_LIMIT, page
from ketamine_clinic.api.problems import Problem, Throttled, problem, status_for
from ketamine_clinic.domain.policy import Action, Role, can
from ketamine_clinic.services import access, courses, importer, measures, sessions
from ketamine_clinic.services.errors import NotAllowed, ServiceError
from ketamine_clinic.services.patients import do_create_patient
from ketamine_clinic.storage.models import (
    Alert,
    Assessment,
    InfusionSession,
    Order,
    PumpEvent,
    SideEffect,
    User,
    VitalSign,
)

__all__ = ["api"]

ERRORS: dict[int, type[Problem]] = {401: Problem, 403: Problem, 404: Problem, 422: Problem, 429: Problem}
WRITE_ERRORS: dict[int, type[Problem]] = {**ERRORS, 409: Problem}


class ClinicAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        """Error responses are documented as ``application/problem+json`` (RFC 9457)."""
        schema = super().get_openapi_schema(**kwargs)
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        response["content"] = {"application/problem+json": content["application/json"]}
        return schema


api = ClinicAPI(
    title="Ketamine Clinic API",
    version="1",
    description="Patients, intakes, courses, orders, sessions with vitals, assessments, alerts and outcomes. "
    "Authenticate with `Authorization: Bearer <token>` (`kclinic token create USERNAME`).",
    auth=BearerToken(),
    urls_namespace="api-v1",
    docs_url=None,
)


# ---- errors as problem details --------------------------------------------------------------


def _field(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload")]
    return ".".join(parts) or "body"


@api.exception_handler(ValidationError)
def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [{"field": _field(e.get("loc", ())), "message": str(e.get("msg", "invalid"))} for e in exc.errors]
    first = errors[0] if errors else {"field": "body", "message": "invalid"}
    return problem(422, "invalid_input", f"{first['field']}: {first['message']}", field=first["field"], errors=errors)


@api.exception_handler(ServiceError)
def _service(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    return problem(status_for(exc.code), exc.code, exc.message, field=exc.field)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem(
        401, "unauthenticated", "Send Authorization: Bearer <token>.", headers={"WWW-Authenticate": "Bearer"}
    )


@api.exception_handler(Throttled)
def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    return problem(429, "rate_limited", str(exc), headers={"Retry-After": str(exc.retry_after)})


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem(404, "not_found", "No such address or record.")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = "invalid_input" if exc.status_code in (400, 422) else "service_error"
    return problem(exc.status_code, code, str(exc), field="body" if code == "invalid_input" else None)


# ---- helpers --------------------------------------------------------------------------------


def _actor(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    if not isinstance(user, User):  # pragma: no cover (ninja's auth guarantees it)
        raise AuthenticationError()
    return user


def _require(user: User, action: Action, *, own: bool = False) -> None:
    """403 unless the role may ``action``; with ``own``, a patient passes (and then sees
    only their own record: ``services.access`` answers 404 for anyone else's)."""
    if own and user.role == Role.PATIENT:
        return
    if not can(user.role, action):
        raise NotAllowed(f"Your role ({user.role}) may not {action.value.replace('_', ' ')}.")


def _patient_public(p: Any) -> s.PatientPublic:
    return s.PatientPublic(
        id=p.pk, mrn=p.mrn, given_name=p.given_name, family_name=p.family_name, birth_date=p.birth_date, sex=p.sex
    )


LimitQ = Query(50, ge=1, le=MAX_LIMIT, description=f"rows per page, 1 to {MAX_LIMIT}")  # type: ignore[type-arg]


# ---- routes ---------------------------------------------------------------------------------

router = Router()


@router.get("/me", response={200: s.MePublic, **ERRORS}, summary="The token's user")
def me(request: HttpRequest) -> s.MePublic:
    user = _actor(request)
    record = getattr(user, "patient_record", None) if user.role == Role.PATIENT else None
    return s.MePublic(
        username=user.username, role=user.role, display_name=user.display_name, patient_id=getattr(record, "pk", None)
    )


class PatientPage(Schema):
    items: list[s.PatientPublic]
    next_cursor: str | None


@router.get("/patients", response={200: PatientPage, **ERRORS}, summary="Patients the caller may list")
def list_patients(request: HttpRequest, cursor: str | None = None, limit: int = LimitQ) -> PatientPage:
    user = _actor(request)
    _require(user, Action.VIEW_DEMOGRAPHICS, own=True)
    rows, nxt = page(access.patient_queryset_for(user), cursor=cursor, limit=limit)
    access.note_listed(p.pk for p in rows)
    return PatientPage(items=[_patient_public(p) for p in rows], next_cursor=nxt)


@router.post("/patients", response={201: s.PatientPublic, **WRITE_ERRORS}, summary="Register a patient")
def create_patient(request: HttpRequest, payload: s.PatientCreate) -> Status[s.PatientPublic]:
    user = _actor(request)
    patient = do_create_patient(**payload.model_dump(), at=timezone.now(), acting_user=user)
    return Status(201, _patient_public(patient))


@router.get("/patients/{patient_id}", response={200: s.PatientPublic, **ERRORS}, summary="One patient")
def get_patient(request: HttpRequest, patient_id: int) -> s.PatientPublic:
    user = _actor(request)
    _require(user, Action.VIEW_DEMOGRAPHICS, own=True)
    return _patient_public(access.access_patient_by_id(user, patient_id, action=Action.VIEW_DEMOGRAPHICS))


@router.get("/patients/{patient_id}/intakes", response={200: list[s.IntakePublic], **ERRORS}, summary="Intakes")
def list_intakes(request: HttpRequest, patient_id: int) -> list[s.IntakePublic]:
    user = _actor(request)
    _require(user, Action.VIEW_CHART)
    patient = access.access_patient_by_id(user, patient_id)
    decisions = {d.intake_id: d for d in patient.eligibility_decisions.order_by("decided_at", "id")}
    out = []
    for row in patient.intakes.order_by("recorded_at", "id"):
        decision = decisions.get(row.pk)
        out.append(
            s.IntakePublic(
                id=row.pk,
                recorded_at=row.recorded_at,
                diagnoses=row.diagnoses,
                weight_kg=row.weight_kg,
                height_cm=row.height_cm,
                screen_status=row.screen_status,
                screen_reasons=[str(r) for r in row.screen_reasons],
                consent_given=row.consent_given,
                decision=decision.decision if decision else None,
                decided_at=decision.decided_at if decision else None,
            )
        )
    return out


@router.get("/patients/{patient_id}/courses", response={200: list[s.CoursePublic], **ERRORS}, summary="Courses")
def list_courses(request: HttpRequest, patient_id: int) -> list[s.CoursePublic]:
    user = _actor(request)
    _require(user, Action.VIEW_CHART, own=True)
    patient = access.access_patient_by_id(user, patient_id, action=Action.VIEW_CHART)
    out = []
    for course in patient.courses.prefetch_related("visits").order_by("planned_at", "id"):
        visits = [
            s.VisitPublic(
                id=v.pk, number=v.number, phase=v.phase, starts_at=v.starts_at, ends_at=v.ends_at, status=v.status
            )
            for v in sorted(course.visits.all(), key=lambda v: (v.starts_at, v.pk))
        ]
        out.append(
            s.CoursePublic(
                id=course.pk,
                protocol=course.protocol,
                status=course.status,
                dose_mg_per_kg=course.dose_mg_per_kg,
                baseline_instrument=course.baseline_instrument,
                baseline_score=course.baseline_score,
                planned_at=course.planned_at,
                visits=visits,
            )
        )
    return out


def _order_public(o: Order) -> s.OrderPublic:
    return s.OrderPublic(
        id=o.pk,
        visit_id=o.visit_id,
        route=o.route,
        weight_kg=o.weight_kg,
        dose_mg_per_kg=o.dose_mg_per_kg,
        dose_mg=o.dose_mg,
        duration_min=o.duration_min,
        rate_ml_per_h=o.rate_ml_per_h,
        devices=o.devices,
        signed_at=o.signed_at,
        verified_at=o.verified_at,
        cancelled=bool(o.cancelled_reason),
    )


@router.get("/patients/{patient_id}/orders", response={200: list[s.OrderPublic], **ERRORS}, summary="Orders")
def list_orders(request: HttpRequest, patient_id: int) -> list[s.OrderPublic]:
    user = _actor(request)
    _require(user, Action.VIEW_CHART)
    patient = access.access_patient_by_id(user, patient_id)
    return [_order_public(o) for o in Order.objects.filter(patient=patient).order_by("signed_at", "id")]


def _summary(x: InfusionSession) -> dict[str, Any]:
    return {
        "id": x.pk,
        "visit_id": x.visit_id,
        "order_id": x.order_id,
        "status": x.status,
        "opened_at": x.opened_at,
        "started_at": x.started_at,
        "discharged_at": x.discharged_at,
        "administered_mg": x.administered_mg,
    }


@router.get(
    "/patients/{patient_id}/sessions", response={200: list[s.SessionSummary], **ERRORS}, summary="Infusion sessions"
)
def list_sessions(request: HttpRequest, patient_id: int) -> list[s.SessionSummary]:
    user = _actor(request)
    _require(user, Action.VIEW_CHART)
    patient = access.access_patient_by_id(user, patient_id)
    return [
        s.SessionSummary(**_summary(x)) for x in InfusionSession.objects.filter(patient=patient).order_by("opened_at")
    ]


def _vital_public(v: VitalSign) -> s.VitalPublic:
    return s.VitalPublic(
        id=v.pk,
        at=v.at,
        systolic_mmhg=v.systolic_mmhg,
        diastolic_mmhg=v.diastolic_mmhg,
        heart_rate_bpm=v.heart_rate_bpm,
        spo2_percent=v.spo2_percent,
        respiratory_rate=v.respiratory_rate,
        amends=v.amends_id,
    )


@router.get(
    "/sessions/{session_id}",
    response={200: s.SessionPublic, **ERRORS},
    summary="A session with its vitals, pump events and side effects",
)
def get_session(request: HttpRequest, session_id: int) -> s.SessionPublic:
    user = _actor(request)
    _require(user, Action.VIEW_CHART)
    x = access.access_session_by_id(user, session_id)
    return s.SessionPublic(
        **_summary(x),
        vitals=[_vital_public(v) for v in VitalSign.objects.filter(session=x).order_by("at", "id")],
        pump_events=[
            s.PumpEventPublic(id=e.pk, at=e.at, kind=e.kind, rate_ml_per_h=e.rate_ml_per_h, amends=e.amends_id)
            for e in PumpEvent.objects.filter(session=x).order_by("at", "id")
        ],
        side_effects=[
            s.SideEffectPublic(id=e.pk, at=e.at, code=e.code, severity=e.severity, note=e.note, amends=e.amends_id)
            for e in SideEffect.objects.filter(session=x).order_by("at", "id")
        ],
    )


@router.post(
    "/sessions/{session_id}/vitals", response={201: s.VitalPublic, **WRITE_ERRORS}, summary="Record vital signs now"
)
def record_vitals(request: HttpRequest, session_id: int, payload: s.VitalsCreate) -> Status[s.VitalPublic]:
    user = _actor(request)
    _require(user, Action.RECORD_VITALS)
    x = access.access_session_by_id(user, session_id, action=Action.RECORD_VITALS)
    row = sessions.do_record_vitals(x, payload.model_dump(), at=timezone.now(), acting_user=user)
    return Status(201, _vital_public(row))


@router.post(
    "/sessions/{session_id}/pump-events",
    response={201: s.PumpEventPublic, **WRITE_ERRORS},
    summary="Start, change, pause, resume or stop the pump now (the dose limits and blocks apply)",
)
def record_pump_event(request: HttpRequest, session_id: int, payload: s.PumpEventCreate) -> Status[s.PumpEventPublic]:
    user = _actor(request)
    _require(user, Action.START_STOP_INFUSION)
    x = access.access_session_by_id(user, session_id, action=Action.START_STOP_INFUSION)
    e = sessions.do_record_pump_event(
        x, payload.kind, rate_ml_per_h=payload.rate_ml_per_h, at=timezone.now(), acting_user=user
    )
    return Status(201, s.PumpEventPublic(id=e.pk, at=e.at, kind=e.kind, rate_ml_per_h=e.rate_ml_per_h))


@router.post(
    "/sessions/{session_id}/side-effects",
    response={201: s.SideEffectPublic, **WRITE_ERRORS},
    summary="Record a side effect now (severe ones alert the prescriber)",
)
def record_side_effect(
    request: HttpRequest, session_id: int, payload: s.SideEffectCreate
) -> Status[s.SideEffectPublic]:
    user = _actor(request)
    _require(user, Action.RECORD_SIDE_EFFECTS)
    x = access.access_session_by_id(user, session_id, action=Action.RECORD_SIDE_EFFECTS)
    e = sessions.do_record_side_effect(
        x, payload.code, payload.severity, note=payload.note, at=timezone.now(), acting_user=user
    )
    return Status(201, s.SideEffectPublic(id=e.pk, at=e.at, code=e.code, severity=e.severity, note=e.note))


def _assessment_public(a: Assessment) -> s.AssessmentPublic:
    return s.AssessmentPublic(
        id=a.pk, instrument=a.instrument, answers=a.answers, total=a.total, band=a.band, flags=a.flags, at=a.at
    )


@router.get(
    "/patients/{patient_id}/assessments",
    response={200: list[s.AssessmentPublic], **ERRORS},
    summary="Questionnaires and ratings",
)
def list_assessments(request: HttpRequest, patient_id: int) -> list[s.AssessmentPublic]:
    user = _actor(request)
    _require(user, Action.VIEW_CHART, own=True)
    patient = access.access_patient_by_id(user, patient_id)
    return [_assessment_public(a) for a in Assessment.objects.filter(patient=patient).order_by("at", "id")]


@router.post(
    "/patients/{patient_id}/assessments",
    response={201: s.AssessmentPublic, **WRITE_ERRORS},
    summary="Post a questionnaire (scored; suicide-risk answers raise the urgent alert)",
)
def post_assessment(request: HttpRequest, patient_id: int, payload: s.AssessmentCreate) -> Status[s.AssessmentPublic]:
    user = _actor(request)
    _require(user, Action.RECORD_ASSESSMENT, own=True)
    patient = access.access_patient_by_id(user, patient_id, action=Action.RECORD_ASSESSMENT)
    row = measures.do_record_assessment(
        patient, payload.instrument, payload.answers, at=timezone.now(), acting_user=user
    )
    return Status(201, _assessment_public(row))


def _alert_public(a: Alert) -> s.AlertPublic:
    return s.AlertPublic(
        id=a.pk,
        patient_id=a.patient_id,
        kind=a.kind,
        severity=a.severity,
        message=a.message,
        raised_at=a.raised_at,
        acknowledged_at=a.acknowledged_at,
    )


class AlertPage(Schema):
    items: list[s.AlertPublic]
    next_cursor: str | None


@router.get("/alerts", response={200: AlertPage, **ERRORS}, summary="Open alerts of the patients the caller may see")
def list_alerts(request: HttpRequest, cursor: str | None = None, limit: int = LimitQ) -> AlertPage:
    user = _actor(request)
    _require(user, Action.VIEW_CHART)
    visible = access.patient_queryset_for(user, action=Action.VIEW_CHART)
    rows, nxt = page(
        Alert.objects.filter(patient__in=visible, acknowledged_at__isnull=True), cursor=cursor, limit=limit
    )
    access.note_listed(a.patient_id for a in rows)
    return AlertPage(items=[_alert_public(a) for a in rows], next_cursor=nxt)


@router.get(
    "/patients/{patient_id}/alerts", response={200: list[s.AlertPublic], **ERRORS}, summary="A patient's alerts"
)
def patient_alerts(request: HttpRequest, patient_id: int) -> list[s.AlertPublic]:
    user = _actor(request)
    _require(user, Action.VIEW_CHART)
    patient = access.access_patient_by_id(user, patient_id)
    return [_alert_public(a) for a in Alert.objects.filter(patient=patient).order_by("raised_at", "id")]


@router.get(
    "/patients/{patient_id}/outcomes",
    response={200: s.OutcomePublic, **ERRORS},
    summary="Response to the current course (PHQ-9 against its baseline)",
)
def outcomes(request: HttpRequest, patient_id: int) -> s.OutcomePublic:
    user = _actor(request)
    _require(user, Action.VIEW_CHART, own=True)
    patient = access.access_patient_by_id(user, patient_id)
    course = patient.courses.order_by("-planned_at", "-id").first()
    scores = list(Assessment.objects.filter(patient=patient).order_by("at", "id"))
    status = courses.response_status(course, scores) if course else None
    latest = measures.latest_score(patient, "phq9")
    return s.OutcomePublic(
        course_id=course.pk if course else None,
        protocol=course.protocol if course else None,
        baseline_score=course.baseline_score if course else None,
        latest_phq9=latest,
        category=status.category if status else None,
        label=status.label if status else None,
        drop_pct=status.drop_pct if status else None,
        explanation=status.explanation if status else None,
    )


def _report(report: Any) -> s.ImportReportPublic | HttpResponse:
    if report.problems and not report.dry_run:
        errors = [{"field": f"{p.where}: {p.field}", "message": p.message} for p in report.problems]
        first = report.problems[0]
        return problem(
            422,
            "invalid_input",
            f"{len(report.problems)} problem(s); nothing was imported. First: {first.where}: {first.message}",
            field=first.field,
            errors=errors,
        )
    return s.ImportReportPublic(
        dry_run=report.dry_run,
        imported=report.imported,
        patients_created=report.patients_created,
        patients_matched=report.patients_matched,
        scores=report.scores,
        problems=[s.ImportProblem(where=p.where, field=p.field, message=p.message) for p in report.problems],
    )


@router.post(
    "/imports/csv",
    response={200: s.ImportReportPublic, **WRITE_ERRORS},
    summary="Import patients and prior scores from a CSV; a dry run lists every problem row",
)
def import_csv(request: HttpRequest, payload: s.CsvImport) -> Any:
    user = _actor(request)
    patients, problems = importer.parse_csv(payload.csv)
    return _report(importer.do_import(patients, problems, dry_run=payload.dry_run, source="csv", acting_user=user))


@router.post(
    "/imports/fhir",
    response={200: s.ImportReportPublic, **WRITE_ERRORS},
    summary="Import patients and prior scores from a FHIR Bundle; a dry run lists every problem entry",
)
def import_bundle(request: HttpRequest, payload: s.BundleImport) -> Any:
    user = _actor(request)
    patients, problems = parse_bundle(payload.bundle)
    return _report(importer.do_import(patients, problems, dry_run=payload.dry_run, source="fhir", acting_user=user))


api.add_router("/", router)
