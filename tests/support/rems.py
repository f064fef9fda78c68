"""Set-up of the SPRAVATO REMS for tests that give esketamine: the setting certified, the
patient enrolled, and a session's prescriber on site, pulse oximetry and lot."""

from __future__ import annotations

from datetime import date, datetime

from ketamine_clinic.services import rems

LOT = "SP23K07"
EXPIRY = date(2030, 12, 31)


def rems_ready(patient, prescriber, at: datetime) -> None:  # type: ignore[no-untyped-def]
    if rems.certification() is None:
        rems.do_certify_site(
            certification_id="REMS-0001",
            setting_name="Ketamine Clinic test setting",
            authorized_representative="Dr Test Representative",
            certified_on=date(2026, 1, 5),
            at=at,
            acting_user=None,
        )
    if rems.enrolment(patient) is None:
        rems.do_enrol_patient(
            patient, rems_patient_id=f"P-{patient.pk:05d}", enrolled_on=date(2026, 1, 5), at=at, acting_user=prescriber
        )


def rems_on_site(session, prescriber, at: datetime, by=None):  # type: ignore[no-untyped-def]
    return rems.do_record_on_site(
        session,
        prescriber=prescriber,
        pulse_oximetry=True,
        lot_number=LOT,
        lot_expiry=EXPIRY,
        at=at,
        acting_user=by or prescriber,
    )
