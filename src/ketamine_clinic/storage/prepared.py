"""Hot reads whose SQL is built once per process.

Building a query with the ORM (``filter()``, ``select_related()``) and compiling it to SQL
costs about a millisecond of Python per query on a clinic server, and the busiest pages
(the chair, the chart, the Today board) run a dozen or more such reads per request, the
same statements with a different id each time. ``Prepared`` builds and compiles such a read
once per process and database, then only binds the ids: the rows come back as the same
model instances, related rows from ``select_related`` included, as the queryset would give.

Rules (checked where they can be, see ``_compile``):

- the builder is a pure function of its integer arguments (ids, compared for equality):
  any other value in it (a date, ``timezone.now()``, a setting) would be frozen at the
  first call; such a value is compared in Python after the read, or the read stays an
  ordinary queryset;
- a plain model queryset: no ``values()``, ``prefetch_related()``, ``select_for_update()``
  (locked reads belong to writes and stay ordinary querysets), no ``__in`` list;
- reads only, routed like any read (``storage.routers``), so a report inside
  ``reporting()`` still reads from the replica.

Decision 0049 records the measurements.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, get_related_populators  # type: ignore[attr-defined]
from django.db.models.sql.constants import MULTI

__all__ = ["Prepared", "per_model"]

M = TypeVar("M", bound=Model)

#: Stand-in values for the arguments while the statement is compiled: integers no id in
#: this clinic reaches, each found back among the compiled statement's parameters. They lie
#: far apart, and a parameter near one but not equal to it (``pk + 1``) is refused.
_MARK_BASE = 7_340_000_000_000_000
_MARK_STEP = 1_000_000_000_000
_MARK_NEAR = 1_000_000
#: The range of a 64-bit id column: an id outside it matches no row.
_ID_MIN, _ID_MAX = -(2**63), 2**63 - 1


class _Compiled:
    __slots__ = ("compiler", "params", "slots", "sql", "start", "end", "init_list", "populators", "annotations")

    def __init__(self, compiler: Any, sql: str, params: tuple[Any, ...], slots: tuple[str | None, ...], db: str):
        self.compiler, self.sql, self.params, self.slots = compiler, sql, params, slots
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [f[0].target.attname for f in select[self.start : self.end]]
        self.populators = get_related_populators(klass_info, select, db)
        self.annotations = dict(compiler.annotation_col_map or {})


class Prepared(Generic[M]):
    """``Prepared(model, lambda patient_id: Model.objects.filter(...), "patient_id")``;
    calling it with the ids (``read(patient_id=7)``) returns the list of rows."""

    def __init__(self, model: type[M], build: Callable[..., QuerySet[M]], *names: str) -> None:
        self.model = model
        self.build = build
        self.names = names
        self._compiled: dict[str, _Compiled] = {}

    def __call__(self, **values: int) -> list[M]:
        if set(values) != set(self.names):
            raise TypeError(f"expected the ids {sorted(self.names)}, got {sorted(values)}")
        for name, value in values.items():
            if type(value) is not int:
                raise TypeError(f"{name} must be an int id, not {type(value).__name__}")
            if not _ID_MIN <= value <= _ID_MAX:  # no row has it (the ORM answers none too)
                return []
        db = router.db_for_read(self.model) or DEFAULT_DB_ALIAS
        connection = connections[db]
        compiled = self._compiled.get(db)
        if compiled is None:
            compiled = self._compiled[db] = self._compile(db)
        bound = [p if slot is None else values[slot] for p, slot in zip(compiled.params, compiled.slots, strict=True)]
        runner = copy.copy(compiled.compiler)
        runner.connection = connection  # this thread's connection, not the compiling one's
        sql = compiled.sql
        runner.as_sql = lambda *args, **kwargs: (sql, bound)
        rows = runner.execute_sql(MULTI)
        start, end, init_list = compiled.start, compiled.end, compiled.init_list
        model_cls = self.model
        out: list[M] = []
        for row in runner.results_iter(rows):
            obj = model_cls.from_db(db, init_list, row[start:end])
            for populator in compiled.populators:
                populator.populate(row, obj)
            for attr, position in compiled.annotations.items():
                setattr(obj, attr, row[position])
            out.append(obj)
        return out

    def first(self, **values: int) -> M | None:
        """The first row or ``None`` (the builder orders and slices as it needs)."""
        rows = self(**values)
        return rows[0] if rows else None

    def _compile(self, db: str) -> _Compiled:
        marks = {name: _MARK_BASE + i * _MARK_STEP for i, name in enumerate(self.names)}
        built = self.build(**marks)
        queryset = built.using(db)
        query = queryset.query
        if (
            built._db is not None  # type: ignore[attr-defined]  # the router chooses, call by call
            or queryset.model is not self.model
            or queryset._iterable_class is not ModelIterable
            or queryset._prefetch_related_lookups  # type: ignore[attr-defined]
            or queryset._known_related_objects  # type: ignore[attr-defined]
            or query.select_for_update
            or query.combinator
        ):
            raise TypeError(f"{self.model.__name__}: Prepared takes a plain read of model rows")
        compiler = query.get_compiler(using=db)
        sql, params = compiler.as_sql()
        by_mark = {mark: name for name, mark in marks.items()}
        slots = tuple(by_mark.get(p) if type(p) is int else None for p in params)
        for p, slot in zip(params, slots, strict=True):
            if slot is None and type(p) is int and any(abs(p - mark) < _MARK_NEAR for mark in by_mark):
                raise TypeError(f"{self.model.__name__}: an id is changed before it is bound ({p})")
        missing = set(self.names) - {s for s in slots if s}
        if missing:  # an argument the statement does not carry as a parameter as given
            raise TypeError(f"{self.model.__name__}: {sorted(missing)} not bound as a plain parameter")
        compiled = _Compiled(compiler, sql, tuple(params), slots, db)
        compiler.connection = None  # each call runs on its own thread's connection
        return compiled


def per_model(build: Callable[..., QuerySet[Any]], *names: str) -> Callable[[type[M]], Prepared[M]]:
    """The same read for several models (``build(model, **ids)``), one ``Prepared`` per
    model made on its first use: ``entries = per_model(lambda model, session_id: ...,
    "session_id")``, then ``entries(VitalSign)(session_id=7)``."""
    reads: dict[type[Model], Prepared[Any]] = {}

    def read_for(model: type[M]) -> Prepared[M]:
        read = reads.get(model)
        if read is None:
            read = reads[model] = Prepared(model, lambda **ids: build(model, **ids), *names)
        return read

    return read_for
