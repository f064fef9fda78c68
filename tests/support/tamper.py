"""Acting as someone with write access to the database, past the application."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

_MIGRATION = importlib.import_module("ketamine_clinic.storage.migrations.0006_security_audit_mac")


@contextmanager
def as_database_owner() -> Iterator[None]:
    """Lift the append-only trigger, as the table's owner can, and put it back after."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")  # as a superuser may
        else:
            cursor.execute(_MIGRATION.SQLITE_DROP)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = origin")
            else:
                cursor.execute(_MIGRATION.SQLITE_TRIGGER)
