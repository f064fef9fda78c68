"""Property-based fuzzing of the FHIR endpoints (they have no OpenAPI schema for
schemathesis): any type, id and search parameters give a FHIR answer, never a server
error; every 200 is a resource or Bundle that validates, every error an OperationOutcome."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.test import override_settings
from fhir.resources.R4B import get_fhir_model_class
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketamine_clinic.api.fhir.mapping import RESOURCE_TYPES
from tests.api.conftest import ApiClient, token_for

TYPES = st.sampled_from([*RESOURCE_TYPES, "Foo", "patient", "Observation "])
IDS = st.one_of(
    st.integers(min_value=-5, max_value=10**20).map(str),
    st.sampled_from(["bp-1", "hr-1", "score-1", "wt-1", "1-F33.2", "rr-x", "-", "..", "%00"]),
    st.text(max_size=12),
)
PARAM_NAMES = st.sampled_from(["patient", "code", "date", "_id", "_count", "subject", "_type", "_since"])
PARAM_VALUES = st.one_of(
    st.sampled_from(
        ["1", "Patient/1", "ge2026-11-02", "lt2026", "2026-13-01", "http://loinc.org|8867-4", "|", ",", "0"]
    ),
    st.text(max_size=20),
)
QUERIES = st.lists(st.tuples(PARAM_NAMES, PARAM_VALUES), max_size=4)


def _check(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code < 500, response.content[:300]
    if response["Content-Type"] == "application/fhir+json":
        body = response.json()
        get_fhir_model_class(body["resourceType"]).model_validate(body)
        if response.status_code >= 400:
            assert body["resourceType"] == "OperationOutcome"


@pytest.mark.slow
@override_settings(KC_API_RATE_PER_MINUTE=1_000_000)
def test_fhir_reads_and_searches_never_fail_the_server(running_session, prescriber, patient_user) -> None:  # type: ignore[no-untyped-def]
    clinician, own = ApiClient(token_for(prescriber)), ApiClient(token_for(patient_user))

    @given(kind=TYPES, rid=IDS, query=QUERIES, as_patient=st.booleans())
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def fuzz(kind, rid, query, as_patient):  # type: ignore[no-untyped-def]
        api = own if as_patient else clinician
        qs = urlencode(query)
        _check(api.get(f"/fhir/r4/{kind}?{qs}"))
        _check(api.get(f"/fhir/r4/{kind}/{rid}".replace("?", "%3F").replace("#", "%23")))
        _check(api.get(f"/fhir/r4/$export?{qs}"))

    fuzz()
