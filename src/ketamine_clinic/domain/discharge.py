"""Readiness for discharge after an infusion."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
) -> DischargeVerdict:
    """Ready when the modified Aldrete total is at least 9 [S46], blood pressure is back
    within 20 % of baseline [S46][S49], an escort is present [S50], and the minimum
    observation has passed: 2 hours for esketamine [S30], a clinic setting for IV [S49].
    Returns every reason, met or not."""
    r = rules or ClinicRules()
    total = score("aldrete", list(aldrete)).total
    blockers: list[str] = []
    met: list[str] = []
    (met if total >= r.aldrete_min else blockers).append(f"Aldrete {total} (needs {r.aldrete_min:g} or more) [S46]")
    base, now_sbp = baseline.get("systolic_mmhg"), last_vitals.get("systolic_mmhg")
    if base and now_sbp:
        pct = abs(now_sbp - base) * 100 / base
        text = (
            f"systolic {now_sbp} vs baseline {base} ({pct:.0f} %, within {r.discharge_bp_within_pct:g} % needed) [S49]"
        )
        (met if pct <= r.discharge_bp_within_pct else blockers).append(text)
    else:
        blockers.append("no blood pressure to compare with baseline [S49]")
    (met if escort_present else blockers).append("escort present [S50]" if escort_present else "no escort [S50]")
    needed = r.min_observation_esketamine_min if esketamine else r.min_observation_iv_min
    observed = (at - infusion_stopped_at).total_seconds() / 60
    text = f"observed {observed:.0f} min of {needed:g} [{'S30' if esketamine else 'S49'}]"
    (met if observed >= needed else blockers).append(text)
    return DischargeVerdict(not blockers, tuple(blockers or met), total)
