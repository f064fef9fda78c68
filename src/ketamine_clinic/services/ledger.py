"""The controlled-substance ledger's writes: receive, draw, waste, correct (counts and their
discrepancies are in ``stock_counts``, re-exported here).

Every write locks the lot row (``SELECT ... FOR UPDATE``), checks the rule in
``domain.ledger``, then writes the entry, the lot's new balance and the audit row in one
transaction; the database's check constraints refuse a negative balance even if a check
were skipped ([S81]). Entries are append-only: a correction is a new entry linked to the
one it reverses. Who may act is the policy matrix narrowed by the clinic's ledger settings.

A session whose product the clinic keeps in the ledger (a lot of that kind was ever
received) cannot be discharged until drawn = given + wasted (``check_session_tied``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ketamine_clinic.domain import ledger as rules
from ketamine_clinic.domain.ledger import LedgerError
from ketamine_clinic.domain.policy import Action
from ketamine_clinic.services import audit, clinic
from ketamine_clinic.services._common import require
from ketamine_clinic.services._ledger_common import (
    allowed_roles,
    count_kinds,
    invalid,
    ledger_settings,
    lock_lot,
    may,
    require_ledger,
    text,
    write_entry,
)
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.services.stock_counts import do_record_counts, do_resolve_discrepancy, open_discrepancy_count
from ketamine_clinic.storage.models import (
    AuditEvent,
    EventType,
    InfusionSession,
    LedgerEntry,
    LedgerSettings,
    StockLot,
    StorageLocation,
    User,
)
from ketamine_clinic.storage.prepared import Prepared

__all__ = [
    "DOSE_PENDING",
    "SessionLedger",
    "allowed_roles",
    "check_session_tied",
    "count_kinds",
    "do_add_location",
    "do_correct_entry",
    "do_draw_stock",
    "do_record_counts",
    "do_receive_stock",
    "do_resolve_discrepancy",
    "do_update_ledger_settings",
    "do_waste_stock",
    "ledger_in_use",
    "ledger_settings",
    "may",
    "open_discrepancy_count",
    "session_ledger",
    "wastable_mg",
]

_NDC = re.compile(r"^\d{4,5}-\d{3,4}(-\d{1,2})?$")
_ROUTE_KIND = {"iv": "ketamine_vial", "nasal": "esketamine_device"}
_ZERO = Decimal("0")


def ledger_in_use(product_kind: str) -> bool:
    """The clinic keeps ``product_kind`` in the ledger once any lot of it was received. The
    chair page asks on every view, so a server process reuses the answer for a few seconds
    (``clinic.recent``): a lot received through this process counts at once, through
    another within ``clinic.CACHE_SECONDS`` on pages; the checks inside a write (the tie
    before discharge or close) always read the database."""
    received = StockLot.objects.filter(product_kind=product_kind)
    return bool(clinic.recent(f"ledger:in_use:{product_kind}", received.exists))


clinic.forget_when_saved("ledger:in_use:", StockLot)


def do_add_location(name: str, *, acting_user: User) -> StorageLocation:
    """A locked cabinet or safe where stock is kept ([S81])."""
    require_ledger(acting_user, Action.RECEIVE_STOCK, "Only a prescriber adds storage locations.")
    name = text(name, "name", 2, 80)
    with transaction.atomic():
        location, created = StorageLocation.objects.get_or_create(name=name)
        if created:
            audit.record(EventType.STOCK_LOCATION_ADDED, actor=acting_user, subject=location, new={"name": name})
    return location


def do_receive_stock(
    *,
    product_kind: str,
    product_name: str,
    ndc: str,
    lot_number: str,
    expiry: date,
    quantity: Any,
    supplier: str,
    invoice_ref: str,
    location: StorageLocation,
    concentration_mg_per_ml: Any = 0,
    volume_ml: Any = 0,
    order_form_ref: str = "",
    at: datetime,
    acting_user: User,
) -> StockLot:
    """Receive a lot: product, NDC, strength as base, volume, lot, expiry, supplier, invoice
    and order-form reference, quantity ([S81]: the date received and from whom)."""
    require_ledger(acting_user, Action.RECEIVE_STOCK, "Only a prescriber (the registrant) receives controlled stock.")
    ndc = (ndc or "").strip()
    if not _NDC.match(ndc):
        raise InvalidInput("NDC must look like 0409-2051-05 (digits in 2 or 3 groups)", field="ndc")
    fields = {
        "product_name": text(product_name, "product_name", 2, 120),
        "lot_number": text(lot_number, "lot_number", 1, 40),
        "supplier": text(supplier, "supplier", 2, 120),
        "invoice_ref": text(invoice_ref, "invoice_ref", 1, 60),
        "order_form_ref": (order_form_ref or "").strip()[:60],
    }
    if not isinstance(expiry, date):
        raise InvalidInput("expiry must be a date", field="expiry")
    try:
        receipt = rules.plan_receipt(
            product_kind,
            concentration_mg_per_ml=concentration_mg_per_ml,
            volume_ml=volume_ml,
            quantity=quantity,
            expiry=expiry,
            on=timezone.localdate(at),
        )
    except LedgerError as exc:
        raise invalid(exc) from None
    device = product_kind == "esketamine_device"
    if StockLot.objects.filter(ndc=ndc, lot_number=fields["lot_number"]).exists():
        raise Conflict("This NDC and lot were already received; record a new lot number.", field="lot_number")
    try:
        with transaction.atomic():
            lot = StockLot.objects.create(
                product_kind=product_kind,
                ndc=ndc,
                concentration_mg_per_ml=_ZERO if device else rules.mg(concentration_mg_per_ml),
                volume_ml=_ZERO if device else rules.mg(volume_ml),
                unit_mg=receipt.unit_mg,
                expiry=expiry,
                location=location,
                quantity_received=receipt.quantity,
                received_mg=receipt.total_mg,
                balance_mg=_ZERO,
                received_at=at,
                received_by=acting_user,
                **fields,
            )
            entry = write_entry(lot, "receipt", receipt.total_mg, receipt.total_mg, at=at, by=acting_user)
            audit.record(
                EventType.STOCK_RECEIVED,
                actor=acting_user,
                subject=entry,
                at=at,
                new={"lot": lot.lot_number, "ndc": ndc, "quantity": receipt.quantity, "mg": receipt.total_mg},
            )
    except IntegrityError:
        raise Conflict("This NDC and lot were already received; record a new lot number.", field="lot_number") from None
    return lot


@dataclass(frozen=True)
class SessionLedger:
    entries: list[LedgerEntry]
    tie: rules.Tie
    product_kind: str
    tracked: bool

    def drawn_by_lot(self) -> dict[int, Decimal]:
        return _net(self.entries, "draw")

    def wasted_by_lot(self) -> dict[int, Decimal]:
        return _net(self.entries, "waste")

    #: Until the dose has ended, the ordered dose may still be given in full.
    wastable_mg: Decimal = _ZERO


def _net(entries: Iterable[LedgerEntry], kind: str) -> dict[int, Decimal]:
    """Net amount of ``kind`` per lot: entries of that kind less their corrections."""
    out: dict[int, Decimal] = {}
    for e in entries:
        if e.kind == kind:
            out[e.lot_id] = out.get(e.lot_id, _ZERO) + e.mg
        elif e.kind == "correction" and e.corrects is not None and e.corrects.kind == kind:
            out[e.lot_id] = out.get(e.lot_id, _ZERO) - e.mg
    return out


_SESSION_ENTRIES = Prepared(
    LedgerEntry,
    lambda session_id: (
        LedgerEntry.objects.filter(session_id=session_id)
        .select_related("lot", "recorded_by", "witness", "corrects")
        .order_by("at", "id")
    ),
    "session_id",
)


def session_ledger(session: InfusionSession) -> SessionLedger:
    """The session's draws and waste, and whether drawn = given + wasted ([S81])."""
    entries = _SESSION_ENTRIES(session_id=session.pk)
    kind = _ROUTE_KIND[session.order.route]
    tie = rules.session_tie(
        drawn_mg=sum(_net(entries, "draw").values(), _ZERO),
        given_mg=session.administered_mg,
        wasted_mg=sum(_net(entries, "waste").values(), _ZERO),
    )
    return SessionLedger(entries, tie, kind, ledger_in_use(kind), wastable_mg(session, tie))


