"""Status moves, checked over every pair against a table spelled out apart from the code."""

from __future__ import annotations

import itertools

import pytest

from ketamine_clinic.domain.statuses import STATUSES, StatusError, can_move, check_move

ALLOWED = {
    "session": {
        ("checklist", "ready"), ("checklist", "closed"),
        ("ready", "running"), ("ready", "observing"), ("ready", "closed"),
        ("running", "running"), ("running", "paused"), ("running", "observing"),
        ("paused", "running"), ("paused", "observing"), ("paused", "closed"),
        ("observing", "discharged"), ("observing", "closed"),
    },
    "course": {
        ("induction", "induction"), ("induction", "decision_due"), ("induction", "maintenance"),
        ("induction", "referred"), ("induction", "completed"), ("induction", "cancelled"),
        ("decision_due", "induction"), ("decision_due", "maintenance"), ("decision_due", "referred"),
        ("decision_due", "completed"), ("decision_due", "cancelled"),
        ("maintenance", "maintenance"), ("maintenance", "completed"), ("maintenance", "cancelled"),
    },
    "visit": {("scheduled", "done"), ("scheduled", "cancelled"), ("scheduled", "no_show")},
    "alert": {("open", "acknowledged"), ("open", "closed")},
    "patient": {("active", "merged")},
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(ALLOWED))
def test_every_move_of_every_status_matches_the_table(kind: str) -> None:
    for old, new in itertools.product(STATUSES[kind], STATUSES[kind]):
        assert can_move(kind, old, new) == ((old, new) in ALLOWED[kind]), (kind, old, new)


def test_a_refused_move_names_the_record_and_both_statuses() -> None:
    with pytest.raises(StatusError, match="a session cannot go from discharged to running"):
        check_move("session", "discharged", "running")
    check_move("visit", "scheduled", "done")
