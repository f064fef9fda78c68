"""Infusion orders: the prescriber signs, a second clinician verifies.

The dose comes from the latest recorded weight through ``domain.dosing.plan_infusion``;
a dose above the clinic's hard limits raises there and nothing is saved. The same
function runs for every path that creates an order (web, API, command line, import).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.services import audit, clinic, dosing, protocols
from ketamine_clinic.services._common import require
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.services.intake import latest_intake
from ketamine_clinic.storage.models import EventType, Order, User, Visit

__all__ = [
    "may_verify",
    "verifier_names",
    "do_cancel_order",
    "do_sign_nasal_order",
    "do_sign_order",
    "do_verify_order",
    "latest_order",
    "order_recheck_problem",
]


def latest_order(visit: Visit) -> Order | None:
    return Order.objects.filter(visit=visit, cancelled_reason="").order_by("-signed_at", "-id").first()


def do_sign_order(
    visit: Visit,
    *,
    dose_mg_per_kg: Decimal | float,
    duration_min: int,
    concentration_mg_per_ml: Decimal | float,
    at: datetime,
    acting_user: User,
) -> Order:
    """Sign an order for ``visit``. Raises ``InvalidInput`` naming the field and the
    allowed range when a value is outside the clinic's hard limits."""
    require(acting_user, Action.SIGN_ORDER, "Only a prescriber signs orders.")
    if visit.status != "scheduled":
        raise Conflict("Orders are written for scheduled visits only.", field="visit")
    if protocols.is_nasal_protocol(visit.course.protocol):
        raise Conflict("This is an esketamine course: write a nasal-spray order (56 or 84 mg).", field="visit")
    intake = latest_intake(visit.patient)
    if intake is None:
        raise Conflict("Record the patient's intake (weight) before ordering.", field="weight_kg")
    plan = dosing.plan_dose(
        weight_kg=float(intake.weight_kg),
        dose_mg_per_kg=float(dose_mg_per_kg),
        duration_min=int(duration_min),
        concentration_mg_per_ml=float(concentration_mg_per_ml),
    )
    titration = dosing.titration_note(visit)
    with transaction.atomic():
        Visit.objects.select_for_update().filter(pk=visit.pk).first()  # two signers at once: one order
        if latest_order(visit) is not None:
            raise Conflict("This visit already has a signed order; cancel it first.", field="visit")
        order = Order.objects.create(
            visit=visit,
            patient=visit.patient,
            weight_kg=intake.weight_kg,
            dose_mg_per_kg=Decimal(str(dose_mg_per_kg)),
            dose_mg=Decimal(str(plan.dose_mg)),
            duration_min=int(duration_min),
            concentration_mg_per_ml=Decimal(str(concentration_mg_per_ml)),
            volume_ml=Decimal(str(plan.volume_ml)),
            rate_ml_per_h=Decimal(str(plan.rate_ml_per_h)),
            titration_note=titration[:300],
            signed_by=acting_user,
            signed_at=at,
        )
        audit.record(
            EventType.ORDER_SIGNED,
            actor=acting_user,
            patient=visit.patient,
            subject=order,
            at=at,
            new={
                "dose_mg": str(order.dose_mg),
                "dose_mg_per_kg": str(order.dose_mg_per_kg),
                "rate_ml_per_h": str(order.rate_ml_per_h),
                "weight_kg": str(order.weight_kg),
            },
        )
    return order


def do_sign_nasal_order(visit: Visit, *, dose_mg: int, at: datetime, acting_user: User) -> Order:
    """An esketamine order in 28 mg devices: 56 or 84 mg, the course's first dose 56 mg
    ([S32][S33] via ``domain.dosing.plan_esketamine_dose``)."""
    from ketamine_clinic.domain.dosing import DoseLimitError, plan_esketamine_dose

    require(acting_user, Action.SIGN_ORDER, "Only a prescriber signs orders.")
    if visit.status != "scheduled":
        raise Conflict("Orders are written for scheduled visits only.", field="visit")
    if not protocols.is_nasal_protocol(visit.course.protocol):
        raise Conflict("This is an IV course: write an infusion order.", field="visit")
    first = not Order.objects.filter(
        patient=visit.patient, route="nasal", cancelled_reason="", visit__course=visit.course
    ).exists()
    try:
        plan = plan_esketamine_dose(int(dose_mg), first_dose=first)
    except (DoseLimitError, ValueError) as exc:
        raise InvalidInput(str(exc), field="dose_mg") from None
    intake = latest_intake(visit.patient)
    with transaction.atomic():
        Visit.objects.select_for_update().filter(pk=visit.pk).first()  # two signers at once: one order
        if latest_order(visit) is not None:
            raise Conflict("This visit already has a signed order; cancel it first.", field="visit")
        zero = Decimal("0")
        order = Order.objects.create(
            visit=visit,
            patient=visit.patient,
            weight_kg=intake.weight_kg if intake else zero,
            dose_mg_per_kg=zero,
            dose_mg=Decimal(plan.dose_mg),
            duration_min=plan.devices * plan.spacing_min,
            concentration_mg_per_ml=zero,
            volume_ml=zero,
            rate_ml_per_h=zero,
            route="nasal",
            devices=plan.devices,
            signed_by=acting_user,
            signed_at=at,
            titration_note=f"{plan.devices} devices of 28 mg, {plan.spacing_min} minutes apart",
        )
        audit.record(
            EventType.ORDER_SIGNED,
            actor=acting_user,
            patient=visit.patient,
            subject=order,
            at=at,
            new={"route": "nasal", "dose_mg": plan.dose_mg, "devices": plan.devices},
        )
    return order


