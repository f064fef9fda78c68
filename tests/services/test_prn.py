"""PRN medicines: standing orders per route, a medication administration record with time
and clinician, and refusals above the order's dose, maximum or frequency."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from ketamine_clinic.domain.prn import PRN_ORDERS, PrnError, check_prn_dose, prn_orders_for
from ketamine_clinic.domain.settings import ClinicRules
from ketamine_clinic.services import clinic, prn, sessions
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.storage.models import AuditEvent, EventType, PrnDose
from tests.conftest import VITALS


def test_iv_sessions_have_an_antiemetic_an_antihypertensive_and_a_benzodiazepine() -> None:
    classes = {o.drug_class for o in prn_orders_for("iv")}
    assert classes == {"antiemetic", "antihypertensive", "benzodiazepine"}
    nasal = prn_orders_for("nasal")
    assert [o.code for o in nasal] == ["ondansetron_odt"] and "IV" not in nasal[0].route


def test_every_prn_setting_is_unconfirmed_and_cited() -> None:
    from ketamine_clinic.domain.settings import SETTINGS

    names = [n for n in SETTINGS if n.startswith("prn_")]
    assert len(names) == 9
    for name in names:
        assert "UNCONFIRMED" in SETTINGS[name].note and SETTINGS[name].source.startswith("[S")


def test_the_domain_check_refuses_each_way_a_dose_can_be_wrong() -> None:
    rules = ClinicRules()
    order = PRN_ORDERS["ondansetron_iv"]
    t = __import__("datetime").datetime(2026, 11, 2, 9, 0)
    check_prn_dose(order, dose_mg=4, role="rn", given_before=[], at=t, rules=rules)
    with pytest.raises(PrnError, match="at most 4 mg") as error:
        check_prn_dose(order, dose_mg=6, role="rn", given_before=[], at=t, rules=rules)
    assert error.value.field == "dose_mg"
    with pytest.raises(PrnError, match="next dose may be given from 09:30"):
        check_prn_dose(order, dose_mg=4, role="rn", given_before=[(t, 4.0)], at=t + timedelta(minutes=10), rules=rules)
    with pytest.raises(PrnError, match="at most 0 mg more"):
        check_prn_dose(
            order, dose_mg=4, role="rn", given_before=[(t, 4.0), (t, 4.0)], at=t + timedelta(hours=2), rules=rules
        )
    with pytest.raises(PrnError, match="given by: crna, prescriber"):
        check_prn_dose(PRN_ORDERS["midazolam_iv"], dose_mg=1, role="rn", given_before=[], at=t, rules=rules)


def test_a_prn_dose_goes_on_the_mar_with_time_and_clinician(running_session, nurse) -> None:
    at = running_session.started_at + timedelta(minutes=12)
    row = prn.do_give_prn(
        running_session, "ondansetron_iv", dose_mg="4", indication="Nausea at 12 min", at=at, acting_user=nurse
    )
    assert (row.drug, row.dose_mg, row.route, row.at, row.recorded_by) == ("Ondansetron", Decimal("4"), "IV", at, nurse)
    assert [d.pk for d in prn.mar(running_session)] == [row.pk]
    event = AuditEvent.objects.filter(event_type=EventType.PRN_GIVEN).get()
    assert event.new_values["drug"] == "Ondansetron"
    line = next(x for x in prn.standing_orders(running_session, user=nurse) if x.order.code == "ondansetron_iv")
    assert line.given_mg == 4 and line.next_at == at + timedelta(minutes=30)


def test_prn_doses_are_refused_above_the_maximum_and_too_often(running_session, nurse) -> None:
    t = running_session.started_at
    give = prn.do_give_prn
    give(running_session, "ondansetron_iv", dose_mg=4, indication="Nausea", at=t, acting_user=nurse)
    with pytest.raises(InvalidInput, match="next dose may be given from") as error:
        give(
            running_session,
            "ondansetron_iv",
            dose_mg=4,
            indication="Nausea",
            at=t + timedelta(minutes=5),
            acting_user=nurse,
        )
    assert error.value.field == "drug"
    give(
        running_session,
        "ondansetron_iv",
        dose_mg=4,
        indication="Still nauseous",
        at=t + timedelta(minutes=31),
        acting_user=nurse,
    )
    with pytest.raises(InvalidInput, match="8 mg already given"):
        give(
            running_session,
            "ondansetron_iv",
            dose_mg=1,
            indication="Vomiting",
            at=t + timedelta(hours=2),
            acting_user=nurse,
        )
    assert PrnDose.objects.count() == 2


def test_the_maximum_follows_the_clinic_setting(running_session, nurse) -> None:
    clinic.do_update_clinic_rules({"prn_labetalol_max_mg": 10}, acting_user=None)
    t = running_session.started_at
    prn.do_give_prn(
        running_session, "labetalol_iv", dose_mg=10, indication="BP 186/104 on recheck", at=t, acting_user=nurse
    )
    with pytest.raises(InvalidInput, match="at most 10 mg per session"):
        prn.do_give_prn(
            running_session,
            "labetalol_iv",
            dose_mg=5,
            indication="BP high",
            at=t + timedelta(minutes=20),
            acting_user=nurse,
        )


def test_a_benzodiazepine_is_given_by_the_crna_not_the_rn(running_session, nurse, crna) -> None:
    t = running_session.started_at
    with pytest.raises(InvalidInput, match="Midazolam is given by"):
        prn.do_give_prn(running_session, "midazolam_iv", dose_mg=1, indication="Anxious", at=t, acting_user=nurse)
    prn.do_give_prn(running_session, "midazolam_iv", dose_mg=0.5, indication="Anxious", at=t, acting_user=crna)
    assert PrnDose.objects.get().dose_mg == Decimal("0.5")


def test_roles_outside_the_team_and_wrong_orders_are_refused(running_session, front_desk, nurse) -> None:
    t = running_session.started_at
    with pytest.raises(NotAllowed):
        prn.do_give_prn(running_session, "ondansetron_iv", dose_mg=4, indication="Nausea", at=t, acting_user=front_desk)
    with pytest.raises(InvalidInput, match="standing orders") as error:
        prn.do_give_prn(running_session, "ondansetron_odt", dose_mg=4, indication="Nausea", at=t, acting_user=nurse)
    assert error.value.field == "drug"
    for bad in ("", "abc", "nan", "-1"):
        with pytest.raises(InvalidInput) as error:
            prn.do_give_prn(
                running_session, "ondansetron_iv", dose_mg=bad, indication="Nausea", at=t, acting_user=nurse
            )
        assert error.value.field == "dose_mg"
    assert not PrnDose.objects.exists()


def test_no_prn_dose_after_discharge(running_session, nurse, crna) -> None:
    t = running_session.started_at
    sessions.do_record_pump_event(
        running_session, "stop", rate_ml_per_h=None, at=t + timedelta(minutes=40), acting_user=crna
    )
    sessions.do_record_vitals(running_session, VITALS, at=t + timedelta(minutes=95), acting_user=nurse)
    sessions.do_discharge(
        running_session,
        aldrete=[2] * 5,
        padss=[2] * 5,
        escort_present=True,
        dissociation_resolved=True,
        aftercare_given=True,
        at=t + timedelta(minutes=105),
        acting_user=nurse,
    )
    with pytest.raises(Conflict, match="discharged"):
        prn.do_give_prn(
            running_session,
            "ondansetron_iv",
            dose_mg=4,
            indication="Nausea",
            at=t + timedelta(minutes=110),
            acting_user=nurse,
        )


@pytest.mark.parametrize("dose", ["0.004", "3.999", "0", "-1", "NaN", "4 mg"])
def test_a_dose_the_record_cannot_keep_exactly_is_refused_naming_the_field(running_session, nurse, dose) -> None:
    from ketamine_clinic.services.errors import InvalidInput

    at = running_session.started_at + timedelta(minutes=12)
    with pytest.raises(InvalidInput) as error:
        prn.do_give_prn(running_session, "ondansetron_iv", dose_mg=dose, indication="Nausea", at=at, acting_user=nurse)
    assert error.value.field == "dose_mg"
    assert not prn.mar(running_session)


def test_a_prn_dose_edited_behind_the_application_is_reported_by_the_verification(running_session, nurse) -> None:
    from ketamine_clinic.services import audit

    at = running_session.started_at + timedelta(minutes=12)
    row = prn.do_give_prn(running_session, "ondansetron_iv", dose_mg="4", indication="Nausea", at=at, acting_user=nurse)
    assert audit.verify_chain().ok
    PrnDose.objects.filter(pk=row.pk).update(dose_mg=Decimal("1"))
    report = audit.verify_chain()
    assert not report.ok and any(f"PrnDose #{row.pk} differs" in p for p in report.problems)
