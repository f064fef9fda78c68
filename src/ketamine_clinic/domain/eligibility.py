"""The eligibility screen: diagnoses, treatment resistance, contraindications, age,
pregnancy and consent -> eligible / needs review / not eligible, each reason sourced.

The reference could not confirm the consensus's exact split of absolute and relative
contraindications [S1]; the checklist below follows the chronic-pain consensus, the
esketamine label and REMS form and one trial's exclusions [S44][S38][S30][S37][S88] and is
meant to be reviewed by the clinic. An unknown contraindication code is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from ketamine_clinic.domain.settings import ClinicRules

__all__ = [
    "CONTRAINDICATIONS",
    "DIAGNOSES",
    "CONTRAINDICATION_CODES",
    "Contraindication",
    "Finding",
    "Intake",
    "ScreenResult",
    "UnknownContraindicationError",
    "screen_eligibility",
]

DIAGNOSES = {
    "trd": "Treatment-resistant depression",
    "mdsi": "Depression with suicidal thoughts",
    "ptsd": "PTSD",
    "chronic_pain": "Chronic pain",
}


@dataclass(frozen=True)
class Contraindication:
    code: str
    text: str
    kind: str  # "absolute" or "relative"
    source: str


CONTRAINDICATIONS: tuple[Contraindication, ...] = (
    Contraindication("aneurysm_avm", "Aneurysmal vascular disease or arteriovenous malformation", "absolute", "[S38]"),
    Contraindication("intracerebral_haemorrhage", "History of intracerebral haemorrhage", "absolute", "[S38]"),
    Contraindication("ketamine_hypersensitivity", "Hypersensitivity to ketamine or esketamine", "absolute", "[S38]"),
    Contraindication(
        "psychosis_active", "Active psychosis, or psychotic features in the current episode", "absolute", "[S44][S17]"
    ),
    Contraindication(
        "psychosis_history", "History of a psychotic disorder, not active now (assess before use)", "relative", "[S30]"
    ),
    Contraindication(
        "cardiovascular_uncontrolled", "Poorly controlled cardiovascular disease or hypertension", "relative", "[S44]"
    ),
    Contraindication(
        "recent_mi_stroke",
        "Recent myocardial infarction or stroke (unstable cardio- or cerebrovascular disease)",
        "relative",
        "[S44][S88][S30]",
    ),
    Contraindication("hepatic_disease", "Moderate or severe liver disease", "relative", "[S44]"),
    Contraindication("raised_icp_iop", "Raised intracranial or intraocular pressure", "relative", "[S44]"),
    Contraindication(
        "substance_use_recent", "Substance or alcohol use disorder in the past 3 months", "relative", "[S44][S17]"
    ),
    Contraindication(
        "substance_use_suspected",
        "Substance use suspected: a baseline urine toxicology screen is needed before treatment",
        "relative",
        "[S2]",
    ),
    Contraindication("cannot_consent", "Unable to give informed consent", "absolute", "[S17]"),
    Contraindication("bladder_symptoms", "Current urinary or bladder symptoms (cystitis risk)", "relative", "[S30]"),
    Contraindication("breastfeeding", "Breastfeeding (esketamine is not recommended)", "relative", "[S30][S38][S88]"),
    Contraindication(
        "maoi_or_psychostimulant",
        "Takes an MAOI or a psychostimulant (closer blood-pressure monitoring)",
        "relative",
        "[S30][S37]",
    ),
    Contraindication(
        "cns_depressant",
        "Takes a CNS depressant: benzodiazepine, sedative hypnotic or opioid (more sedation)",
        "relative",
        "[S37]",
    ),
    Contraindication("mania_bipolar", "History of mania or bipolar disorder", "relative", "[S88][S70b]"),
    Contraindication("dementia_cognitive", "Dementia or cognitive impairment", "relative", "[S17][S30]"),
)

CONTRAINDICATION_CODES = frozenset(c.code for c in CONTRAINDICATIONS)


@dataclass(frozen=True)
class Intake:
    """What the screen needs. ``failed_trials`` items have ``adequate`` (bool)."""

    diagnoses: tuple[str, ...]
    failed_trials: tuple[Mapping[str, object], ...]
    contraindications: Mapping[str, bool]
    birth_date: date
    weight_kg: float
    pregnant: bool = False
    consent_given: bool = False
    baseline_vitals: Mapping[str, int | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = [d for d in self.diagnoses if d not in DIAGNOSES]
        if unknown:
            raise ValueError(f"diagnoses: unknown code {unknown[0]!r}; allowed: {', '.join(DIAGNOSES)}")
        odd = sorted(str(c) for c in self.contraindications if c not in CONTRAINDICATION_CODES)
        if odd:
            raise UnknownContraindicationError(odd[0])


class UnknownContraindicationError(ValueError):
    """A contraindication code the screen does not know: refused, never ignored [S1]."""

    field = "contraindications"

    def __init__(self, code: str) -> None:
        super().__init__(
            f"contraindications: unknown code {code!r}; allowed: {', '.join(sorted(CONTRAINDICATION_CODES))}"
        )


@dataclass(frozen=True)
class Finding:
    kind: str  # "exclude", "defer", "review" or "ok"
    text: str
    source: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "text": self.text, "source": self.source}


@dataclass(frozen=True)
class ScreenResult:
    status: str  # "eligible", "needs_review", "deferred", "not_eligible"
    findings: tuple[Finding, ...]


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _diagnosis(intake: Intake, r: ClinicRules) -> list[Finding]:
    if not intake.diagnoses:
        return [Finding("exclude", "No qualifying diagnosis recorded", "[S1]")]
    out = []
    adequate = sum(1 for t in intake.failed_trials if t.get("adequate"))
    if "trd" in intake.diagnoses:
        if adequate >= r.min_failed_trials:
            out.append(Finding("ok", f"Treatment resistance: {adequate} adequate failed trials", "[S11][S57]"))
        else:
            out.append(
                Finding(
                    "review",
                    f"Only {adequate} adequate failed trial(s); treatment resistance needs {r.min_failed_trials:g}",
                    "[S11][S57]",
                )
            )
    if "mdsi" in intake.diagnoses:
        out.append(
            Finding(
                "review", "Depression with suicidal thoughts: needs a same-day suicide-risk assessment", "[S32][S70]"
            )
        )
    if "ptsd" in intake.diagnoses:
        out.append(Finding("ok", "PTSD protocol: six 0.5 mg/kg infusions over two weeks", "[S41]"))
    if "chronic_pain" in intake.diagnoses:
        out.append(Finding("review", "Chronic pain: evidence is moderate for CRPS and weak elsewhere", "[S44]"))
    return out


def screen_eligibility(intake: Intake, *, on: date, rules: ClinicRules | None = None) -> ScreenResult:
    """Screen ``intake`` on date ``on``: any absolute contraindication, pregnancy [S44],
    age under 18 [S17] or missing consent [S17] -> not eligible; a baseline blood pressure
    in the hypertensive-crisis range [S87] -> deferred until it is controlled; relative
    contraindications, too few failed trials [S11][S57], age above the clinic's upper
    bound [S17], a raised baseline BP [S30] -> needs review; otherwise eligible. Every
    finding carries its source."""
    r = rules or ClinicRules()
    findings = _diagnosis(intake, r)
    for item in CONTRAINDICATIONS:
        if intake.contraindications.get(item.code):
            findings.append(
                Finding(
                    "exclude" if item.kind == "absolute" else "review",
                    f"{item.text} ({item.kind} contraindication)",
                    item.source,
                )
            )
    if intake.pregnant:
        findings.append(Finding("exclude", "Pregnancy (embryo-fetal toxicity)", "[S44][S30]"))
    age = _age(intake.birth_date, on)
    if age < r.min_age_years:
        findings.append(Finding("exclude", f"Age {age}: under {r.min_age_years:g}", "[S17]"))
    elif age > r.max_age_years:
        findings.append(
            Finding(
                "review",
                f"Age {age}: above {r.max_age_years:g}; blood pressure surges are more likely with age",
                "[S17][S7]",
            )
        )
    if not intake.consent_given:
        findings.append(Finding("exclude", "Informed consent not signed", "[S17]"))
    if not r.min_weight_kg <= intake.weight_kg <= r.max_weight_kg:
        findings.append(Finding("review", f"Weight {intake.weight_kg:g} kg is outside the plausible range", "[S11]"))
    sbp = intake.baseline_vitals.get("systolic_mmhg") or 0
    dbp = intake.baseline_vitals.get("diastolic_mmhg") or 0
    if sbp > r.intake_defer_sbp_mmhg or dbp > r.intake_defer_dbp_mmhg:
        findings.append(
            Finding(
                "defer",
                f"Baseline BP {sbp}/{dbp} is above {r.intake_defer_sbp_mmhg:g}/{r.intake_defer_dbp_mmhg:g} "
                "(severe, uncontrolled): defer until it is controlled, then record the blood pressure again",
                "[S87][S30]",
            )
        )
    elif sbp > r.predose_defer_sbp_mmhg or dbp > r.predose_defer_dbp_mmhg:
        findings.append(
            Finding(
                "review",
                f"Baseline BP {sbp}/{dbp} above {r.predose_defer_sbp_mmhg:g}/{r.predose_defer_dbp_mmhg:g}",
                "[S30][S7]",
            )
        )
    kinds = {f.kind for f in findings}
    status = (
        "not_eligible"
        if "exclude" in kinds
        else "deferred"
        if "defer" in kinds
        else "needs_review"
        if "review" in kinds
        else "eligible"
    )
    return ScreenResult(status, tuple(findings))
