"""The API's typed boundary: ``*Create`` schemas parse input strictly, ``*Public`` ones
shape output. Nothing here decides a clinical rule: the services do, and their
``InvalidInput`` names the field."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StringConstraints

__all__ = [
    "AlertPublic",
    "AssessmentCreate",
    "AssessmentPublic",
    "BundleImport",
    "CsvImport",
    "ImportProblem",
    "ImportReportPublic",
    "CoursePublic",
    "IntakePublic",
    "MePublic",
    "OrderPublic",
    "OutcomePublic",
    "PatientCreate",
    "PatientPublic",
    "PumpEventCreate",
    "PumpEventPublic",
    "SessionPublic",
    "SessionSummary",
    "SideEffectCreate",
    "SideEffectPublic",
    "VisitPublic",
    "VitalsCreate",
    "VitalPublic",
]

#: Text a person types: no control characters (PostgreSQL refuses NUL; nobody types them).
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]*$")]


class _Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class MePublic(Schema):
    username: str
    role: str
    display_name: str
    patient_id: int | None = None


class PatientPublic(Schema):
    id: int
    mrn: str
    given_name: str
    family_name: str
    birth_date: date
    sex: str


class PatientCreate(_Strict):
    mrn: Annotated[Text, StringConstraints(max_length=20)] = ""
    given_name: Annotated[Text, StringConstraints(min_length=1, max_length=80)]
    family_name: Annotated[Text, StringConstraints(min_length=1, max_length=80)]
    birth_date: date
    sex: Literal["female", "male", "other"]
    phone: Annotated[Text, StringConstraints(max_length=30)] = ""
    email: Annotated[Text, StringConstraints(max_length=254)] = ""


class IntakePublic(Schema):
    id: int
    recorded_at: datetime
    diagnoses: list[str]
    weight_kg: Decimal
    height_cm: Decimal | None
    screen_status: str = Field(description="eligible | needs_review | not_eligible")
    screen_reasons: list[str]
    consent_given: bool
    decision: str | None = Field(None, description="the prescriber's eligibility decision, if made")
    decided_at: datetime | None = None


class VisitPublic(Schema):
    id: int
    number: int
    phase: str
    starts_at: datetime
    ends_at: datetime
    status: str


class CoursePublic(Schema):
    id: int
    protocol: str
    status: str
    dose_mg_per_kg: Decimal
    baseline_instrument: str
    baseline_score: int | None
    planned_at: datetime
    visits: list[VisitPublic]


class OrderPublic(Schema):
    id: int
    visit_id: int
    route: str
    weight_kg: Decimal
    dose_mg_per_kg: Decimal
    dose_mg: Decimal
    duration_min: int
    rate_ml_per_h: Decimal
    devices: int | None
    signed_at: datetime
    verified_at: datetime | None
    cancelled: bool


class VitalPublic(Schema):
    id: int
    at: datetime
    systolic_mmhg: int
    diastolic_mmhg: int
    heart_rate_bpm: int
    spo2_percent: int
    respiratory_rate: int | None
    amends: int | None = Field(None, description="the entry this one corrects")


class VitalsCreate(_Strict):
    systolic_mmhg: int = Field(ge=0, le=400)
    diastolic_mmhg: int = Field(ge=0, le=300)
    heart_rate_bpm: int = Field(ge=0, le=400)
    spo2_percent: int = Field(ge=0, le=100)
    respiratory_rate: int | None = Field(None, ge=0, le=100)


class PumpEventPublic(Schema):
    id: int
    at: datetime
    kind: str
    rate_ml_per_h: Decimal
    amends: int | None = None


class SideEffectPublic(Schema):
    id: int
    at: datetime
    code: str
    severity: str
    note: str
    amends: int | None = None


class PumpEventCreate(_Strict):
    kind: Literal["start", "rate", "pause", "resume", "stop"]
    rate_ml_per_h: float | None = Field(
        None, ge=0, le=2000, description="the new rate (start, rate, resume); omitted: the order's rate"
    )


class SideEffectCreate(_Strict):
    code: Annotated[Text, StringConstraints(min_length=1, max_length=40)]
    severity: Literal["mild", "moderate", "severe"]
    note: Annotated[Text, StringConstraints(max_length=300)] = ""


class SessionSummary(Schema):
    id: int
    visit_id: int
    order_id: int
    status: str
    opened_at: datetime
    started_at: datetime | None
    discharged_at: datetime | None
    administered_mg: Decimal | None


class SessionPublic(SessionSummary):
    vitals: list[VitalPublic]
    pump_events: list[PumpEventPublic]
    side_effects: list[SideEffectPublic]


class AssessmentPublic(Schema):
    id: int
    instrument: str
    answers: list[int | None]
    total: int
    band: str
    flags: list[str]
    at: datetime


class AssessmentCreate(_Strict):
    instrument: Annotated[Text, StringConstraints(min_length=1, max_length=20)]
    answers: list[int] = Field(max_length=60, description="item scores in the instrument's item order")


class AlertPublic(Schema):
    id: int
    patient_id: int
    kind: str
    severity: str
    message: str
    raised_at: datetime
    acknowledged_at: datetime | None


class CsvImport(_Strict):
    csv: str = Field(
        max_length=2_000_000,
        description="columns: mrn, given_name, family_name, birth_date, sex, instrument, total, at (one score per row)",
    )
    dry_run: bool = Field(description="true: check every row and import nothing")


class BundleImport(_Strict):
    bundle: dict[str, Any] = Field(description="a FHIR Bundle with Patient and score Observation entries")
    dry_run: bool = Field(description="true: check every entry and import nothing")


class ImportProblem(Schema):
    where: str
    field: str
    message: str


class ImportReportPublic(Schema):
    dry_run: bool
    imported: bool
    patients_created: int
    patients_matched: int
    scores: int
    problems: list[ImportProblem]


class OutcomePublic(Schema):
    course_id: int | None
    protocol: str | None
    baseline_score: int | None
    latest_phq9: int | None
    category: str | None = Field(None, description="remission | response | partial | no_response | baseline_only")
    label: str | None
    drop_pct: float | None
    explanation: str | None
