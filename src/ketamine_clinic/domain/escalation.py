"""Suicide-risk escalation: which answers raise an alert, how urgent, and what closes it.

Two severities, one rule for every instrument:

* **urgent**: an answer that means intent, a plan, preparation or a recent attempt. No dose
  may be given and the patient may not leave until a prescriber has recorded a structured
  assessment; the on-call prescriber is notified at once.
* **notify**: any other positive answer on a suicide item (thoughts of death, passive or
  active ideation without intent or plan, lifetime behaviour). A clinician acknowledges it
  with a note. No positive answer is silent.

Which answer is which comes from each instrument's own anchors, not from a clinic setting:
a clinic may not make "explicit plans" non-urgent. ``SUICIDE_RISK_RULES`` lists them for
``docs/rules.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ketamine_clinic.domain.instruments import Score

__all__ = [
    "DISPOSITIONS",
    "RISK_LEVELS",
    "SEVERITY_RANK",
    "SUICIDE_RISK_RULES",
    "Escalation",
    "escalate_phq9_item9",
    "evaluate_escalation",
    "worst_severity",
]

URGENT, NOTIFY = "urgent", "notify"

#: Severity order (higher is worse) shared by alert kinds.
SEVERITY_RANK: dict[str, int] = {"notify": 1, "pause": 2, "stop": 3, "urgent": 4}

#: Risk levels a prescriber records in the closing assessment [S65].
RISK_LEVELS: dict[str, str] = {"low": "Low", "moderate": "Moderate", "high": "High"}

#: What happens next, recorded with the assessment [S65]. Only "treat_today" lets today's
#: dose go ahead; the other two stop dosing for the rest of the clinic day.
DISPOSITIONS: dict[str, str] = {
    "treat_today": "Safe to treat today",
    "defer": "Defer today's treatment; follow up",
    "emergency": "Emergency evaluation or hospitalisation",
}


@dataclass(frozen=True)
class Escalation:
    severity: str  # "urgent" or "notify"
    code: str
    message: str
    required_before_leaving: tuple[str, ...]
    source: str


_ACK = ("A clinician acknowledges the alert with a note of what was done",)
_ASSESS = ("A prescriber's structured assessment: C-SSRS that day, risk level, safety plan reviewed, disposition",)


def _urgent(code: str, message: str, source: str) -> Escalation:
    return Escalation(URGENT, code, message, _ASSESS, source)


def _notify(code: str, message: str, source: str) -> Escalation:
    return Escalation(NOTIFY, code, message, _ACK, source)


#: (instrument, answer, severity, source) for the rules page.
SUICIDE_RISK_RULES: tuple[tuple[str, str, str, str], ...] = (
    ("PHQ-9", "item 9 >= 1 (any answer but 'not at all')", URGENT, "[S70]"),
    ("C-SSRS screener", "Q4 intent or Q5 plan (past month)", URGENT, "[S65]"),
    ("C-SSRS screener", "Q6 behaviour within the past 3 months", URGENT, "[S65]"),
    ("C-SSRS screener", "Q2 active ideation, or Q3 method without intent", NOTIFY, "[S65][S65b]"),
    ("C-SSRS screener", "Q1 wish to be dead, or Q6 behaviour longer ago", NOTIFY, "[S65b]"),
    ("MADRS", "item 10 >= 5 (explicit plans, active preparations)", URGENT, "[S67]"),
    ("MADRS", "item 10 from 1 to 4", NOTIFY, "[S67]"),
    ("HAM-D17", "item 3 >= 3 (ideas or gesture; attempt)", URGENT, "[S11b][S63]"),
    ("HAM-D17", "item 3 of 1 or 2", NOTIFY, "[S63]"),
    ("QIDS-SR16", "item 12 = 3 (detailed thoughts several times a day, specific plans or an attempt)", URGENT, "[S66]"),
    ("QIDS-SR16", "item 12 of 1 or 2", NOTIFY, "[S66]"),
    ("PCL-5", "item 16 (risk-taking) at or above its review setting", NOTIFY, "[S63]"),
)


def _cssrs(d: dict[str, int | str | bool]) -> list[Escalation]:
    found: list[Escalation] = []
    if d.get("q4"):
        found.append(_urgent("cssrs_q4", "C-SSRS Q4: suicidal thoughts with some intention of acting on them", "[S65]"))
    if d.get("q5"):
        found.append(_urgent("cssrs_q5", "C-SSRS Q5: has worked out how to kill themself and intends to", "[S65]"))
    if d.get("q6") and d.get("q7"):
        found.append(_urgent("cssrs_behaviour", "C-SSRS Q6: suicidal behaviour within the past 3 months", "[S65]"))
    if found:
        return found
    if d.get("q3"):
        return [_notify("cssrs_q3", "C-SSRS Q3: thinking about how they might kill themself (no intent)", "[S65b]")]
    if d.get("q2"):
        return [_notify("cssrs_q2", "C-SSRS Q2: active thoughts of killing themself (no method or plan)", "[S65]")]
    if d.get("q6"):
        return [_notify("cssrs_lifetime", "C-SSRS Q6: suicidal behaviour in the past, not the past 3 months", "[S65b]")]
    if d.get("q1"):
        return [_notify("cssrs_q1", "C-SSRS Q1: wished to be dead or not to wake up", "[S65b]")]
    return []


def _item(value: int, urgent_at: int, code: str, name: str, source: str) -> list[Escalation]:
    if value >= urgent_at:
        return [_urgent(code, f"{name} = {value}: plans, intent, preparation or an attempt", source)]
    if value >= 1:
        return [_notify(code, f"{name} = {value}: thoughts of death or suicide without a plan", source)]
    return []


def evaluate_escalation(result: Score) -> list[Escalation]:
    """The escalations a scored questionnaire calls for, from the answers' own meaning.

    PHQ-9 item 9 >= 1 is urgent: a suicide-risk assessment before the visit ends [S70].
    C-SSRS: Q4, Q5 or behaviour in the past 3 months is high risk, urgent [S65]; Q2 (active
    ideation) and Q3 (method without intent) notify the prescriber [S65][S65b]; Q1 and
    lifetime behaviour notify [S65b]. MADRS item 10 >= 5 (explicit plans, preparations) [S67],
    HAM-D item 3 >= 3 (trials' "active suicidal intent", item 3 > 2) [S11b] and QIDS-SR16
    item 12 = 3 (specific plans or an attempt) [S66] are urgent; lower positive answers notify.
    PCL-5 item 16 (risk-taking) at its review setting notifies [S63].
    """
    d = result.details
    if result.code == "phq9":
        item9 = int(d.get("item9", 0))
        if item9 >= 1:
            return [_urgent("phq9_item9", f"PHQ-9 item 9 = {item9}: thoughts of death or self-harm", "[S70]")]
        return []
    if result.code == "cssrs_screen":
        return _cssrs(d)
    if result.code == "madrs":
        return _item(int(d.get("item10", 0)), 5, "madrs_item10", "MADRS item 10 (suicidal thoughts)", "[S67]")
    if result.code == "hamd17":
        return _item(int(d.get("item3", 0)), 3, "hamd_item3", "HAM-D item 3 (suicide)", "[S11b]")
    if result.code == "qids_sr16":
        return _item(int(d.get("item12", 0)), 3, "qids_item12", "QIDS-SR16 item 12 (thoughts of death)", "[S66]")
    if "pcl5_item16" in result.flags:
        return [_notify("pcl5_item16", "PCL-5 item 16: taking risks or doing things that could cause harm", "[S63]")]
    return []


def escalate_phq9_item9(value: int | None) -> list[Escalation]:
    """PHQ-9 item 9 on its own, for a questionnaire sent with other items missing: a positive
    answer is urgent whatever else is unanswered [S70]."""
    if value is None or value < 1:
        return []
    return [
        _urgent(
            "phq9_item9",
            f"PHQ-9 item 9 = {value}: thoughts of death or self-harm (questionnaire not complete)",
            "[S70]",
        )
    ]


def worst_severity(severities: list[str]) -> str:
    """The most serious of ``severities`` by ``SEVERITY_RANK`` [S65]."""
    return max(severities, key=lambda s: SEVERITY_RANK.get(s, 0))
