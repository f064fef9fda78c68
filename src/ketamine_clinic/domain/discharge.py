"""Readiness for discharge after an infusion."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from ketamine_clinic.domain.instruments import score
from ketamine_clinic.domain.settings import ClinicRules

__all__ = ["DischargeVerdict", "evaluate_discharge"]


@dataclass(frozen=True)
class DischargeVerdict:
    ready: bool
    reasons: tuple[str, ...]
    aldrete_total: int


def evaluate_discharge(
    *,
    aldrete: Sequence[int],
    last_vitals: Mapping[str, int | None],
    baseline: Mapping[str, int | None],
    escort_present: bool,
    infusion_stopped_at: datetime,
    at: datetime,
    esketamine: bool = False,
    rules: ClinicRules | None = None,
    padss: Sequence[int] | None = None,
    post_dose_full_set: bool | None = None,
    bp_about_40_min: bool | None = None,
    dissociation_resolved: bool | None = None,
    aftercare_given: bool | None = None,
) -> DischargeVerdict:
    """Ready to go home when every criterion is met; returns every reason, met or not.

    Modified Aldrete total at least 9 [S46]; the PADSS home-readiness total at least 9 [S84];
    a full set of vital signs recorded after dosing ended, blood pressure and heart rate back
    within 20 % of baseline and SpO2 at the clinic's floor on room air [S49][S46]; for
    esketamine a blood pressure at about 40 minutes after the dose [S30]; dissociation
    resolved (a re-check or a clinician's attestation) [S69]; an escort present [S50];
    after-care instructions given [S50][S49]; and the minimum observation: 2 hours for
    esketamine [S30], a clinic setting for IV [S49]. Criteria passed as ``None`` are not
    judged (callers that have them pass them).
    """
    r = rules or ClinicRules()
    total = score("aldrete", list(aldrete)).total
    blockers: list[str] = []
    met: list[str] = []

    def judge(ok: bool, text: str) -> None:
        (met if ok else blockers).append(text)

    judge(total >= r.aldrete_min, f"Aldrete {total} (needs {r.aldrete_min:g} or more) [S46]")
    if padss is not None:
        home = score("padss", list(padss)).total
        judge(home >= r.padss_min, f"PADSS {home} (needs {r.padss_min:g} or more for home) [S84]")
    if post_dose_full_set is not None:
        judge(post_dose_full_set, "a full set of vital signs after dosing ended [S49]")
    _near_baseline(last_vitals, baseline, r, judge)
    spo2 = last_vitals.get("spo2_percent")
    if spo2 is not None:
        judge(spo2 >= r.spo2_pause_below_pct, f"SpO2 {spo2} % on room air (needs {r.spo2_pause_below_pct:g}) [S46]")
    if esketamine and bp_about_40_min is not None:
        judge(bp_about_40_min, "blood pressure at about 40 minutes after the dose [S30]")
    if dissociation_resolved is not None:
        judge(dissociation_resolved, "dissociation resolved (re-check or attestation) [S69]")
    judge(escort_present, "escort present [S50]" if escort_present else "no escort [S50]")
    if aftercare_given is not None:
        judge(aftercare_given, "after-care instructions given [S50]")
    needed = r.min_observation_esketamine_min if esketamine else r.min_observation_iv_min
    observed = (at - infusion_stopped_at).total_seconds() / 60
    judge(observed >= needed, f"observed {observed:.0f} min of {needed:g} [{'S30' if esketamine else 'S49'}]")
    return DischargeVerdict(not blockers, tuple(blockers or met), total)


def _near_baseline(
    last: Mapping[str, int | None],
    baseline: Mapping[str, int | None],
    r: ClinicRules,
    judge: Callable[[bool, str], None],
) -> None:
    """Systolic pressure (and heart rate, when both are known) within the clinic's percentage
    of baseline [S49][S46]."""
    base, now_sbp = baseline.get("systolic_mmhg"), last.get("systolic_mmhg")
    if base and now_sbp:
        pct = abs(now_sbp - base) * 100 / base
        judge(
            pct <= r.discharge_bp_within_pct,
            f"systolic {now_sbp} vs baseline {base} ({pct:.0f} %, within {r.discharge_bp_within_pct:g} % needed) [S49]",
        )
    else:
        judge(False, "no blood pressure to compare with baseline [S49]")
    base_hr, hr = baseline.get("heart_rate_bpm"), last.get("heart_rate_bpm")
    if base_hr and hr:
        pct = abs(hr - base_hr) * 100 / base_hr
        judge(
            pct <= r.discharge_bp_within_pct,
            f"heart rate {hr} vs baseline {base_hr} ({pct:.0f} %, within {r.discharge_bp_within_pct:g} % needed) [S46]",
        )
