"""The server's CapabilityStatement (``/fhir/r4/metadata``)."""

from __future__ import annotations

from typing import Any

from ketamine_clinic.api.fhir.mapping import RESOURCE_TYPES, validated

__all__ = ["capability_statement"]

_PARAMS = [
    {"name": "patient", "type": "reference", "documentation": "Patient/{id} or {id}"},
    {"name": "code", "type": "token", "documentation": "code or system|code; commas for any of several"},
    {"name": "date", "type": "date", "documentation": "with eq, ge, gt, le or lt; repeat for a range"},
    {"name": "_id", "type": "token"},
    {"name": "_count", "type": "number", "documentation": "1 to 1000, default 100"},
]


def _resource(kind: str) -> dict[str, Any]:
    params = [p for p in _PARAMS if kind != "Patient" or p["name"] in ("_id", "_count")]
    out: dict[str, Any] = {
        "type": kind,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": params,
    }
    if kind == "Patient":
        out["operation"] = [
            {"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"},
            {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"},
        ]
    return out


def capability_statement(base: str) -> dict[str, Any]:
    return validated(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": "2026-11-25",
            "kind": "instance",
            "software": {"name": "Ketamine Clinic"},
            "implementation": {"description": "Ketamine Clinic FHIR R4 server", "url": base.rstrip("/")},
            "fhirVersion": "4.0.1",
            "format": ["application/fhir+json"],
            "rest": [
                {
                    "mode": "server",
                    "security": {
                        "service": [{"text": "Bearer token per user (kclinic token create)"}],
                        "description": "Send Authorization: Bearer <token>. A patient's token reads only that "
                        "patient's record.",
                    },
                    "resource": [_resource(kind) for kind in RESOURCE_TYPES],
                    "operation": [
                        {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"}
                    ],
                }
            ],
        }
    )
