"""What the chair-side nurse works through: the pre-infusion checklist and the side-effect list."""

from __future__ import annotations

__all__ = ["ALWAYS_ALERT", "CHECKLIST", "SIDE_EFFECTS", "side_effect_label"]

#: Pre-infusion checklist items (field name, label). Sources: fasting and escort [S50],
#: consent [S2], the suicide screen before dosing [S70].
CHECKLIST: tuple[tuple[str, str], ...] = (
    ("identity_checked", "Identity and allergies checked"),
    ("fasting", "Fasting as instructed (no food 2 h, no liquids 30 min)"),
    ("escort", "Escort present to take the patient home"),
    ("consent", "Consent on file for this course"),
    ("questionnaire", "Today's PHQ-9 and suicide screen reviewed"),
    ("iv_access", "IV access in place and patent"),
)

#: The side effects the clinic's source lists [S23], the effects the esketamine label warns
#: of (dissociation, sedation, respiratory depression, blood pressure, urinary symptoms)
#: [S30][S32], and "other" with free text.
SIDE_EFFECTS: tuple[tuple[str, str], ...] = (
    ("drowsiness_dreamlike", "Drowsiness or dream-like state"),
    ("visual_disturbance", "Double or distorted vision"),
    ("confusion", "Confusion"),
    ("jerky_muscles", "Jerky muscles"),
    ("nausea_vomiting", "Nausea and vomiting"),
    ("appetite_loss", "Loss of appetite"),
    ("insomnia", "Insomnia"),
    ("hypertension", "High blood pressure"),
    ("dissociation", "Dissociation (feeling detached or unreal)"),
    ("dizziness", "Dizziness"),
    ("headache", "Headache"),
    ("chest_pain", "Chest pain"),
    ("excessive_sedation", "Excessive sedation or unresponsiveness"),
    ("respiratory_depression", "Slow or shallow breathing"),
    ("hallucinations_paranoia", "Hallucinations or paranoia"),
    ("urinary", "Urinary or bladder symptoms"),
    ("other", "Other (describe)"),
)
#: Effects that alert the prescriber even when not marked severe.
ALWAYS_ALERT = {"chest_pain", "excessive_sedation", "respiratory_depression", "hallucinations_paranoia"}


def side_effect_label(code: str) -> str:
    return dict(SIDE_EFFECTS).get(code, code)
