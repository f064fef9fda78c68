"""Human labels for the codes the clinic stores: protocols, instruments and their flags,
statuses, roles and actions. Pages show these, never the code (``iv_racemic_depression``
reads "IV racemic ketamine for depression"; ``phq9_item9`` reads "PHQ-9 item 9"). A code
with no label falls back to its words with underscores replaced, never to nothing."""

from __future__ import annotations

import re
from typing import Any

from ketamine_clinic.domain.instruments import INSTRUMENTS
from ketamine_clinic.domain.policy import Action
from ketamine_clinic.domain.protocols import PROTOCOLS

__all__ = ["ACTION_LABELS", "ROLE_LABELS", "audit_values", "label"]

ROLE_LABELS = {
    "admin": "Administrator",
    "prescriber": "Prescriber",
    "crna": "CRNA",
    "rn": "RN",
    "front_desk": "Front desk",
    "patient": "Patient",
    "auditor": "Auditor",
}

#: what each permission lets a person do, as a 403 page or a settings page says it
ACTION_LABELS: dict[str, str] = {
    Action.VIEW_CHART: "open patient charts",
    Action.VIEW_DEMOGRAPHICS: "see patients' contact details",
    Action.EDIT_INTAKE: "record an intake",
    Action.DECIDE_ELIGIBILITY: "decide eligibility",
    Action.PLAN_COURSE: "plan a treatment course",
    Action.SIGN_ORDER: "sign an order",
    Action.VERIFY_ORDER: "verify another clinician's order",
    Action.TITRATE_DOSE: "titrate a dose",
    Action.RECORD_VITALS: "record vital signs",
    Action.RECORD_SIDE_EFFECTS: "record side effects",
    Action.RECORD_ASSESSMENT: "record a rating",
    Action.START_STOP_INFUSION: "start or stop an infusion",
    Action.DISCHARGE: "discharge a patient",
    Action.SIGN_NOTE: "sign a note",
    Action.ACKNOWLEDGE_ALERT: "acknowledge an alert",
    Action.DECIDE_INDUCTION: "decide at the end of induction",
    Action.MANAGE_SCHEDULE: "manage the schedule",
    Action.VIEW_DASHBOARD: "see the clinic's dashboard",
    Action.MANAGE_USERS: "manage users",
    Action.MANAGE_SETTINGS: "change clinic settings",
    Action.VIEW_AUDIT: "read the audit trail",
    Action.VIEW_AUDIT_VALUES: "read the values in the audit trail",
    Action.COMPLETE_OWN_QUESTIONNAIRE: "answer your own questionnaires",
    Action.VIEW_OWN_RESULTS: "see your own results",
    Action.CLOSE_SUICIDE_ALERT: "close a suicide-risk alert",
    Action.MANAGE_ON_CALL: "keep the on-call rota",
    Action.VIEW_LEDGER: "see the controlled-substance ledger",
    Action.RECEIVE_STOCK: "receive controlled-substance stock",
    Action.DRAW_STOCK: "draw a dose from stock",
    Action.WASTE_STOCK: "waste a controlled substance",
    Action.WITNESS_WASTE: "witness waste",
    Action.COUNT_STOCK: "count stock",
    Action.RESOLVE_DISCREPANCY: "resolve a count discrepancy",
    Action.GIVE_PRN: "give an as-needed (PRN) medicine",
    Action.RECORD_PRE_PROCEDURE: "record the pre-procedure assessment",
    Action.MERGE_PATIENTS: "merge duplicate patient records",
}

_WORDS = {
    "trd": "treatment-resistant depression",
    "mdsi": "depression with suicidal thoughts",
    "iv": "IV",
    "ptsd": "PTSD",
    "crna": "CRNA",
    "rn": "RN",
    "no_show": "no-show",
    "decision_due": "decision due",
    "not_eligible": "not eligible",
    "needs_review": "needs review",
}


def _instrument_flag(code: str) -> str | None:
    match = re.fullmatch(r"([a-z0-9]+)_item(\d+)", code)
    if match and match.group(1) in INSTRUMENTS:
        return f"{INSTRUMENTS[match.group(1)].name} item {match.group(2)}"
    return None


def label(code: Any) -> str:
    """The words people read for ``code``."""
    text = str(code)
    if text in PROTOCOLS:
        return PROTOCOLS[text].name
    if text in INSTRUMENTS:
        return INSTRUMENTS[text].name
    if text in ROLE_LABELS:
        return ROLE_LABELS[text]
    if text in ACTION_LABELS:
        return ACTION_LABELS[text]
    if text in _WORDS:
        return _WORDS[text]
    return _instrument_flag(text) or text.replace("_", " ")


