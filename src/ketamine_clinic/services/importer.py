"""Importing patients and their prior scores from another system (a CSV here; a FHIR
Bundle through ``api.fhir.importing``), all or nothing.

Every row is checked first; any problem means nothing is written, and a dry run only
reports. A patient whose MRN is already registered with the same name and birth date gets
the scores added; the same MRN on a different person is a problem. Imported scores keep
their totals only (the other system's item answers are not carried), so they raise no
suicide-risk alert: they are history, and today's answers are screened as they are given
(docs/decisions/0027-research-export-and-import.md).

Errors: ``NotAllowed`` for a role that may not register patients and record scores.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from django.db import transaction
from django.utils import timezone

from ketamine_clinic.domain.instruments import INSTRUMENTS
from ketamine_clinic.domain.policy import Action
from ketamine_clinic.services import audit
from ketamine_clinic.services._common import require
from ketamine_clinic.services.patients import do_create_patient
from ketamine_clinic.storage.models import Assessment, EventType, Patient, User

__all__ = [
    "CSV_COLUMNS",
    "MAX_ROWS",
    "ImportReport",
    "IncomingPatient",
    "IncomingScore",
    "Problem",
    "do_import",
    "parse_csv",
]

CSV_COLUMNS = ("mrn", "given_name", "family_name", "birth_date", "sex", "instrument", "total", "at")
MAX_ROWS = 5000
_SEXES = ("female", "male", "other")


@dataclass(frozen=True)
class Problem:
    where: str  # "row 3" or "entry 2"
    field: str
    message: str


@dataclass
class IncomingScore:
    where: str
    instrument: str
    total: object
    at: object


@dataclass
class IncomingPatient:
    where: str
    mrn: str
    given_name: str
    family_name: str
    birth_date: object
    sex: str
    scores: list[IncomingScore] = field(default_factory=list)


@dataclass
class ImportReport:
    dry_run: bool
    imported: bool
    patients_created: int = 0
    patients_matched: int = 0
    scores: int = 0
    problems: list[Problem] = field(default_factory=list)


def _clean(text: str) -> bool:
    return not any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def parse_csv(text: str) -> tuple[list[IncomingPatient], list[Problem]]:
    """Rows of ``CSV_COLUMNS`` (one score per row; a row without an instrument registers
    the patient only); rows of one MRN must agree on the patient's details."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        fieldnames = reader.fieldnames or []
    except csv.Error as exc:
        return [], [Problem("row 1", "csv", f"not readable as CSV: {exc}")]
    missing = [c for c in CSV_COLUMNS[:5] if c not in fieldnames]
    if missing:
        return [], [Problem("header", missing[0], f"the header must name the columns {', '.join(CSV_COLUMNS)}")]
    by_mrn: dict[str, IncomingPatient] = {}
    problems: list[Problem] = []
    try:
        for number, row in enumerate(reader, start=2):
            if number - 1 > MAX_ROWS:
                problems.append(Problem(f"row {number}", "rows", f"at most {MAX_ROWS} rows in one import"))
                break
            _add_row(by_mrn, problems, f"row {number}", row)
    except csv.Error as exc:
        problems.append(Problem(f"row {reader.line_num}", "csv", f"not readable as CSV: {exc}"))
    return list(by_mrn.values()), problems


def _add_row(by_mrn: dict[str, IncomingPatient], problems: list[Problem], where: str, row: dict[str, Any]) -> None:
    values = {k: (row.get(k) or "").strip() if isinstance(row.get(k), str) else "" for k in CSV_COLUMNS}
    person = IncomingPatient(
        where, values["mrn"], values["given_name"], values["family_name"], values["birth_date"], values["sex"]
    )
    known = by_mrn.setdefault(person.mrn, person)
    details = (person.given_name, person.family_name, person.birth_date, person.sex)
    if known is not person and (known.given_name, known.family_name, known.birth_date, known.sex) != details:
        problems.append(Problem(where, "mrn", f"MRN {person.mrn} has other details in {known.where}"))
    if values["instrument"]:
        known.scores.append(IncomingScore(where, values["instrument"], values["total"], values["at"]))


