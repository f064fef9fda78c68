"""FHIR search over one type: by ``patient``, ``code`` and ``date`` (with the prefixes
``eq``, ``ge``, ``gt``, ``le``, ``lt``), plus ``_id`` and ``_count``.

Errors: ``InvalidInput`` naming the parameter for an unknown parameter or a value that
does not parse (the caller answers 400 with an OperationOutcome)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from ketamine_clinic.services.errors import InvalidInput

__all__ = ["MAX_COUNT", "Criteria", "matches", "parse"]

MAX_COUNT = 1000

#: Where each type keeps the date and the code that ``date`` and ``code`` search.
DATE_PATH: dict[str, tuple[str, ...]] = {
    "Condition": ("recordedDate",),
    "Consent": ("dateTime",),
    "Encounter": ("period", "start"),
    "MedicationRequest": ("authoredOn",),
    "MedicationAdministration": ("effectiveDateTime",),
    "Observation": ("effectiveDateTime",),
    "QuestionnaireResponse": ("authored",),
    "AdverseEvent": ("date",),
    "Flag": ("period", "start"),
}
CODE_PATH: dict[str, str] = {
    "Condition": "code",
    "Observation": "code",
    "Flag": "code",
    "MedicationRequest": "medicationCodeableConcept",
    "MedicationAdministration": "medicationCodeableConcept",
    "AdverseEvent": "event",
}
_PREFIXES = ("eq", "ge", "gt", "le", "lt")


@dataclass(frozen=True)
class Criteria:
    patient_id: int | None
    ids: frozenset[str]
    codes: tuple[tuple[str | None, str], ...]
    dates: tuple[tuple[str, datetime, datetime], ...]  # prefix, start, end of the value's precision
    count: int


def _patient(value: str) -> int:
    raw = value.removeprefix("Patient/")
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput("patient must be a patient id, e.g. 12 or Patient/12", field="patient")
    return int(raw)


def _date(value: str) -> tuple[str, datetime, datetime]:
    prefix = value[:2] if value[:2] in _PREFIXES else "eq"
    text = value[2:] if value[:2] in _PREFIXES else value
    message = "date must be YYYY, YYYY-MM, YYYY-MM-DD or an ISO date-time, with an optional eq, ge, gt, le or lt"
    try:
        if len(text) == 4 and text.isdigit():
            start = datetime(int(text), 1, 1, tzinfo=UTC)
            return prefix, start, start.replace(year=start.year + 1)
        if len(text) == 7:
            start = datetime.strptime(text, "%Y-%m").replace(tzinfo=UTC)
            nxt = (start + timedelta(days=32)).replace(day=1)
            return prefix, start, nxt
        if len(text) == 10:
            start = datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), time.min, tzinfo=UTC)
            return prefix, start, start + timedelta(days=1)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise InvalidInput(message, field="date") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return prefix, moment, moment + timedelta(microseconds=1)


def parse(kind: str, params: Mapping[str, Sequence[str]]) -> Criteria:
    allowed = {"patient", "code", "date", "_id", "_count"} if kind != "Patient" else {"_id", "_count"}
    for name in params:
        if name not in allowed:
            raise InvalidInput(f"{kind} is searched by {', '.join(sorted(allowed))}; not {name}", field=name)
    patient_values = params.get("patient", [])
    codes: list[tuple[str | None, str]] = []
    for value in params.get("code", []):
        for token in value.split(","):
            system, bar, code = token.rpartition("|")
            if not code:
                raise InvalidInput("code must be a code or system|code", field="code")
            codes.append((system if bar else None, code))
    count_values = params.get("_count", ["100"])
    if not count_values[-1].isdigit() or not 1 <= int(count_values[-1]) <= MAX_COUNT:
        raise InvalidInput(f"_count must be from 1 to {MAX_COUNT}", field="_count")
    return Criteria(
        patient_id=_patient(patient_values[-1]) if patient_values else None,
        ids=frozenset(v for value in params.get("_id", []) for v in value.split(",")),
        codes=tuple(codes),
        dates=tuple(_date(v) for v in params.get("date", [])),
        count=int(count_values[-1]),
    )


def _dig(resource: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = resource
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _date_ok(value: str | None, prefix: str, start: datetime, end: datetime) -> bool:
    if value is None:
        return False
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return {
        "eq": start <= moment < end,
        "ge": moment >= start,
        "gt": moment >= end,
        "le": moment < end,
        "lt": moment < start,
    }[prefix]


def matches(kind: str, resource: dict[str, Any], criteria: Criteria) -> bool:
    if criteria.ids and resource.get("id") not in criteria.ids:
        return False
    if criteria.codes:
        codings = (_dig(resource, (CODE_PATH.get(kind, "code"),)) or {}).get("coding", [])
        if not any(
            coding.get("code") == code and (system is None or coding.get("system") == system)
            for coding in codings
            for system, code in criteria.codes
        ):
            return False
    for prefix, start, end in criteria.dates:
        path = DATE_PATH.get(kind)
        if path is None or not _date_ok(_dig(resource, path), prefix, start, end):
            return False
    return True
