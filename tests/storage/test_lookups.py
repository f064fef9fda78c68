"""``id__any_of``: a list of ids as one parameter (PostgreSQL) or ``IN`` (SQLite)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from ketamine_clinic.storage.models import Visit


def test_any_of_finds_the_listed_rows_and_nothing_for_an_empty_list(course) -> None:
    visits = list(Visit.objects.filter(course=course).order_by("pk"))
    wanted = [visits[0].pk, visits[2].pk]
    assert list(Visit.objects.filter(pk__any_of=wanted).order_by("pk")) == [visits[0], visits[2]]
    assert list(Visit.objects.filter(pk__any_of=[])) == []
    assert list(Visit.objects.filter(pk__any_of=[0, -1])) == []
    # or-ed with another condition, an empty list drops out instead of emptying the query
    either = Visit.objects.filter(Q(number=visits[1].number, course=course) | Q(pk__any_of=[]))
    assert list(either) == [visits[1]]
    either = Visit.objects.filter(Q(number=visits[1].number, course=course) | Q(pk__any_of=wanted)).order_by("pk")
    assert list(either) == [visits[0], visits[1], visits[2]]


def test_any_of_sends_a_long_list_as_one_parameter_on_postgresql(course) -> None:
    ids = list(range(1, 801))
    with CaptureQueriesContext(connection) as seen:
        list(Visit.objects.filter(pk__any_of=ids))
    sql = seen.captured_queries[0]["sql"]
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql and sql.count(",") >= 799  # the array literal, not 800 placeholders
    else:
        assert " IN (" in sql


def test_any_of_refuses_a_string() -> None:
    with pytest.raises(TypeError):
        Visit.objects.filter(pk__any_of="1,2")
