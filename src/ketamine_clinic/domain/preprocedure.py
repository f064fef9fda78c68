"""The pre-procedure record's vocabularies and checks: medication interaction classes,
ASA physical status, ICD-10-CM diagnoses, fasting times, the escort's phone, and the
versioned consent documents a patient signs on screen.

Errors::

    PreProcedureError (ValueError)   a value outside its list or range; ``field`` names it
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = [
    "ASA_CLASSES",
    "CONSENT_DOCUMENTS",
    "ICD10_DIAGNOSES",
    "INTERACTION_CLASSES",
    "ConsentDocument",
    "PreProcedureError",
    "classes_for_medication",
    "consent_for_route",
    "check_asa",
    "check_diagnoses",
    "check_fasting",
    "check_phone",
]


class PreProcedureError(ValueError):
    code = "pre_procedure"

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


#: Medication classes that change what the chair watches for. The esketamine REMS
#: monitoring form asks for benzodiazepines, non-benzodiazepine sedative hypnotics,
#: psychostimulants, MAOIs and opioids [S37]; psychostimulants and MAOIs call for closer
#: blood-pressure monitoring [S30]. Lamotrigine is listed at the clinic's request: the
#: clinical reference has no source for it (UNCONFIRMED), so it informs, never decides.
INTERACTION_CLASSES: dict[str, str] = {
    "maoi": "MAOI",
    "psychostimulant": "Psychostimulant",
    "benzodiazepine": "Benzodiazepine (CNS depressant)",
    "sedative_hypnotic": "Non-benzodiazepine sedative hypnotic (CNS depressant)",
    "opioid": "Opioid (CNS depressant)",
    "lamotrigine": "Lamotrigine",
}

#: Common names by class, to suggest a class when none is chosen (the clinician's choice
#: wins). Generic names only [S37][S30].
_BY_NAME: dict[str, str] = {
    **dict.fromkeys(("phenelzine", "tranylcypromine", "isocarboxazid", "selegiline", "rasagiline"), "maoi"),
    **dict.fromkeys(
        (
            "methylphenidate",
            "dexmethylphenidate",
            "amphetamine",
            "dextroamphetamine",
            "lisdexamfetamine",
            "modafinil",
            "armodafinil",
        ),
        "psychostimulant",
    ),
    **dict.fromkeys(
        ("lorazepam", "alprazolam", "clonazepam", "diazepam", "temazepam", "chlordiazepoxide", "midazolam"),
        "benzodiazepine",
    ),
    **dict.fromkeys(("zolpidem", "zaleplon", "eszopiclone"), "sedative_hypnotic"),
    **dict.fromkeys(
        ("oxycodone", "hydrocodone", "morphine", "hydromorphone", "tramadol", "methadone", "buprenorphine", "fentanyl"),
        "opioid",
    ),
    "lamotrigine": "lamotrigine",
}


def classes_for_medication(name: str, chosen: str = "") -> tuple[str, ...]:
    """The interaction class of a medication: the one chosen, else the one its generic name
    suggests, else none [S37][S30]."""
    if chosen:
        if chosen not in INTERACTION_CLASSES:
            raise PreProcedureError(
                f"medication class must be one of: {', '.join(INTERACTION_CLASSES)}", "medication_class"
            )
        return (chosen,)
    words = re.findall(r"[a-z]+", name.lower())
    found = {_BY_NAME[w] for w in words if w in _BY_NAME}
    return tuple(sorted(found))


#: ASA physical status classes I-IV (V and VI are not outpatient candidates) [S44][S49].
ASA_CLASSES: dict[int, str] = {
    1: "ASA I: a normal healthy patient",
    2: "ASA II: mild systemic disease",
    3: "ASA III: severe systemic disease",
    4: "ASA IV: severe systemic disease that is a constant threat to life",
}


def check_asa(value: int | None) -> int:
    """An ASA class from I to IV; ASA IV is recorded but flagged for the prescriber [S44][S49]."""
    if value not in ASA_CLASSES:
        raise PreProcedureError("ASA class must be I, II, III or IV", "asa_class")
    return int(value)


#: ICD-10-CM codes a ketamine clinic treats (FY2026 code set): depressive episodes and
#: recurrent depression [S73][S64], PTSD [S73], suicidal ideation [S73c], and chronic pain
#: (G89.x, outside the reference: check the FY tabular). TRD has no code of its own: code
#: the episode and document the failed trials [S73b].
ICD10_DIAGNOSES: dict[str, str] = {
    "F32.0": "Major depressive disorder, single episode, mild",
    "F32.1": "Major depressive disorder, single episode, moderate",
    "F32.2": "Major depressive disorder, single episode, severe without psychotic features",
    "F32.3": "Major depressive disorder, single episode, severe with psychotic features",
    "F32.4": "Major depressive disorder, single episode, in partial remission",
    "F32.5": "Major depressive disorder, single episode, in full remission",
    "F32.9": "Major depressive disorder, single episode, unspecified",
    "F32.A": "Depression, unspecified",
    "F33.0": "Major depressive disorder, recurrent, mild",
    "F33.1": "Major depressive disorder, recurrent, moderate",
    "F33.2": "Major depressive disorder, recurrent severe without psychotic features",
    "F33.3": "Major depressive disorder, recurrent, severe with psychotic symptoms",
    "F33.40": "Major depressive disorder, recurrent, in remission, unspecified",
    "F33.41": "Major depressive disorder, recurrent, in partial remission",
    "F33.42": "Major depressive disorder, recurrent, in full remission",
    "F33.9": "Major depressive disorder, recurrent, unspecified",
    "F43.10": "Post-traumatic stress disorder, unspecified",
    "F43.11": "Post-traumatic stress disorder, acute",
    "F43.12": "Post-traumatic stress disorder, chronic",
    "R45.851": "Suicidal ideations",
    "G89.29": "Other chronic pain",
    "G89.4": "Chronic pain syndrome",
}


def check_diagnoses(codes: list[str]) -> list[str]:
    """At least one ICD-10-CM code from the clinic's list, each once [S73]."""
    unknown = [c for c in codes if c not in ICD10_DIAGNOSES]
    if unknown:
        raise PreProcedureError(f"diagnosis {unknown[0]} is not in the clinic's ICD-10-CM list", "diagnoses")
    if not codes:
        raise PreProcedureError("choose at least one diagnosis (ICD-10-CM)", "diagnoses")
    return list(dict.fromkeys(codes))


