"""Response, remission and the end-of-induction decision, with their reasons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ketamine_clinic.domain.dosing import suggest_titration
from ketamine_clinic.domain.settings import ClinicRules

__all__ = [
    "DECISIONS",
    "PRIMARY_MEASURES",
    "PrimaryMeasure",
    "InductionDecision",
    "Reason",
    "ResponseStatus",
    "evaluate_induction",
    "evaluate_response",
    "response_threshold_pct",
    "suggest_maintenance_interval",
]

DECISIONS = {
    "maintenance": "Move to maintenance",
    "extend": "Titrate the dose and extend induction",
    "refer": "Refer to an alternative treatment",
}


@dataclass(frozen=True)
class PrimaryMeasure:
    """A course's primary outcome measure: which setting holds its response threshold,
    which its remission limit (``None``: the measure has no remission cut-off here) and
    the baseline above which remission can be judged at all."""

    code: str
    label: str
    response_setting: str
    remission_setting: str | None
    remission_strict: bool  # True: score < limit; False: score <= limit
    floor_setting: str | None
    source: str


#: Depression: PHQ-9, MADRS, QIDS-SR16, HAM-D17 [S11][S55][S54][S66][S53]; PTSD: PCL-5 [S41][S63];
#: chronic pain: a 0-10 pain score [S85][S86].
PRIMARY_MEASURES: dict[str, PrimaryMeasure] = {
    "phq9": PrimaryMeasure(
        "phq9", "PHQ-9", "response_drop_pct", "remission_phq9_below", True, "remission_floor_phq9_above", "[S55]"
    ),
    "madrs": PrimaryMeasure(
        "madrs", "MADRS", "response_drop_pct", "remission_madrs_at_most", False, "remission_madrs_at_most", "[S54]"
    ),
    "qids_sr16": PrimaryMeasure(
        "qids_sr16",
        "QIDS-SR16",
        "response_drop_pct",
        "remission_qids_at_most",
        False,
        "remission_qids_at_most",
        "[S66]",
    ),
    "hamd17": PrimaryMeasure(
        "hamd17", "HAM-D17", "response_drop_pct", "remission_hamd_at_most", False, "remission_hamd_at_most", "[S53]"
    ),
    "pcl5": PrimaryMeasure("pcl5", "PCL-5", "pcl5_response_drop_pct", None, False, None, "[S41][S63]"),
    "pain_nrs": PrimaryMeasure(
        "pain_nrs", "Pain score (0-10)", "pain_response_drop_pct", None, False, None, "[S85][S86]"
    ),
}


@dataclass(frozen=True)
class Reason:
    text: str
    source: str

    def as_dict(self) -> dict[str, str]:
        return {"text": self.text, "source": self.source}


@dataclass(frozen=True)
class ResponseStatus:
    category: str  # "remission", "response", "partial", "no_response", "baseline_only"
    label: str
    drop_pct: float | None
    explanation: str
    source: str

    @property
    def evaluable(self) -> bool:
        return self.category != "baseline_only"


def _measure(instrument: str) -> PrimaryMeasure:
    """The primary measure ``instrument``; any other scale is judged on the general 50 %
    response rule with no remission cut-off [S11]."""
    return PRIMARY_MEASURES.get(
        instrument, PrimaryMeasure(instrument, instrument.upper(), "response_drop_pct", None, False, None, "[S11]")
    )


def _in_remission_range(instrument: str, score: int, r: ClinicRules) -> bool:
    m = PRIMARY_MEASURES.get(instrument)
    if m is None or m.remission_setting is None:
        return False
    limit = float(getattr(r, m.remission_setting))
    return score < limit if m.remission_strict else score <= limit


def _above_floor(instrument: str, baseline: int, r: ClinicRules) -> bool:
    """Remission means something only from a baseline above the severity floor: PHQ-9
    index above 9 (CMS159) [S55]; other scales, a baseline outside their remission range."""
    m = _measure(instrument)
    if m.floor_setting is None:
        return False
    floor = float(getattr(r, m.floor_setting))
    return baseline > floor


def _remitted(instrument: str, score: int, r: ClinicRules, baseline: int | None = None) -> bool:
    if not _in_remission_range(instrument, score, r):
        return False
    return baseline is None or (_above_floor(instrument, baseline, r) and score < baseline)


def response_threshold_pct(instrument: str, rules: ClinicRules | None = None) -> float:
    """The drop from baseline that counts as a response on ``instrument``: 50 % on the
    depression scales [S11][S70b], 30 % on PCL-5 [S41] and on a 0-10 pain score [S85][S86]."""
    return float(getattr(rules or ClinicRules(), _measure(instrument).response_setting))


def evaluate_response(
    instrument: str, baseline: int, latest: int | None, rules: ClinicRules | None = None
) -> ResponseStatus:
    """Response is a drop from baseline of at least the measure's threshold: 50 % on the
    depression scales [S11][S70b], 30 % on PCL-5 [S41] and on a 0-10 pain score [S85][S86];
    partial from 25 % (depression) [S70b]. Remission by scale: PHQ-9 < 5 [S55], MADRS <= 10
    [S54], QIDS-SR16 <= 5 [S66], HAM-D17 <= 7 [S53], and only from a baseline above the
    severity floor and with a score below the baseline [S55]."""
    r = rules or ClinicRules()
    m = _measure(instrument)
    if latest is None or baseline <= 0:
        return ResponseStatus("baseline_only", "Baseline only", None, "No score after the baseline yet.", "[S11]")
    drop = (baseline - latest) * 100 / baseline
    if _remitted(instrument, latest, r, baseline):
        return ResponseStatus(
            "remission", "Remission", drop, f"{m.label} {latest} is in the remission range.", m.source
        )
    threshold = response_threshold_pct(instrument, r)
    if drop >= threshold:
        return ResponseStatus(
            "response",
            "Response",
            drop,
            f"{m.label} down {drop:.0f} % from baseline {baseline} (response: {threshold:g} % or more).",
            "[S11]" if m.response_setting == "response_drop_pct" else m.source,
        )
    if m.response_setting == "response_drop_pct" and drop >= r.partial_response_drop_pct:
        return ResponseStatus(
            "partial", "Partial response", drop, f"{m.label} down {drop:.0f} % from baseline {baseline}.", "[S70b]"
        )
    floor_note = (
        " The baseline was already in the remission range, so remission cannot be judged."
        if _in_remission_range(instrument, latest, r) and not _above_floor(instrument, baseline, r)
        else ""
    )
    change = f"down {drop:.0f} %" if drop >= 0 else f"up {-drop:.0f} %"
    return ResponseStatus(
        "no_response",
        "No response yet",
        drop,
        f"{m.label} {change} from baseline {baseline} (response: {threshold:g} % or more).{floor_note}",
        "[S11]" if m.response_setting == "response_drop_pct" else m.source,
    )


@dataclass(frozen=True)
class InductionDecision:
    decision: str
    reasons: tuple[Reason, ...]
    interval_weeks: int | None = None
    next_dose_mg_per_kg: float | None = None

    @property
    def label(self) -> str:
        return DECISIONS[self.decision]


def suggest_maintenance_interval(
    scores: Sequence[int], baseline: int, instrument: str = "phq9", rules: ClinicRules | None = None
) -> tuple[int, Reason]:
    """A booster interval within 2-6 weeks [S16][S17]: stable remission lengthens it;
    scores rising back toward baseline shorten it, so the next dose comes a little
    before the effect wears off [S13]."""
    r = rules or ClinicRules()
    low, high = int(r.maintenance_min_weeks), int(r.maintenance_max_weeks)
    recent = list(scores[-3:])
    if not recent:
        return (low + high) // 2, Reason("No recent scores: start in the middle of the range.", "[S16][S17]")
    if all(_remitted(instrument, s, r, baseline) for s in recent) and len(recent) >= 2:
        return high, Reason("Stable remission on the last scores: the longest interval.", "[S13][S16]")
    rising = len(recent) >= 2 and recent[-1] > recent[0]
    drop = (baseline - recent[-1]) * 100 / baseline if baseline else 0
    if rising or drop < response_threshold_pct(instrument, r):
        return low, Reason("Scores are rising toward baseline: the shortest interval.", "[S13]")
    return (low + high) // 2, Reason("Response holds without full remission: a middle interval.", "[S13][S17]")


def evaluate_induction(
    *,
    instrument: str,
    baseline: int,
    scores: Sequence[int],
    infusions_done: int,
    current_mg_per_kg: float,
    already_extended: bool = False,
    esketamine: bool = False,
    rules: ClinicRules | None = None,
) -> InductionDecision:
    """At the end of induction, on the course's primary measure: responders move to
    maintenance; non-responders are referred to an alternative treatment [S11][S12] (most
    patients respond within six infusions); a partial response at the standard IV dose may
    be titrated and extended once [S12]. Esketamine never gets an mg/kg titration: its
    maintenance follows the label (weekly in weeks 5-8, then weekly or every 2 weeks)
    [S32][S33]. Returns the reasons with their sources."""
    r = rules or ClinicRules()
    status = evaluate_response(instrument, baseline, scores[-1] if scores else None, r)
    visits = "doses" if esketamine else "infusions"
    reasons = [Reason(f"{status.label} after {infusions_done} {visits}: {status.explanation}", status.source)]
    if status.category in {"response", "remission"}:
        if esketamine:
            why = Reason(
                "Esketamine maintenance: once weekly in weeks 5-8, then once weekly or every 2 weeks.", "[S32][S33]"
            )
            return InductionDecision("maintenance", (*reasons, why))
        weeks, why = suggest_maintenance_interval(scores, baseline, instrument, r)
        return InductionDecision("maintenance", (*reasons, why), interval_weeks=weeks)
    titration = None if esketamine else suggest_titration(infusions_done, False, current_mg_per_kg, r)
    if status.category == "partial" and titration is not None and not already_extended:
        reasons.append(Reason(titration.reason, titration.source))
        return InductionDecision("extend", tuple(reasons), next_dose_mg_per_kg=titration.dose_mg_per_kg)
    if esketamine:
        reasons.append(
            Reason(
                "Esketamine doses are fixed by the label (56 or 84 mg); without a response at the end of induction, "
                "benefit is re-evaluated and an alternative considered.",
                "[S32][S33]",
            )
        )
        return InductionDecision("refer", tuple(reasons))
    reasons.append(
        Reason("Without a response after the induction series, an alternative treatment is advised.", "[S11][S12]")
    )
    return InductionDecision("refer", tuple(reasons))
