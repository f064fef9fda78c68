"""PRN medicines at the chair: the session's standing orders and its medication
administration record (MAR).

Errors: ``NotAllowed`` for a role that may not give PRN medicines; ``InvalidInput``
naming the field for an unknown order, a dose above the order or the session maximum, or
a dose too soon after the last; ``Conflict`` once the session is over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from ketamine_clinic.domain.policy import Action
from ketamine_clinic.domain.prn import PRN_ORDERS, PrnError, PrnOrder, check_prn_dose, prn_orders_for
from ketamine_clinic.services import audit, clinic
from ketamine_clinic.services._common import require
from ketamine_clinic.services.errors import Conflict, InvalidInput
from ketamine_clinic.storage.models import EventType, InfusionSession, PrnDose, User
from ketamine_clinic.storage.prepared import Prepared

__all__ = ["PrnLine", "do_give_prn", "mar", "standing_orders"]


@dataclass(frozen=True)
class PrnLine:
    """One standing order as the chair sees it: the order, what it says, the mg given so far
    this session, and from when the next dose may be given (``None``: now)."""

    order: PrnOrder
    summary: str
    dose_mg: float
    given_mg: float
    next_at: datetime | None
    may_give: bool


def mar(session: InfusionSession) -> list[PrnDose]:
    """The session's PRN doses in time order, with the clinician who gave each [S23]."""
    return _MAR(session_id=session.pk)


_MAR = Prepared(
    PrnDose,
    lambda session_id: PrnDose.objects.filter(session_id=session_id).select_related("recorded_by").order_by("at", "id"),
    "session_id",
)


def _given(doses: list[PrnDose], order: PrnOrder) -> list[tuple[datetime, float]]:
    """Doses of the same drug (any route of it) that no amendment replaces."""
    replaced = {d.amends_id for d in doses if d.amends_id}
    return [
        (d.at, float(d.dose_mg))
        for d in doses
        if d.pk not in replaced and PRN_ORDERS.get(d.order_code, order).drug_key == order.drug_key
    ]


def standing_orders(
    session: InfusionSession, *, user: User | None = None, doses: list[PrnDose] | None = None
) -> list[PrnLine]:
    """The standing PRN orders of the session's route, each with what was given and when the
    next dose may follow (clinic settings [S23][S30][S20])."""
    rules = clinic.clinic_rules()
    doses = mar(session) if doses is None else doses
    lines = []
    for order in prn_orders_for(session.order.route):
        given = _given(doses, order)
        last = max((t for t, _ in given), default=None)
        next_at = last + timedelta(minutes=order.every_min(rules)) if last else None
        lines.append(
            PrnLine(
                order=order,
                summary=order.summary(rules),
                dose_mg=order.dose_mg(rules),
                given_mg=sum(mg for _, mg in given),
                next_at=next_at,
                may_give=user is not None and user.role in order.roles,
            )
        )
    return lines


def _dose(value: Any) -> float:
    try:
        dose = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput("dose must be a number of mg", field="dose_mg") from None
    if not dose.is_finite():
        raise InvalidInput("dose must be a number of mg", field="dose_mg")
    if dose != dose.quantize(Decimal("0.01")) or dose < Decimal("0.01"):
        # the record keeps hundredths: 0.004 mg would be kept as 0 and 3.999 as 4.00
        raise InvalidInput("dose must be at least 0.01 mg, with at most 2 decimals", field="dose_mg")
    return float(dose)


def do_give_prn(
    session: InfusionSession,
    order_code: str,
    *,
    dose_mg: Any,
    indication: str,
    at: datetime,
    acting_user: User,
) -> PrnDose:
    """Record a PRN dose given under the session's standing order ``order_code``: the order
    must be one of the session's route, the clinician's role one the order allows, the dose
    at most the ordered dose, the session total at most the order's maximum and the dose at
    least the order's interval after the last ([S23][S30][S20]; the values are clinic
    settings). The session row is locked, so two tabs cannot both give the last allowed dose."""
    require(acting_user, Action.GIVE_PRN, "Your role may not give PRN medicines.")
    order = PRN_ORDERS.get(order_code)
    if order is None or session.order.route not in order.session_routes:
        names = ", ".join(o.code for o in prn_orders_for(session.order.route))
        raise InvalidInput(f"medicine must be one of this session's standing orders ({names})", field="drug")
    reason = indication.strip()
    if not 3 <= len(reason) <= 200:
        raise InvalidInput("say why it is given (3 to 200 characters)", field="indication")
    dose = _dose(dose_mg)
    with transaction.atomic():
        InfusionSession.objects.select_for_update().filter(pk=session.pk).first()
        session.refresh_from_db()
        if session.status not in InfusionSession.OPEN_STATUSES:
            raise Conflict(f"This session is {session.get_status_display()}: no PRN dose can be added.", field="drug")
        try:
            check_prn_dose(
                order,
                dose_mg=dose,
                role=acting_user.role,
                given_before=_given(mar(session), order),
                at=at,
                rules=clinic.clinic_rules(),
                show_time=lambda t: f"{timezone.localtime(t):%H:%M}",
            )
        except PrnError as exc:
            raise InvalidInput(str(exc), field=exc.field) from None
        row = PrnDose.objects.create(
            session=session,
            at=at,
            recorded_by=acting_user,
            recorded_at=timezone.now(),
            order_code=order.code,
            drug=order.drug,
            dose_mg=Decimal(str(dose)),
            route=order.route,
            indication=reason,
        )
        audit.record(
            EventType.PRN_GIVEN,
            actor=acting_user,
            patient=session.patient,
            subject=row,
            new={"drug": order.drug, "dose_mg": str(dose), "route": order.route, "indication": reason},
            at=at,
        )
    return row
