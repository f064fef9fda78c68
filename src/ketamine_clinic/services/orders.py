"""Infusion orders: the prescriber signs, a second clinician verifies.

The dose comes from the latest recorded weight through ``domain.dosing.plan_infusion``;
a dose above the clinic's hard limits raises there and nothing is saved. The same
function runs for every path that creates an order (web, API, command line, import).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from ketamine_clinic.domain.body_weight import WEIGHT_BASES, BodyWeights, body_weights
from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.services import audit, clinic, dosing, protocols, rems
from ketamine_clinic.services._common import require
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.services.intake import latest_intake
from ketamine_clinic.storage.models import EventType, Order, User, Visit

__all__ = [
    "dose_warnings",
    "dosing_weights",
    "may_verify",
    "verifier_names",
    "do_cancel_order",
    "do_sign_nasal_order",
    "do_sign_order",
    "do_verify_order",
    "latest_order",
    "preview_order",
    "order_recheck_problem",
]


def latest_order(visit: Visit) -> Order | None:
    return Order.objects.filter(visit=visit, cancelled_reason="").order_by("-signed_at", "-id").first()


def dosing_weights(visit: Visit) -> BodyWeights | None:
    """BMI, ideal and adjusted body weight from the latest intake ([S89][S90][S91]), or
    ``None`` when no height was recorded."""
    intake = latest_intake(visit.patient)
    if intake is None or not intake.height_cm:
        return None
    return body_weights(intake.weight_kg, intake.height_cm, visit.patient.sex, clinic.clinic_rules())


def _last_given_order(visit: Visit) -> Order | None:
    return (
        Order.objects.filter(
            patient=visit.patient, route="iv", cancelled_reason="", visit__status="done", visit__course=visit.course
        )
        .exclude(visit=visit)
        .order_by("-signed_at", "-id")
        .first()
    )


def dose_warnings(visit: Visit, *, dose_mg_per_kg: float, dose_mg: float) -> list[str]:
    """Soft warnings inside the hard limits, which the prescriber confirms: a dose above
    the course's step (its current mg/kg, or the titration suggested now) [S12], and a
    dose further than ``dose_change_confirm_pct`` from the last given infusion [S12]."""
    r = clinic.clinic_rules()
    out: list[str] = []
    step = float(visit.course.dose_mg_per_kg)
    suggestion = dosing.titration_suggestion(visit)
    if suggestion is not None:
        step = max(step, suggestion.dose_mg_per_kg)
    if dose_mg_per_kg > step + 1e-9:
        out.append(f"{dose_mg_per_kg:g} mg/kg is above the course's step of {step:g} mg/kg")
    last = _last_given_order(visit)
    if last is not None and float(last.dose_mg) > 0:
        change = abs(dose_mg - float(last.dose_mg)) * 100 / float(last.dose_mg)
        if change > r.dose_change_confirm_pct:
            out.append(
                f"{dose_mg:g} mg is {change:.0f} % away from the last infusion's {float(last.dose_mg):g} mg "
                f"(more than {r.dose_change_confirm_pct:g} %)"
            )
    return out


def do_sign_order(
    visit: Visit,
    *,
    dose_mg_per_kg: Decimal | float,
    duration_min: int,
    concentration_mg_per_ml: Decimal | float,
    at: datetime,
    acting_user: User,
    weight_basis: str = "actual",
    confirm_warnings: bool = False,
) -> Order:
    """Sign an order for ``visit``. Raises ``InvalidInput`` naming the field and the
    allowed range when a value is outside the clinic's hard limits. At a BMI of 30 or more
    the prescriber may dose on ideal or adjusted body weight ([S89][S90][S91]); the choice,
    BMI and the three weights are recorded on the order. Soft warnings (``dose_warnings``)
    need ``confirm_warnings``."""
    require(acting_user, Action.SIGN_ORDER, "Only a prescriber signs orders.")
    if visit.status != "scheduled":
        raise Conflict("Orders are written for scheduled visits only.", field="visit")
    if protocols.is_nasal_protocol(visit.course.protocol):
        raise Conflict("This is an esketamine course: write a nasal-spray order (56 or 84 mg).", field="visit")
    intake = latest_intake(visit.patient)
    if intake is None:
        raise Conflict("Record the patient's intake (weight) before ordering.", field="weight_kg")
    if weight_basis not in WEIGHT_BASES:
        raise InvalidInput(f"weight basis must be one of: {', '.join(WEIGHT_BASES)}", field="weight_basis")
    weights = dosing_weights(visit)
    if weight_basis != "actual" and (weights is None or not weights.obese):
        raise InvalidInput(
            f"weight basis: ideal or adjusted body weight is offered from a BMI of "
            f"{clinic.clinic_rules().obesity_bmi_at_least:g} (BMI {weights.bmi if weights else 'unknown'}): "
            "use actual body weight",
            field="weight_basis",
        )
    dosing_kg = weights.weight_for(weight_basis) if weights else intake.weight_kg
    plan = dosing.plan_dose(
        weight_kg=float(dosing_kg),
        dose_mg_per_kg=float(dose_mg_per_kg),
        duration_min=int(duration_min),
        concentration_mg_per_ml=float(concentration_mg_per_ml),
        obese=bool(weights and weights.obese and weight_basis == "actual"),
        protocol=visit.course.protocol,
    )
    warnings = dose_warnings(visit, dose_mg_per_kg=float(dose_mg_per_kg), dose_mg=float(plan.dose_mg))
    if warnings and not confirm_warnings:
        raise InvalidInput(
            "confirm the dose: " + "; ".join(warnings) + ". Tick the confirmation to sign it as written.",
            field="confirm_warnings",
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
            weight_basis=weight_basis,
            dosing_weight_kg=dosing_kg,
            bmi=weights.bmi if weights else None,
            ideal_weight_kg=weights.ideal_kg if weights else None,
            adjusted_weight_kg=weights.adjusted_kg if weights else None,
            warnings_confirmed=warnings,
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
                "weight_basis": weight_basis,
                "dosing_weight_kg": str(dosing_kg),
                "warnings_confirmed": warnings,
            },
        )
    return order


def do_sign_nasal_order(visit: Visit, *, dose_mg: int, at: datetime, acting_user: User) -> Order:
    """An esketamine order in 28 mg devices: 56 or 84 mg; for treatment-resistant depression
    the course's first dose is 56 mg, for depression with suicidal thoughts 84 mg from the
    start (56 mg if not tolerated) ([S32][S33] via ``domain.dosing.plan_esketamine_dose``)."""
    from ketamine_clinic.domain.dosing import DoseLimitError, plan_esketamine_dose

    require(acting_user, Action.SIGN_ORDER, "Only a prescriber signs orders.")
    if visit.status != "scheduled":
        raise Conflict("Orders are written for scheduled visits only.", field="visit")
    if not protocols.is_nasal_protocol(visit.course.protocol):
        raise Conflict("This is an IV course: write an infusion order.", field="visit")
    refusal = rems.order_refusal(visit.patient)
    if refusal:
        raise Conflict(refusal, field="dose_mg")
    first = not Order.objects.filter(
        patient=visit.patient, route="nasal", cancelled_reason="", visit__course=visit.course
    ).exists()
    try:
        indication = "mdsi" if visit.course.protocol == "esketamine_mdsi" else "trd"
        plan = plan_esketamine_dose(int(dose_mg), first_dose=first, indication=indication)
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
    dosing_kg = float(order.dosing_weight_kg or order.weight_kg)
    checks = [(dosing_kg, float(order.dose_mg_per_kg))]
    if intake is not None and float(intake.weight_kg) != ordered:
        latest_dosing = float(intake.weight_kg)
        if order.weight_basis != "actual" and intake.height_cm:
            latest_dosing = float(
                body_weights(intake.weight_kg, intake.height_cm, order.patient.sex, r).weight_for(order.weight_basis)
            )
        checks.append((latest_dosing, round(float(order.dose_mg) / latest_dosing, 3)))
    for weight, mg_per_kg in checks:
        try:
            dosing.plan_dose(
                weight_kg=weight,
                dose_mg_per_kg=mg_per_kg,
                duration_min=int(order.duration_min),
                concentration_mg_per_ml=float(order.concentration_mg_per_ml),
                protocol=order.visit.course.protocol,
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


def preview_order(visit: Visit, data: Any) -> dict[str, Any]:
    """The dose the order form would sign, on the chosen weight basis, with its soft
    warnings; never raises (the message says what is wrong)."""
    intake = latest_intake(visit.patient)
    if intake is None:
        return {"ok": False, "message": "No weight recorded: complete an intake first."}
    basis = str(data.get("weight_basis") or "actual")
    weights = dosing_weights(visit)
    if basis not in WEIGHT_BASES or (basis != "actual" and (weights is None or not weights.obese)):
        basis = "actual"
    dosing_kg = weights.weight_for(basis) if weights else intake.weight_kg
    try:
        per_kg = float(data.get("dose_mg_per_kg"))
        plan = dosing.plan_dose(
            weight_kg=float(dosing_kg),
            dose_mg_per_kg=per_kg,
            duration_min=int(data.get("duration_min")),
            concentration_mg_per_ml=float(data.get("concentration_mg_per_ml")),
            obese=bool(weights and weights.obese and basis == "actual"),
            protocol=visit.course.protocol,
        )
    except (InvalidInput, TypeError, ValueError) as exc:
        return {"ok": False, "message": getattr(exc, "message", str(exc))}
    return {
        "ok": True,
        "weight_kg": intake.weight_kg,
        "dosing_weight_kg": dosing_kg,
        "weight_basis": basis,
        "dose_mg": plan.dose_mg,
        "volume_ml": plan.volume_ml,
        "rate_ml_per_h": plan.rate_ml_per_h,
        "warnings": dose_warnings(visit, dose_mg_per_kg=per_kg, dose_mg=float(plan.dose_mg)),
    }
