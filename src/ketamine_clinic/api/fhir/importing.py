"""A FHIR Bundle from another system as patients with prior scores (``services.importer``).

Patient entries give the MRN (an identifier of type MR, or the clinic's MRN system, else the
first identifier), name, gender and birth date; Observation entries whose code is a
questionnaire total (LOINC 44261-6 PHQ-9, 70274-6 GAD-7, or the clinic's instrument codes)
give scores, attached through ``subject`` to a Patient entry of the same Bundle. Other
entries are ignored. Nothing here trusts the shape of the input: anything unexpected is a
``Problem`` naming the entry and element, never an exception."""

from __future__ import annotations

from typing import Any

from ketamine_clinic.api.fhir import codes as c
from ketamine_clinic.domain.instruments import INSTRUMENTS
from ketamine_clinic.services.importer import IncomingPatient, IncomingScore, Problem

__all__ = ["MAX_ENTRIES", "parse_bundle"]

MAX_ENTRIES = 20_000
_LOINC_TOTALS = {inst.loinc_total: code for code, inst in INSTRUMENTS.items() if inst.loinc_total}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _mrn(resource: dict[str, Any]) -> str:
    identifiers = [_dict(i) for i in _list(resource.get("identifier"))]
    for ident in identifiers:
        types = [_dict(t) for t in _list(_dict(ident.get("type")).get("coding"))]
        if ident.get("system") == f"{c.LOCAL}:mrn" or any(t.get("code") == "MR" for t in types):
            return _text(ident.get("value"))
    return _text(identifiers[0].get("value")) if identifiers else ""


def _patient(where: str, resource: dict[str, Any]) -> IncomingPatient:
    name = _dict((_list(resource.get("name")) or [{}])[0])
    given = _list(name.get("given"))
    gender = _text(resource.get("gender"))
    return IncomingPatient(
        where,
        _mrn(resource),
        _text(given[0]) if given else "",
        _text(name.get("family")),
        _text(resource.get("birthDate")),
        gender,
    )


def _instrument(resource: dict[str, Any]) -> str | None:
    for coding in [_dict(x) for x in _list(_dict(resource.get("code")).get("coding"))]:
        if coding.get("system") == c.LOINC and coding.get("code") in _LOINC_TOTALS:
            return _LOINC_TOTALS[coding["code"]]
        if coding.get("system") == f"{c.LOCAL}:instrument" and isinstance(coding.get("code"), str):
            return str(coding["code"])
    return None


def parse_bundle(bundle: Any) -> tuple[list[IncomingPatient], list[Problem]]:
    data = _dict(bundle)
    if data.get("resourceType") != "Bundle":
        return [], [Problem("bundle", "resourceType", "the body must be a FHIR Bundle")]
    entries = _list(data.get("entry"))
    if len(entries) > MAX_ENTRIES:
        return [], [Problem("bundle", "entry", f"at most {MAX_ENTRIES} entries in one import")]
    patients: dict[str, IncomingPatient] = {}
    by_mrn: dict[str, IncomingPatient] = {}
    problems: list[Problem] = []
    scores: list[tuple[str, dict[str, Any]]] = []
    for index, entry in enumerate(entries, start=1):
        where = f"entry {index}"
        resource = _dict(_dict(entry).get("resource"))
        kind = resource.get("resourceType")
        if kind == "Patient":
            person = _patient(where, resource)
            if person.mrn in by_mrn:
                problems.append(Problem(where, "identifier", f"MRN {person.mrn} is also in {by_mrn[person.mrn].where}"))
                continue
            by_mrn[person.mrn] = person
            for key in (f"Patient/{_text(resource.get('id'))}", _text(_dict(entry).get("fullUrl"))):
                if key and key != "Patient/":
                    patients[key] = person
        elif kind == "Observation" and _instrument(resource) is not None:
            scores.append((where, resource))
    for where, resource in scores:
        ref = _text(_dict(resource.get("subject")).get("reference"))
        owner = patients.get(ref)
        if owner is None:
            problems.append(Problem(where, "subject", "subject must refer to a Patient entry of this Bundle"))
            continue
        value = resource.get("valueInteger")
        if value is None:
            value = _dict(resource.get("valueQuantity")).get("value")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        when = resource.get("effectiveDateTime") or _dict(resource.get("effectivePeriod")).get("start")
        owner.scores.append(IncomingScore(where, _instrument(resource) or "", value, when or ""))
    return list(by_mrn.values()), problems
