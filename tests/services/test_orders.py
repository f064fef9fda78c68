"""services.orders: sign, verify (a second clinician, never the signer) and cancel."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ketamine_clinic.services import orders
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from tests.conftest import MONDAY


def _sign(course, prescriber, **kw):  # type: ignore[no-untyped-def]
    visit = course.visits.order_by("starts_at").first()
    args = {"dose_mg_per_kg": 0.5, "duration_min": 40, "concentration_mg_per_ml": 1, **kw}
    return orders.do_sign_order(visit, **args, at=MONDAY - timedelta(days=1), acting_user=prescriber)


def test_a_signed_order_carries_the_weight_dose_volume_and_rate(course, prescriber) -> None:
    order = _sign(course, prescriber)
    assert (float(order.weight_kg), float(order.dose_mg), float(order.rate_ml_per_h)) == (70.0, 35.0, 52.5)
    assert orders.latest_order(order.visit) == order and order.verified_at is None


def test_the_signer_never_verifies_their_own_order(course, prescriber, crna) -> None:
    order = _sign(course, prescriber)
    with pytest.raises((Conflict, NotAllowed)):
        orders.do_verify_order(order, at=MONDAY, acting_user=prescriber)
    assert orders.do_verify_order(order, at=MONDAY, acting_user=crna).verified_by == crna


def test_a_front_desk_user_neither_signs_nor_verifies(course, prescriber, front_desk) -> None:
    with pytest.raises(NotAllowed):
        _sign(course, front_desk)
    order = _sign(course, prescriber)
    with pytest.raises(NotAllowed):
        orders.do_verify_order(order, at=MONDAY, acting_user=front_desk)


def test_a_dose_above_the_limit_is_never_saved(course, prescriber) -> None:
    with pytest.raises(InvalidInput):
        _sign(course, prescriber, dose_mg_per_kg=3.5)
    assert orders.latest_order(course.visits.order_by("starts_at").first()) is None


def test_a_cancelled_order_cannot_be_verified_and_a_new_one_can_be_signed(course, prescriber, crna) -> None:
    order = _sign(course, prescriber)
    orders.do_cancel_order(order, reason="Wrong concentration entered", at=MONDAY, acting_user=prescriber)
    with pytest.raises(Conflict, match="cancelled"):
        orders.do_verify_order(order, at=MONDAY, acting_user=crna)
    assert _sign(course, prescriber).pk != order.pk