#: Session states in which the ordered dose has not ended: what is drawn for it may still
#: be given, so only a surplus over the ordered dose may be wasted.
DOSE_PENDING = frozenset({"checklist", "ready", "running", "paused"})


def wastable_mg(session: InfusionSession, tie: rules.Tie) -> Decimal:
    """What may be wasted now: drawn - given - wasted once the dose has ended; while it has
    not (an infusion running or paused, a nasal session between devices, whose given mg
    grows with each device), drawn - the ordered dose - wasted: a vial's surplus may be
    wasted at once, the dose itself only once what was given is final [S81][S83]."""
    if session.status in DOSE_PENDING:
        reserved = max(Decimal(str(session.order.dose_mg)), session.administered_mg or _ZERO)
        return max(tie.drawn_mg - reserved - tie.wasted_mg, _ZERO)
    return max(tie.residual_mg, _ZERO)


def _dose_not_ended(session: InfusionSession) -> str:
    """What to do before the rest of the dose may be wasted, by the session's state."""
    if session.status in {"checklist", "ready"}:
        return "the dose has not started: close the session first, then waste what was drawn"
    if session.order.route == "nasal":
        return "give the last device (or close the session) first"
    return "stop the infusion first (an early stop asks for the reason), then waste what was not given"


def check_session_tied(session: InfusionSession) -> None:
    """Called before a session closes: once the clinic keeps its product in the ledger, the
    dose given must come from a lot and drawn = given + wasted ([S81]). Raises ``Conflict``."""
    summary = session_ledger(session)
    if summary.tracked and not summary.tie.tied:
        raise Conflict("Controlled-substance record: " + summary.tie.message(), field="ledger")


