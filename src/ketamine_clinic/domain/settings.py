"""Every clinical threshold, as a clinic setting with its cited default.

``SETTINGS`` describes each one (default, unit, allowed range, source, and a note where
the reference marks the value UNCONFIRMED: such defaults must be confirmed by the
clinic's medical director). ``ClinicRules`` holds one clinic's values and refuses a
value outside its range.

Errors::

    SettingError (ValueError)   a value outside its allowed range; names the setting
      SettingOrderError         two levels in the wrong order (a pause above the stop level)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

__all__ = [
    "ORDERED",
    "SETTINGS",
    "ClinicRules",
    "SettingError",
    "SettingOrderError",
    "SettingSpec",
    "describe_settings",
]


class SettingError(ValueError):
    code = "setting_out_of_range"

    def __init__(self, name: str, low: float, high: float, unit: str) -> None:
        super().__init__(f"{name} must be from {low:g} to {high:g} {unit}".rstrip())
        self.field = name


@dataclass(frozen=True)
class SettingSpec:
    default: float
    unit: str
    low: float
    high: float
    source: str
    note: str = ""


_U = "UNCONFIRMED in the reference: confirm with the clinic's medical director."

SETTINGS: dict[str, SettingSpec] = {
    # dosing [S11][S13][S12][S14]
    "standard_dose_mg_per_kg": SettingSpec(0.5, "mg/kg", 0.1, 1.0, "[S11][S13]"),
    "standard_duration_min": SettingSpec(40, "min", 20, 120, "[S11][S13]"),
    "titrated_dose_mg_per_kg": SettingSpec(0.75, "mg/kg", 0.5, 1.0, "[S12]"),
    "titrate_after_infusions": SettingSpec(3, "infusions", 1, 6, "[S12]"),
    "max_dose_mg_per_kg": SettingSpec(
        1.0,
        "mg/kg",
        0.5,
        3.0,
        "[S11][S14]",
        "Hard limit; community practice reaches 3.0 mg/kg [S14]. " + _U,
    ),
    "max_dose_mg_per_session": SettingSpec(100, "mg", 20, 300, "[S11]", "Hard limit per session. " + _U),
    "max_rate_mg_per_kg_per_h": SettingSpec(
        1.5, "mg/kg/h", 0.5, 7.0, "[S44]", "Pain infusions run 0.5-2 mg/kg/h [S44]. " + _U
    ),
    "pain_max_dose_mg_per_kg": SettingSpec(
        2.0,
        "mg/kg",
        1.4,
        4.0,
        "[S44]",
        "Hard limit per session for the chronic-pain protocol: 0.35 mg/kg/h over 4 h is 1.4 mg/kg [S44]. " + _U,
    ),
    "pain_max_dose_mg_per_session": SettingSpec(
        250,
        "mg",
        100,
        500,
        "[S44]",
        "Hard limit per session for the chronic-pain protocol; the consensus reports a dose-response with at "
        "least 80 mg over more than 2 hours [S44]. " + _U,
    ),
    "pain_max_rate_mg_per_kg_per_h": SettingSpec(
        2.0, "mg/kg/h", 0.5, 7.0, "[S44]", "Pain infusions run 0.5-2 mg/kg/h [S44]. " + _U
    ),
    "rate_allowance_factor": SettingSpec(
        1.0,
        "x order rate",
        1.0,
        1.5,
        "[S12]",
        "How far a CRNA may raise the pump above the ordered rate. " + _U,
    ),
    "min_weight_kg": SettingSpec(30, "kg", 20, 60, "[S11]", "Plausibility bound. " + _U),
    "weight_change_new_order_pct": SettingSpec(
        10,
        "% of the order's weight",
        2,
        25,
        "[S11]",
        "A weight re-recorded further than this from the order's weight needs a new signed order. " + _U,
    ),
    "max_weight_kg": SettingSpec(250, "kg", 120, 350, "[S11]", "Plausibility bound. " + _U),
    "weight_change_confirm_pct": SettingSpec(
        10,
        "% of the previous weight",
        3,
        30,
        "[S11]",
        "A newly entered weight further than this from the previous one must be confirmed (a kg/lb slip). " + _U,
    ),
    "bmi_confirm_below": SettingSpec(
        16,
        "kg/m²",
        12,
        18.5,
        "[S91]",
        "Below this BMI the weight must be confirmed; WHO's thinness grades [S91]. " + _U,
    ),
    "bmi_confirm_above": SettingSpec(
        50, "kg/m²", 40, 70, "[S91]", "Above this BMI the weight must be confirmed. " + _U
    ),
    "obesity_bmi_at_least": SettingSpec(
        30, "kg/m²", 25, 40, "[S91]", "From this BMI the order offers ideal and adjusted body weight [S89][S90]."
    ),
    "dose_change_confirm_pct": SettingSpec(
        20,
        "% of the last given dose",
        5,
        50,
        "[S12]",
        "A dose further than this from the last infusion's dose is a soft warning the prescriber confirms; "
        "the titration step is 0.5 to 0.75 mg/kg [S12]. " + _U,
    ),
    "default_concentration_mg_per_ml": SettingSpec(
        1.0, "mg/mL", 0.5, 10.0, "[S13]", "Bag concentration the pharmacy prepares. " + _U
    ),
    # course [S12][S41][S16][S17]
    "induction_infusions": SettingSpec(6, "infusions", 4, 12, "[S12][S41]"),
    "infusions_per_week": SettingSpec(3, "per week", 2, 3, "[S41][S12]"),
    "min_hours_between_infusions": SettingSpec(
        40,
        "h",
        20,
        96,
        "[S41]",
        "Three a week on alternate days gives >= 48 h; 40 h allows slack. " + _U,
    ),
    "maintenance_min_weeks": SettingSpec(2, "weeks", 1, 4, "[S16][S17]", _U),
    "maintenance_max_weeks": SettingSpec(6, "weeks", 4, 12, "[S16][S17]", _U),
    # outcomes [S11][S70b][S55][S54][S66][S53]
    "response_drop_pct": SettingSpec(50, "%", 30, 70, "[S11][S70b]"),
    "partial_response_drop_pct": SettingSpec(25, "%", 10, 49, "[S70b]", "Partial response 25-49 %. " + _U),
    "remission_phq9_below": SettingSpec(5, "points", 3, 10, "[S55]"),
    "remission_floor_phq9_above": SettingSpec(
        9, "points", 4, 14, "[S55]", "CMS159 counts remission only from an index PHQ-9 above 9 [S55]."
    ),
    "pcl5_response_drop_pct": SettingSpec(
        30,
        "%",
        20,
        60,
        "[S41]",
        "The PTSD trial counted a 30 % CAPS-5 improvement as response [S41]; applied to PCL-5 here. " + _U,
    ),
    "pain_response_drop_pct": SettingSpec(
        30,
        "%",
        15,
        60,
        "[S85][S86]",
        "A 30 % fall on a 0-10 pain score is a clinically important improvement [S85][S86]; the pain "
        "consensus's own response definition is not in the retrieved text [S44].",
    ),
    "remission_madrs_at_most": SettingSpec(10, "points", 6, 12, "[S54]"),
    "remission_qids_at_most": SettingSpec(5, "points", 3, 8, "[S66]"),
    "remission_hamd_at_most": SettingSpec(7, "points", 5, 10, "[S53]"),
    # vitals [S6][S7][S30]
    "vitals_every_min": SettingSpec(15, "min", 10, 30, "[S6][S7]", "After dosing: every 15 min at Emory [S6]."),
    "vitals_every_dosing_min": SettingSpec(
        10, "min", 5, 15, "[S6][S7]", "While the dose runs: every 10 min in both cited protocols [S6][S7]."
    ),
    "sbp_notify_mmhg": SettingSpec(160, "mmHg", 130, 200, "[S7]", _U),
    "sbp_pause_mmhg": SettingSpec(180, "mmHg", 150, 220, "[S7]", "The often-quoted 180/100. " + _U),
    "sbp_stop_mmhg": SettingSpec(200, "mmHg", 170, 240, "[S7]", _U),
    "dbp_pause_mmhg": SettingSpec(100, "mmHg", 85, 130, "[S7]", "The often-quoted 180/100. " + _U),
    "dbp_stop_mmhg": SettingSpec(110, "mmHg", 95, 140, "[S7]", _U),
    "sbp_rise_notify_mmhg": SettingSpec(
        30,
        "mmHg",
        10,
        60,
        "[S7]",
        "Mean rise at 40 min is +16 mmHg [S7]; a rise of 30 is unusual. " + _U,
    ),
    "hr_pause_bpm": SettingSpec(110, "/min", 90, 150, "[S7]", "The often-quoted HR > 110. " + _U),
    "hr_low_notify_bpm": SettingSpec(50, "/min", 35, 60, "[S49]", _U),
    "hr_low_pause_bpm": SettingSpec(40, "/min", 30, 50, "[S49]", "Bradycardia: pause and assess. " + _U),
    "sbp_low_pause_mmhg": SettingSpec(90, "mmHg", 70, 100, "[S49]", "Hypotension: pause and assess. " + _U),
    "sbp_fall_notify_pct": SettingSpec(
        20, "% below baseline", 10, 40, "[S46]", "Aldrete's circulation item scores a change beyond 20 % [S46]. " + _U
    ),
    "rr_high_notify": SettingSpec(24, "/min", 18, 35, "[S49]", "Tachypnoea. " + _U),
    "spo2_pause_below_pct": SettingSpec(92, "%", 85, 95, "[S46]"),
    "spo2_stop_below_pct": SettingSpec(88, "%", 80, 92, "[S46]", _U),
    "rr_low_pause": SettingSpec(8, "/min", 5, 12, "[S30]", "Respiratory depression [S30]. " + _U),
    "predose_defer_sbp_mmhg": SettingSpec(140, "mmHg", 130, 180, "[S30]"),
    "predose_defer_dbp_mmhg": SettingSpec(90, "mmHg", 80, 110, "[S30]"),
    "intake_defer_sbp_mmhg": SettingSpec(
        180,
        "mmHg",
        160,
        220,
        "[S87]",
        "A baseline above this (or above the diastolic level) is a hypertensive crisis [S87]: eligibility is "
        "deferred until the blood pressure is controlled.",
    ),
    "intake_defer_dbp_mmhg": SettingSpec(120, "mmHg", 100, 130, "[S87]", "See intake_defer_sbp_mmhg [S87]."),
    # discharge [S46][S49][S30]
    "aldrete_min": SettingSpec(9, "points", 8, 10, "[S46]"),
    "padss_min": SettingSpec(9, "points", 8, 10, "[S84]", "Home readiness with an escort [S84]."),
    "discharge_bp_within_pct": SettingSpec(20, "% of baseline", 10, 30, "[S46][S49]"),
    "min_observation_iv_min": SettingSpec(60, "min after the infusion", 30, 180, "[S49]", _U),
    "min_observation_esketamine_min": SettingSpec(120, "min after the dose", 120, 240, "[S30]"),
    # esketamine REMS [S37]
    "rems_form_due_days": SettingSpec(
        7, "days after the session", 1, 7, "[S37]", "The Patient Monitoring Form is submitted within 7 days [S37]."
    ),
    "rems_bp_40_min_window_min": SettingSpec(
        10,
        "min either side of 40 min",
        5,
        20,
        "[S30][S32]",
        "Which reading counts as 'about 40 minutes after the dose' on the monitoring form. " + _U,
    ),
    # standing PRN orders (domain.prn): the reference gives no doses, so every default is the
    # clinic's to confirm [S23][S30][S7][S20]
    "prn_ondansetron_dose_mg": SettingSpec(
        4, "mg", 1, 8, "[S23]", "Standing antiemetic dose (IV, or a dissolving tablet in nasal sessions). " + _U
    ),
    "prn_ondansetron_max_mg": SettingSpec(8, "mg per session", 1, 16, "[S23]", _U),
    "prn_ondansetron_every_min": SettingSpec(30, "min between doses", 5, 240, "[S23]", _U),
    "prn_labetalol_dose_mg": SettingSpec(
        10, "mg", 2.5, 20, "[S30][S7]", "Standing antihypertensive dose, IV, for a BP that stays high. " + _U
    ),
    "prn_labetalol_max_mg": SettingSpec(40, "mg per session", 5, 80, "[S30][S7]", _U),
    "prn_labetalol_every_min": SettingSpec(10, "min between doses", 5, 60, "[S30][S7]", _U),
    "prn_midazolam_dose_mg": SettingSpec(
        1, "mg", 0.5, 2, "[S23][S20]", "Standing benzodiazepine dose, IV, for marked anxiety or dysphoria. " + _U
    ),
    "prn_midazolam_max_mg": SettingSpec(2, "mg per session", 0.5, 5, "[S23][S20]", _U),
    "prn_midazolam_every_min": SettingSpec(5, "min between doses", 2, 30, "[S23][S20]", _U),
    # critical items [S70][S63]
    # suicide items alert from their own anchors (domain.escalation), not from settings
    "pcl5_item16_review_at": SettingSpec(2, "points", 1, 4, "[S63]", _U),
    "bprs_positive_item_review_at": SettingSpec(4, "points", 2, 7, "[S69]", _U),
    "cadss_significant_above": SettingSpec(4, "points", 0, 20, "[S69]", _U),
    # suicide-risk pathway [S65]
    "suicide_ack_deadline_min": SettingSpec(
        60,
        "min",
        5,
        240,
        "[S65]",
        "How long the on-call prescriber has to take an urgent suicide-risk alert before it goes to every "
        "prescriber and the medical director. Columbia triage asks for immediate evaluation [S65]; "
        "60 min is this project's default. " + _U,
    ),
    # controlled-substance counts [S80]
    "count_volume_step_ml": SettingSpec(
        0.1,
        "mL",
        0.01,
        0.5,
        "[S80]",
        "The graduation to which an opened vial's volume is estimated; a count within half a step of the "
        "record is not a discrepancy (devices and sealed vials are counted exactly). " + _U,
    ),
    # eligibility [S57][S17]
    "min_failed_trials": SettingSpec(2, "trials", 1, 4, "[S11][S57]"),
    "min_age_years": SettingSpec(18, "years", 18, 21, "[S17]"),
    "max_age_years": SettingSpec(
        65,
        "years",
        60,
        100,
        "[S17]",
        "One centre's upper bound [S17]; older patients need review, not exclusion. " + _U,
    ),
}


class SettingOrderError(SettingError):
    """Two settings in the wrong order (e.g. a pause level above the stop level)."""

    def __init__(self, lower: str, higher: str, strict: bool) -> None:
        ValueError.__init__(self, f"{lower} must be {'below' if strict else 'at most'} {higher}")
        self.field = lower


#: (lower, higher, strict): levels that must stay in order whatever the clinic sets [S1].
ORDERED: tuple[tuple[str, str, bool], ...] = (
    ("sbp_low_pause_mmhg", "sbp_notify_mmhg", True),
    ("sbp_notify_mmhg", "sbp_pause_mmhg", True),
    ("sbp_pause_mmhg", "sbp_stop_mmhg", True),
    ("dbp_pause_mmhg", "dbp_stop_mmhg", True),
    ("hr_low_pause_bpm", "hr_low_notify_bpm", True),
    ("hr_low_notify_bpm", "hr_pause_bpm", True),
    ("spo2_stop_below_pct", "spo2_pause_below_pct", True),
    ("min_age_years", "max_age_years", True),
    ("predose_defer_sbp_mmhg", "intake_defer_sbp_mmhg", True),
    ("predose_defer_dbp_mmhg", "intake_defer_dbp_mmhg", True),
    ("min_weight_kg", "max_weight_kg", True),
    ("bmi_confirm_below", "bmi_confirm_above", True),
    ("maintenance_min_weeks", "maintenance_max_weeks", False),
    ("standard_dose_mg_per_kg", "max_dose_mg_per_kg", False),
    ("titrated_dose_mg_per_kg", "max_dose_mg_per_kg", False),
    ("prn_ondansetron_dose_mg", "prn_ondansetron_max_mg", False),
    ("prn_labetalol_dose_mg", "prn_labetalol_max_mg", False),
    ("prn_midazolam_dose_mg", "prn_midazolam_max_mg", False),
)


@dataclass(frozen=True)
class ClinicRules:
    """One clinic's thresholds. ``ClinicRules()`` is every cited default; ``with_(**v)``
    returns a copy with some values changed, validated against ``SETTINGS`` [S1]."""

    values: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        for name, value in self.values:
            spec = SETTINGS.get(name)
            if spec is None:
                raise SettingError(name, 0, 0, "(unknown setting)")
            if isinstance(value, bool) or not spec.low <= float(value) <= spec.high:
                raise SettingError(name, spec.low, spec.high, spec.unit)
        for lower, higher, strict in ORDERED:
            low, high = getattr(self, lower), getattr(self, higher)
            if low > high or (strict and low == high):
                raise SettingOrderError(lower, higher, strict)

    def __getattr__(self, name: str) -> float:
        if name.startswith("__") or name not in SETTINGS:
            raise AttributeError(name)
        return float(dict(self.values).get(name, SETTINGS[name].default))

    def with_(self, **changes: float) -> ClinicRules:
        """A copy with ``changes`` applied; out-of-range values raise ``SettingError`` [S1]."""
        merged = {**dict(self.values), **changes}
        return replace(self, values=tuple(sorted(merged.items())))


def describe_settings() -> list[dict[str, Any]]:
    """Every setting as a row: name, default, unit, range, source, note [S1]."""
    return [
        {
            "name": n,
            "default": s.default,
            "unit": s.unit,
            "low": s.low,
            "high": s.high,
            "source": s.source,
            "note": s.note,
        }
        for n, s in SETTINGS.items()
    ]
