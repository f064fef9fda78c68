"""Controlled-substance pages: stock, receipts, counts, discrepancies, corrections, the
session's draw and waste, the reports (page, CSV and PDF) and the ledger settings."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from ketamine_clinic.domain import ledger as rules
from ketamine_clinic.domain.policy import Action
from ketamine_clinic.services import ledger, ledger_reports
from ketamine_clinic.services.access import access_session_by_id
from ketamine_clinic.services.errors import NotFound, ServiceError
from ketamine_clinic.storage.models import LedgerEntry, Patient, StockDiscrepancy, StockLot, User
from ketamine_clinic.web.ledger_forms import (
    CorrectForm,
    DispensingFilterForm,
    DrawForm,
    LedgerSettingsForm,
    ReceiveForm,
    ResolveForm,
    WasteForm,
)
from ketamine_clinic.web.pdf import csv_response, pdf_response
from ketamine_clinic.web.permissions import actor, requires

_KIND = {"iv": "ketamine_vial", "nasal": "esketamine_device"}
LOT_PAGE_ENTRIES = 60  # the latest entries on a lot's page; ?all=1 shows every one


def _fail(form: Any, exc: ServiceError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _may(user: User) -> dict[str, bool]:
    return {a.value: ledger.may(user, a) for a in rules.LEDGER_ACTIONS}


def _lot_or_404(lot_id: int) -> StockLot:
    lot = StockLot.objects.select_related("location").filter(pk=lot_id).first()
    if lot is None:
        raise NotFound("Not found.")
    return lot


@requires(Action.VIEW_LEDGER)
def home(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    today = timezone.localdate()
    counted_today = {
        kind: LedgerEntry.objects.filter(kind="count", count_kind=kind, at__date=today)
        .select_related("recorded_by")
        .order_by("-at")
        .first()
        for kind in ledger.count_kinds()
        if kind not in {"initial", "biennial"}
    }
    return render(
        request,
        "ledger/home.html",
        {
            "rows": ledger_reports.lot_rows(),
            "today": today,
            "open": StockDiscrepancy.objects.filter(status="open").select_related("lot", "count_entry__recorded_by"),
            "resolved": StockDiscrepancy.objects.filter(status="resolved").select_related("lot", "resolved_by")[:5],
            "counted_today": counted_today,
            "may": _may(user),
        },
    )


@requires(Action.RECEIVE_STOCK)
def receive(request: HttpRequest) -> HttpResponse:
    form = ReceiveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            location = data.pop("location") or ledger.do_add_location(data["new_location"], acting_user=actor(request))
            data.pop("new_location")
            lot = ledger.do_receive_stock(
                product_kind=data["product_kind"],
                product_name=data["product_name"],
                ndc=data["ndc"],
                concentration_mg_per_ml=data["concentration_mg_per_ml"] or 0,
                volume_ml=data["volume_ml"] or 0,
                quantity=data["quantity"],
                lot_number=data["lot_number"],
                expiry=data["expiry"],
                supplier=data["supplier"],
                invoice_ref=data["invoice_ref"],
                order_form_ref=data["order_form_ref"],
                location=location,
                at=timezone.now(),
                acting_user=actor(request),
            )
        except ServiceError as exc:
            _fail(form, exc)
        else:
            messages.success(request, f"Received lot {lot.lot_number}: {lot.received_mg} mg.")
            return redirect("ledger-lot", lot_id=lot.pk)
    return render(request, "ledger/receive.html", {"form": form})


def _running(lot: StockLot) -> list[tuple[LedgerEntry, Decimal]]:
    """Entries in time order with the balance after each (recomputed in time order)."""
    balance = Decimal("0")
    out = []
    for entry in lot.entries.select_related("recorded_by", "witness", "patient", "corrects").order_by("at", "id"):
        balance += entry.stock_delta_mg
        out.append((entry, balance))
    return out


@requires(Action.VIEW_LEDGER)
def lot_detail(request: HttpRequest, lot_id: int) -> HttpResponse:
    lot = _lot_or_404(lot_id)
    corrected = set(LedgerEntry.objects.filter(lot=lot, corrects__isnull=False).values_list("corrects_id", flat=True))
    corrected |= set(
        LedgerEntry.objects.filter(corrects__lot=lot, kind="correction").values_list("corrects_id", flat=True)
    )
    entries = _running(lot)
    shown = entries if request.GET.get("all") == "1" else entries[-LOT_PAGE_ENTRIES:]
    return render(
        request,
        "ledger/lot.html",
        {
            "total": len(entries),
            "hidden": len(entries) - len(shown),
            "lot": lot,
            "units": rules.units_of(lot.balance_mg, lot.unit_mg),
            "quantity": ledger_reports.stock_quantity(lot, lot.balance_mg),
            "form": ledger_reports.finished_form(lot),
            "entries": shown,
            "corrected": corrected,
            "expired": lot.expiry < timezone.localdate(),
            "may": _may(actor(request)),
        },
    )


def _count_lots() -> list[StockLot]:
    return list(StockLot.objects.exclude(balance_mg=0).order_by("product_kind", "expiry", "id"))


@requires(Action.COUNT_STOCK)
def count(request: HttpRequest) -> HttpResponse:
    """Count every lot on hand: sealed units and the volume left in opened vials ([S80])."""
    lots = _count_lots()
    kinds = ledger.count_kinds()
    errors: list[str] = []
    if request.method == "POST":
        counts: dict[int, Decimal] = {}
        for lot in lots:
            try:
                counts[lot.pk] = rules.counted_mg(
                    unit_mg=lot.unit_mg,
                    full_units=request.POST.get(f"full_{lot.pk}", ""),
                    open_ml=request.POST.get(f"open_{lot.pk}", "") or 0,
                    concentration_mg_per_ml=lot.concentration_mg_per_ml,
                )
            except rules.LedgerError as exc:
                errors.append(f"Lot {lot.lot_number}: {exc}")
            if request.POST.get(f"full_{lot.pk}", "").strip() == "":
                errors.append(f"Lot {lot.lot_number}: enter the sealed units counted")
        if not errors:
            try:
                entries = ledger.do_record_counts(
                    counts,
                    count_kind=request.POST.get("count_kind", ""),
                    at=timezone.now(),
                    acting_user=actor(request),
                )
            except ServiceError as exc:
                errors.append(exc.message)
            else:
                if StockDiscrepancy.objects.filter(count_entry__in=entries).exists():
                    messages.error(request, "The count differs from the record: a prescriber must resolve it.")
                else:
                    messages.success(request, "Count recorded: it matches the record.")
                return redirect("ledger-home")
    return render(
        request,
        "ledger/count.html",
        {"lots": lots, "kinds": kinds, "errors": errors, "posted": request.POST},
        status=422 if errors else 200,
    )


@requires(Action.VIEW_LEDGER)
def discrepancy(request: HttpRequest, discrepancy_id: int) -> HttpResponse:
    found = (
        StockDiscrepancy.objects.select_related("lot", "count_entry__recorded_by", "resolved_by")
        .filter(pk=discrepancy_id)
        .first()
    )
    if found is None:
        raise NotFound("Not found.")
    user = actor(request)
    form = ResolveForm(request.POST or None)
    if request.method == "POST":
        if not ledger.may(user, Action.RESOLVE_DISCREPANCY):
            return render(request, "403.html", {"action": Action.RESOLVE_DISCREPANCY}, status=403)
        if form.is_valid():
            try:
                ledger.do_resolve_discrepancy(found, **form.cleaned_data, at=timezone.now(), acting_user=user)
            except ServiceError as exc:
                _fail(form, exc)
            else:
                messages.success(request, "Discrepancy resolved.")
                return redirect("ledger-discrepancy", discrepancy_id=found.pk)
    return render(
        request,
        "ledger/discrepancy.html",
        {"d": found, "form": form, "may": _may(user), "is_loss": found.resolution in rules.LOSS_RESOLUTIONS},
    )


@requires(Action.VIEW_LEDGER)
def correct(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = LedgerEntry.objects.select_related("lot", "session", "patient").filter(pk=entry_id).first()
    if entry is None or entry.kind not in {"receipt", "draw", "waste"}:
        raise NotFound("Not found.")
    others = StockLot.objects.filter(product_kind=entry.lot.product_kind).exclude(pk=entry.lot_id)
    form = CorrectForm(request.POST or None, lots=others if entry.kind != "receipt" else StockLot.objects.none())
    if request.method == "POST" and form.is_valid():
        try:
            ledger.do_correct_entry(
                entry,
                reason=form.cleaned_data["reason"],
                replacement_lot=form.cleaned_data["replacement_lot"],
                at=timezone.now(),
                acting_user=actor(request),
            )
        except ServiceError as exc:
            _fail(form, exc)
        else:
            messages.success(request, "Corrected by a linked entry; the original stays in the record.")
            return redirect("ledger-lot", lot_id=entry.lot_id)
    return render(request, "ledger/correct.html", {"entry": entry, "form": form})


# ---- the session's draw and waste ----


def session_forms(session: Any, user: User, data: Any = None, which: str = "") -> dict[str, Any]:
    """Draw and waste forms for ``session`` (used by the session card and the POST views)."""
    kind = _KIND[session.order.route]
    drawable = StockLot.objects.filter(product_kind=kind, balance_mg__gt=0, expiry__gte=timezone.localdate())
    drawn = LedgerEntry.objects.filter(session=session, kind="draw").values_list("lot_id", flat=True)
    witnesses = (
        User.objects.filter(is_active=True, role__in=ledger.allowed_roles(Action.WITNESS_WASTE))
        .exclude(pk=user.pk)
        .order_by("role", "last_name", "username")
    )
    return {
        "draw_form": DrawForm(
            data if which == "draw" else None,
            lots=drawable.order_by("expiry", "id"),
            devices=kind == "esketamine_device",
        ),
        "waste_form": WasteForm(
            data if which == "waste" else None, lots=StockLot.objects.filter(pk__in=drawn), witnesses=witnesses
        ),
    }


def _session_post(request: HttpRequest, session_id: int, which: str, action: Action) -> HttpResponse:
    user = actor(request)
    session = access_session_by_id(user, session_id, action=action)
    if request.method != "POST":
        return redirect("session", session_id=session.pk)
    form = session_forms(session, user, request.POST, which)[f"{which}_form"]
    if form.is_valid():
        data = form.cleaned_data
        try:
            if which == "draw":
                amount = data["amount"] * (rules.ESKETAMINE_DEVICE_MG if session.order.route == "nasal" else 1)
                ledger.do_draw_stock(session, data["lot"], mg=amount, at=timezone.now(), acting_user=user)
                messages.success(request, f"Drew {rules.mg(amount)} mg from lot {data['lot'].lot_number}.")
            else:
                ledger.do_waste_stock(
                    session, data["lot"], mg=data["mg"], witness=data["witness"],
                    witness_password=data["witness_password"], reason=data["reason"],
                    at=timezone.now(), acting_user=user,
                )  # fmt: skip
                witness = data["witness"].display_name
                messages.success(request, f"Wasted {rules.mg(data['mg'])} mg, witnessed by {witness}.")
            return redirect("session", session_id=session.pk)
        except ServiceError as exc:
            messages.error(request, f"{'Draw' if which == 'draw' else 'Waste'} not recorded: {exc.message}")
    else:
        problems = "; ".join(
            f"{form.fields[f].label if f in form.fields else ''}: {e[0]}" for f, e in form.errors.items()
        )
        messages.error(request, f"{'Draw' if which == 'draw' else 'Waste'} not recorded: {problems}")
    return redirect("session", session_id=session.pk)


@requires(Action.DRAW_STOCK)
def session_draw(request: HttpRequest, session_id: int) -> HttpResponse:
    return _session_post(request, session_id, "draw", Action.DRAW_STOCK)


@requires(Action.WASTE_STOCK)
def session_waste(request: HttpRequest, session_id: int) -> HttpResponse:
    return _session_post(request, session_id, "waste", Action.WASTE_STOCK)


# ---- reports ----

_DISPENSING_HEADER = (
    "date", "time", "patient", "MRN", "session", "product", "NDC", "lot",
    "entry", "mg", "quantity", "by", "witness", "reason",
)  # fmt: skip


def _dispensing(request: HttpRequest) -> tuple[DispensingFilterForm, list[Any]]:
    """Filters from the query string; without any, the last seven days."""
    default = {"since": (timezone.localdate() - timedelta(days=6)).isoformat()}
    form = DispensingFilterForm(request.GET or default)
    filters: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {"since": data["since"], "until": data["until"], "lot_id": data["lot"].pk if data["lot"] else None}
        if data["patient"]:
            patient = Patient.objects.filter(mrn__iexact=data["patient"].strip()).first()
            filters["patient_id"] = patient.pk if patient else -1
    return form, ledger_reports.access_dispensing_log(actor(request), **filters)


@requires(Action.VIEW_LEDGER)
def dispensing_log(request: HttpRequest, fmt: str = "html") -> HttpResponse:
    """Every draw and waste by date, patient and lot ([S81]); CSV and PDF with the same filters."""
    form, rows = _dispensing(request)
    if fmt == "csv":
        return csv_response(
            _DISPENSING_HEADER,
            (
                (
                    timezone.localtime(r.entry.at).date(),
                    f"{timezone.localtime(r.entry.at):%H:%M}",
                    r.entry.patient.full_name,
                    r.entry.patient.mrn,
                    r.entry.session_id,
                    r.entry.lot.product_name,
                    r.entry.lot.ndc,
                    r.entry.lot.lot_number,
                    r.entry.kind,
                    r.signed_mg,
                    r.quantity,
                    r.entry.recorded_by.display_name,
                    r.entry.witness.display_name if r.entry.witness else "",
                    r.entry.reason,
                )  # fmt: skip
                for r in rows
            ),
            "dispensing-log.csv",
        )
    query = request.GET.urlencode() or f"since={form.data.get('since', '')}"
    context = {"form": form, "rows": rows, "query": query, "now": timezone.now()}
    if fmt == "pdf":
        return pdf_response(request, "ledger/pdf/dispensing.html", context, "dispensing-log.pdf")
    return render(request, "ledger/dispensing.html", context)


@requires(Action.VIEW_LEDGER)
def inventory(request: HttpRequest, fmt: str = "html") -> HttpResponse:
    """The latest biennial (or else initial) inventory and when the next is due ([S80])."""
    kind = "biennial" if LedgerEntry.objects.filter(kind="count", count_kind="biennial").exists() else "initial"
    report = ledger_reports.access_inventory(actor(request), kind=kind)
    if fmt == "csv":
        return csv_response(
            (
                "taken on",
                "timing",
                "product",
                "NDC",
                "lot",
                "finished form",
                "expiry",
                "counted mg",
                "containers",
                "by",
            ),
            (
                (
                    report.taken_on,
                    report.timing,
                    x.lot.product_name,
                    x.lot.ndc,
                    x.lot.lot_number,
                    x.form,
                    x.lot.expiry,
                    x.counted_mg,
                    x.quantity,
                    x.by.display_name,
                )  # fmt: skip
                for x in report.lines
            ),
            f"{kind}-inventory.csv",
        )
    context = {"report": report, "settings_row": ledger.ledger_settings(), "now": timezone.now()}
    if fmt == "pdf":
        return pdf_response(request, "ledger/pdf/inventory.html", context, f"{kind}-inventory.pdf")
    return render(request, "ledger/inventory.html", context)


@requires(Action.VIEW_LEDGER)
def loss_report(request: HttpRequest, discrepancy_id: int, fmt: str = "html") -> HttpResponse:
    """A DEA Form 106 draft for a loss or theft ([S82]); the registrant completes and files it."""
    report = ledger_reports.access_loss_report(actor(request), discrepancy_id)
    if fmt == "csv":
        rows: list[tuple[str, str]] = [(label, value) for _, label, value in report.fields]
        for item in report.substances:
            rows += [(f"Substance: {k.replace('_', ' ')}", v) for k, v in item.items()]
        return csv_response(("field", "value"), rows, f"dea-106-draft-{discrepancy_id}.csv")
    context = {"report": report, "now": timezone.now()}
    if fmt == "pdf":
        return pdf_response(request, "ledger/pdf/loss.html", context, f"dea-106-draft-{discrepancy_id}.pdf")
    return render(request, "ledger/loss.html", context)


@requires(Action.MANAGE_SETTINGS)
def settings_page(request: HttpRequest) -> HttpResponse:
    row = ledger.ledger_settings()
    roles = {a.value: list(ledger.allowed_roles(a)) for a in rules.LEDGER_ACTIONS}
    initial: dict[str, Any] = {
        "count_times": row.count_times or list(rules.DEFAULT_COUNT_TIMES),
        "registrant_name": row.registrant_name,
        "registrant_address": row.registrant_address,
        "dea_number": row.dea_number,
        **{f"roles_{k}": v for k, v in roles.items()},
    }
    form = LedgerSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ledger.do_update_ledger_settings(
                roles={a.value: data[f"roles_{a.value}"] for a in rules.LEDGER_ACTIONS},
                count_times=data["count_times"],
                registrant_name=data["registrant_name"],
                registrant_address=data["registrant_address"],
                dea_number=data["dea_number"],
                acting_user=actor(request),
            )
        except ServiceError as exc:
            field = f"roles_{exc.field}" if f"roles_{exc.field}" in form.fields else exc.field
            form.add_error(field if field in form.fields else None, exc.message)
        else:
            messages.success(request, "Ledger settings saved.")
            return redirect("admin-ledger-settings")
    return render(request, "ledger/settings.html", {"form": form})