def _check_lot_for(session: InfusionSession, lot: StockLot) -> None:
    if lot.product_kind != _ROUTE_KIND[session.order.route]:
        wanted = rules.PRODUCTS[_ROUTE_KIND[session.order.route]].label
        raise Conflict(f"This session's order is for {wanted}; choose a lot of it.", field="lot")


def do_draw_stock(session: InfusionSession, lot: StockLot, *, mg: Any, at: datetime, acting_user: User) -> LedgerEntry:
    """Draw ``mg`` from ``lot`` for ``session``: not expired, never more than the lot holds,
    whole devices for esketamine ([S81][S40]). Racing draws are serialised on the lot row."""
    require_ledger(acting_user, Action.DRAW_STOCK, "Your role may not draw controlled substances.")
    try:
        amount = rules.mg(mg)
    except LedgerError as exc:
        raise invalid(exc) from None
    if session.status in {"discharged", "closed"}:
        raise Conflict("The session is closed; correct an entry instead.", field="session")
    _check_lot_for(session, lot)
    with transaction.atomic():
        current = InfusionSession.objects.select_for_update().get(pk=session.pk)
        if current.status == "discharged":
            raise Conflict("The session is closed; correct an entry instead.", field="session")
        locked = lock_lot(lot)
        try:
            rules.check_draw(
                amount_mg=amount,
                balance_mg=locked.balance_mg,
                expiry=locked.expiry,
                on=timezone.localdate(at),
                unit_mg=locked.unit_mg,
                whole_units=locked.product_kind == "esketamine_device",
            )
        except LedgerError as exc:
            raise (Conflict(str(exc), field=exc.field) if exc.field == "lot" else invalid(exc)) from None
        entry = write_entry(
            locked, "draw", amount, -amount, at=at, by=acting_user, session=session, patient=session.patient
        )
        audit.record(
            EventType.STOCK_DRAWN,
            actor=acting_user,
            patient=session.patient,
            subject=entry,
            at=at,
            new={"lot": locked.lot_number, "mg": amount, "balance_mg": locked.balance_mg, "session": session.pk},
        )
    return entry