def check_fasting(solids_since: datetime | None, clear_since: datetime | None, *, at: datetime) -> None:
    """Last solid food and last clear liquid: not in the future and within the last day;
    clear liquids no earlier than food needs no rule (either order is possible) [S33][S50]."""
    for value, field in ((solids_since, "npo_solids_since"), (clear_since, "npo_clear_since")):
        if value is None:
            continue
        if value > at + timedelta(minutes=5):
            raise PreProcedureError(f"{field.replace('_', ' ')} cannot be in the future", field)
        if value < at - timedelta(days=2):
            raise PreProcedureError(f"{field.replace('_', ' ')} must be within the last 2 days", field)


_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-.]{6,22}[0-9]$")


def check_phone(value: str) -> str:
    """A telephone number a person can dial: digits with spaces, dashes, dots or brackets,
    8 to 24 characters, an optional leading +."""
    value = value.strip()
    if not _PHONE.match(value) or sum(ch.isdigit() for ch in value) < 7:
        raise PreProcedureError("escort phone must be a telephone number (digits, 8 to 24 characters)", "escort_phone")
    return value


@dataclass(frozen=True)
class ConsentDocument:
    """A consent text in one version; the signature stores the code, the version and the
    text's SHA-256, so a later edit of the text never changes what was signed [S2]."""

    code: str
    version: str
    title: str
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def _paragraphs(*lines: str) -> str:
    """The consent text: one paragraph per line, as the patient reads it on screen."""
    return "\n\n".join(lines) + "\n"


_IV_TEXT = _paragraphs(
    "I agree to receive intravenous ketamine at this clinic for the condition my prescriber has discussed with me.",
    "I understand that ketamine is used for depression off-label: the US Food and Drug Administration has not "
    "approved it for this use.",
    "I have been told of the common effects during and after an infusion (drowsiness, a dream-like or detached "
    "feeling, blurred or double vision, nausea, dizziness, a rise in blood pressure) and of less common risks "
    "(confusion, agitation, breathing problems, bladder problems, and misuse).",
    "I understand that my blood pressure, pulse and oxygen level will be watched during each infusion and that the "
    "team may slow, pause or stop it.",
    "I will not drive, operate machinery or make important decisions until the next day, and an adult will take me "
    "home.",
    "I may ask questions at any time and may stop treatment at any time.",
)

_NASAL_TEXT = _paragraphs(
    "I agree to take esketamine nasal spray (SPRAVATO) at this clinic under the supervision of its staff.",
    "I have been told of sedation, dissociation (a detached or unreal feeling), breathing problems, a rise in blood "
    "pressure, problems with thinking, misuse, and bladder problems, and of the boxed warning about suicidal thoughts.",
    "I will stay at the clinic for at least two hours after each dose, until the staff say I may leave.",
    "I will not drive or operate machinery until the next day after a restful sleep, and I have arranged my "
    "transport home.",
    "I may ask questions at any time and may stop treatment at any time.",
)

#: The clinic's consent documents; a new wording is a new version (never an edit) [S2][S30][S32].
CONSENT_DOCUMENTS: dict[str, ConsentDocument] = {
    d.code: d
    for d in (
        ConsentDocument("ketamine_iv", "2026-11-v1", "Consent to intravenous ketamine treatment", _IV_TEXT),
        ConsentDocument("esketamine_nasal", "2026-11-v1", "Consent to esketamine nasal spray treatment", _NASAL_TEXT),
    )
}


def consent_for_route(route: str) -> ConsentDocument:
    """The consent document of a treatment route ("iv" or "nasal") [S2][S30]."""
    return CONSENT_DOCUMENTS["esketamine_nasal" if route == "nasal" else "ketamine_iv"]
