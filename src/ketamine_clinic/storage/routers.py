"""Database routing: reports and exports may read from a replica.

With ``KC_REPLICA_DATABASE_URL`` set there is a ``replica`` database; code that builds a
report or an export wraps its reads in ``with reporting():`` and the router sends them
there. Everything else, and every write, uses the primary, so a page never reads its own
write from a replica that has not caught up yet. Without a replica ``reporting()`` changes
nothing. See docs/deploy.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings

__all__ = ["ReplicaRouter", "reporting"]

_REPORTING: ContextVar[bool] = ContextVar("kc_reporting", default=False)


@contextmanager
def reporting() -> Iterator[None]:
    """Reads inside go to the reporting replica when one is configured."""
    token = _REPORTING.set(True)
    try:
        yield
    finally:
        _REPORTING.reset(token)


class ReplicaRouter:
    """``DATABASE_ROUTERS`` entry: reads inside ``reporting()`` go to ``replica``."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        if _REPORTING.get() and "replica" in settings.DATABASES:
            return "replica"
        return None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # the replica is a copy of the primary: same rows

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return db == "default"