def do_waste_stock(
    session: InfusionSession,
    lot: StockLot,
    *,
    mg: Any,
    witness: User | None,
    witness_password: str,
    reason: str = "",
    at: datetime,
    acting_user: User,
) -> LedgerEntry:
    """Waste what was drawn for ``session`` and not given, witnessed by a second licensed
    clinician who confirms with their own password ([S83]); never more than the residual."""
    require_ledger(acting_user, Action.WASTE_STOCK, "Your role may not waste controlled substances.")
    try:
        amount = rules.mg(mg)
        rules.check_witness(
            recorder_id=acting_user.pk,
            witness_id=witness.pk if witness else None,
            witness_role=witness.role if witness and witness.is_active else "",
            allowed_roles=tuple(r for r in allowed_roles(Action.WITNESS_WASTE)),
        )
    except LedgerError as exc:
        raise invalid(exc) from None
    assert witness is not None
    _confirm_witness(witness, witness_password, acting_user=acting_user)
    _check_lot_for(session, lot)
    with transaction.atomic():
        InfusionSession.objects.select_for_update().filter(pk=session.pk).first()
        locked = lock_lot(lot)
        entries = list(LedgerEntry.objects.filter(session=session).select_related("corrects"))
        drawn, wasted = _net(entries, "draw"), _net(entries, "waste")
        try:
            rules.check_waste(
                amount_mg=amount, drawn_mg=drawn.get(lot.pk, _ZERO), given_mg=None, wasted_mg=wasted.get(lot.pk, _ZERO)
            )
            session.refresh_from_db(fields=["administered_mg", "status"])
            drawn_mg, wasted_mg = sum(drawn.values(), _ZERO), sum(wasted.values(), _ZERO)
            rules.check_waste(
                amount_mg=amount, drawn_mg=drawn_mg, given_mg=session.administered_mg, wasted_mg=wasted_mg
            )
            allowed = wastable_mg(
                session, rules.session_tie(drawn_mg=drawn_mg, given_mg=session.administered_mg, wasted_mg=wasted_mg)
            )
            if amount > allowed:
                raise LedgerError(
                    f"until the dose has ended only what was drawn beyond the ordered {session.order.dose_mg} mg "
                    f"may be wasted ({allowed} mg now): {_dose_not_ended(session)}",
                    field="mg",
                )
        except LedgerError as exc:
            raise invalid(exc) from None
        entry = write_entry(
            locked,
            "waste",
            amount,
            _ZERO,
            at=at,
            by=acting_user,
            session=session,
            patient=session.patient,
            witness=witness,
            reason=(reason or "residual after the dose").strip()[:300],
        )
        audit.record(
            EventType.STOCK_WASTED,
            actor=acting_user,
            patient=session.patient,
            subject=entry,
            at=at,
            new={"lot": locked.lot_number, "mg": amount, "witness": witness.username, "session": session.pk},
        )
    return entry


def _confirm_witness(witness: User, password: str, *, acting_user: User) -> None:
    """The witness's own password, with the same lockout as logging in: after the clinic's
    login failure limit within the lockout time, the witness cannot confirm (so the waste form
    is no way around django-axes' limit on guessing a colleague's password)."""
    since = timezone.now() - timedelta(hours=float(settings.AXES_COOLOFF_TIME))
    failures = AuditEvent.objects.filter(
        event_type=EventType.WITNESS_PASSWORD_FAILED,
        subject_type="User",
        subject_id=str(witness.pk),
        occurred_at__gte=since,
    ).count()
    if failures >= int(settings.AXES_FAILURE_LIMIT):
        raise NotAllowed("Too many wrong passwords for this witness; choose another witness or try later.")
    if witness.check_password(password or ""):
        return
    with transaction.atomic():
        audit.record(
            EventType.WITNESS_PASSWORD_FAILED, actor=acting_user, subject=witness, new={"witness": witness.username}
        )
    raise InvalidInput("the witness's password is not correct", field="witness_password")


_CORRECTABLE = {"receipt": Action.RECEIVE_STOCK, "draw": Action.DRAW_STOCK, "waste": Action.WASTE_STOCK}