def _date(value: object) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _moment(value: object) -> datetime | None:
    text = str(value)
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(12, 0), tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _check_patient(p: IncomingPatient, today: date) -> tuple[list[Problem], Patient | None, date | None]:
    problems: list[Problem] = []

    def bad(name: str, message: str) -> None:
        problems.append(Problem(p.where, name, message))

    if not 1 <= len(p.mrn) <= 20 or not _clean(p.mrn):
        bad("mrn", "MRN must be 1 to 20 characters")
    for name in ("given_name", "family_name"):
        value = getattr(p, name)
        if not 1 <= len(value) <= 80 or not _clean(value):
            bad(name, f"{name.replace('_', ' ')} must be 1 to 80 characters")
    born = _date(p.birth_date)
    if born is None or not date(1900, 1, 1) <= born <= today:
        bad("birth_date", f"birth date must be a date (YYYY-MM-DD) from 1900-01-01 to {today.isoformat()}")
        born = None
    if p.sex not in _SEXES:
        bad("sex", f"sex must be one of: {', '.join(_SEXES)}")
    existing = Patient.objects.filter(mrn=p.mrn).first() if not problems else None
    if existing is not None and (existing.given_name, existing.family_name, existing.birth_date) != (
        p.given_name,
        p.family_name,
        born,
    ):
        bad("mrn", f"MRN {p.mrn} is already registered to a different person")
        existing = None
    return problems, existing, born


def _check_score(s: IncomingScore, born: date | None, now: datetime) -> tuple[list[Problem], datetime | None]:
    inst = INSTRUMENTS.get(s.instrument)
    if inst is None:
        return [Problem(s.where, "instrument", f"instrument must be one of: {', '.join(INSTRUMENTS)}")], None
    problems = []
    total = s.total
    if isinstance(total, str) and total.isdigit():
        total = int(total)
    if not isinstance(total, int) or isinstance(total, bool) or not 0 <= total <= inst.max_total:
        problems.append(
            Problem(s.where, "total", f"{inst.name} total must be a whole number from 0 to {inst.max_total}")
        )
    at = _moment(s.at)
    earliest = born or date(1900, 1, 1)
    if at is None or not earliest <= at.date() or at > now:
        problems.append(
            Problem(s.where, "at", f"date must be YYYY-MM-DD or a date-time with zone, from {earliest} to now")
        )
        at = None
    return problems, at


def _band(code: str, total: int) -> str:
    return [label for low, label in INSTRUMENTS[code].bands if total >= low][-1]


def do_import(
    patients: list[IncomingPatient], problems: list[Problem], *, dry_run: bool, source: str, acting_user: User
) -> ImportReport:
    """Check every patient and score; write all of them in one transaction, or nothing."""
    require(acting_user, Action.EDIT_INTAKE, "Your role may not register patients.")
    require(acting_user, Action.RECORD_ASSESSMENT, "Your role may not record scores.")
    now = timezone.now()
    report = ImportReport(dry_run=dry_run, imported=False, problems=list(problems))
    plan: list[tuple[IncomingPatient, Patient | None, date | None, list[tuple[IncomingScore, datetime]]]] = []
    for p in patients:
        found, existing, born = _check_patient(p, now.date())
        report.problems += found
        scores = []
        for s in p.scores:
            trouble, at = _check_score(s, born, now)
            report.problems += trouble
            if at is not None and not trouble:
                scores.append((s, at))
        plan.append((p, existing, born, scores))
        report.patients_matched += existing is not None
        report.patients_created += existing is None
        report.scores += len(scores)
    if report.problems or dry_run or not patients:
        return report
    with transaction.atomic():
        for p, existing, born, scores in plan:
            patient = existing or do_create_patient(
                mrn=p.mrn,
                given_name=p.given_name,
                family_name=p.family_name,
                birth_date=born,  # type: ignore[arg-type]
                sex=p.sex,
                at=now,
                acting_user=acting_user,
            )
            for s, at in scores:
                total = int(s.total)  # type: ignore[call-overload]
                row = Assessment.objects.create(
                    patient=patient,
                    instrument=s.instrument,
                    answers=[],
                    total=total,
                    band=_band(s.instrument, total),
                    flags=[],
                    at=at,
                    recorded_by=acting_user,
                )
                audit.record(
                    EventType.ASSESSMENT_RECORDED,
                    actor=acting_user,
                    patient=patient,
                    subject=row,
                    at=at,
                    new={"instrument": s.instrument, "total": total, "imported": source},
                )
        audit.record(
            EventType.PATIENTS_IMPORTED,
            actor=acting_user,
            new={
                "source": source,
                "patients_created": report.patients_created,
                "patients_matched": report.patients_matched,
                "scores": report.scores,
            },
        )
    report.imported = True
    return report
