"""Whether a patient may leave the chair: the discharge rules over the session's records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ketamine_clinic.domain import instruments
from ketamine_clinic.domain.discharge import evaluate_discharge
from ketamine_clinic.services.clinic import clinic_rules
from ketamine_clinic.services.errors import InvalidInput
from ketamine_clinic.services.intake import baseline_vitals
from ketamine_clinic.services.protocols import is_esketamine
from ketamine_clinic.storage.models import InfusionSession, VitalSign

__all__ = ["Verdict", "discharge_verdict", "min_observation_min"]


@dataclass(frozen=True)
class Verdict:
    ready: bool
    reasons: list[str]


def min_observation_min(session: InfusionSession) -> int:
    r = clinic_rules()
    return int(r.min_observation_esketamine_min if is_esketamine(session) else r.min_observation_iv_min)


def _answers(code: str, values: list[int | None], label: str) -> list[int]:
    """Every item of a discharge score answered 0-2; the first unanswered item is named."""
    try:
        instruments.score(code, values, clinic_rules())
    except ValueError as exc:
        item = int(getattr(exc, "item", 1) or 1)
        raise InvalidInput(
            f"{label} item {item}: score it 0, 1 or 2 (unanswered or out of range)", field=f"{code}_{item - 1}"
        ) from None
    return [int(v) for v in values if v is not None]


def discharge_verdict(
    session: InfusionSession,
    *,
    aldrete: list[int | None],
    padss: list[int | None],
    escort_present: bool,
    dissociation_resolved: bool,
    aftercare_given: bool,
    at: datetime,
) -> Verdict:
    """The discharge rules over the session's records ([S46][S84][S49][S30][S50])."""
    aldrete_ok = _answers("aldrete", aldrete, "Aldrete")
    padss_ok = _answers("padss", padss, "PADSS")
    readings = list(VitalSign.objects.filter(session=session).order_by("at", "id"))
    replaced = {v.amends_id for v in readings if v.amends_id}
    current = [v for v in readings if v.pk not in replaced]
    ended = session.stopped_at or at
    full = [
        v
        for v in current
        if v.at >= ended
        and at - v.at <= timedelta(minutes=30)
        and None not in (v.systolic_mmhg, v.diastolic_mmhg, v.heart_rate_bpm, v.spo2_percent, v.respiratory_rate)
    ]
    last = full[-1] if full else (current[-1] if current else None)
    reading = (
        {"systolic_mmhg": last.systolic_mmhg, "heart_rate_bpm": last.heart_rate_bpm, "spo2_percent": last.spo2_percent}
        if last
        else {}
    )
    first_dose = session.started_at or ended
    about_40 = any(
        timedelta(minutes=30) <= v.at - first_dose <= timedelta(minutes=60) and v.systolic_mmhg is not None
        for v in current
    )
    verdict = evaluate_discharge(
        aldrete=aldrete_ok,
        padss=padss_ok,
        last_vitals=reading,
        baseline=baseline_vitals(session.patient),
        escort_present=escort_present,
        infusion_stopped_at=ended,
        at=at,
        esketamine=is_esketamine(session),
        rules=clinic_rules(),
        post_dose_full_set=bool(full),
        bp_about_40_min=about_40,
        dissociation_resolved=dissociation_resolved,
        aftercare_given=aftercare_given,
    )
    return Verdict(verdict.ready, list(verdict.reasons))
