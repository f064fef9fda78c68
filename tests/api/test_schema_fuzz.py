"""Property-based fuzzing of the JSON API against its own OpenAPI schema (schemathesis):
no server error on any input, and every response matches the schema it documents
(status code, content type and body).

The operations are walked in one test with a Hypothesis strategy each (schemathesis'
own pytest plugin does not run under pytest 9 here)."""

from __future__ import annotations

import pytest
import schemathesis
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import token_for

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def keep_test_connection():  # type: ignore[no-untyped-def]
    """Like Django's test client: the test's transaction must outlive each request, so the
    request signals may not close the connection (PostgreSQL would lose the test's data)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _operations():  # type: ignore[no-untyped-def]
    from django.core.wsgi import get_wsgi_application

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.slow
@override_settings(KC_API_RATE_PER_MINUTE=1_000_000)
def test_no_server_error_and_every_response_matches_the_schema(
    running_session, prescriber, patient, keep_test_connection
):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token_for(prescriber)}"}
    operations = _operations()
    assert len(operations) >= 19

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def fuzz(case):  # type: ignore[no-untyped-def]
            case.call_and_validate(headers=headers, checks=CHECKS)

        fuzz()
