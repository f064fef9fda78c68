"""``id__any_of=[...]``: membership in a list of ids sent as one parameter.

Django turns ``id__in=[...]`` into one placeholder per id, and both Django and psycopg do
work for each one: a list of a few hundred ids (the visits of the open sessions the Today
board shows) cost the dashboard more than its queries. Registered on primary keys (auto
fields) only: a foreign key is reached as ``patient__id__any_of``. On PostgreSQL
this lookup sends the list as one array (``id = ANY(%s)``, which still uses the index);
elsewhere it is the usual ``IN (...)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import models
from django.db.models import Lookup

__all__ = ["AnyOf", "any_of_sql"]


class AnyOf(Lookup):  # type: ignore[type-arg]
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self) -> list[int]:
        if not isinstance(self.rhs, Iterable) or isinstance(self.rhs, str | bytes):
            raise TypeError("any_of takes a list of ids")
        return [int(v) for v in self.rhs]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        ids = list(self.rhs)
        if not ids and connection.vendor != "postgresql":
            raise EmptyResultSet
        sql, params = any_of_sql(lhs, ids, connection.vendor)
        return sql, [*lhs_params, *params]


def any_of_sql(column: str, ids: list[int], vendor: str) -> tuple[str, list[Any]]:
    """``column`` in ``ids`` as SQL and its parameters, for the lookup and for statements
    written by hand: one array parameter on PostgreSQL, ``IN (...)`` elsewhere (an empty
    list matches nothing)."""
    if vendor == "postgresql":
        return f"{column} = ANY(%s::bigint[])", [ids]
    if not ids:
        return "1 = 0", []
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


models.BigAutoField.register_lookup(AnyOf)
models.AutoField.register_lookup(AnyOf)
