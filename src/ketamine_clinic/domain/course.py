"""Response, remission and the end-of-induction decision, with their reasons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ketamine_clinic.domain.dosing import suggest_titration
from ketamine_clinic.domain.settings import ClinicRules

__all__ = [
    "DECISIONS",
    "InductionDecision",
    "Reason",
    "ResponseStatus",
    "evaluate_induction",
    "evaluate_response",
    "suggest_maintenance_interval",
]

DECISIONS = {
    "maintenance": "Move to maintenance",
    "extend": "Titrate the dose and extend induction",
    "refer": "Refer to an alternative treatment",
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


def _remitted(instrument: str, score: int, r: ClinicRules) -> bool:
    limits = {
        "phq9": score < r.remission_phq9_below,
        "madrs": score <= r.remission_madrs_at_most,
        "qids_sr16": score <= r.remission_qids_at_most,
        "hamd17": score <= r.remission_hamd_at_most,
    }
    return limits.get(instrument, False)


def evaluate_response(
    instrument: str, baseline: int, latest: int | None, rules: ClinicRules | None = None
) -> ResponseStatus:
    """Response is a drop of at least 50 % from baseline [S11][S70b]; partial 25-49 %;
    remission by scale: PHQ-9 < 5 [S55], MADRS <= 10 [S54], QIDS-SR16 <= 5 [S66],
    HAM-D17 <= 7 [S53]."""
    r = rules or ClinicRules()
    if latest is None or baseline <= 0:
        return ResponseStatus("baseline_only", "Baseline only", None, "No score after the baseline yet.", "[S11]")
    drop = (baseline - latest) * 100 / baseline
    if _remitted(instrument, latest, r):
        return ResponseStatus(
            "remission", "Remission", drop, f"Score {latest} is in the remission range.", "[S55][S54][S66][S53]"
        )
    if drop >= r.response_drop_pct:
        return ResponseStatus("response", "Response", drop, f"Down {drop:.0f} % from baseline {baseline}.", "[S11]")
    if drop >= r.partial_response_drop_pct:
        return ResponseStatus(
            "partial", "Partial response", drop, f"Down {drop:.0f} % from baseline {baseline}.", "[S70b]"
        )
    return ResponseStatus(
        "no_response", "No response yet", drop, f"Down {drop:.0f} % from baseline {baseline}.", "[S11]"
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
    if all(_remitted(instrument, s, r) for s in recent) and len(recent) >= 2:
        return high, Reason("Stable remission on the last scores: the longest interval.", "[S13][S16]")
    rising = len(recent) >= 2 and recent[-1] > recent[0]
    drop = (baseline - recent[-1]) * 100 / baseline if baseline else 0
    if rising or drop < r.response_drop_pct:
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
    rules: ClinicRules | None = None,
) -> InductionDecision:
    """At the end of induction: responders move to maintenance; non-responders are
    referred to an alternative treatment [S11][S12] (most patients respond within six
    infusions); a partial response at the standard dose may be titrated and extended
    once [S12]. Returns the reasons with their sources."""
    r = rules or ClinicRules()
    status = evaluate_response(instrument, baseline, scores[-1] if scores else None, r)
    reasons = [Reason(f"{status.label} after {infusions_done} infusions: {status.explanation}", status.source)]
    if status.category in {"response", "remission"}:
        weeks, why = suggest_maintenance_interval(scores, baseline, instrument, r)
        return InductionDecision("maintenance", (*reasons, why), interval_weeks=weeks)
    titration = suggest_titration(infusions_done, False, current_mg_per_kg, r)
    if status.category == "partial" and titration is not None and not already_extended:
        reasons.append(Reason(titration.reason, titration.source))
        return InductionDecision("extend", tuple(reasons), next_dose_mg_per_kg=titration.dose_mg_per_kg)
    reasons.append(
        Reason("Without a response after the induction series, an alternative treatment is advised.", "[S11][S12]")
    )
    return InductionDecision("refer", tuple(reasons))
