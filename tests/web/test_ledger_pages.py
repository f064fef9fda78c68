"""The ledger's pages over HTTP: who may open each, the session's draw and witnessed waste,
counts, discrepancies, corrections, and the reports as page, CSV and PDF."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from ketamine_clinic.domain.policy import ROLES
from ketamine_clinic.services import ledger, sessions
from ketamine_clinic.storage.models import LedgerEntry, StockDiscrepancy, StockLot
from tests.conftest import MONDAY, PASSWORD
from tests.services.test_ledger import receive

STAFF = {"prescriber", "crna", "rn"}


@pytest.fixture
def lot(prescriber):  # type: ignore[no-untyped-def]
    return receive(prescriber, expiry=MONDAY.date() + timedelta(days=3650))


@pytest.fixture
def loss(lot, nurse, prescriber):  # type: ignore[no-untyped-def]
    ledger.do_record_counts({lot.pk: "1995"}, count_kind="closing", at=MONDAY, acting_user=nurse)
    found = StockDiscrepancy.objects.get()
    return ledger.do_resolve_discrepancy(
        found,
        resolution="theft",
        reason="Vial missing from the safe after the weekend",
        at=MONDAY,
        acting_user=prescriber,
    )


def _pages(lot, loss):  # type: ignore[no-untyped-def]
    receipt = LedgerEntry.objects.get(lot=lot, kind="receipt")
    return {
        "/clinic/ledger/": STAFF,
        "/clinic/ledger/receive/": {"prescriber"},
        "/clinic/ledger/count/": STAFF,
        f"/clinic/ledger/lots/{lot.pk}/": STAFF,
        f"/clinic/ledger/entries/{receipt.pk}/correct/": STAFF,
        f"/clinic/ledger/discrepancies/{loss.pk}/": STAFF,
        "/clinic/ledger/reports/dispensing/": STAFF,
        "/clinic/ledger/reports/dispensing.csv": STAFF,
        "/clinic/ledger/reports/inventory/": STAFF,
        "/clinic/ledger/reports/inventory.csv": STAFF,
        f"/clinic/ledger/reports/loss/{loss.pk}/": STAFF,
        f"/clinic/ledger/reports/loss/{loss.pk}.csv": STAFF,
        "/admin-area/ledger/": {"admin"},
    }


@pytest.mark.parametrize("role", [r.value for r in ROLES])
def test_each_ledger_page_opens_only_for_its_roles(client, personas, role, lot, loss) -> None:
    client.force_login(personas[role])
    for url, roles in _pages(lot, loss).items():
        response = client.get(url)
        assert response.status_code == (200 if role in roles else 403), (url, role, response.status_code)


@pytest.mark.parametrize(
    "url",
    [
        "/clinic/ledger/lots/999999/",
        "/clinic/ledger/entries/999999/correct/",
        "/clinic/ledger/discrepancies/999999/",
        "/clinic/ledger/reports/loss/999999/",
    ],
)
def test_a_missing_ledger_row_is_a_404(client, prescriber, url) -> None:
    client.force_login(prescriber)
    assert client.get(url).status_code == 404


def test_a_patient_cannot_draw_for_a_session_and_a_missing_session_is_a_404(
    client, running_session, lot, patient_user, nurse
) -> None:
    client.force_login(patient_user)
    assert client.post(f"/clinic/sessions/{running_session.pk}/ledger/draw/", {"lot": lot.pk}).status_code == 403
    client.force_login(nurse)
    assert client.post("/clinic/sessions/999999/ledger/draw/", {"lot": lot.pk, "amount": "10"}).status_code == 404
    assert not LedgerEntry.objects.filter(kind="draw").exists()


def test_the_session_page_draws_then_wastes_with_a_witness_and_then_discharges(
    client, running_session, lot, nurse, crna
) -> None:
    url = f"/clinic/sessions/{running_session.pk}/"
    client.force_login(nurse)
    page = client.get(url).content.decode()
    assert "Controlled substance" in page and "draw from a lot before dosing" in page and "K-100" in page
    client.post(f"{url}ledger/draw/", {"lot": lot.pk, "amount": "40"})
    assert StockLot.objects.get(pk=lot.pk).balance_mg == Decimal("1960.0")
    page = client.get(url).content.decode()  # drawn, still running: no call to draw again
    assert "drawn; what is not given is accounted for when the dose ends" in page
    assert "draw from a lot before dosing" not in page
    sessions.do_record_pump_event(
        running_session,
        "stop",
        rate_ml_per_h=None,
        at=running_session.started_at + timedelta(minutes=40),
        acting_user=crna,
    )
    page = client.get(url).content.decode()
    assert "5.0 mg to account for" in page
    assert 'name="witness_password" autocomplete="new-password"' in page  # not the nurse's saved password
    wrong = client.post(
        f"{url}ledger/waste/", {"lot": lot.pk, "mg": "5", "witness": crna.pk, "witness_password": "not-it"}, follow=True
    )
    assert "password is not correct" in wrong.content.decode()
    self_witness = client.post(
        f"{url}ledger/waste/",
        {"lot": lot.pk, "mg": "5", "witness": nurse.pk, "witness_password": PASSWORD},
        follow=True,
    )
    assert "Select a valid choice" in self_witness.content.decode()  # the recorder is never offered as witness
    done = client.post(
        f"{url}ledger/waste/", {"lot": lot.pk, "mg": "5", "witness": crna.pk, "witness_password": PASSWORD}, follow=True
    )
    text = done.content.decode()
    assert "Wasted 5.0 mg, witnessed by" in text and "tied to the ledger" in text
    assert "Record witnessed waste" not in text and "Record draw" not in text  # nothing left to draw or waste


def test_an_esketamine_session_draws_in_devices(
    client, lot, prescriber, nurse, crna, patient, recorded_intake, chairs
) -> None:
    from tests.services.test_ledger import nasal_session

    devices = receive(prescriber, kind="esketamine_device", quantity=6, lot_number="E-9")
    session = nasal_session(prescriber, nurse, patient, recorded_intake)
    client.force_login(crna)
    page = client.get(f"/clinic/sessions/{session.pk}/").content.decode()
    assert "Devices drawn (28 mg each)" in page and "E-9" in page and "K-100" not in page  # vials are not offered
    client.post(f"/clinic/sessions/{session.pk}/ledger/draw/", {"lot": devices.pk, "amount": "2"})
    assert StockLot.objects.get(pk=devices.pk).balance_mg == Decimal("112.0")
    assert LedgerEntry.objects.get(kind="draw").mg == Decimal("56.0")


def test_a_count_that_differs_raises_a_discrepancy_for_a_prescriber(client, lot, nurse, prescriber) -> None:
    client.force_login(nurse)
    response = client.post(
        "/clinic/ledger/count/", {"count_kind": "opening", f"full_{lot.pk}": "3", f"open_{lot.pk}": "9.5"}, follow=True
    )
    assert "a prescriber must resolve it" in response.content.decode()
    found = StockDiscrepancy.objects.get()
    assert (found.counted_mg, found.expected_mg) == (Decimal("1975.0"), Decimal("2000.0"))
    home = client.get("/clinic/ledger/").content.decode()
    assert "Stock · 1 discrepancy" in client.get("/clinic/").content.decode()
    assert "Count discrepancies waiting for a prescriber" in home and "Opening</strong>:\n      done" in home
    assert client.post(f"/clinic/ledger/discrepancies/{found.pk}/", {"resolution": "loss"}).status_code == 403
    client.force_login(prescriber)
    short = client.post(f"/clinic/ledger/discrepancies/{found.pk}/", {"resolution": "loss", "reason": "short"})
    assert "Ensure this value has at least 10 characters" in short.content.decode()
    client.post(
        f"/clinic/ledger/discrepancies/{found.pk}/",
        {"resolution": "loss", "reason": "0.5 mL spilled while drawing; witnessed"},
    )
    assert StockLot.objects.get(pk=lot.pk).balance_mg == Decimal("1975.0")
    assert "discrepanc" not in client.get("/clinic/").content.decode()
    assert "DEA Form 106 draft" in client.get(f"/clinic/ledger/discrepancies/{found.pk}/").content.decode()


def test_a_count_with_a_missing_or_bad_number_saves_nothing(client, lot, nurse) -> None:
    client.force_login(nurse)
    response = client.post(
        "/clinic/ledger/count/", {"count_kind": "opening", f"full_{lot.pk}": "", f"open_{lot.pk}": "x"}
    )
    assert response.status_code == 422 and "enter the sealed units counted" in response.content.decode()
    assert not LedgerEntry.objects.filter(kind="count").exists()


def test_a_prescriber_receives_a_lot_through_the_form(client, prescriber) -> None:
    client.force_login(prescriber)
    data = {
        "product_kind": "ketamine_vial",
        "product_name": "Ketamine HCl 100 mg/mL",
        "ndc": "25021-684-05",
        "concentration_mg_per_ml": "100",
        "volume_ml": "5",
        "quantity": "10",
        "lot_number": "S-77",
        "expiry": "2030-01-31",
        "supplier": "Sagent",
        "invoice_ref": "INV-9",
        "new_location": "Safe B",
    }
    bad = client.post("/clinic/ledger/receive/", {**data, "ndc": "abc"})
    assert bad.status_code == 200 and "NDC must look like" in bad.content.decode()
    response = client.post("/clinic/ledger/receive/", data, follow=True)
    assert "Received lot S-77: 5000.0 mg." in response.content.decode()
    assert StockLot.objects.get(lot_number="S-77").location.name == "Safe B"


def test_a_correction_reverses_a_receipt_and_the_original_stays_struck_through(client, lot, prescriber) -> None:
    client.force_login(prescriber)
    receipt = LedgerEntry.objects.get(lot=lot, kind="receipt")
    client.post(f"/clinic/ledger/entries/{receipt.pk}/correct/", {"reason": "entered the wrong lot number"})
    assert StockLot.objects.get(pk=lot.pk).balance_mg == 0
    page = client.get(f"/clinic/ledger/lots/{lot.pk}/").content.decode()
    assert 'class="amended"' in page and "Correction of #" in page


def test_the_dispensing_log_as_page_csv_and_pdf(client, lot, running_session, nurse, prescriber, patient) -> None:
    ledger.do_draw_stock(running_session, lot, mg=40, at=MONDAY, acting_user=nurse)
    client.force_login(prescriber)
    page = client.get(f"/clinic/ledger/reports/dispensing/?patient={patient.mrn}").content.decode()
    assert "Pat Example" in page and "40.0" in page
    other = client.get("/clinic/ledger/reports/dispensing/?patient=NOPE").content.decode()
    assert "Nothing in this period" in other
    csv = client.get("/clinic/ledger/reports/dispensing.csv?since=2026-11-01").content.decode().splitlines()
    assert csv[0].startswith("date,time,patient,MRN") and "T-0001" in csv[1] and ",draw,40.0,0.80 mL," in csv[1]
    pdf = client.get("/clinic/ledger/reports/dispensing.pdf?since=2026-11-01")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_the_inventory_and_the_form_106_draft_as_csv_and_pdf(client, lot, loss, prescriber) -> None:
    client.force_login(prescriber)
    ledger.do_record_counts({lot.pk: "1995"}, count_kind="biennial", at=MONDAY, acting_user=prescriber)
    page = client.get("/clinic/ledger/reports/inventory/").content.decode()
    assert "Biennial inventory" in page and "2028-11-02" in page
    inventory_csv = client.get("/clinic/ledger/reports/inventory.csv").content.decode()
    assert "50.0 mg/mL, 10.0 mL vial (500.0 mg)" in inventory_csv and "1995.0" in inventory_csv
    assert client.get("/clinic/ledger/reports/inventory.pdf").content.startswith(b"%PDF")
    form = client.get(f"/clinic/ledger/reports/loss/{loss.pk}/").content.decode()
    assert "DEA registration number" in form and "to complete" in form and "Theft" in form
    loss_csv = client.get(f"/clinic/ledger/reports/loss/{loss.pk}.csv").content.decode()
    assert "Substance: ndc,0409-2051-05" in loss_csv and "Substance: quantity mg,5.0" in loss_csv
    assert client.get(f"/clinic/ledger/reports/loss/{loss.pk}.pdf").content.startswith(b"%PDF")


def test_the_admin_narrows_witnesses_and_the_session_offers_only_them(
    client, admin, running_session, lot, nurse, crna, prescriber
) -> None:
    client.force_login(admin)
    data = {f"roles_{a}": roles for a, roles in ledger.rules.DEFAULT_LEDGER_ROLES.items()}
    data.update({"roles_witness_waste": ["crna"], "count_times": ["opening", "closing"], "dea_number": "AB1234563"})
    response = client.post("/admin-area/ledger/", data, follow=True)
    assert "Ledger settings saved." in response.content.decode()
    bad = client.post("/admin-area/ledger/", {**data, "dea_number": "123"})
    assert "DEA number must be two letters and seven digits" in bad.content.decode()
    client.force_login(nurse)
    ledger.do_draw_stock(running_session, lot, mg=40, at=MONDAY, acting_user=nurse)
    page = client.get(f"/clinic/sessions/{running_session.pk}/").content.decode()
    witness_select = page.split('name="witness"')[1].split("</select>")[0]
    assert crna.display_name in witness_select and prescriber.display_name not in witness_select


def test_the_dispensing_log_shows_the_last_seven_days_unless_asked(
    client, lot, running_session, nurse, prescriber
) -> None:
    ledger.do_draw_stock(running_session, lot, mg=40, at=MONDAY, acting_user=nurse)  # weeks before today
    client.force_login(prescriber)
    assert "Nothing in this period" in client.get("/clinic/ledger/reports/dispensing/").content.decode()
    assert "Pat Example" in client.get("/clinic/ledger/reports/dispensing/?since=2026-11-01").content.decode()


def test_the_lot_page_offers_a_correction_only_to_roles_that_may_make_it(
    client, lot, running_session, nurse, prescriber
) -> None:
    ledger.do_draw_stock(running_session, lot, mg=40, at=MONDAY, acting_user=nurse)
    receipt, draw = LedgerEntry.objects.filter(lot=lot).order_by("id")
    client.force_login(prescriber)
    page = client.get(f"/clinic/ledger/lots/{lot.pk}/").content.decode()
    assert f"/entries/{receipt.pk}/correct/" in page and f"/entries/{draw.pk}/correct/" not in page
    client.force_login(nurse)
    page = client.get(f"/clinic/ledger/lots/{lot.pk}/").content.decode()
    assert f"/entries/{receipt.pk}/correct/" not in page and f"/entries/{draw.pk}/correct/" in page


def test_a_long_lot_shows_its_latest_entries_with_the_running_balance(
    client, lot, nurse, prescriber, monkeypatch
) -> None:
    monkeypatch.setattr("ketamine_clinic.web.views.ledger.LOT_PAGE_ENTRIES", 3)
    for counted in ("2000", "2000", "2000", "2000"):
        ledger.do_record_counts({lot.pk: counted}, count_kind="opening", at=MONDAY, acting_user=nurse)
    client.force_login(prescriber)
    page = client.get(f"/clinic/ledger/lots/{lot.pk}/").content.decode()
    assert "Showing the latest 3 of 5 entries" in page and "Receipt" not in page
    assert "Receipt" in client.get(f"/clinic/ledger/lots/{lot.pk}/?all=1").content.decode()


def test_the_session_card_reads_each_list_of_lots_once_and_says_when_there_is_none(
    client, running_session, lot, nurse
) -> None:
    """The draw form's lots are read once (whether any is in date, and the options shown),
    with an ordinary query: never ``QuerySet.iterator()``, a server-side cursor on
    PostgreSQL (three round trips)."""
    from unittest import mock

    from django.db import connection
    from django.db.models import QuerySet
    from django.test.utils import CaptureQueriesContext

    url = f"/clinic/sessions/{running_session.pk}/"
    client.force_login(nurse)
    client.get(url)
    no_cursor = mock.patch.object(QuerySet, "iterator", side_effect=AssertionError("a server-side cursor"))
    with CaptureQueriesContext(connection) as reads, no_cursor:
        page = client.get(url).content.decode()
    in_date = [
        q["sql"] for q in reads.captured_queries if 'FROM "kc_stock_lot"' in q["sql"] and "balance_mg" in q["sql"]
    ]
    assert len(in_date) == 1 and "Record draw" in page and f'value="{lot.pk}"' in page
    StockLot.objects.filter(pk=lot.pk).update(expiry=MONDAY.date() - timedelta(days=1))
    page = client.get(url).content.decode()
    assert "No lot of this product is in date with stock left." in page and "Record draw" not in page
