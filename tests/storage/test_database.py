"""The suite runs on the database CI asked for (SQLite, then PostgreSQL)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection


def test_the_suite_runs_on_the_requested_database(db) -> None:
    requested = settings.CONFIG.database_url
    expected = "postgresql" if requested else "sqlite"
    assert connection.vendor == expected
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_postgresql_binds_on_the_server_and_prepares_repeated_statements_unless_turned_off() -> None:
    from ketamine_clinic import config
    from ketamine_clinic.web._common import PREPARE_THRESHOLD, database_from

    secrets = {"KC_SECRET_KEY": "s" * 40, "KC_AUDIT_KEY": "a" * 40, "KC_DATABASE_URL": "postgres://c@db:5432/clinic"}
    on = database_from(config.load(secrets))
    assert on["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": PREPARE_THRESHOLD}
    off = database_from(config.load({**secrets, "KC_DB_PREPARED_STATEMENTS": "0"}))
    assert off["OPTIONS"] == {}
    with pytest.raises(config.ConfigError, match="KC_DB_PREPARED_STATEMENTS must be 1 or 0"):
        config.load({**secrets, "KC_DB_PREPARED_STATEMENTS": "sometimes"})
    # SQLite has nothing of the kind
    sqlite = database_from(config.load({k: v for k, v in secrets.items() if "URL" not in k}))
    assert "server_side_binding" not in sqlite["OPTIONS"]


@pytest.mark.postgresql
def test_a_statement_run_again_and_again_is_prepared_once_on_the_server(db) -> None:
    from ketamine_clinic.storage.apps import PREPARED_MAX
    from ketamine_clinic.storage.models import Patient
    from ketamine_clinic.web._common import PREPARE_THRESHOLD

    def prepared() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%kc_patient%mrn%"])
            return int(cursor.fetchone()[0])

    before = prepared()
    for n in range(PREPARE_THRESHOLD + 2):
        assert Patient.objects.filter(mrn=f"NONE-{n}").first() is None  # the same statement, new values
    assert prepared() == before + 1
    assert connection.connection.prepared_max == PREPARED_MAX