def do_correct_entry(
    entry: LedgerEntry, *, reason: str, at: datetime, acting_user: User, replacement_lot: StockLot | None = None
) -> LedgerEntry:
    """Correct an entry with a new, linked entry that reverses it; the original stays in the
    record ([S81]). A draw or waste put on the wrong lot may name ``replacement_lot``: the same
    amount is recorded there in the same transaction, so the session stays tied."""
    action = _CORRECTABLE.get(entry.kind)
    if action is None:
        raise Conflict("Only receipts, draws and waste are corrected; resolve a count instead.", field="entry")
    require_ledger(acting_user, action, "Your role may not correct this entry.")
    reason = text(reason, "reason", 5, 300)
    if replacement_lot is not None and (
        entry.kind == "receipt" or replacement_lot.product_kind != entry.lot.product_kind
    ):
        raise InvalidInput("the replacement lot must hold the same product", field="replacement_lot")
    closed = entry.session is not None and entry.session.status == "discharged"
    if closed and entry.kind in {"draw", "waste"} and replacement_lot is None:
        raise Conflict(
            "The session is closed and tied: move the entry to the lot it came from instead.", field="replacement_lot"
        )
    if replacement_lot is not None and replacement_lot.pk == entry.lot_id:
        raise InvalidInput("the replacement lot must be another lot", field="replacement_lot")
    if replacement_lot is not None and entry.kind == "waste" and entry.witness_id == acting_user.pk:
        raise Conflict("The waste's witness cannot re-record it; ask another clinician.", field="entry")
    with transaction.atomic():
        lots = [entry.lot_id] + ([replacement_lot.pk] if replacement_lot else [])
        locked = {lot.pk: lot for lot in StockLot.objects.select_for_update().filter(pk__in=lots).order_by("pk")}
        if LedgerEntry.objects.filter(corrects=entry).exists():
            raise Conflict("This entry was already corrected.", field="entry")
        link: dict[str, Any] = {"session": entry.session, "patient": entry.patient, "witness": None}
        fixed = write_entry(
            locked[entry.lot_id], "correction", entry.mg, -entry.stock_delta_mg,
            at=at, by=acting_user, corrects=entry, reason=reason, **link,
        )  # fmt: skip
        if replacement_lot is not None:
            again = locked[replacement_lot.pk]
            if entry.kind == "draw":
                try:
                    rules.check_draw(
                        amount_mg=entry.mg, balance_mg=again.balance_mg, expiry=again.expiry,
                        on=timezone.localdate(entry.at), unit_mg=again.unit_mg, whole_units=False,
                    )  # fmt: skip
                except LedgerError as exc:
                    raise Conflict(str(exc), field="replacement_lot") from None
            link["witness"] = entry.witness
            write_entry(again, entry.kind, entry.mg, entry.stock_delta_mg, at=at, by=acting_user, reason=reason, **link)
        audit.record(
            EventType.LEDGER_ENTRY_CORRECTED,
            actor=acting_user,
            patient=entry.patient,
            subject=fixed,
            at=at,
            old={"entry": entry.pk, "kind": entry.kind, "lot": entry.lot.lot_number, "mg": entry.mg},
            new={"reason": reason, "replacement_lot": replacement_lot.lot_number if replacement_lot else None},
        )
    return fixed


def do_update_ledger_settings(
    *,
    roles: dict[str, list[str]],
    count_times: list[str],
    registrant_name: str,
    registrant_address: str,
    dea_number: str,
    acting_user: User,
) -> LedgerSettings:
    """The admin narrows who may act within scope of practice and picks the count times
    ([S80][S83]); the registrant's details fill DEA Form 106 ([S82])."""
    require(acting_user, Action.MANAGE_SETTINGS, "Only an administrator changes the ledger settings.")
    try:
        clean_roles = rules.check_ledger_roles(roles)
    except LedgerError as exc:
        raise invalid(exc) from None
    times = [t for t in count_times if t in rules.COUNT_KINDS and t not in {"initial", "biennial"}]
    if not times:
        raise InvalidInput("choose at least one count time", field="count_times")
    dea = (dea_number or "").strip().upper()
    if dea and not re.match(r"^[A-Z]{2}\d{7}$", dea):
        raise InvalidInput("DEA number must be two letters and seven digits", field="dea_number")
    with transaction.atomic():
        # fresh and locked: the per-request copy may be a few seconds old (clinic.per_request)
        row = LedgerSettings.objects.select_for_update().filter(singleton=1).first() or LedgerSettings()
        old = {"roles": row.roles, "count_times": row.count_times, "dea_number": row.dea_number}
        row.roles = {k: list(v) for k, v in clean_roles.items()}
        row.count_times = times
        row.registrant_name = (registrant_name or "").strip()[:120]
        row.registrant_address = (registrant_address or "").strip()[:250]
        row.dea_number = dea
        row.updated_at = timezone.now()
        row.save()
        audit.record(
            EventType.LEDGER_SETTINGS_CHANGED,
            actor=acting_user,
            subject=row,
            old=old,
            new={"roles": row.roles, "count_times": times, "dea_number": dea},
        )
    return row
