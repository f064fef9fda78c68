"""Vital-sign alerts during an infusion, the esketamine pre-dose deferral guide, and when
the next reading is due. Thresholds are clinic settings (most UNCONFIRMED in the
reference, see ``settings``).

Severities: ``notify`` (tell the team), ``pause`` (pause the pump and assess), ``stop``
(stop the infusion; escalate).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from ketamine_clinic.domain.settings import ClinicRules

__all__ = ["SEVERITIES", "VitalAlert", "evaluate_vitals", "next_vitals_due", "predose_deferral"]

SEVERITIES = ("notify", "pause", "stop")


@dataclass(frozen=True)
class VitalAlert:
    vital: str
    severity: str
    message: str
    source: str


def _sev(candidates: list[VitalAlert]) -> list[VitalAlert]:
    return sorted(candidates, key=lambda a: -SEVERITIES.index(a.severity))


def evaluate_vitals(
    reading: Mapping[str, int | None],
    baseline: Mapping[str, int | None] | None = None,
    rules: ClinicRules | None = None,
) -> list[VitalAlert]:
    """Alerts for one reading during an infusion, most severe first.

    Blood pressure thresholds and the rise from baseline [S6][S7], hypotension and a fall from
    baseline [S49][S46], heart rate high [S7] and low [S49], SpO2 [S46], respiratory rate low
    [S30] and high [S49]. Values missing from ``reading`` are not judged.
    """
    r = rules or ClinicRules()
    out: list[VitalAlert] = []
    sbp, dbp = reading.get("systolic_mmhg"), reading.get("diastolic_mmhg")
    if sbp is not None:
        if sbp >= r.sbp_stop_mmhg:
            out.append(
                VitalAlert("systolic_mmhg", "stop", f"Systolic {sbp} mmHg (stop at {r.sbp_stop_mmhg:g})", "[S7]")
            )
        elif sbp >= r.sbp_pause_mmhg:
            out.append(
                VitalAlert("systolic_mmhg", "pause", f"Systolic {sbp} mmHg (pause at {r.sbp_pause_mmhg:g})", "[S7]")
            )
        elif sbp >= r.sbp_notify_mmhg:
            out.append(
                VitalAlert("systolic_mmhg", "notify", f"Systolic {sbp} mmHg (notify at {r.sbp_notify_mmhg:g})", "[S7]")
            )
        if sbp < r.sbp_low_pause_mmhg:
            out.append(
                VitalAlert(
                    "systolic_mmhg",
                    "pause",
                    f"Systolic {sbp} mmHg (hypotension below {r.sbp_low_pause_mmhg:g})",
                    "[S49]",
                )
            )
        base = (baseline or {}).get("systolic_mmhg")
        if base and sbp - base >= r.sbp_rise_notify_mmhg:
            out.append(
                VitalAlert("systolic_mmhg", "notify", f"Systolic up {sbp - base} mmHg from baseline {base}", "[S7]")
            )
        if base and (base - sbp) * 100 / base >= r.sbp_fall_notify_pct:
            fall = round((base - sbp) * 100 / base)
            out.append(
                VitalAlert("systolic_mmhg", "notify", f"Systolic {sbp} mmHg is {fall} % below baseline {base}", "[S46]")
            )
    if dbp is not None:
        if dbp >= r.dbp_stop_mmhg:
            out.append(
                VitalAlert("diastolic_mmhg", "stop", f"Diastolic {dbp} mmHg (stop at {r.dbp_stop_mmhg:g})", "[S7]")
            )
        elif dbp >= r.dbp_pause_mmhg:
            out.append(
                VitalAlert("diastolic_mmhg", "pause", f"Diastolic {dbp} mmHg (pause at {r.dbp_pause_mmhg:g})", "[S7]")
            )
    hr = reading.get("heart_rate_bpm")
    if hr is not None:
        if hr > r.hr_pause_bpm:
            out.append(VitalAlert("heart_rate_bpm", "pause", f"Heart rate {hr}/min (above {r.hr_pause_bpm:g})", "[S7]"))
        elif hr < r.hr_low_pause_bpm:
            out.append(
                VitalAlert(
                    "heart_rate_bpm",
                    "pause",
                    f"Heart rate {hr}/min (bradycardia below {r.hr_low_pause_bpm:g})",
                    "[S49]",
                )
            )
        elif hr < r.hr_low_notify_bpm:
            out.append(
                VitalAlert("heart_rate_bpm", "notify", f"Heart rate {hr}/min (below {r.hr_low_notify_bpm:g})", "[S49]")
            )
    spo2 = reading.get("spo2_percent")
    if spo2 is not None:
        if spo2 < r.spo2_stop_below_pct:
            out.append(VitalAlert("spo2_percent", "stop", f"SpO2 {spo2} % (below {r.spo2_stop_below_pct:g})", "[S46]"))
        elif spo2 < r.spo2_pause_below_pct:
            out.append(
                VitalAlert("spo2_percent", "pause", f"SpO2 {spo2} % (below {r.spo2_pause_below_pct:g})", "[S46]")
            )
    rr = reading.get("respiratory_rate")
    if rr is not None and rr < r.rr_low_pause:
        out.append(
            VitalAlert("respiratory_rate", "pause", f"Respiratory rate {rr}/min (below {r.rr_low_pause:g})", "[S30]")
        )
    elif rr is not None and rr > r.rr_high_notify:
        out.append(
            VitalAlert("respiratory_rate", "notify", f"Respiratory rate {rr}/min (above {r.rr_high_notify:g})", "[S49]")
        )
    return _sev(out)


def predose_deferral(reading: Mapping[str, int | None], rules: ClinicRules | None = None) -> VitalAlert | None:
    """Pre-dose blood pressure above the label's general guide (> 140/90 mmHg) calls for a
    benefit/risk decision on delaying treatment [S30]; the prescriber decides."""
    r = rules or ClinicRules()
    sbp, dbp = reading.get("systolic_mmhg") or 0, reading.get("diastolic_mmhg") or 0
    if sbp > r.predose_defer_sbp_mmhg or dbp > r.predose_defer_dbp_mmhg:
        return VitalAlert(
            "systolic_mmhg",
            "pause",
            f"Pre-dose BP {sbp}/{dbp} is above {r.predose_defer_sbp_mmhg:g}/{r.predose_defer_dbp_mmhg:g}: "
            "decide with the prescriber whether to delay",
            "[S30]",
        )
    return None


def next_vitals_due(last_reading_at: datetime, rules: ClinicRules | None = None, *, dosing: bool = False) -> datetime:
    """The next reading is due ``vitals_every_dosing_min`` (10) after the last while the dose
    runs and ``vitals_every_min`` (15) after it [S6][S7]."""
    r = rules or ClinicRules()
    return last_reading_at + timedelta(minutes=r.vitals_every_dosing_min if dosing else r.vitals_every_min)


#: Physiological ranges a chair-side entry must fall in (a typo guard, not an alert level).
VITAL_RANGES: dict[str, tuple[int, int]] = {
    "systolic_mmhg": (50, 260),
    "diastolic_mmhg": (20, 180),
    "heart_rate_bpm": (20, 220),
    "spo2_percent": (50, 100),
    "respiratory_rate": (4, 60),
}
