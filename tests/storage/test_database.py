"""The suite runs on the database CI asked for (SQLite, then PostgreSQL)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection


def test_the_suite_runs_on_the_requested_database(db) -> None:
    requested = settings.CONFIG.database_url
    expected = "postgresql" if requested else "sqlite"
    assert connection.vendor == expected
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