def audit_values(values: Any) -> str:
    """An audit row's JSON values as "field: value; …" with field names in words."""
    if not isinstance(values, dict):
        return "" if values in (None, "", [], {}) else str(values)
    parts = []
    for key, value in values.items():
        if isinstance(value, dict):
            shown = audit_values(value)
        elif isinstance(value, list):
            shown = ", ".join(str(v) for v in value) or "none"
        elif isinstance(value, bool):
            shown = "yes" if value else "no"
        else:
            shown = "—" if value in (None, "") else str(value)
        parts.append(f"{str(key).replace('_', ' ')}: {shown}")
    return "; ".join(parts)


#: The settings page's topics, in the order a clinic reads them; a setting in none of them
#: is shown under "Other" (so a new setting is never hidden).
SETTING_TOPICS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "Dose and hard limits",
        "What an order may prescribe and the pump may deliver; above a hard limit nothing is saved.",
        ("standard_dose_mg_per_kg", "standard_duration_min", "titrated_dose_mg_per_kg", "titrate_after_infusions",
         "max_dose_mg_per_kg", "max_dose_mg_per_session", "max_rate_mg_per_kg_per_h", "rate_allowance_factor",
         "default_concentration_mg_per_ml", "min_weight_kg", "max_weight_kg", "weight_change_new_order_pct"),
    ),
    (
        "Course and maintenance",
        "How many infusions an induction has, how close together, and when boosters fall.",
        ("induction_infusions", "infusions_per_week", "min_hours_between_infusions", "maintenance_min_weeks",
         "maintenance_max_weeks"),
    ),
    (
        "Vital signs at the chair",
        "How often vitals are due and the levels that notify, pause or stop a session.",
        ("vitals_every_min", "vitals_every_dosing_min", "sbp_notify_mmhg", "sbp_pause_mmhg", "sbp_stop_mmhg",
         "dbp_pause_mmhg", "dbp_stop_mmhg", "sbp_rise_notify_mmhg", "hr_pause_bpm", "hr_low_notify_bpm",
         "hr_low_pause_bpm", "sbp_low_pause_mmhg", "sbp_fall_notify_pct", "rr_high_notify", "spo2_pause_below_pct",
         "spo2_stop_below_pct", "rr_low_pause", "predose_defer_sbp_mmhg", "predose_defer_dbp_mmhg"),
    ),
    (
        "Discharge",
        "When a patient may go home after the dose.",
        ("aldrete_min", "padss_min", "discharge_bp_within_pct", "min_observation_iv_min",
         "min_observation_esketamine_min"),
    ),
    (
        "Outcomes and ratings",
        "What counts as response and remission, and which rating items need review.",
        ("response_drop_pct", "partial_response_drop_pct", "remission_phq9_below", "remission_madrs_at_most",
         "remission_qids_at_most", "remission_hamd_at_most", "pcl5_item16_review_at", "bprs_positive_item_review_at",
         "cadss_significant_above"),
    ),
    (
        "Eligibility and safety pathway",
        "Who is screened in, and how fast an urgent suicide-risk alert must be taken.",
        ("min_failed_trials", "min_age_years", "max_age_years", "suicide_ack_deadline_min"),
    ),
    ("Controlled substances", "How counts are compared with the ledger.", ("count_volume_step_ml",)),
)  # fmt: skip

_SETTING_WORDS = {
    "sbp": "systolic BP",
    "dbp": "diastolic BP",
    "hr": "heart rate",
    "rr": "respiratory rate",
    "spo2": "SpO₂",
    "bpm": "",
    "mmhg": "",
    "pct": "%",
    "min": "min",
    "max": "max",
    "mg": "mg",
    "kg": "kg",
    "ml": "mL",
    "h": "h",
    "iv": "IV",
    "phq9": "PHQ-9",
    "madrs": "MADRS",
    "qids": "QIDS",
    "hamd": "HAM-D",
    "pcl5": "PCL-5",
    "bprs": "BPRS",
    "cadss": "CADSS",
    "padss": "PADSS",
    "aldrete": "Aldrete",
    "predose": "pre-dose",
    "ack": "acknowledgement",
}


def setting_label(name: str) -> str:
    """A setting's name in words ("sbp_pause_mmhg" -> "Systolic BP pause")."""
    words = [_SETTING_WORDS.get(w, w) for w in name.split("_")]
    text = " ".join(w for w in words if w).replace(" per ", "/").replace("% ", "% ")
    return text[:1].upper() + text[1:]