def order_recheck_problem(order: Order) -> str | None:
    """Why ``order`` may no longer be given as signed, or ``None`` ([S11][S14]): the weight
    was re-recorded further from the order's weight than the clinic allows, or the dose now
    breaks the clinic's current hard limits (at the order's weight or the latest one).
    Both need a new signed order. Esketamine orders are fixed doses, not by weight."""
    if order.route != "iv":
        return None
    intake = latest_intake(order.patient)
    r = clinic.clinic_rules()
    ordered = float(order.weight_kg)
    if intake is not None and ordered > 0:
        latest = float(intake.weight_kg)
        change = abs(latest - ordered) * 100 / ordered
        if change > r.weight_change_new_order_pct:
            when = timezone.localtime(intake.recorded_at).strftime("%d %b %Y")
            return (
                f"The weight was re-recorded as {latest:g} kg on {when}; the order used {ordered:g} kg "
                f"({change:.0f} % apart, more than {r.weight_change_new_order_pct:g} %): a new signed order is needed."
            )
    checks = [(ordered, float(order.dose_mg_per_kg))]
    if intake is not None and float(intake.weight_kg) != ordered:
        checks.append((float(intake.weight_kg), round(float(order.dose_mg) / float(intake.weight_kg), 3)))
    for weight, mg_per_kg in checks:
        try:
            dosing.plan_dose(
                weight_kg=weight,
                dose_mg_per_kg=mg_per_kg,
                duration_min=int(order.duration_min),
                concentration_mg_per_ml=float(order.concentration_mg_per_ml),
            )
        except InvalidInput as exc:
            return f"The order now breaks the clinic's hard limits ({exc.message}): a new signed order is needed."
    return None


def verifier_names() -> str:
    """The clinic's verifying roles in words, e.g. "CRNAs and RNs"."""
    names = [label for code, label in clinic.VERIFIER_ROLE_CHOICES if code in clinic.verifier_roles()]
    return " and ".join(n.split(" (")[0] for n in names) or "nobody"


def may_verify(user: User) -> bool:
    """Whether ``user`` may verify orders here: the role's scope and the clinic's setting."""
    return user.is_active and can(user.role, Action.VERIFY_ORDER) and user.role in clinic.verifier_roles()


def do_verify_order(order: Order, *, at: datetime, acting_user: User) -> Order:
    """The second clinician's check: not the signer, only once, and only while the dose
    still fits the latest weight and the current hard limits (``order_recheck_problem``)."""
    require(acting_user, Action.VERIFY_ORDER, "Your role may not verify orders.")
    if acting_user.role not in clinic.verifier_roles():
        raise NotAllowed(f"This clinic lets {verifier_names()} verify orders (an administrator's setting).")
    if order.signed_by_id == acting_user.pk:
        raise Conflict("The clinician who signed an order cannot verify it.", field="verified_by")
    if order.cancelled_reason:
        raise Conflict("This order was cancelled.", field="order")
    problem = order_recheck_problem(order)
    if problem:
        raise Conflict(problem, field="order")
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.verified_at is not None:
            raise Conflict("This order is already verified.", field="order")
        locked.verified_by, locked.verified_at = acting_user, at
        locked.save(update_fields=["verified_by", "verified_at"])
        audit.record(
            EventType.ORDER_VERIFIED,
            actor=acting_user,
            patient=locked.patient,
            subject=locked,
            at=at,
        )
    return locked


def do_cancel_order(order: Order, *, reason: str, at: datetime, acting_user: User) -> Order:
    require(acting_user, Action.SIGN_ORDER, "Only a prescriber cancels orders.")
    reason = reason.strip()
    if not 3 <= len(reason) <= 200:
        raise InvalidInput("reason must be 3 to 200 characters", field="reason")
    if hasattr(order, "sessions") and order.sessions.exists():
        raise Conflict("An infusion was started on this order; it cannot be cancelled.", field="order")
    with transaction.atomic():
        order.cancelled_reason = reason
        order.save(update_fields=["cancelled_reason"])
        audit.record(
            EventType.ORDER_CANCELLED,
            actor=acting_user,
            patient=order.patient,
            subject=order,
            new={"reason": reason},
            at=at,
        )
    return order
