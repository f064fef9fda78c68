"""What the chair-side nurse works through: the pre-infusion checklist and the side-effect list."""

from __future__ import annotations

from datetime import datetime, timedelta

__all__ = [
    "ALWAYS_ALERT",
    "CHECKLIST",
    "CHECKLIST_IV",
    "CHECKLIST_NASAL",
    "SIDE_EFFECTS",
    "checklist_for",
    "route_words",
    "side_effect_label",
    "status_label",
]

#: The fasting the checklist's item states: no food for 2 h and no liquids for 30 min before
#: the dose [S50][S30].
FASTING_FOOD = timedelta(hours=2)
FASTING_LIQUIDS = timedelta(minutes=30)


def fasting_problem(solids_since: datetime | None, clear_since: datetime | None, *, at: datetime) -> str | None:
    """Why the recorded last food or liquid contradicts "fasting as instructed" at ``at``."""
    for last, wait, what in ((solids_since, FASTING_FOOD, "food"), (clear_since, FASTING_LIQUIDS, "liquids")):
        if last is not None and at - wait < last <= at:
            return (
                f"The pre-procedure record gives the last {what} at {last:%H:%M}, less than "
                f"{int(wait.total_seconds() // 60)} min before now: dose from {last + wait:%H:%M}, "
                "or correct the record."
            )
    return None


#: Pre-infusion checklist for an IV infusion (field name, label). Sources: fasting and
#: escort [S50], consent [S2], the suicide screen before dosing [S70].
CHECKLIST_IV: tuple[tuple[str, str], ...] = (
    ("identity_checked", "Identity and allergies checked"),
    ("fasting", "Fasting as instructed (no food 2 h, no liquids 30 min)"),
    ("escort", "Escort present to take the patient home"),
    ("consent", "Consent on file for this course"),
    ("questionnaire", "Today's PHQ-9 and suicide screen reviewed"),
    ("iv_access", "IV access in place and patent"),
)

#: Pre-dose checklist for esketamine nasal spray: no IV line; the label's pre-dose advice
#: instead (food 2 h, liquids 30 min, nasal corticosteroid or decongestant at least 1 h
#: before) [S33][S38b], the blood pressure assessed before dosing [S30], transport home
#: arranged because the patient may not drive until the next day [S32][S30], consent [S2]
#: and the suicide screen [S70].
CHECKLIST_NASAL: tuple[tuple[str, str], ...] = (
    ("identity_checked", "Identity and allergies checked"),
    ("fasting", "No food for 2 h and no liquids for 30 min before the dose"),
    ("nasal_prep", "No nasal steroid or decongestant in the last hour; nose clear"),
    ("escort", "Escort present; the patient will not drive until the next day"),
    ("consent", "Consent on file for this course"),
    ("questionnaire", "Today's PHQ-9 and suicide screen reviewed"),
)

#: Every item of either route (the union, IV first): callers that tick "everything"
#: pass this; a session asks ``checklist_for(route)`` for its own list.
CHECKLIST: tuple[tuple[str, str], ...] = CHECKLIST_IV + tuple(
    item for item in CHECKLIST_NASAL if item[0] not in dict(CHECKLIST_IV)
)


def checklist_for(route: str) -> tuple[tuple[str, str], ...]:
    """The pre-dose checklist of an order's ``route`` ("iv" or "nasal") [S50][S33][S38b]."""
    return CHECKLIST_NASAL if route == "nasal" else CHECKLIST_IV


#: How a nasal session names the statuses the model names after an infusion [S32].
_NASAL_STATUS = {"checklist": "pre-dose checklist", "running": "dosing"}


def status_label(route: str, status: str, default: str) -> str:
    """The status as the chair reads it: a nasal session is "dosing", not "infusing" [S32]."""
    return _NASAL_STATUS.get(status, default) if route == "nasal" else default


def route_words(route: str) -> dict[str, str]:
    """The words a session page uses for its route: a nasal session speaks of devices and
    the dose, never of a pump, an infusion or a rate [S32]."""
    if route == "nasal":
        return {
            "session": "nasal-spray session",
            "treatment": "dose",
            "checklist": "Pre-dose checklist",
            "dosing": "while dosing",
            "started": "first device",
            "events": "Devices given",
        }
    return {
        "session": "infusion",
        "treatment": "infusion",
        "checklist": "Pre-infusion checklist",
        "dosing": "while dosing",
        "started": "pump start",
        "events": "Pump events",
    }


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
