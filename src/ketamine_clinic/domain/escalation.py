"""Suicide-risk escalation: which answers raise an alert, how urgent, and what must happen
before the patient leaves. An alert is cleared only by a clinician's acknowledgement."""

from __future__ import annotations

from dataclasses import dataclass

from ketamine_clinic.domain.instruments import Score

__all__ = ["Escalation", "evaluate_escalation"]


@dataclass(frozen=True)
class Escalation:
    severity: str  # "urgent" (before the visit ends) or "notify" (clinician review)
    message: str
    required_before_leaving: tuple[str, ...]
    source: str


_ASSESS = ("Clinician acknowledges the alert", "Structured suicide-risk assessment (C-SSRS) completed")
_SAFETY = (*_ASSESS, "Safety plan reviewed with the patient", "Emergency pathway offered if risk is high")

_RULES: dict[str, Escalation] = {
    "phq9_item9": Escalation("urgent", "PHQ-9 item 9: thoughts of death or self-harm", _ASSESS, "[S70]"),
    "cssrs_high_risk": Escalation("urgent", "C-SSRS high risk: intent, plan or recent behaviour", _SAFETY, "[S65]"),
    "madrs_item10": Escalation(
        "notify", "MADRS item 10 (suicidal thoughts) at or above the review level", _ASSESS, "[S63]"
    ),
    "qids_item12": Escalation(
        "notify", "QIDS item 12 (thoughts of death) at or above the review level", _ASSESS, "[S66]"
    ),
    "hamd_item3": Escalation("notify", "HAM-D item 3 (suicide) at or above the review level", _ASSESS, "[S11b]"),
    "pcl5_item16": Escalation(
        "notify",
        "PCL-5 item 16 (risk-taking) at or above the review level",
        ("Clinician acknowledges the alert",),
        "[S63]",
    ),
}


def evaluate_escalation(result: Score) -> list[Escalation]:
    """The escalations a scored questionnaire calls for: PHQ-9 item 9 >= 1 [S70] and
    C-SSRS high risk [S65] are urgent (assessment before the visit ends); the other
    critical items are configurable review flags [S63][S66]. Moderate C-SSRS risk
    (method without intent) is a notify alert [S65b]."""
    found = [_RULES[flag] for flag in result.flags if flag in _RULES]
    if result.code == "cssrs_screen" and result.total == 2:
        found.append(Escalation("notify", "C-SSRS moderate risk: thoughts of method without intent", _ASSESS, "[S65b]"))
    return found
